package dev.gpucore.cuda;

import dev.gpucore.GpuCoreException;
import dev.gpucore.blas.Operand;
import dev.gpucore.cuda.bindings.EngineNative;
import dev.gpucore.cuda.bindings.GpuCoreNative;
import dev.gpucore.memory.HostArray;
import dev.gpucore.spi.GemmCall;
import dev.gpucore.spi.Uninterruptible;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.function.IntConsumer;

/**
 * GEMMs on host operands (Java arrays and host arrays) on the GPU, tiled and pipelined: B goes
 * up once, then row panels of A go up while earlier panels are multiplied (by
 * {@link CudaBlas#enqueue}) and their C panels come down, each on its own thread and stream,
 * spread over the configured GPUs. A call that runs out of device memory is retried with tiles
 * 1/4 and then 1/16 of {@code gpucore.gemm.panelMiB} (nothing of C is written before every
 * device buffer is in hand); what remains is the API's to handle (the CPU fallback). With
 * {@code gpucore.gemm.hostEngine=native}, fp32 and fp64 calls run on the native engine of
 * libgpucore_blas.so instead, the pipeline its sgemm_/dgemm_ use.
 */
final class CudaHostGemm {
  /** Host GEMMs that run out of device memory are retried with tiles this much smaller... */
  static final int TILE_SHRINK = 4;
  /** ...down to this fraction of the configured tile, then the out-of-memory is thrown. */
  static final int MAX_TILE_DIVISOR = 16;

  private final CudaBackend backend;
  private final CudaBlas blas;

  CudaHostGemm(CudaBackend backend, CudaBlas blas) {
    this.backend = backend;
    this.blas = blas;
  }

  /**
   * Runs a host-operand call, retrying with smaller tiles after running out of device memory.
   *
   * @return null, or a line on how the call ran when it needed smaller tiles
   */
  String run(GemmCall call) {
    if (backend.hostEngineNative() && engineTakes(call)) {
      return runOnEngine(call);
    }
    return withTileRetry(call, div -> attempt(call, div));
  }

  /**
   * Whether the native engine takes this call: fp64 at fp64; fp32 operands and C at FP32, TF32,
   * BF16 or FP16 (the engine sends A and B as 16 bits for the last two).
   */
  static boolean engineTakes(GemmCall call) {
    return switch (call.dtype()) {
      case FLOAT32 -> call.c().dtype() == dev.gpucore.DType.FLOAT32
          && enginePrecision(call.precision()) >= 0;
      case FLOAT64 -> call.precision() == dev.gpucore.blas.Precision.FP64;
      default -> false;
    };
  }

  /** The engine's precision code of a float GEMM, or -1 where it has none. */
  static int enginePrecision(dev.gpucore.blas.Precision p) {
    return switch (p) {
      case FP32 -> EngineNative.PREC_NATIVE;
      case TF32 -> EngineNative.PREC_TF32;
      case BF16 -> EngineNative.PREC_BF16;
      case FP16 -> EngineNative.PREC_FP16;
      default -> -1;
    };
  }

  /**
   * The call on the native engine of libgpucore_blas.so (the pipeline of its sgemm_/dgemm_), on
   * the first GPU for host GEMMs, one batch item at a time. The engine moves Java arrays a staging
   * chunk at a time (a JNI critical region per chunk) and retries an out-of-memory with smaller
   * tiles itself; its failures come back as the API's exceptions, saying whether C was written.
   */
  private String runOnEngine(GemmCall call) {
    DeviceState dev = engineDevice();
    int[] result = new int[2];
    byte[] err = new byte[400];
    for (int i = 0; i < call.batch(); i++) {
      engineItem(call, i, dev.ordinal, result, err);
      engineCheck(result, i > 0, dev, err);
    }
    return null;
  }

  /**
   * Whether the native engine runs this sum of products in one call: it is on
   * ({@code gpucore.gemm.hostEngine=native}) and takes every pair ({@link #engineTakes}).
   */
  boolean engineTakesSum(List<GemmCall> pairs) {
    if (!backend.hostEngineNative()) {
      return false;
    }
    for (GemmCall p : pairs) {
      if (!engineTakes(p)) {
        return false;
      }
    }
    return true;
  }

