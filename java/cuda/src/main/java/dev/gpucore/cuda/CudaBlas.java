package dev.gpucore.cuda;

import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import dev.gpucore.blas.GemmCall;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.cuda.bindings.GpuCoreNative;
import dev.gpucore.spi.Uninterruptible;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.HostArray;
import dev.gpucore.spi.BlasOps;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * BLAS on the GPU: cuBLAS ({@code cublasGemmEx}, {@code cublasGemmStridedBatchedEx},
 * {@code cublasGemmBatchedEx} for pointer-array batches) with a
 * handle and workspace per stream. Host operands are tiled and pipelined: B goes up once, then
 * row panels of A go up while earlier panels are multiplied and their C panels come down, each
 * on its own thread and stream, spread over the configured GPUs.
 */
final class CudaBlas implements BlasOps {
  private static final int CUDA_R_32F = 0;
  private static final int CUDA_R_64F = 1;
  private static final int CUDA_R_16F = 2;
  private static final int CUDA_R_16BF = 14;
  private static final int GEMM_DEFAULT_ALGO = -1;

  private final CudaBackend backend;
  private volatile String cublasFailure;
  private volatile boolean cublasLoaded;

  CudaBlas(CudaBackend backend) {
    this.backend = backend;
  }

  private void ensureCublas(DeviceState dev) {
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

  @Override
  public void gemm(GemmCall call) {
    gemm(call, 1);
  }

  @Override
  public void gemm(GemmCall call, int tileDivisor) {
    if (call.c().kind() == Operand.Kind.DEVICE) {
      deviceGemm(call);
    } else {
      hostGemm(call, Math.max(1, tileDivisor));
    }
  }

  // ---------------------------------------------------------------- device operands

  private void deviceGemm(GemmCall call) {
    DeviceState dev = backend.device(call.c().device());
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
   * A pointer-array batch. Device operands: one {@code cublasGemmBatchedEx} on the items'
   * stream, its three pointer arrays (device addresses of B, A and C of every item: the
   * row-major call is the column-major one with A and B swapped) copied from the stream's pinned
   * staging ({@link CudaStream#pointerStaging}) into a stream-ordered device allocation that is freed, stream-ordered, after the
   * call, so that nothing outlives or is freed under a call still queued on a user stream.
   * Scale-only batches (k = 0 or alpha = 0) and batches with an operand not 16-byte aligned
   * (the pointer-array kernels may assume aligned matrices) run item by item as {@link #gemm}
   * does. Host operands: the default, item by item.
   */
  @Override
  public void gemmBatched(GemmCall[] items) {
    if (items.length == 0) {
      return;
    }
    GemmCall first = items[0];
    if (first.c().kind() != Operand.Kind.DEVICE) {
      BlasOps.super.gemmBatched(items);
      return;
    }
    if (first.scaleOnly()) {
      for (GemmCall item : items) {
        deviceGemm(item);
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
      long[] ptrs = new long[3 * n];
      boolean aligned = true;
      for (int i = 0; i < n; i++) {
        GemmCall it = items[i];
        ptrs[i] = addr(it.b(), eb);
        ptrs[n + i] = addr(it.a(), eb);
        ptrs[2 * n + i] = addr(it.c(), cb);
        aligned &= ((ptrs[i] | ptrs[n + i] | ptrs[2 * n + i]) & (BATCH_ALIGN - 1)) == 0;
      }
      if (!aligned) {
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

  /** An array of pointers at device address {@code addr}, as the batched cuBLAS calls take. */
  private static org.bytedeco.javacpp.PointerPointer<?> devicePointers(long addr) {
    return new org.bytedeco.javacpp.PointerPointer<>(Native.at(addr));
  }

  /** Operand addresses that the pointer-array call accepts: multiples of this many bytes. */
  private static final long BATCH_ALIGN = 16;

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
      boolean f64 = call.dtype() == DType.FLOAT64;
      long sc = s.scalars(); // host pointer mode: read when the call is queued
      Pointer alpha;
      Pointer beta;
      if (f64) {
        alpha = new DoublePointer(Native.at(sc)).put(0, call.alpha());
        beta = new DoublePointer(Native.at(sc + 8)).put(0, call.beta());
      } else {
        alpha = new FloatPointer(Native.at(sc)).put(0, (float) call.alpha());
        beta = new FloatPointer(Native.at(sc + 8)).put(0, (float) call.beta());
      }
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

  private static long addr(Operand o, int eb) {
    return ((DeviceArray) o.storage()).address() + o.offset() * eb;
  }

  /** Queues {@code rows} rows of the row-major GEMM on {@code s} with device addresses. */
  private void enqueue(CudaStream s, GemmCall call, int rows, long a, long b, long c) {
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
    // alpha and beta in the stream's pinned scratch: host pointer mode reads them at the call
    long sc = s.scalars();
    Pointer alpha;
    Pointer beta;
    if (f64) {
      alpha = new DoublePointer(Native.at(sc)).put(0, call.alpha());
      beta = new DoublePointer(Native.at(sc + 8)).put(0, call.beta());
    } else {
      alpha = new FloatPointer(Native.at(sc)).put(0, (float) call.alpha());
      beta = new FloatPointer(Native.at(sc + 8)).put(0, (float) call.beta());
    }
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

  static int cudaType(DType t) {
    switch (t) {
      case FLOAT64:
        return CUDA_R_64F;
      case BFLOAT16:
        return CUDA_R_16BF;
      case FLOAT16:
        return CUDA_R_16F;
      default:
        return CUDA_R_32F;
    }
  }

  static int computeType(Precision p) {
    switch (p) {
      case FP32:
        return cublas.CUBLAS_COMPUTE_32F;
      case TF32:
        return cublas.CUBLAS_COMPUTE_32F_FAST_TF32;
      case BF16:
        return cublas.CUBLAS_COMPUTE_32F_FAST_16BF;
      case FP16:
        return cublas.CUBLAS_COMPUTE_32F_FAST_16F;
      case FP64:
        return cublas.CUBLAS_COMPUTE_64F;
      default:
        throw new GpuCoreException.InvalidArgument("unresolved precision " + p);
    }
  }

  // ---------------------------------------------------------------- host operands

  /** Rows per panel for a host-operand GEMM: about {@code gpucore.gemm.panelMiB} of A. */
  private int panelRows(GemmCall call, int tileDivisor) {
    long rowBytes = (long) Math.max(call.lda(), call.ldc()) * call.dtype().bytes();
    long panel = backend.gemmPanelBytes() / tileDivisor / Math.max(1, rowBytes);
    panel = Math.max(Math.max(1, 64 / tileDivisor), Math.min(call.m(), panel));
    return (int) panel;
  }

  /**
   * A host-operand GEMM. Every device's buffers are taken before any work starts, so that an
   * out-of-memory leaves C untouched (the API then retries with a larger {@code tileDivisor});
   * a fault after part of C came down is reported as such.
   */
  private void hostGemm(GemmCall call, int tileDivisor) {
    List<DeviceState> devices = backend.gemmDevices();
    if (devices.isEmpty()) {
      throw new GpuCoreException.DeviceUnavailable("no healthy GPU is configured for host GEMM");
    }
    for (DeviceState d : devices) {
      ensureCublas(d);
    }
    boolean panels = call.rowPanels();
    List<Job> jobs = new ArrayList<>();
    if (panels) {
      int rows = panelRows(call, tileDivisor);
      for (int r0 = 0; r0 < call.m(); r0 += rows) {
        jobs.add(new Job(0, r0, Math.min(rows, call.m() - r0)));
      }
    } else {
      for (int i = 0; i < call.batch(); i++) {
        jobs.add(new Job(i, 0, call.m()));
      }
    }
    int nd = Math.max(1, Math.min(devices.size(), jobs.size()));
    java.util.concurrent.atomic.AtomicBoolean written = new java.util.concurrent.atomic.AtomicBoolean();
    List<DevicePipeline> pipes = new ArrayList<>();
    for (int d = 0; d < nd; d++) {
      List<Job> mine = new ArrayList<>();
      for (int j = d; j < jobs.size(); j += nd) {
        mine.add(jobs.get(j));
      }
      pipes.add(new DevicePipeline(devices.get(d), call, mine, panels, written));
    }
    try {
      for (DevicePipeline p : pipes) {
        p.prepare();
      }
    } catch (RuntimeException e) {
      for (DevicePipeline p : pipes) {
        p.release();
      }
      throw e;
    }
    try {
      if (nd == 1) {
        pipes.get(0).run();
        return;
      }
      List<Future<?>> futures = new ArrayList<>();
      for (DevicePipeline p : pipes) {
        futures.add(backend.workers().submit(p::run));
      }
      waitAll(futures);
    } catch (GpuCoreException.DeviceFaulted | GpuCoreException.OutOfMemory e) {
      // a failure after C came down, in part (another device, a lazily taken resource)
      if (written.get() && !e.outputPartlyWritten()) {
        String msg = e.getMessage() + "; part of C had already been written";
        throw e instanceof GpuCoreException.OutOfMemory
            ? new GpuCoreException.OutOfMemory(msg, true)
            : new GpuCoreException.DeviceFaulted(msg, true);
      }
      throw e;
    } finally {
      for (DevicePipeline p : pipes) {
        p.release();
      }
    }
  }

  /**
   * Waits for every worker, uninterruptibly (a call must not return while its workers still
   * write C or hold its buffers; the interrupt flag is kept), and throws the first failure.
   */
  static void waitAll(List<Future<?>> futures) {
    RuntimeException first = null;
    for (Future<?> f : futures) {
      Throwable c = Uninterruptible.await(f);
      if (c != null && first == null) {
        first = c instanceof RuntimeException r ? r : new GpuCoreException("GEMM worker failed", c);
      }
    }
    if (first != null) {
      throw first;
    }
  }

  /** One unit of host-operand work: a batch item, or a row panel [row0, row0+rows) of C. */
  private record Job(int item, int row0, int rows) {}

  /**
   * The work of one device. The calling thread uploads (B once in panel mode, then each job's A
   * and, when beta != 0, C) and queues the multiply on the compute stream; a second thread
   * waits for each multiply and brings its C down. Two slots of device buffers alternate, so
   * job j+1 goes up while job j is multiplied and job j-1 comes down.
   */
  private final class DevicePipeline implements Runnable {
    final DeviceState dev;
    final GemmCall call;
    final List<Job> jobs;
    final boolean panels;
    final int eb;
    final java.util.concurrent.atomic.AtomicBoolean written;
    private final List<Long> owned = new ArrayList<>();
    private CudaStream up;
    private CudaStream down;
    private CudaStream compute;
    private final long[] events = new long[2];
    private long bDev;
    private final long[] aDev = new long[2];
    private final long[] cDev = new long[2];
    private boolean released;

    DevicePipeline(DeviceState dev, GemmCall call, List<Job> jobs, boolean panels,
        java.util.concurrent.atomic.AtomicBoolean written) {
      this.dev = dev;
      this.call = call;
      this.jobs = jobs;
      this.panels = panels;
      this.eb = call.dtype().bytes();
      this.written = written;
    }

    /** Takes the streams, device buffers and events (on the calling thread). */
    void prepare() {
      dev.enter();
      int maxRows = 0;
      for (Job j : jobs) {
        maxRows = Math.max(maxRows, j.rows());
      }
      long aElems = panels ? GemmCall.spanOf(maxRows, call.aCols(), call.lda()) : call.spanA();
      long cElems = GemmCall.spanOf(maxRows, call.n(), call.ldc());
      up = dev.acquire();
      down = dev.acquire();
      compute = dev.acquire();
      compute.cublas(); // the lane's handle, workspace and scalars: taken before any C is written
      compute.scalars();
      bDev = alloc(call.spanB(), owned);
      aDev[0] = alloc(aElems, owned);
      aDev[1] = alloc(aElems, owned);
      cDev[0] = alloc(cElems, owned);
      cDev[1] = alloc(cElems, owned);
      long[] out = new long[1];
      for (int i = 0; i < 2; i++) {
        up.check(GpuCoreNative.gc_event_create(out), "cudaEventCreate");
        events[i] = out[0];
      }
    }

    /** Gives everything back (once; safe after a failed or partial prepare). */
    void release() {
      if (released) {
        return;
      }
      released = true;
      if (compute != null) {
        GpuCoreNative.gc_stream_sync(compute.handle());
      }
      for (long e : events) {
        if (e != 0) {
          GpuCoreNative.gc_event_destroy(e);
        }
      }
      for (long p : owned) {
        dev.releaseScratch(p);
      }
      for (CudaStream s : new CudaStream[] {compute, down, up}) {
        if (s != null) {
          dev.release(s);
        }
      }
    }

    private long alloc(long elems, List<Long> owned) {
      long a = dev.scratch(Math.max(1, elems) * eb);
      owned.add(a);
      return a;
    }

    /** Runs the jobs; {@link #prepare} must have succeeded. */
    @Override
    public void run() {
      dev.enter();
      {
        Semaphore[] free = {new Semaphore(1), new Semaphore(1)};
        BlockingQueue<Object> queue = new ArrayBlockingQueue<>(jobs.size() + 1);
        Object done = new Object();
        java.util.concurrent.atomic.AtomicBoolean downFailed =
            new java.util.concurrent.atomic.AtomicBoolean();
        Future<?> downloader = backend.workers().submit(() -> {
          try {
            dev.enter();
            int k = 0;
            while (true) {
              Object o = queue.take();
              if (o == done) {
                return null;
              }
              Job j = (Job) o;
              int slot = k++ & 1;
              try {
                down.check(GpuCoreNative.gc_event_sync(events[slot]), "cudaEventSynchronize");
                written.set(true);
                downloadC(down, j, cDev[slot]);
              } finally {
                free[slot].release();
              }
            }
          } catch (Throwable t) {
            // let the uploader run out instead of waiting for slots nobody will free
            downFailed.set(true);
            free[0].release(jobs.size() + 2);
            free[1].release(jobs.size() + 2);
            throw t;
          }
        });
        Throwable failure = null;
        try {
          if (panels && !call.scaleOnly()) {
            upload(up, call.b(), call.b().offset(), call.spanB(), bDev);
          }
          int k = 0;
          for (Job j : jobs) {
            int slot = k++ & 1;
            free[slot].acquireUninterruptibly();
            if (downFailed.get()) {
              break; // the downloader's failure is reported below
            }
            long aFrom;
            if (call.scaleOnly()) {
              // C = beta*C: A and B are not read (they may be shorter than their shapes)
              aFrom = 0;
            } else if (panels) {
              aFrom = call.a().offset() + (long) j.row0() * call.lda();
              upload(up, call.a(), aFrom, GemmCall.spanOf(j.rows(), call.aCols(), call.lda()),
                  aDev[slot]);
            } else {
              upload(up, call.a(), call.a().offset() + j.item() * call.strideA(), call.spanA(),
                  aDev[slot]);
              upload(up, call.b(), call.b().offset() + j.item() * call.strideB(), call.spanB(),
                  bDev);
            }
            if (call.beta() != 0) {
              upload(up, call.c(), cFrom(j), GemmCall.spanOf(j.rows(), call.n(), call.ldc()),
                  cDev[slot]);
            }
            GemmCall one = call.single();
            enqueue(compute, one, j.rows(), aDev[slot], bDev, cDev[slot]);
            compute.check(GpuCoreNative.gc_event_record(events[slot], compute.handle()),
                "cudaEventRecord");
            if (!panels) {
              // B's buffer is reused by the next item: wait for this multiply
              compute.check(GpuCoreNative.gc_event_sync(events[slot]), "cudaEventSynchronize");
            }
            queue.add(j);
          }
        } catch (Throwable e) { // errors too: never leave while the downloader runs
          failure = e;
        } finally {
          queue.add(done);
        }
        // uninterruptibly: C must be complete, and the buffers idle, when this returns
        Throwable downErr = Uninterruptible.await(downloader);
        if (failure == null) {
          failure = downErr;
        }
        if (failure instanceof RuntimeException r) {
          throw r;
        }
        if (failure instanceof Error er) {
          throw er;
        }
        if (failure != null) {
          throw new GpuCoreException("GEMM download failed", failure);
        }
      }
    }

    private long cFrom(Job j) {
      return call.c().offset() + j.item() * call.strideC() + (long) j.row0() * call.ldc();
    }

    private void downloadC(CudaStream s, Job j, long cDev) {
      long from = cFrom(j);
      if (call.ldc() == call.n() || j.rows() == 1) {
        download(s, cDev, call.c(), from, GemmCall.spanOf(j.rows(), call.n(), call.ldc()));
      } else {
        // padded rows: bring each row down on its own, so C's padding is never written
        for (int r = 0; r < j.rows(); r++) {
          download(s, cDev + (long) r * call.ldc() * eb, call.c(), from + (long) r * call.ldc(),
              call.n());
        }
      }
    }

    private void upload(CudaStream s, Operand o, long from, long count, long dst) {
      if (count == 0) {
        return;
      }
      if (o.storage() instanceof HostArray h) {
        s.check(GpuCoreNative.gc_memcpy_async(dst, h.address() + from * eb, count * eb,
            CudaStream.H2D, s.handle()), "cudaMemcpyAsync(H2D)");
        s.synchronize();
      } else {
        s.fromJava(o.storage(), (int) from, dst, count, eb, backend.copyPool());
      }
    }

    private void download(CudaStream s, long src, Operand o, long to, long count) {
      if (o.storage() instanceof HostArray h) {
        s.check(GpuCoreNative.gc_memcpy_async(h.address() + to * eb, src, count * eb,
            CudaStream.D2H, s.handle()), "cudaMemcpyAsync(D2H)");
        s.synchronize();
      } else {
        s.toJava(src, o.storage(), (int) to, count, eb, backend.copyPool());
      }
    }
  }
}
