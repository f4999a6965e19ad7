package dev.gpucore.cuda;

import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.cuda.bindings.GpuCoreNative;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.spi.BlasOps;
import dev.gpucore.spi.GemmCall;
import dev.gpucore.spi.Uninterruptible;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * BLAS on the GPU: cuBLAS ({@code cublasGemmEx}, {@code cublasGemmStridedBatchedEx},
 * {@code cublasGemmBatchedEx} for pointer-array batches) on device operands, with a handle and
 * workspace per stream. Host operands go through {@link CudaHostGemm}, tiled and pipelined.
 */
final class CudaBlas implements BlasOps {
  private static final int CUDA_R_32F = org.bytedeco.cuda.global.cudart.CUDA_R_32F;
  private static final int CUDA_R_64F = org.bytedeco.cuda.global.cudart.CUDA_R_64F;
  private static final int CUDA_R_16F = org.bytedeco.cuda.global.cudart.CUDA_R_16F;
  private static final int CUDA_R_16BF = org.bytedeco.cuda.global.cudart.CUDA_R_16BF;
  static final int GEMM_DEFAULT_ALGO = cublas.CUBLAS_GEMM_DEFAULT;

  private final CudaBackend backend;
  private final CudaHostGemm host;
  private volatile String cublasFailure;
  private volatile boolean cublasLoaded;

  CudaBlas(CudaBackend backend) {
    this.backend = backend;
    this.host = new CudaHostGemm(backend, this);
  }

  /** Loads cuBLAS once; throws DeviceUnavailable naming {@code dev} when it cannot load. */
  void ensureCublas(DeviceState dev) {
    if (cublasLoaded) {
      return;
    }
    synchronized (this) {
      if (cublasFailure == null && !cublasLoaded) {
        cublasFailure = Uninterruptible.onOwnThread("gpucore-cublas-load", () -> {
          try {
            Loader.load(cublas.class);
            return null;
          } catch (Throwable t) {
            return LoadErrors.describe(t);
          }
        });
        cublasLoaded = cublasFailure == null;
      }
    }
    if (!cublasLoaded) {
      throw new GpuCoreException.DeviceUnavailable("cuBLAS could not be loaded on device "
          + dev.index + ": " + cublasFailure);
    }
  }

  /** A GEMM on device operands of one GPU. */
  @Override
  public void gemm(GemmCall call) {
    DeviceState dev = backend.device(((GemmCall.OnDevice) call.place()).device());
    ensureCublas(dev);
    dev.enter();
    CudaStream s = call.stream() != null ? (CudaStream) call.stream() : dev.acquire();
    try {
      int eb = call.dtype().bytes();
      if (call.scaleOnly() && call.beta() != 0 && call.c().dtype().isHalf()) {
        scaleHalfOnHost(call);
        return;
      }
      enqueue(s, call, call.m(), addr(call.a(), eb), addr(call.b(), eb),
          addr(call.c(), call.c().dtype().bytes()));
      if (call.stream() == null) {
        s.synchronize();
      }
    } finally {
      if (call.stream() == null) {
        dev.release(s);
      }
    }
  }

  /**
   * A pointer-array batch. Device operands: items equally spaced in memory ({@link
   * #evenStrides}) are one {@code cublasGemmStridedBatchedEx}, as {@code Gemm.batch} runs;
   * others one {@code cublasGemmBatchedEx} on the items' stream, its three pointer arrays
   * (device addresses of B, A and C of every item: the row-major call is the column-major one
   * with A and B swapped) copied from the stream's pinned staging ({@link
   * CudaStream#pointerStaging}) into a stream-ordered device allocation that is freed,
   * stream-ordered, after the call, so that nothing outlives or is freed under a call still
   * queued on a user stream. Scale-only batches (k = 0 or alpha = 0) and, of the others, those
   * with an operand not 16-byte aligned (the pointer-array kernels may assume aligned matrices)
   * run item by item as {@link #gemm} does.
   */
  @Override
  public void gemmBatched(GemmCall[] items) {
    if (items.length == 0) {
      return;
    }
    GemmCall first = items[0];
    if (first.scaleOnly()) {
      for (GemmCall item : items) {
        gemm(item);
      }
      return;
    }
    DeviceState dev = backend.device(first.c().device());
    ensureCublas(dev);
    dev.enter();
    CudaStream s = first.stream() != null ? (CudaStream) first.stream() : dev.acquire();
    try {
      int eb = first.dtype().bytes();
      int cb = first.c().dtype().bytes();
      int n = items.length;
      long[] ptrs = addresses(items);
      long[] even = evenStrides(ptrs, n, eb, cb, first.spanC());
      if (even != null) {
        enqueue(s, first.strided(n, even[1], even[0], even[2]), first.m(), ptrs[n], ptrs[0],
            ptrs[2 * n]);
      } else if (!aligned(ptrs)) {
        for (GemmCall it : items) {
          enqueue(s, it, it.m(), addr(it.a(), eb), addr(it.b(), eb), addr(it.c(), cb));
        }
      } else {
        enqueuePointerArrays(s, first, ptrs, n);
      }
      if (first.stream() == null) {
        s.synchronize();
      }
    } finally {
      if (first.stream() == null) {
        dev.release(s);
      }
    }
  }

