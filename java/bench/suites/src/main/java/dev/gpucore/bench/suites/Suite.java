package dev.gpucore.bench.suites;

/**
 * A benchmark suite: {@code gpucore bench NAME}. Register new ones in {@link Suites}. A suite
 * measures gpucore, asks the {@link Peers} for the same cases, and returns its rows; it never
 * invents a figure: a case it cannot run is a skipped {@link Row} with the reason.
 */
public interface Suite {
  /** The name on the command line. */
  String name();

  /** One line: what it measures. */
  String description();

  /** The sizes it uses when none are given, in its own unit. */
  default java.util.List<Long> defaultSizes() {
    return java.util.List.of();
  }

  /**
   * Checks the options this suite reads, before anything is opened or run.
   *
   * @throws IllegalArgumentException naming the option and what it accepts
   */
  default void validate(BenchOptions options) {}

  /** How many progress steps a run takes (each size's cases, and the peers), for the bar. */
  default int steps(BenchOptions options, boolean gpu) {
    return 1;
  }

  /** Runs the suite. */
  SuiteResult run(BenchContext ctx) throws Exception;
}
