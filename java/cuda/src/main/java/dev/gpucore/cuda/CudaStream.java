package dev.gpucore.cuda;

import dev.gpucore.GpuCoreException;
import dev.gpucore.cuda.bindings.GpuCoreNative;
import dev.gpucore.memory.GpuStream;
import java.util.concurrent.ForkJoinPool;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cublas;

/**
 * A CUDA stream with the scratch that calls on it need, each created on first use: the
 * reduction workspace and its pinned result slot, a cuBLAS handle with its own workspace, and
 * pinned staging buffers with events for copies from and to Java arrays. A stream is used by
 * one thread at a time.
 */
final class CudaStream extends GpuStream {
  static final int H2D = 1;
  static final int D2H = 2;
  static final int D2D = 3;
  private static final long CUBLAS_WORKSPACE = 32L << 20;

  final DeviceState dev;
  private final Res res;
  private final StagingConfig cfg;

  /** Native resources, released together; referenced by the cleaner, never by itself. */
  private static final class Res implements Runnable {
    final int ordinal;
    long stream;
    long workspace;     // reduce workspace + 16 bytes result at the end
    long workspaceBytes;
    long resultSlot;    // pinned, 16 bytes
    long scalars;       // pinned, 16 bytes: GEMM alpha and beta
    long pointers;      // pinned: pointer arrays of batched GEMMs, on their way up
    long pointersBytes;
    long pointersEvent; // recorded after the last copy out of `pointers`
    long timeStart;     // timing events of time()
    long timeEnd;
    java.util.Map<?, CudaLt.Plan> plans;
    cublasContext cublasHandle;
    long cublasWorkspace;
    StagedCopy.Lane[] lanes; // staging sub-lanes, each made at its first use

    Res(int ordinal) {
      this.ordinal = ordinal;
    }

    @Override
    public void run() {
      GpuCoreNative.gc_set_device(ordinal);
      if (stream != 0) {
        GpuCoreNative.gc_stream_sync(stream);
      }
      if (plans != null) {
        for (CudaLt.Plan p : plans.values()) {
          p.close();
        }
      }
      if (cublasHandle != null) {
        cublas.cublasDestroy_v2(cublasHandle);
      }
      GpuCoreNative.gc_free(cublasWorkspace);
      GpuCoreNative.gc_free_host(scalars);
      GpuCoreNative.gc_free_host(pointers);
      if (pointersEvent != 0) {
        GpuCoreNative.gc_event_destroy(pointersEvent);
      }
      GpuCoreNative.gc_event_destroy(timeStart);
      GpuCoreNative.gc_event_destroy(timeEnd);
      GpuCoreNative.gc_free(workspace);
      GpuCoreNative.gc_free_host(resultSlot);
      if (lanes != null) {
        for (StagedCopy.Lane l : lanes) {
          if (l != null) {
            GpuCoreNative.gc_stream_sync(l.stream());
            freeLane(l.stream(), new long[] {l.buf0(), l.buf1()},
                new long[] {l.event0(), l.event1()});
          }
        }
      }
      GpuCoreNative.gc_stream_destroy(stream);
    }

    static void freeLane(long stream, long[] bufs, long[] events) {
      for (int i = 0; i < bufs.length; i++) {
        GpuCoreNative.gc_free_host(bufs[i]);
        GpuCoreNative.gc_event_destroy(events[i]);
      }
      GpuCoreNative.gc_stream_destroy(stream);
    }
  }

  private CudaStream(DeviceState dev, StagingConfig cfg, Res res) {
    super(new dev.gpucore.spi.StreamResource(dev.index, res));
    this.dev = dev;
    this.res = res;
    this.cfg = cfg;
    res.plans = ltPlans;
  }

  static CudaStream create(DeviceState dev, StagingConfig cfg) {
    dev.enter();
    long[] out = new long[1];
    CudaErrors.check(GpuCoreNative.gc_stream_create(out), "cudaStreamCreate", dev);
    Res r = new Res(dev.ordinal);
    r.stream = out[0];
    return new CudaStream(dev, cfg, r);
  }

  @Override
  public long handle() {
    ensureOpen();
    return res.stream;
  }

  @Override
  public void synchronize() {
    ensureOpen();
    dev.enter();
    CudaErrors.check(GpuCoreNative.gc_stream_sync(res.stream), "cudaStreamSynchronize", dev);
  }

  @Override
  public long time(Runnable queue) {
    java.util.Objects.requireNonNull(queue, "queue");
    ensureOpen();
    dev.enter();
    long[] out = new long[1];
    if (res.timeStart == 0) {
      check(GpuCoreNative.gc_timing_event_create(out), "cudaEventCreate");
      res.timeStart = out[0];
    }
    if (res.timeEnd == 0) {
      check(GpuCoreNative.gc_timing_event_create(out), "cudaEventCreate");
      res.timeEnd = out[0];
    }
    check(GpuCoreNative.gc_event_record(res.timeStart, res.stream), "cudaEventRecord");
    queue.run();
    dev.enter();
    check(GpuCoreNative.gc_event_record(res.timeEnd, res.stream), "cudaEventRecord");
    check(GpuCoreNative.gc_event_sync(res.timeEnd), "cudaEventSynchronize");
    float[] ms = new float[1];
    check(GpuCoreNative.gc_event_elapsed(ms, res.timeStart, res.timeEnd), "cudaEventElapsedTime");
    return Math.round(ms[0] * 1e6);
  }