  /**
   * A pointer-array batch prepared to run many times: the pointer arrays uploaded once
   * ({@link CudaPreparedBatch}); item by item, as {@link #gemmBatched} runs them, where that
   * call would (scale-only, an operand not 16-byte aligned).
   */
  @Override
  public dev.gpucore.spi.PreparedGemmBatch prepareBatched(GemmCall[] items) {
    DeviceState dev = backend.device(items[0].c().device());
    CudaPreparedBatch p = CudaPreparedBatch.prepare(this, dev, items);
    return p != null ? p : BlasOps.super.prepareBatched(items);
  }

  /**
   * The device addresses of the items' operands as the batched calls take them: every item's
   * B, then every A, then every C.
   */
  static long[] addresses(GemmCall[] items) {
    int n = items.length;
    int eb = items[0].dtype().bytes();
    int cb = items[0].c().dtype().bytes();
    long[] ptrs = new long[3 * n];
    for (int i = 0; i < n; i++) {
      GemmCall it = items[i];
      ptrs[i] = addr(it.b(), eb);
      ptrs[n + i] = addr(it.a(), eb);
      ptrs[2 * n + i] = addr(it.c(), cb);
    }
    return ptrs;
  }

  /** Whether every address is a multiple of {@link #BATCH_ALIGN} bytes. */
  static boolean aligned(long[] ptrs) {
    long bits = 0;
    for (long p : ptrs) {
      bits |= p;
    }
    return (bits & (BATCH_ALIGN - 1)) == 0;
  }

  /**
   * The item strides in elements of B, A and C (the order of {@code ptrs}: the items' B
   * addresses, then A, then C) when each of the three is equally spaced, the inputs at a
   * stride of 0 or more and the outputs at least one C's span apart ({@code spanC} elements),
   * so that one {@code cublasGemmStridedBatchedEx} computes the {@code n} items; else null.
   */
  static long[] evenStrides(long[] ptrs, int n, int eb, int cb, long spanC) {
    long[] strides = new long[3];
    for (int j = 0; j < 3; j++) {
      int bytes = j == 2 ? cb : eb;
      long first = ptrs[j * n];
      long step = n > 1 ? ptrs[j * n + 1] - first : 0;
      if (step < 0 || step % bytes != 0 || (j == 2 && n > 1 && step / bytes < spanC)) {
        return null;
      }
      for (int i = 2; i < n; i++) {
        if (ptrs[j * n + i] - ptrs[j * n + i - 1] != step) {
          return null;
        }
      }
      strides[j] = step / bytes;
    }
    return strides;
  }

  /** An array of pointers at device address {@code addr}, as the batched cuBLAS calls take. */
  private static org.bytedeco.javacpp.PointerPointer<?> devicePointers(long addr) {
    return new org.bytedeco.javacpp.PointerPointer<>(Native.at(addr));
  }

  /** Operand addresses that the pointer-array call accepts: multiples of this many bytes. */
  static final long BATCH_ALIGN = 16;

