package dev.gpucore.spi;

import dev.gpucore.blas.GemmCall;

/** BLAS a backend provides. Calls arrive checked and in row-major form. */
public interface BlasOps {
  /**
   * Runs a GEMM. The CPU backend takes host operands; the GPU backend takes device operands
   * (queued on the call's stream, or synchronous) and host operands (tiled and pipelined,
   * synchronous).
   */
  void gemm(GemmCall call);
}