  @Override
  public boolean timesOnGpu() {
    return true;
  }

  void check(int status, String op) {
    CudaErrors.check(status, op, dev);
  }

  /** Reduction workspace (device) with a 16-byte result slot at its end. */
  long workspace() {
    if (res.workspace == 0) {
      long ws = GpuCoreNative.gc_reduce_workspace_bytes();
      long bytes = (ws + 15) / 16 * 16 + 16;
      long[] out = new long[1];
      check(GpuCoreNative.gc_malloc(out, bytes), "cudaMalloc(reduce workspace)");
      res.workspace = out[0];
      res.workspaceBytes = bytes;
      check(GpuCoreNative.gc_memset_async(res.workspace, 0, bytes, res.stream), "cudaMemsetAsync");
      check(GpuCoreNative.gc_malloc_host(out, 16), "cudaMallocHost(result slot)");
      res.resultSlot = out[0];
    }
    return res.workspace;
  }

  long resultDevice() {
    return workspace() + res.workspaceBytes - 16;
  }

  long resultSlot() {
    workspace();
    return res.resultSlot;
  }

  /** This stream's cuBLAS workspace (after {@link #cublas()}), and its size. */
  long cublasWorkspace() {
    cublas();
    return res.cublasWorkspace;
  }

  static long cublasWorkspaceBytes() {
    return CUBLAS_WORKSPACE;
  }

