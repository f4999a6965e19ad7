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

  /**
   * Runs a host-operand GEMM on the GPU with tiles {@code 1/tileDivisor} of the configured size
   * (the API's retry after the device ran out of memory). A backend that throws
   * {@link dev.gpucore.GpuCoreException.OutOfMemory} must do so before writing any of C.
   * The default ignores the divisor.
   */
  default void gemm(GemmCall call, int tileDivisor) {
    gemm(call);
  }

  /**
   * Runs a pointer-array batch: independent GEMMs of one shape, options and leading dimensions
   * on operands that may each be anywhere (see {@code Blas.gemmBatched}). The items arrive
   * checked, in row-major form, all of one kind (host, or device operands on one GPU and one
   * stream), with no C overlapping another item's operands. The default runs
   * {@link #gemm(GemmCall)} on each item in order.
   */
  default void gemmBatched(GemmCall[] items) {
    for (GemmCall item : items) {
      gemm(item);
    }
  }

  /**
   * How GEMMs on Java arrays reach this BLAS (for {@code gpucore doctor}).
   *
   * @param inPlace whether they run on the arrays themselves, without copies
   * @param degraded whether they are copied although configured to run in place (the JVM or
   *     the native glue does not allow it)
   * @param detail one line: the path, its limits, or why it is not taken
   */
  record JavaArrayPath(boolean inPlace, boolean degraded, String detail) {}

  /** How GEMMs on Java arrays reach this BLAS; null when the backend has nothing to say. */
  default JavaArrayPath javaArrayPath() {
    return null;
  }
}
