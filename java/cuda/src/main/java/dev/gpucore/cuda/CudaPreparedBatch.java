package dev.gpucore.cuda;

import dev.gpucore.DType;
import dev.gpucore.cuda.bindings.GpuCoreNative;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.NativeMemory;
import dev.gpucore.memory.NativeResource;
import dev.gpucore.spi.GemmCall;
import dev.gpucore.spi.PreparedGemmBatch;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * A pointer-array batch of device operands prepared once ({@code Blas.prepareBatched}): the
 * three arrays of device addresses (B, A and C of every item: the row-major call is the
 * column-major one with A and B swapped, as in {@link CudaBlas#gemmBatched}) uploaded once into
 * device memory of the items' GPU, alpha and beta in host memory of its own (cuBLAS reads them
 * when the call is queued), the JavaCPP pointers and every argument of the call made up front.
 * A run is one {@code cublasGemmBatchedEx} on the stream: no work per item, no allocation, no
 * upload. Items equally spaced in memory ({@link CudaBlas#evenStrides}) need no pointer
 * arrays: a run is one {@code cublasGemmStridedBatchedEx}. The API's {@code BatchedGemm}
 * checks, before each run, that the batch and its operands are open.
 */
final class CudaPreparedBatch implements PreparedGemmBatch {
  private final DeviceState dev;
  private final PointerArrays arrays;
  private final int count;
  private final int opA;
  private final int opB;
  private final int m;
  private final int n;
  private final int k;
  private final int lda;
  private final int ldb;
  private final int ldc;
  private final int dtype;
  private final int ctype;
  private final int compute;
  private final Pointer alpha;
  private final Pointer beta;
  private final PointerPointer<?> ptrA;
  private final PointerPointer<?> ptrB;
  private final PointerPointer<?> ptrC;
  /** Strided form: the first item's B, A and C, and the item strides in elements (B, A, C). */
  private final Pointer firstB;
  private final Pointer firstA;
  private final Pointer firstC;
  private final long[] strides;

  private CudaPreparedBatch(DeviceState dev, PointerArrays arrays, GemmCall call, int count,
      long[] ptrs, long[] strides) {
    this.dev = dev;
    this.arrays = arrays;
    this.count = count;
    opB = call.transB() ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N;
    opA = call.transA() ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N;
    m = call.m();
    n = call.n();
    k = call.k();
    lda = call.lda();
    ldb = call.ldb();
    ldc = call.ldc();
    dtype = CudaBlas.cudaType(call.dtype());
    ctype = CudaBlas.cudaType(call.c().dtype());
    compute = call.dtype().isHalf() ? cublas.CUBLAS_COMPUTE_32F
        : CudaBlas.computeType(call.precision());
    long sc = arrays.scalars;
    if (call.dtype() == DType.FLOAT64) {
      alpha = new DoublePointer(Native.at(sc)).put(0, call.alpha());
      beta = new DoublePointer(Native.at(sc + 8)).put(0, call.beta());
    } else {
      alpha = new FloatPointer(Native.at(sc)).put(0, (float) call.alpha());
      beta = new FloatPointer(Native.at(sc + 8)).put(0, (float) call.beta());
    }
    this.strides = strides;
    if (strides != null) {
      firstB = Native.at(ptrs[0]);
      firstA = Native.at(ptrs[count]);
      firstC = Native.at(ptrs[2 * count]);
      ptrB = ptrA = ptrC = null;
    } else {
      firstB = firstA = firstC = null;
      // the PointerPointer overload passes the device arrays' addresses (see CudaBlas)
      ptrB = new PointerPointer<>(Native.at(arrays.device));
      ptrA = new PointerPointer<>(Native.at(arrays.device + 8L * count));
      ptrC = new PointerPointer<>(Native.at(arrays.device + 16L * count));
    }
  }

  /**
   * The prepared form of checked device items of one GPU (at least one, m and n not 0), or
   * null where the batch runs item by item (scale-only, or items not equally spaced with an
   * operand not 16-byte aligned: see {@link CudaBlas#gemmBatched}).
   */
  static CudaPreparedBatch prepare(CudaBlas blas, DeviceState dev, GemmCall[] items) {
    GemmCall first = items[0];
    if (first.scaleOnly()) {
      return null;
    }
    int eb = first.dtype().bytes();
    int cb = first.c().dtype().bytes();
    int count = items.length;
    long[] ptrs = CudaBlas.addresses(items);
    long[] even = CudaBlas.evenStrides(ptrs, count, eb, cb, first.spanC());
    if (even == null && !CudaBlas.aligned(ptrs)) {
      return null;
    }
    blas.ensureCublas(dev);
    PointerArrays arrays = new PointerArrays(dev, even != null ? 0 : count);
    try {
      if (even == null) {
        upload(dev, arrays.device, ptrs);
      }
      return new CudaPreparedBatch(dev, arrays, first, count, ptrs, even);
    } catch (RuntimeException | Error e) {
      arrays.close();
      throw e;
    }
  }

  /** Copies {@code ptrs} to device address {@code to} through an internal stream, and waits. */
  private static void upload(DeviceState dev, long to, long[] ptrs) {
    long bytes = 8L * ptrs.length;
    dev.enter();
    CudaStream s = dev.acquire();
    try {
      long host = s.pointerStaging(bytes);
      new LongPointer(Native.at(host)).capacity(ptrs.length).put(ptrs, 0, ptrs.length);
      s.check(GpuCoreNative.gc_memcpy_async(to, host, bytes, CudaStream.H2D, s.handle()),
          "cudaMemcpyAsync(H2D, GEMM pointer arrays)");
      s.pointerStagingQueued();
      s.synchronize();
    } finally {
      dev.release(s);
    }
  }

  @Override
  public void run(GpuStream stream) {
    dev.enter();
    CudaStream s = stream != null ? (CudaStream) stream : dev.acquire();
    try {
      if (dev.faults.stickyGemmNow()) {
        dev.injectSticky(strides != null ? "cublasGemmStridedBatchedEx" : "cublasGemmBatchedEx");
      }
      int st;
      if (strides != null) {
        st = cublas.cublasGemmStridedBatchedEx(s.cublas(), opB, opA, n, m, k, alpha, firstB,
            dtype, ldb, strides[0], firstA, dtype, lda, strides[1], beta, firstC, ctype, ldc,
            strides[2], count, compute, CudaBlas.GEMM_DEFAULT_ALGO);
      } else {
        st = cublas.cublasGemmBatchedEx(s.cublas(), opB, opA, n, m, k, alpha, ptrB, dtype, ldb,
            ptrA, dtype, lda, beta, ptrC, ctype, ldc, count, compute,
            CudaBlas.GEMM_DEFAULT_ALGO);
      }
      CudaErrors.checkCublas(st, strides != null ? "cublasGemmStridedBatchedEx"
          : "cublasGemmBatchedEx", dev);
      if (stream == null) {
        s.synchronize();
      }
    } finally {
      if (stream == null) {
        dev.release(s);
      }
      // the pointer arrays and scalars stay allocated until the call is queued, even when the
      // caller keeps no reference to the batch
      java.lang.ref.Reference.reachabilityFence(this);
    }
  }

  @Override
  public void close() {
    arrays.close();
  }

  /**
   * The batch's device pointer arrays (24 bytes an item; none for a strided batch) and its 16
   * bytes of pinned host memory for alpha and beta: counted as device memory (as pinned memory
   * when there are no pointer arrays), released on close (or, logged as a leak, when the batch
   * is collected unclosed).
   */
  private static final class PointerArrays extends NativeResource {
    final long device;
    final long scalars;

    PointerArrays(DeviceState dev, int count) {
      this(dev, count, count == 0 ? 0 : CudaDeviceArray.malloc(dev, 24L * count));
    }

    private PointerArrays(DeviceState dev, int count, long device) {
      this(dev, count, device, hostScalars(dev, device));
    }

    private PointerArrays(DeviceState dev, int count, long device, long scalars) {
      super(count == 0 ? NativeMemory.Kind.PINNED : NativeMemory.Kind.DEVICE,
          count == 0 ? 16 : 24L * count, count == 0
              ? "GEMM scalars of a prepared strided batch on device " + dev.index
              : "GEMM pointer arrays of a prepared batch of " + count + " items on device "
                  + dev.index, () -> {
                    if (device != 0) {
                      GpuCoreNative.gc_free(device);
                    }
                    GpuCoreNative.gc_free_host(scalars);
                  });
      this.device = device;
      this.scalars = scalars;
    }

    /** 16 bytes of pinned host memory; frees {@code device} when they cannot be had. */
    private static long hostScalars(DeviceState dev, long device) {
      long[] out = new long[1];
      int st = GpuCoreNative.gc_malloc_host(out, 16);
      if (st != 0) {
        if (device != 0) {
          GpuCoreNative.gc_free(device);
        }
        CudaErrors.check(st, "cudaMallocHost(16 bytes of GEMM scalars)", dev);
      }
      return out[0];
    }
  }
}
