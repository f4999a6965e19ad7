package dev.gpucore.spi;

import dev.gpucore.DType;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;

/** A backend with GPUs: device memory, streams and device-resident math. */
public interface GpuBackend extends Backend {
  /** Allocates {@code length} elements on device {@code device} (gpucore index). */
  DeviceArray allocate(int device, DType dtype, long length);

  /** Creates a stream on device {@code device}. */
  GpuStream createStream(int device);

  /**
   * Row-major single-precision GEMM on device arrays, queued on {@code stream} (null: the
   * device's default stream of this backend, synchronously).
   */
  void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, DeviceArray a,
      int lda, DeviceArray b, int ldb, float beta, DeviceArray c, int ldc, GpuStream stream);

  /** Deterministic sum of {@code count} elements from {@code offset}, brought to the host. */
  double sum(DeviceArray x, long offset, long count, GpuStream stream);
}
