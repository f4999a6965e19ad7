/** The {@code gpucore} command line: devices, demo, doctor, topo and bench. */
module dev.gpucore.cli {
  requires dev.gpucore;
  // the CPU backend the commands always run on (the CUDA one is found at run time)
  requires dev.gpucore.cpu;
  requires info.picocli;

  // the benchmark suites (gpucore-bench-suites) implement BenchSuites and use the shared helpers
  exports dev.gpucore.cli;

  uses dev.gpucore.cli.BenchSuites;

  // picocli reads and sets the commands' annotated fields
  opens dev.gpucore.cli to info.picocli;
}
