package dev.gpucore.blas;

import dev.gpucore.Check;
import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;

/**
 * Matrix multiply, {@code C = alpha·op(A)·op(B) + beta·C}, row-major, single precision.
 * Java arrays are computed on the CPU backend; device arrays on their GPU. Every argument is
 * checked before any native call and a failed check leaves {@code C} untouched.
 *
 * <p>Shapes: {@code op(A)} is m×k, {@code op(B)} is k×n, C is m×n. Row-major leading
 * dimensions: A is stored with {@code lda >= (transA ? m : k)}, B with
 * {@code ldb >= (transB ? k : n)}, C with {@code ldc >= n}. {@code beta = 0} never reads C.
 */
public final class Blas {
  private final GpuCore core;

  /** For {@link GpuCore}. */
  public Blas(GpuCore core) {
    this.core = core;
  }

  /** Single-precision GEMM on Java arrays (CPU backend). */
  public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a,
      int lda, float[] b, int ldb, float beta, float[] c, int ldc) {
    check(transA, transB, m, n, k, lda, ldb, ldc,
        a == null ? -1 : a.length, b == null ? -1 : b.length, c == null ? -1 : c.length);
    if (c == a || c == b) {
      throw new GpuCoreException.InvalidArgument("c must not be the same array as a or b");
    }
    if (m == 0 || n == 0) {
      return;
    }
    core.cpu().blas().sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }

  /**
   * Single-precision GEMM on device arrays of one GPU, queued on {@code stream} (null: waits
   * for the result).
   */
  public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
      DeviceArray a, int lda, DeviceArray b, int ldb, float beta, DeviceArray c, int ldc,
      GpuStream stream) {
    check(transA, transB, m, n, k, lda, ldb, ldc, len(a, "a"), len(b, "b"), len(c, "c"));
    if (c == a || c == b) {
      throw new GpuCoreException.InvalidArgument("c must not be the same array as a or b");
    }
    if (a.device() != c.device() || b.device() != c.device()) {
      throw new GpuCoreException.InvalidArgument("a, b and c must be on one device; got "
          + a.device() + ", " + b.device() + ", " + c.device());
    }
    if (stream != null && (stream.isClosed() || stream.device() != c.device())) {
      throw new GpuCoreException.InvalidArgument(
          "stream must be open and on device " + c.device());
    }
    if (m == 0 || n == 0) {
      return;
    }
    core.gpu().blas().sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, stream);
  }

  private static long len(DeviceArray x, String name) {
    Check.notNull(x, name);
    if (x.isClosed()) {
      throw new GpuCoreException.InvalidArgument(name + " is closed");
    }
    if (x.dtype() != DType.FLOAT32) {
      throw new GpuCoreException.InvalidArgument(name + " must hold FLOAT32, holds " + x.dtype());
    }
    return x.length();
  }

  /** Checks shapes, leading dimensions and array lengths for a row-major GEMM. */
  static void check(boolean transA, boolean transB, int m, int n, int k, int lda, int ldb,
      int ldc, long lenA, long lenB, long lenC) {
    Check.nonNegative(m, "m");
    Check.nonNegative(n, "n");
    Check.nonNegative(k, "k");
    if (lenA < 0) {
      throw new GpuCoreException.InvalidArgument("a must not be null");
    }
    if (lenB < 0) {
      throw new GpuCoreException.InvalidArgument("b must not be null");
    }
    if (lenC < 0) {
      throw new GpuCoreException.InvalidArgument("c must not be null");
    }
    int aRows = transA ? k : m;
    int aCols = transA ? m : k;
    int bRows = transB ? n : k;
    int bCols = transB ? k : n;
    Check.atLeast(lda, Math.max(1, aCols), "lda");
    Check.atLeast(ldb, Math.max(1, bCols), "ldb");
    Check.atLeast(ldc, Math.max(1, n), "ldc");
    need(aRows, aCols, lda, lenA, "a");
    need(bRows, bCols, ldb, lenB, "b");
    need(m, n, ldc, lenC, "c");
  }

  private static void need(int rows, int cols, int ld, long have, String name) {
    if (rows == 0 || cols == 0) {
      return;
    }
    long need = (long) (rows - 1) * ld + cols;
    if (have < need) {
      throw new GpuCoreException.InvalidArgument(name + " holds " + have + " elements but a "
          + rows + "x" + cols + " matrix with leading dimension " + ld + " needs " + need);
    }
  }
}