  /**
   * A sum of products (see {@link dev.gpucore.spi.BlasOps#gemmSumFromHost}) on the native engine
   * in one call, on the first GPU for host GEMMs: the engine reads each pair's operands from
   * where they are, a staging chunk at a time, and forms the sum on the GPU. Failures as
   * {@link #runOnEngine}'s.
   */
  String runSumOnEngine(List<GemmCall> pairs) {
    DeviceState dev = engineDevice();
    int[] result = new int[2];
    byte[] err = new byte[400];
    engineSum(pairs, dev.ordinal, result, err);
    engineCheck(result, false, dev, err);
    return null;
  }

  /** The device host GEMMs run on with the engine, made current on this thread. */
  private DeviceState engineDevice() {
    List<DeviceState> devices = backend.gemmDevices();
    if (devices.isEmpty()) {
      throw new GpuCoreException.DeviceUnavailable("no healthy GPU is configured for host GEMM");
    }
    DeviceState dev = devices.get(0);
    dev.enter();
    return dev;
  }

  /**
   * Throws the API's exception for an engine call's {@code result} (nothing when it is OK), C
   * partly written when the engine says so or {@code earlier} (earlier calls of the same GEMM
   * had written it); a fault turns {@code dev} off.
   */
  private static void engineCheck(int[] result, boolean earlier, DeviceState dev, byte[] err) {
    int rc = result[0];
    if (rc == EngineNative.OK) {
      return;
    }
    boolean partly = result[1] != 0 || earlier;
    String msg = "host GEMM on the native engine (GPU " + dev.ordinal + "): "
        + new String(err, 0, cstrlen(err), java.nio.charset.StandardCharsets.UTF_8);
    switch (rc) {
      case EngineNative.E_MEMORY:
        throw new GpuCoreException.OutOfMemory(msg, partly);
      case EngineNative.E_FAULT:
        dev.markFaulted(msg);
        throw new GpuCoreException.DeviceFaulted(msg, partly);
      case EngineNative.E_UNUSABLE:
        throw new GpuCoreException.DeviceUnavailable(msg);
      default:
        throw new GpuCoreException.DeviceFaulted(msg, partly);
    }
  }

  /**
   * Batch item {@code i} of a host-operand call on the engine, on CUDA device {@code ordinal}:
   * {@code result[0]} gets the engine's result, {@code result[1]} 1 when any of C was written,
   * {@code err} its reason (a C string).
   */
  static void engineItem(GemmCall call, int i, int ordinal, int[] result, byte[] err) {
    int eb = call.dtype().bytes();
    // row-major C = op(A)·op(B) is column-major C' = op(B)'·op(A)'
    Operand a = call.b();
    Operand b = call.a();
    Operand c = call.c();
    long aOff = (a.offset() + i * call.strideB()) * eb;
    long bOff = (b.offset() + i * call.strideA()) * eb;
    long cOff = (c.offset() + i * call.strideC()) * eb;
    int precision = eb == 4 ? enginePrecision(call.precision()) : EngineNative.PREC_NATIVE;
    EngineNative.gc_engine_gemm(eb, precision, call.transB() ? 1 : 0, call.transA() ? 1 : 0, call.n(),
        call.m(), call.k(), call.alpha(), javaArray(a), hostAddress(a), aOff, call.ldb(),
        javaArray(b), hostAddress(b), bOff, call.lda(), call.beta(), javaArray(c), hostAddress(c),
        cOff, call.ldc(), ordinal, result, err, err.length);
  }

  /**
   * A sum of products of host operands on the engine in one call, on CUDA device
   * {@code ordinal}: the pairs in row-major form as {@link dev.gpucore.spi.BlasOps#gemmSumFromHost}
   * receives them (single GEMMs of one C, shape, transposes, alpha and precision; the first
   * pair's beta is the sum's). As in {@link #engineItem} the row-major sum is the column-major
   * {@code C' = Σ_t op(B_t)'·op(A_t)'}: the engine's A parts are the pairs' B's and its B parts
   * their A's. {@code result} and {@code err} as there.
   */
  static void engineSum(List<GemmCall> pairs, int ordinal, int[] result, byte[] err) {
    GemmCall f = pairs.get(0);
    int eb = f.dtype().bytes();
    int parts = pairs.size();
    Object[] aArrays = new Object[parts];
    long[] aAddress = new long[parts];
    long[] aOffset = new long[parts];
    int[] lda = new int[parts];
    Object[] bArrays = new Object[parts];
    long[] bAddress = new long[parts];
    long[] bOffset = new long[parts];
    int[] ldb = new int[parts];
    int[] ks = new int[parts];
    int k = 0;
    for (int t = 0; t < parts; t++) {
      GemmCall p = pairs.get(t);
      Operand a = p.b();
      Operand b = p.a();
      aArrays[t] = javaArray(a);
      aAddress[t] = hostAddress(a);
      aOffset[t] = a.offset() * eb;
      lda[t] = p.ldb();
      bArrays[t] = javaArray(b);
      bAddress[t] = hostAddress(b);
      bOffset[t] = b.offset() * eb;
      ldb[t] = p.lda();
      ks[t] = p.k();
      k += p.k();
    }
    Operand c = f.c();
    int precision = eb == 4 ? enginePrecision(f.precision()) : EngineNative.PREC_NATIVE;
    EngineNative.gc_engine_gemm_sum(eb, precision, f.transB() ? 1 : 0, f.transA() ? 1 : 0, f.n(),
        f.m(), k, f.alpha(), parts, aArrays, aAddress, aOffset, lda, bArrays, bAddress, bOffset,
        ldb, ks, f.beta(), javaArray(c), hostAddress(c), c.offset() * eb, f.ldc(), ordinal,
        result, err, err.length);
  }

