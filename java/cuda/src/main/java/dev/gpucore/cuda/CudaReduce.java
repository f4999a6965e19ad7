package dev.gpucore.cuda;

import dev.gpucore.DType;
import dev.gpucore.cuda.bindings.GpuCoreNative;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.spi.ReduceOps;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;

/** Reductions on the GPU: gpucore's own kernels (native/src). */
final class CudaReduce implements ReduceOps {
  private final CudaBackend backend;

  CudaReduce(CudaBackend backend) {
    this.backend = backend;
  }

  @Override
  public double sum(float[] x, int offset, int count) {
    throw new UnsupportedOperationException("host-array reductions go through the CPU backend");
  }

  @Override
  public double sum(DeviceArray x, long offset, long count, GpuStream stream) {
    DeviceState dev = backend.device(x.device());
    dev.enter();
    CudaStream s = stream != null ? (CudaStream) stream : dev.acquire();
    try {
      long ws = s.workspace();
      long out = s.resultDevice();
      long addr = x.address() + offset * x.dtype().bytes();
      int st = x.dtype() == DType.FLOAT32
          ? GpuCoreNative.gc_sum_f32(addr, count, out, ws, s.handle())
          : GpuCoreNative.gc_sum_f64(addr, count, out, ws, s.handle());
      s.check(st, "gc_sum");
      s.check(GpuCoreNative.gc_memcpy_async(s.resultSlot(), out, x.dtype().bytes(),
          CudaStream.D2H, s.handle()), "cudaMemcpyAsync(result)");
      s.synchronize();
      return x.dtype() == DType.FLOAT32
          ? new FloatPointer(Native.at(s.resultSlot())).get()
          : new DoublePointer(Native.at(s.resultSlot())).get();
    } finally {
      if (stream == null) {
        backend.device(x.device()).release(s);
      }
    }
  }
}
