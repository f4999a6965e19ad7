package dev.gpucore.cpu;

import dev.gpucore.DType;
import dev.gpucore.device.Discovery;
import dev.gpucore.memory.HostArray;
import dev.gpucore.spi.Backend;
import java.util.List;
import org.bytedeco.openblas.global.openblas_nolapack;

/** The CPU backend: OpenBLAS for BLAS, plain Java for reductions. */
public final class CpuBackend implements Backend {
  private final int threads;

  CpuBackend(int threads) {
    this.threads = threads;
    org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(threads);
  }

  /** Threads OpenBLAS was given. */
  public int threads() {
    return threads;
  }

  @Override
  public String name() {
    return "cpu";
  }

  @Override
  public Discovery discovery() {
    return Discovery.none("the CPU backend has no GPU", List.of());
  }

  @Override
  public HostArray allocateHost(DType dtype, long length, boolean pinned) {
    return HostArray.allocatePageable(dtype, length);
  }

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
  public double sum(float[] x, int offset, int count) {
    // four independent accumulators in double: exact enough and about four times faster
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i = offset;
    int end = offset + count;
    for (; i + 3 < end; i += 4) {
      s0 += x[i];
      s1 += x[i + 1];
      s2 += x[i + 2];
      s3 += x[i + 3];
    }
    for (; i < end; i++) {
      s0 += x[i];
    }
    return (s0 + s1) + (s2 + s3);
  }

  @Override
  public void close() {
    // OpenBLAS holds no per-backend state
  }
}