  /**
   * Queues one {@code cublasGemmBatchedEx} for {@code n} items of {@code call}'s shape with
   * {@code ptrs} = the items' B addresses, then A, then C.
   */
  private void enqueuePointerArrays(CudaStream s, GemmCall call, long[] ptrs, int n) {
    DeviceState dev = s.dev;
    if (dev.faults.stickyGemmNow()) {
      dev.injectSticky("cublasGemmBatchedEx");
    }
    long bytes = 8L * ptrs.length;
    long[] out = new long[1];
    s.check(GpuCoreNative.gc_malloc_async(out, bytes, s.handle()),
        "cudaMallocAsync(" + bytes + " bytes of GEMM pointer arrays)");
    long arrays = out[0];
    boolean queued = false;
    try {
      // from the stream's pinned staging, which stays untouched until this copy has run
      long host = s.pointerStaging(bytes);
      new LongPointer(Native.at(host)).capacity(ptrs.length).put(ptrs, 0, ptrs.length);
      s.check(GpuCoreNative.gc_memcpy_async(arrays, host, bytes, CudaStream.H2D, s.handle()),
          "cudaMemcpyAsync(H2D, GEMM pointer arrays)");
      s.pointerStagingQueued();
      Pointer[] ab = scalars(s, call);
      Pointer alpha = ab[0];
      Pointer beta = ab[1];
      int dt = cudaType(call.dtype());
      int ctype = cudaType(call.c().dtype());
      int compute = call.dtype().isHalf() ? cublas.CUBLAS_COMPUTE_32F
          : computeType(call.precision());
      int opB = call.transB() ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N;
      int opA = call.transA() ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N;
      // the PointerPointer overload passes the device arrays' addresses; the Pointer one is
      // @ByPtrPtr (it would pass the address of a host variable holding them)
      int st = cublas.cublasGemmBatchedEx(s.cublas(), opB, opA, call.n(), call.m(), call.k(),
          alpha, devicePointers(arrays), dt, call.ldb(), devicePointers(arrays + 8L * n), dt,
          call.lda(), beta, devicePointers(arrays + 16L * n), ctype, call.ldc(), n, compute,
          GEMM_DEFAULT_ALGO);
      CudaErrors.checkCublas(st, "cublasGemmBatchedEx", dev);
      queued = true;
    } finally {
      // after the GEMM in stream order (a failed call queued nothing that reads the arrays);
      // a failure here is reported only when nothing else already is
      int st = GpuCoreNative.gc_free_async(arrays, s.handle());
      if (st != 0 && queued) {
        s.check(st, "cudaFreeAsync(GEMM pointer arrays)");
      }
    }
  }

  /**
   * C = beta*C for a 16-bit C (k = 0 or alpha = 0): a rare edge, done through the host with
   * float arithmetic and one rounding, as the BLAS definition asks.
   */
  private static void scaleHalfOnHost(GemmCall call) {
    DeviceArray c = (DeviceArray) call.c().storage();
    for (int item = 0; item < call.batch(); item++) {
      long base = call.c().offset() + item * call.strideC();
      float[] row = new float[call.n()];
      for (int i = 0; i < call.m(); i++) {
        long off = base + (long) i * call.ldc();
        c.copyTo(off, row, 0, row.length);
        for (int j = 0; j < row.length; j++) {
          row[j] = (float) (call.beta() * row[j]);
        }
        c.copyFrom(row, 0, off, row.length);
      }
    }
  }

  @Override
  public String gemmFromHost(GemmCall call) {
    return host.run(call);
  }

  /**
   * A sum of products on host operands: on the native engine in one call (the sum formed on
   * the GPU) where it takes every pair, else pair by pair through {@link #gemmFromHost}.
   */
  @Override
  public String gemmSumFromHost(java.util.List<GemmCall> pairs) {
    if (host.engineTakesSum(pairs)) {
      return host.runSumOnEngine(pairs);
    }
    return BlasOps.super.gemmSumFromHost(pairs);
  }

  static long addr(Operand o, int eb) {
    return ((DeviceArray) o.storage()).address() + o.offset() * eb;
  }

