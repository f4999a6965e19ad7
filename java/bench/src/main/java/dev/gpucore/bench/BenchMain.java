package dev.gpucore.bench;

import dev.gpucore.GpuCore;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Entry point of {@code benchmarks.jar}: JMH's command line (same options as
 * {@code org.openjdk.jmh.Main}, e.g. {@code -rf json -rff results.json}, a regexp to select), with
 * the GPU benchmarks ({@code Gpu*Bench}) excluded, and the reason printed, when gpucore sees no
 * GPU. Without a regexp it runs every gpucore benchmark.
 */
public final class BenchMain {
  private BenchMain() {}

  /** Runs JMH. */
  public static void main(String[] args) throws Exception {
    CommandLineOptions cl = new CommandLineOptions(args);
    if (cl.shouldHelp() || cl.shouldList() || cl.shouldListWithParams()
        || cl.shouldListProfilers() || cl.shouldListResultFormats()) {
      org.openjdk.jmh.Main.main(args);
      return;
    }
    OptionsBuilder b = new OptionsBuilder();
    b.parent(cl);
    String reason;
    try (GpuCore core = GpuCore.open()) {
      reason = core.hasGpu() ? null : core.noGpuReason();
    }
    if (reason != null) {
      System.out.println("# GPU benchmarks (Gpu*Bench) skipped: No GPU visible: " + reason);
      b.exclude("\\.Gpu[A-Za-z]*Bench\\.");
    }
    if (cl.getIncludes().isEmpty()) {
      b.include("dev\\.gpucore\\.bench\\.");
    }
    new Runner(b.build()).run();
  }
}
