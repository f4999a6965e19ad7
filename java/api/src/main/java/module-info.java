/**
 * gpucore's public API: {@code GpuCore}, devices, memory, BLAS, reductions and peer copies. The
 * backend SPI ({@code dev.gpucore.spi}) is exported to the backend modules and the test kit
 * alone.
 */
module dev.gpucore {
  requires org.bytedeco.javacpp;
  // sun.misc.Signal: the opt-in prompt exit (gpucore.exit.prompt)
  requires jdk.unsupported;

  exports dev.gpucore;
  exports dev.gpucore.blas;
  exports dev.gpucore.device;
  exports dev.gpucore.memory;
  exports dev.gpucore.p2p;
  exports dev.gpucore.reduce;
  exports dev.gpucore.spi to dev.gpucore.cpu, dev.gpucore.cuda, dev.gpucore.testkit;

  uses dev.gpucore.spi.BackendProvider;
}
