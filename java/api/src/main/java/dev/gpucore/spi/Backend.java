package dev.gpucore.spi;

import dev.gpucore.DType;
import dev.gpucore.device.Discovery;
import dev.gpucore.memory.HostArray;

/**
 * A compute backend. Implementations live in their own modules ({@code gpucore-cpu},
 * {@code gpucore-cuda}) and are found through {@link BackendProvider}. Methods here receive
 * arguments already checked by the API.
 */
public interface Backend extends AutoCloseable {
  /** Short name: {@code cpu} or {@code cuda}. */
  String name();

  /** The devices this backend uses (none for the CPU). */
  Discovery discovery();

  /** Allocates off-heap host memory; {@code pinned} may be ignored by backends without a GPU. */
  HostArray allocateHost(DType dtype, long length, boolean pinned);

  /**
   * Row-major single-precision GEMM on Java arrays: {@code C = alpha*op(A)*op(B) + beta*C}.
   * Arguments are checked by the caller.
   */
  void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int lda,
      float[] b, int ldb, float beta, float[] c, int ldc);

  /** Sum of {@code count} floats of a Java array, accumulated in double. */
  double sum(float[] x, int offset, int count);

  /** Releases everything the backend holds. */
  @Override
  void close();
}
