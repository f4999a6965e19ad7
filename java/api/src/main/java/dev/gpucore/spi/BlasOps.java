package dev.gpucore.spi;

import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;

/**
 * BLAS a backend provides. Arguments arrive checked by {@link dev.gpucore.blas.Blas}. A backend
 * without GPUs throws {@link UnsupportedOperationException} from the device methods.
 */
public interface BlasOps {
  /**
   * Row-major single-precision GEMM on Java arrays: {@code C = alpha*op(A)*op(B) + beta*C}.
   */
  void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int lda,
      float[] b, int ldb, float beta, float[] c, int ldc);

  /** Row-major single-precision GEMM on device arrays, on {@code stream} (null: synchronous). */
  void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, DeviceArray a,
      int lda, DeviceArray b, int ldb, float beta, DeviceArray c, int ldc, GpuStream stream);
}
