package dev.gpucore.cpu;

import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.spi.BlasOps;
import org.bytedeco.openblas.global.openblas_nolapack;

/** BLAS on the CPU: OpenBLAS. */
final class CpuBlas implements BlasOps {
  @Override
  public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a,
      int lda, float[] b, int ldb, float beta, float[] c, int ldc) {
    if (k == 0 || alpha == 0f) {
      scale(m, n, beta, c, ldc); // BLAS semantics: A and B are not read; beta = 0 ignores NaN in C
      return;
    }
    openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor,
        transA ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
        transB ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
        m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }

  private static void scale(int m, int n, float beta, float[] c, int ldc) {
    for (int i = 0; i < m; i++) {
      int row = i * ldc;
      for (int j = 0; j < n; j++) {
        c[row + j] = beta == 0f ? 0f : beta * c[row + j];
      }
    }
  }

  @Override
  public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
      DeviceArray a, int lda, DeviceArray b, int ldb, float beta, DeviceArray c, int ldc,
      GpuStream stream) {
    throw new UnsupportedOperationException("the CPU backend has no device arrays");
  }
}