  /** Queues {@code rows} rows of the row-major GEMM on {@code s} with device addresses. */
  void enqueue(CudaStream s, GemmCall call, int rows, long a, long b, long c) {
    if (s.dev.faults.stickyGemmNow()) {
      s.dev.injectSticky(call.batch() == 1 ? "cublasGemmEx" : "cublasGemmStridedBatchedEx");
    }
    boolean f64 = call.dtype() == DType.FLOAT64;
    DType ct = call.c().dtype();
    if (call.scaleOnly()) {
      for (int i = 0; i < call.batch(); i++) {
        long ci = c + i * call.strideC() * ct.bytes();
        int st;
        if (ct.isHalf()) { // only beta = 0 reaches here: zero bits are +0 in both 16-bit types
          st = 0;
          for (int r = 0; r < rows && st == 0; r++) {
            st = GpuCoreNative.gc_memset_async(ci + (long) r * call.ldc() * 2, 0,
                (long) call.n() * 2, s.handle());
          }
        } else if (ct == DType.FLOAT64) {
          st = GpuCoreNative.gc_scale2d_f64(ci, rows, call.n(), call.ldc(), call.beta(),
              s.handle());
        } else {
          st = GpuCoreNative.gc_scale2d_f32(ci, rows, call.n(), call.ldc(), (float) call.beta(),
              s.handle());
        }
        s.check(st, "gc_scale2d");
      }
      return;
    }
    Pointer[] ab = scalars(s, call);
    Pointer alpha = ab[0];
    Pointer beta = ab[1];
    int dt = cudaType(call.dtype());
    int ctype = cudaType(ct);
    // 16-bit operands are already rounded: multiply them exactly with fp32 accumulation
    int compute = call.dtype().isHalf() ? cublas.CUBLAS_COMPUTE_32F : computeType(call.precision());
    // row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T
    int opB = call.transB() ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N;
    int opA = call.transA() ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N;
    DeviceState dev = s.dev;
    if (CudaLt.wanted(backend.ltMode(), call)) {
      CudaLt.Key key = new CudaLt.Key(opB, opA, call.n(), rows, call.k(), call.ldb(), call.lda(),
          call.ldc(), dt, ctype, compute, f64 ? CUDA_R_64F : CUDA_R_32F);
      if (CudaLt.matmul(s, key, alpha, b, a, beta, c)) {
        return;
      }
    }
    int st;
    if (call.batch() == 1) {
      st = cublas.cublasGemmEx(s.cublas(), opB, opA, call.n(), rows, call.k(), alpha,
          Native.at(b), dt, call.ldb(), Native.at(a), dt, call.lda(), beta, Native.at(c), ctype,
          call.ldc(), compute, GEMM_DEFAULT_ALGO);
    } else {
      st = cublas.cublasGemmStridedBatchedEx(s.cublas(), opB, opA, call.n(), rows, call.k(),
          alpha, Native.at(b), dt, call.ldb(), call.strideB(), Native.at(a), dt, call.lda(),
          call.strideA(), beta, Native.at(c), ctype, call.ldc(), call.strideC(), call.batch(),
          compute, GEMM_DEFAULT_ALGO);
    }
    CudaErrors.checkCublas(st, call.batch() == 1 ? "cublasGemmEx" : "cublasGemmStridedBatchedEx",
        dev);
  }

  /**
   * The call's alpha and beta, in its element precision (fp64 for FLOAT64, else fp32), written
   * into the stream's pinned scalar slots: cuBLAS in host pointer mode reads them when the call
   * is queued. Returns {alpha, beta}.
   */
  private static Pointer[] scalars(CudaStream s, GemmCall call) {
    long sc = s.scalars();
    if (call.dtype() == DType.FLOAT64) {
      return new Pointer[] {new DoublePointer(Native.at(sc)).put(0, call.alpha()),
          new DoublePointer(Native.at(sc + 8)).put(0, call.beta())};
    }
    return new Pointer[] {new FloatPointer(Native.at(sc)).put(0, (float) call.alpha()),
        new FloatPointer(Native.at(sc + 8)).put(0, (float) call.beta())};
  }

  static int cudaType(DType t) {
    return switch (t) {
      case FLOAT64 -> CUDA_R_64F;
      case BFLOAT16 -> CUDA_R_16BF;
      case FLOAT16 -> CUDA_R_16F;
      default -> CUDA_R_32F;
    };
  }

  static int computeType(Precision p) {
    return switch (p) {
      case FP32 -> cublas.CUBLAS_COMPUTE_32F;
      case TF32 -> cublas.CUBLAS_COMPUTE_32F_FAST_TF32;
      case BF16 -> cublas.CUBLAS_COMPUTE_32F_FAST_16BF;
      case FP16 -> cublas.CUBLAS_COMPUTE_32F_FAST_16F;
      case FP64 -> cublas.CUBLAS_COMPUTE_64F;
      default -> throw new GpuCoreException.InvalidArgument("unresolved precision " + p);
    };
  }
}
