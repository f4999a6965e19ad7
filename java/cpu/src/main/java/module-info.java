/** gpucore's CPU backend, on OpenBLAS. */
module dev.gpucore.cpu {
  requires dev.gpucore;
  requires org.bytedeco.javacpp;
  requires org.bytedeco.openblas;

  // CpuThreads (how many threads the CPU backend takes) for the benchmark harness
  exports dev.gpucore.cpu to dev.gpucore.cli, dev.gpucore.bench;
  // JavaCPP reads the bindings' annotations and loads their native glue
  opens dev.gpucore.cpu.bindings to org.bytedeco.javacpp;

  provides dev.gpucore.spi.BackendProvider with dev.gpucore.cpu.CpuBackendProvider;
}
