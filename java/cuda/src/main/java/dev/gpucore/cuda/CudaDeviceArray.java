package dev.gpucore.cuda;

import dev.gpucore.DType;
import dev.gpucore.cuda.bindings.GpuCoreNative;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.HostArray;

/** Device memory from cudaMalloc. Arguments arrive checked by {@link DeviceArray}. */
final class CudaDeviceArray extends DeviceArray {
  private final CudaBackend backend;
  private final DeviceState dev;

  private CudaDeviceArray(CudaBackend backend, DeviceState dev, DType dtype, long length,
      long address) {
    super(dev.index, dtype, length, address, () -> GpuCoreNative.gc_free(address));
    this.backend = backend;
    this.dev = dev;
  }

  static CudaDeviceArray allocate(CudaBackend backend, DeviceState dev, DType dtype, long length) {
    dev.enter();
    long bytes = length * dtype.bytes();
    long[] out = new long[1];
    int s = GpuCoreNative.gc_malloc(out, bytes);
    if (s == CudaErrors.MEMORY_ALLOCATION) {
      long[] free = new long[1];
      long[] total = new long[1];
      GpuCoreNative.gc_mem_info(free, total);
      throw new dev.gpucore.GpuCoreException.OutOfMemory("cudaMalloc of " + bytes
          + " bytes failed on device " + dev.index + ": cudaErrorMemoryAllocation (2); "
          + free[0] + " of " + total[0] + " bytes free");
    }
    CudaErrors.check(s, "cudaMalloc(" + bytes + " bytes)", dev);
    return new CudaDeviceArray(backend, dev, dtype, length, out[0]);
  }

  private long addr(long element) {
    return address() + element * dtype().bytes();
  }

  @Override
  protected void fromJava(Object src, int srcOffset, long dstOffset, int count) {
    dev.enter();
    CudaStream lane = dev.acquire();
    try {
      lane.fromJava(src, srcOffset, addr(dstOffset), count, dtype().bytes(), backend.copyPool());
    } finally {
      dev.release(lane);
    }
  }

  @Override
  protected void toJava(long srcOffset, Object dst, int dstOffset, int count) {
    dev.enter();
    CudaStream lane = dev.acquire();
    try {
      lane.toJava(addr(srcOffset), dst, dstOffset, count, dtype().bytes(), backend.copyPool());
    } finally {
      dev.release(lane);
    }
  }

  @Override
  protected void hostCopy(HostArray host, long hostOffset, long devOffset, long count,
      GpuStream stream, boolean toDevice) {
    long bytes = count * dtype().bytes();
    long h = host.address() + hostOffset * dtype().bytes();
    long d = addr(devOffset);
    onStream(stream, s -> s.check(GpuCoreNative.gc_memcpy_async(toDevice ? d : h, toDevice ? h : d,
        bytes, toDevice ? CudaStream.H2D : CudaStream.D2H, s.handle()),
        toDevice ? "cudaMemcpyAsync(H2D)" : "cudaMemcpyAsync(D2H)"));
  }

  @Override
  protected void deviceCopy(DeviceArray src, long srcOffset, long dstOffset, long count,
      GpuStream stream) {
    long bytes = count * dtype().bytes();
    long from = src.address() + srcOffset * dtype().bytes();
    long to = addr(dstOffset);
    onStream(stream, s -> s.check(GpuCoreNative.gc_memcpy_async(to, from, bytes, CudaStream.D2D,
        s.handle()), "cudaMemcpyAsync(D2D)"));
  }

  @Override
  protected void doFill(double value, GpuStream stream) {
    long a = address();
    long n = length();
    onStream(stream, s -> s.check(dtype() == DType.FLOAT32
        ? GpuCoreNative.gc_fill_f32(a, n, (float) value, s.handle())
        : GpuCoreNative.gc_fill_f64(a, n, value, s.handle()), "gc_fill"));
  }

  /** Runs {@code op} on the given stream, or on an internal lane and waits for it. */
  private void onStream(GpuStream stream, java.util.function.Consumer<CudaStream> op) {
    dev.enter();
    if (stream != null) {
      op.accept((CudaStream) stream);
      return;
    }
    CudaStream lane = dev.acquire();
    try {
      op.accept(lane);
      lane.synchronize();
    } finally {
      dev.release(lane);
    }
  }
}