  /** cuBLASLt plans prepared on this stream's handle, by shape and types (see CudaLt). */
  final java.util.LinkedHashMap<CudaLt.Key, CudaLt.Plan> ltPlans =
      new java.util.LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(java.util.Map.Entry<CudaLt.Key, CudaLt.Plan> e) {
          if (size() > 64) {
            e.getValue().close();
            return true;
          }
          return false;
        }
      };

  /**
   * Pinned host memory of at least {@code bytes} for a batched GEMM's pointer arrays, free to be
   * overwritten: waits until the previous copy out of it (queued on this stream) has run. Call
   * {@link #pointerStagingQueued} after queueing the copy. Pinned, so that the copy is truly
   * asynchronous (a pageable source may make cudaMemcpyAsync wait for the stream), and reused,
   * so that a batched call costs no host allocation.
   */
  long pointerStaging(long bytes) {
    if (res.pointersEvent != 0) {
      check(GpuCoreNative.gc_event_sync(res.pointersEvent), "cudaEventSynchronize");
    }
    if (bytes > res.pointersBytes) {
      long size = Math.max(bytes, 64L << 10);
      if (res.pointers != 0) {
        GpuCoreNative.gc_free_host(res.pointers);
        res.pointers = 0;
        res.pointersBytes = 0;
      }
      long[] out = new long[1];
      check(GpuCoreNative.gc_malloc_host(out, size), "cudaMallocHost(GEMM pointer arrays)");
      res.pointers = out[0];
      res.pointersBytes = size;
    }
    return res.pointers;
  }

  /** Marks the copy out of {@link #pointerStaging} as queued on this stream. */
  void pointerStagingQueued() {
    if (res.pointersEvent == 0) {
      long[] out = new long[1];
      check(GpuCoreNative.gc_event_create(out), "cudaEventCreate");
      res.pointersEvent = out[0];
    }
    check(GpuCoreNative.gc_event_record(res.pointersEvent, res.stream),
        "cudaEventRecord(GEMM pointer arrays)");
  }

  /** 16 bytes of pinned host memory for GEMM scalars (alpha at 0, beta at 8). */
  long scalars() {
    if (res.scalars == 0) {
      long[] out = new long[1];
      check(GpuCoreNative.gc_malloc_host(out, 16), "cudaMallocHost(scalars)");
      res.scalars = out[0];
    }
    return res.scalars;
  }

  /** This stream's cuBLAS handle, bound to the stream and to its own workspace. */
  cublasContext cublas() {
    if (res.cublasHandle == null) {
      cublasContext h = new cublasContext();
      CudaErrors.checkCublas(cublas.cublasCreate_v2(h), "cublasCreate", dev);
      res.cublasHandle = h;
      CudaErrors.checkCublas(cublas.cublasSetStream_v2(h, new CUstream_st(Native.at(res.stream))),
          "cublasSetStream", dev);
      long[] out = new long[1];
      check(GpuCoreNative.gc_malloc(out, CUBLAS_WORKSPACE), "cudaMalloc(cuBLAS workspace)");
      res.cublasWorkspace = out[0];
      CudaErrors.checkCublas(cublas.cublasSetWorkspace_v2(h, Native.at(res.cublasWorkspace),
          CUBLAS_WORKSPACE), "cublasSetWorkspace", dev);
    }
    return res.cublasHandle;
  }

  /**
   * Staging sub-lanes 0 to {@code count - 1}, each made at its first use: a stream of its own
   * with two pinned buffers of a chunk and two events (so a small copy pins no more than it
   * uses).
   */
  private StagedCopy.Lane[] ensureStaging(int count) {
    if (res.lanes == null) {
      res.lanes = new StagedCopy.Lane[cfg.threads()];
    }
    for (int i = 0; i < count; i++) {
      if (res.lanes[i] != null) {
        continue;
      }
      long stream = 0;
      long[] bufs = new long[2];
      long[] events = new long[2];
      long[] out = new long[1];
      try {
        check(GpuCoreNative.gc_stream_create(out), "cudaStreamCreate(staging)");
        stream = out[0];
        for (int b = 0; b < 2; b++) {
          check(GpuCoreNative.gc_malloc_host(out, cfg.chunkBytes()), "cudaMallocHost(staging)");
          bufs[b] = out[0];
          check(GpuCoreNative.gc_event_create(out), "cudaEventCreate");
          events[b] = out[0];
        }
      } catch (RuntimeException e) {
        Res.freeLane(stream, bufs, events);
        throw e;
      }
      res.lanes[i] = new StagedCopy.Lane(stream, bufs[0], bufs[1], events[0], events[1]);
    }
    return res.lanes;
  }

  /**
   * Copies {@code count} elements of a Java array to device address {@code dst} through the
   * pinned staging ({@link StagedCopy}: sub-lanes on the calling thread and {@code pool} taking
   * chunks in turn). Returns when the data is on the device.
   */
  void fromJava(Object src, int srcOffset, long dst, long count, int elemBytes, ForkJoinPool pool) {
    staged(src, srcOffset, dst, count, elemBytes, pool, true);
  }

  /** Copies {@code count} elements at device address {@code src} into a Java array. */
  void toJava(long src, Object dst, int dstOffset, long count, int elemBytes, ForkJoinPool pool) {
    staged(dst, dstOffset, src, count, elemBytes, pool, false);
  }

  private void staged(Object array, int arrayOffset, long dev, long count, int elemBytes,
      ForkJoinPool pool, boolean toDevice) {
    int used = StagedCopy.lanes(cfg, count, elemBytes, pool != null);
    if (used == 0) {
      return;
    }
    StagedCopy.Lane[] lanes = ensureStaging(used);
    StagedCopy.run(ops, cfg, lanes, pool, array, arrayOffset, dev, count, elemBytes, toDevice);
  }

  /** The staging's calls, to the CUDA runtime. */
  private final StagedCopy.Ops ops = new StagedCopy.Ops() {
    @Override
    public void enterLane() {
      GpuCoreNative.gc_set_device(res.ordinal);
    }

    @Override
    public void hostCopy(Object array, int offset, long buf, int n, int elemBytes,
        boolean toBuffer, boolean streaming) {
      copyPart(array, offset, buf, n, elemBytes, toBuffer, streaming);
    }

    @Override
    public void copyAsync(long dst, long src, long bytes, boolean toDevice, long stream) {
      check(GpuCoreNative.gc_memcpy_async(dst, src, bytes, toDevice ? H2D : D2H, stream),
          toDevice ? "cudaMemcpyAsync(H2D)" : "cudaMemcpyAsync(D2H)");
    }

    @Override
    public void record(long event, long stream) {
      check(GpuCoreNative.gc_event_record(event, stream), "cudaEventRecord");
    }

    @Override
    public void await(long event) {
      check(GpuCoreNative.gc_event_sync(event), "cudaEventSynchronize");
    }

    @Override
    public void drain(long stream) {
      int s = GpuCoreNative.gc_stream_sync(stream);
      if (s != 0) {
        check(s, "cudaStreamSynchronize(staging)");
      }
    }
  };

  /**
   * Copies one part between a Java array (in a JNI critical region: no JVM copy of the array)
   * and pinned memory: the C library's memcpy, or stores that bypass the CPU caches when
   * {@code streaming}.
   */
  static void copyPart(Object array, int offset, long addr, int n, int elemBytes,
      boolean toBuffer, boolean streaming) {
    long off = (long) offset * elemBytes;
    long bytes = (long) n * elemBytes;
    int flags = streaming ? GpuCoreNative.HOST_COPY_STREAMING : 0;
    int s;
    if (array instanceof float[] f) {
      s = toBuffer ? GpuCoreNative.gc_host_copy_in(addr, f, off, bytes, flags)
          : GpuCoreNative.gc_host_copy_out(f, off, addr, bytes, flags);
    } else if (array instanceof double[] d) {
      s = toBuffer ? GpuCoreNative.gc_host_copy_in(addr, d, off, bytes, flags)
          : GpuCoreNative.gc_host_copy_out(d, off, addr, bytes, flags);
    } else if (array instanceof short[] h) {
      s = toBuffer ? GpuCoreNative.gc_host_copy_in(addr, h, off, bytes, flags)
          : GpuCoreNative.gc_host_copy_out(h, off, addr, bytes, flags);
    } else {
      throw new GpuCoreException.InvalidArgument("unsupported array type " + array.getClass());
    }
    CudaErrors.check(s, "host staging copy", null);
  }
}