  private static Object javaArray(Operand o) {
    return o.storage() instanceof HostArray ? null : o.storage();
  }

  private static long hostAddress(Operand o) {
    return o.storage() instanceof HostArray h ? h.address() : 0;
  }

  private static int cstrlen(byte[] b) {
    int n = 0;
    while (n < b.length && b[n] != 0) {
      n++;
    }
    return n;
  }

  /**
   * The tile-retry policy: {@code attempt} with tile divisor 1, then (after an out-of-memory that
   * left C untouched, or with {@code beta = 0}) 4 and 16 where the call is split into row panels
   * (elsewhere smaller tiles would ask for the same memory again). The last out-of-memory is
   * thrown, saying how small the tiles went.
   *
   * @return null, or a line on how the call ran when it needed smaller tiles
   */
  static String withTileRetry(GemmCall call, IntConsumer attempt) {
    int maxDiv = call.rowPanels() ? MAX_TILE_DIVISOR : 1;
    for (int div = 1; ; div *= TILE_SHRINK) {
      try {
        attempt.accept(div);
        return div == 1 ? null : "ran on the GPU with tiles 1/" + div
            + " of gpucore.gemm.panelMiB after running out of device memory";
      } catch (GpuCoreException.OutOfMemory e) {
        if (e.outputPartlyWritten() && call.beta() != 0) {
          throw e; // C = beta*C + ... cannot be redone from a half-written C
        }
        if (div * TILE_SHRINK > maxDiv) {
          throw div == 1 ? e : new GpuCoreException.OutOfMemory(e.getMessage()
              + " (also with tiles down to 1/" + div + " of gpucore.gemm.panelMiB)",
              e.outputPartlyWritten(), e.code(), e.codeName());
        }
      }
    }
  }

  /** Rows per panel for a host-operand GEMM: about {@code gpucore.gemm.panelMiB} of A. */
  private int panelRows(GemmCall call, int tileDivisor) {
    long rowBytes = (long) Math.max(call.lda(), call.ldc()) * call.dtype().bytes();
    long panel = backend.gemmPanelBytes() / tileDivisor / Math.max(1, rowBytes);
    panel = Math.max(Math.max(1, 64 / tileDivisor), Math.min(call.m(), panel));
    return (int) panel;
  }

  /**
   * A host-operand GEMM with tiles {@code 1/tileDivisor} of the configured size. Every device's
   * buffers are taken before any work starts, so that an out-of-memory leaves C untouched
   * ({@link #run} then retries with a larger {@code tileDivisor}); a fault after part of C came
   * down is reported as such.
   */
  void attempt(GemmCall call, int tileDivisor) {
    List<DeviceState> devices = backend.gemmDevices();
    if (devices.isEmpty()) {
      throw new GpuCoreException.DeviceUnavailable("no healthy GPU is configured for host GEMM");
    }
    for (DeviceState d : devices) {
      blas.ensureCublas(d);
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
            ? new GpuCoreException.OutOfMemory(msg, true, e.code(), e.codeName())
            : new GpuCoreException.DeviceFaulted(msg, true, e.code(), e.codeName());
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
            blas.enqueue(compute, one, j.rows(), aDev[slot], bDev, cDev[slot]);
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
        Uninterruptible.rethrow(failure, "GEMM download failed");
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
