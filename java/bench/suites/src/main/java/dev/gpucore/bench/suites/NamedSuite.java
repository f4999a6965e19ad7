package dev.gpucore.bench.suites;

import java.util.List;

/** A {@link Suite} whose name, description and default sizes are fixed when it is made. */
abstract class NamedSuite implements Suite {
  private final String name;
  private final String description;
  private final List<Long> defaultSizes;

  NamedSuite(String name, String description, List<Long> defaultSizes) {
    this.name = name;
    this.description = description;
    this.defaultSizes = defaultSizes;
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final String description() {
    return description;
  }

  @Override
  public final List<Long> defaultSizes() {
    return defaultSizes;
  }

  /** Checks the options ({@link #validate}), then runs the suite with them. */
  @Override
  public final SuiteResult run(BenchContext ctx) throws Exception {
    BenchOptions o = ctx.options();
    validate(o);
    return run(ctx, o);
  }

  /** Runs the suite with options {@link #validate} accepted. */
  abstract SuiteResult run(BenchContext ctx, BenchOptions o) throws Exception;
}
