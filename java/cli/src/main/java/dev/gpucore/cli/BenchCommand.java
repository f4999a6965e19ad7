package dev.gpucore.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code gpucore bench ...}: hands its arguments to the benchmark suites ({@link BenchSuites}),
 * which come in their own jar. Its options and suites are those of that jar
 * ({@code gpucore bench --help}).
 */
@Command(name = "bench",
    description = {"Benchmarks beside the peers on this machine (PyTorch, numpy, OpenBLAS, "
        + "nvBLAS, the CUDA runtime): suites transfer, e2e, gemm, reduce, p2p, blas.",
        "Needs the gpucore-bench-suites jar on the class path; gpucore bench --help lists "
            + "its options."})
final class BenchCommand implements Callable<Integer> {
  /** The one line printed when the suites jar is missing. */
  static final String NOT_INSTALLED = "gpucore: bench: the benchmark suites are not installed "
      + "(put the gpucore-bench-suites jar on the class path, as the GPU bundle does)";

  @Spec CommandSpec spec;

  @Parameters(paramLabel = "ARGS", arity = "0..*",
      description = "Suites and options, passed to the benchmark suites.")
  List<String> args = new ArrayList<>();

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    Optional<BenchSuites> suites = ServiceLoader.load(BenchSuites.class).findFirst();
    if (suites.isEmpty()) {
      err.println(NOT_INSTALLED);
      err.flush();
      return 2;
    }
    return suites.get().run(List.copyOf(args), spec.commandLine().getOut(), err);
  }
}
