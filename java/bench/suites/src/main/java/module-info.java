/**
 * The benchmark suites behind {@code gpucore bench}: transfer, e2e, gemm, reduce, p2p and blas, with
 * their harness and peer programs. The command line finds them as a {@link
 * dev.gpucore.cli.BenchSuites} service.
 */
module dev.gpucore.bench {
  requires dev.gpucore;
  requires dev.gpucore.cpu;
  requires dev.gpucore.cli;
  requires info.picocli;

  provides dev.gpucore.cli.BenchSuites with dev.gpucore.bench.suites.BenchSuitesProvider;

  // picocli reads and sets the bench command's annotated fields
  opens dev.gpucore.bench.suites to info.picocli;
}
