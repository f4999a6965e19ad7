package dev.gpucore.cuda;

import dev.gpucore.DType;
import dev.gpucore.Half;
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
    super(new dev.gpucore.spi.DeviceMemory(dev.index, dtype, length, address,
        () -> GpuCoreNative.gc_free(address)));
    this.backend = backend;
    this.dev = dev;
  }

  static CudaDeviceArray allocate(CudaBackend backend, DeviceState dev, DType dtype, long length) {
    return new CudaDeviceArray(backend, dev, dtype, length, malloc(dev, length * dtype.bytes()));
  }

  /**
   * {@code bytes} of device memory from cudaMalloc on {@code dev} (made current), honouring the
   * fault plan's allocation failures; out of memory is {@link
   * dev.gpucore.GpuCoreException.OutOfMemory} with the device's free and total memory.
   */
  static long malloc(DeviceState dev, long bytes) {
    dev.enter();
    long[] out = new long[1];
    boolean injected = dev.faults.failAlloc(bytes);
    int s = injected ? CudaErrors.MEMORY_ALLOCATION : GpuCoreNative.gc_malloc(out, bytes);
    if (s == CudaErrors.MEMORY_ALLOCATION) {
      long[] free = new long[1];
      long[] total = new long[1];
      GpuCoreNative.gc_mem_info(free, total);
      throw new dev.gpucore.GpuCoreException.OutOfMemory("cudaMalloc of " + bytes
          + " bytes failed on device " + dev.index + ": cudaErrorMemoryAllocation (2); "
          + free[0] + " of " + total[0] + " bytes free"
          + (injected ? " [" + dev.faults.describe() + "]" : ""));
    }
    CudaErrors.check(s, "cudaMalloc(" + bytes + " bytes)", dev);
    return out[0];
  }

  private long addr(long element) {
    return address() + element * dtype().bytes();
  }

  /** Elements converted per step when a float[] fills or reads a 16-bit array. */
  private static final int HALF_STEP = 1 << 22;

  @Override
  protected void fromJava(Object src, int srcOffset, long dstOffset, int count) {
    copyJava(src, srcOffset, dstOffset, count, true);
  }

  @Override
  protected void toJava(long srcOffset, Object dst, int dstOffset, int count) {
    copyJava(dst, dstOffset, srcOffset, count, false);
  }

  /**
   * Copies between a Java array and this array, one way or the other; a float[] for a 16-bit
   * array is converted through a short[] in steps of {@link #HALF_STEP} elements.
   */
  private void copyJava(Object array, int arrayOffset, long devOffset, int count,
      boolean toDevice) {
    if (!dtype().isHalf()) {
      stage(array, arrayOffset, devOffset, count, toDevice);
      return;
    }
    short[] bits = new short[Math.min(count, HALF_STEP)];
    for (int done = 0; done < count; done += bits.length) {
      int n = Math.min(bits.length, count - done);
      if (toDevice) {
        Half.encode(dtype(), (float[]) array, arrayOffset + done, bits, 0, n);
      }
      stage(bits, 0, devOffset + done, n, toDevice);
      if (!toDevice) {
        Half.decode(dtype(), bits, 0, (float[]) array, arrayOffset + done, n);
      }
    }
  }

  private void stage(Object array, int arrayOffset, long devOffset, int count, boolean toDevice) {
    dev.enter();
    CudaStream lane = dev.acquire();
    try {
      if (toDevice) {
        lane.fromJava(array, arrayOffset, addr(devOffset), count, dtype().bytes(),
            backend.copyPool());
      } else {
        lane.toJava(addr(devOffset), array, arrayOffset, count, dtype().bytes(),
            backend.copyPool());
      }
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
    onStream(stream, s -> s.check(switch (dtype()) {
      case FLOAT32 -> GpuCoreNative.gc_fill_f32(a, n, (float) value, s.handle());
      case FLOAT64 -> GpuCoreNative.gc_fill_f64(a, n, value, s.handle());
      case BFLOAT16 -> GpuCoreNative.gc_fill_u16(a, n, Half.toBfloat16((float) value),
          s.handle());
      case FLOAT16 -> GpuCoreNative.gc_fill_u16(a, n, Half.toFloat16((float) value),
          s.handle());
    }, "gc_fill"));
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
