package dev.gpucore.spi;

import dev.gpucore.blas.Precision;

/**
 * The routing model behind {@link Router}: the estimated time of a host-operand GEMM on the CPU
 * and on the GPU. The CUDA backend's is the engine's model in libgpucore_blas.so
 * ({@code gpucore_engine_model}), the one its sgemm_/dgemm_ route by.
 */
public interface RouteModel {
  /** The estimate for one call. */
  Estimate estimate(Input in);

  /**
   * What the model needs to know.
   *
   * @param precision the call's resolved precision
   * @param flops {@code 2·m·n·k·batch}
   * @param bytesA bytes of A that cross the bus
   * @param bytesB bytes of B that cross the bus
   * @param bytesC bytes of C that come down (and go up when {@code betaNonZero})
   * @param betaNonZero C is read
   * @param gpus GPUs that share the call
   * @param ccMajor the first GPU's compute capability major (0: unknown)
   * @param sms its multiprocessors (0: unknown)
   * @param cpuThreads CPU BLAS threads
   * @param cpuGflops {@code gpucore.gemm.cpuGflops} (0: the model)
   * @param gpuGflops {@code gpucore.gemm.gpuGflops} (0: the model)
   * @param busGBs {@code gpucore.gemm.busGBs}
   * @param overheadMs {@code gpucore.gemm.overheadMs}
   */
  record Input(Precision precision, double flops, double bytesA, double bytesB, double bytesC,
      boolean betaNonZero, int gpus, int ccMajor, int sms, int cpuThreads, double cpuGflops,
      double gpuGflops, double busGBs, double overheadMs) {}

  /**
   * The model's answer.
   *
   * @param gpu the GPU is estimated faster
   * @param gpuMs time on the GPU
   * @param cpuMs time on the CPU
   * @param bUpMs B going up
   * @param acUpMs A (and C) going up
   * @param multiplyMs the multiply
   * @param cDownMs C coming down
   * @param cpuGflops the CPU rate used
   * @param gpuGflops the GPU rate used (all GPUs together)
   */
  record Estimate(boolean gpu, double gpuMs, double cpuMs, double bUpMs, double acUpMs,
      double multiplyMs, double cDownMs, double cpuGflops, double gpuGflops) {}
}
