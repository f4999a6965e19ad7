package dev.gpucore.cuda;

import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import dev.gpucore.cuda.bindings.GpuCoreNative;
import dev.gpucore.device.Discovery;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.HostArray;
import dev.gpucore.spi.GpuBackend;
import java.util.concurrent.ForkJoinPool;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.Loader;

/** The CUDA backend. */
final class CudaBackend implements GpuBackend {
  private final Discovery discovery;
  private final DeviceState[] devices;
  private final ForkJoinPool copyPool;
  private volatile String cublasFailure;
  private volatile boolean cublasLoaded;

  CudaBackend(Discovery discovery) {
    this.discovery = discovery;
    StagingConfig staging = StagingConfig.fromSystemProperties();
    this.devices = new DeviceState[discovery.devices().size()];
    for (int i = 0; i < devices.length; i++) {
      devices[i] = new DeviceState(i, discovery.devices().get(i).cudaOrdinal(), staging);
    }
    this.copyPool = staging.threads() > 1 ? new ForkJoinPool(staging.threads() - 1,
        pool -> {
          var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
          t.setDaemon(true);
          t.setName("gpucore-staging-" + t.getPoolIndex());
          return t;
        }, null, false) : null;
  }

  ForkJoinPool copyPool() {
    return copyPool;
  }

  DeviceState device(int index) {
    return devices[index];
  }

  @Override
  public String name() {
    return "cuda";
  }

  @Override
  public Discovery discovery() {
    return discovery;
  }

  @Override
  public HostArray allocateHost(DType dtype, long length, boolean pinned) {
    if (!pinned) {
      return HostArray.allocatePageable(dtype, length);
    }
    long bytes = length * dtype.bytes();
    long[] out = new long[1];
    int s = GpuCoreNative.gc_malloc_host(out, bytes);
    if (s == CudaErrors.MEMORY_ALLOCATION) {
      throw new GpuCoreException.OutOfMemory("cudaMallocHost of " + bytes
          + " bytes failed: cudaErrorMemoryAllocation (2)");
    }
    CudaErrors.check(s, "cudaMallocHost(" + bytes + " bytes)", null);
    long addr = out[0];
    // zero it like the pageable kind, so no host array ever exposes stale memory
    org.bytedeco.javacpp.Pointer.memset(Native.at(addr), 0, Math.max(1, bytes));
    return new HostArray(dtype, length, addr, true, () -> GpuCoreNative.gc_free_host(addr));
  }

  @Override
  public DeviceArray allocate(int device, DType dtype, long length) {
    return CudaDeviceArray.allocate(this, devices[device], dtype, length);
  }

  @Override
  public GpuStream createStream(int device) {
    return CudaStream.create(devices[device], devices[device].staging(), false);
  }

  private void ensureCublas(DeviceState dev) {
    if (cublasLoaded) {
      return;
    }
    synchronized (this) {
      if (cublasFailure == null && !cublasLoaded) {
        try {
          Loader.load(cublas.class);
          cublasLoaded = true;
        } catch (Throwable t) {
          cublasFailure = LoadErrors.describe(t);
        }
      }
    }
    if (!cublasLoaded) {
      throw new GpuCoreException.DeviceUnavailable("cuBLAS could not be loaded on device "
          + dev.index + ": " + cublasFailure);
    }
  }

  @Override
  public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
      DeviceArray a, int lda, DeviceArray b, int ldb, float beta, DeviceArray c, int ldc,
      GpuStream stream) {
    DeviceState dev = devices[c.device()];
    ensureCublas(dev);
    dev.enter();
    CudaStream s = stream != null ? (CudaStream) stream : dev.acquire();
    try {
      if (k == 0 || alpha == 0f) {
        // cuBLAS honours BLAS semantics for these too; keep beta = 0 from reading C
        if (beta == 0f) {
          for (int i = 0; i < m; i++) {
            s.check(GpuCoreNative.gc_memset_async(c.address() + (long) i * ldc * 4, 0,
                (long) n * 4, s.handle()), "cudaMemsetAsync");
          }
          if (stream == null) {
            s.synchronize();
          }
          return;
        }
      }
      // row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T
      // alpha and beta in the lane's pinned scratch (host pointer mode reads them at the call)
      long scalars = s.resultSlot();
      FloatPointer al = fp(scalars).put(0, alpha);
      FloatPointer be = fp(scalars + 4).put(0, beta);
      int st = cublas.cublasSgemm_v2(s.cublas(),
          transB ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N,
          transA ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N,
          n, m, k, al, fp(b.address()), ldb, fp(a.address()), lda, be, fp(c.address()), ldc);
      CudaErrors.checkCublas(st, "cublasSgemm", dev);
      if (stream == null) {
        s.synchronize();
      }
    } finally {
      if (stream == null) {
        dev.release(s);
      }
    }
  }

  private static FloatPointer fp(long address) {
    return new FloatPointer(Native.at(address));
  }

  @Override
  public double sum(DeviceArray x, long offset, long count, GpuStream stream) {
    DeviceState dev = devices[x.device()];
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
        dev.release(s);
      }
    }
  }

  @Override
  public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a,
      int lda, float[] b, int ldb, float beta, float[] c, int ldc) {
    throw new GpuCoreException.InvalidArgument(
        "host-array GEMM goes through the CPU backend in this version");
  }

  @Override
  public double sum(float[] x, int offset, int count) {
    throw new GpuCoreException.InvalidArgument(
        "host-array reductions go through the CPU backend");
  }

  @Override
  public void close() {
    for (DeviceState d : devices) {
      d.close();
    }
    if (copyPool != null) {
      copyPool.shutdown();
    }
  }
}
