package dev.gpucore.cuda;

import dev.gpucore.GpuCoreException;
import dev.gpucore.cuda.bindings.GpuCoreNative;
import dev.gpucore.memory.GpuStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
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
    long[] stagingStreams;
    long[] bufs;
    long[] events;

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
      if (bufs != null) {
        for (int i = 0; i < bufs.length; i++) {
          GpuCoreNative.gc_free_host(bufs[i]);
          GpuCoreNative.gc_event_destroy(events[i]);
        }
        for (long st : stagingStreams) {
          GpuCoreNative.gc_stream_sync(st);
          GpuCoreNative.gc_stream_destroy(st);
        }
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
   * Staging resources: {@code threads} sub-lanes, each a stream of its own with two pinned
   * buffers and two events. Sub-lane 0 runs on the calling thread, the others on the copy pool.
   */
  private void ensureStaging() {
    if (res.bufs == null) {
      int lanes = cfg.threads();
      long[] streams = new long[lanes];
      long[] bufs = new long[2 * lanes];
      long[] events = new long[2 * lanes];
      long[] out = new long[1];
      try {
        for (int i = 0; i < lanes; i++) {
          check(GpuCoreNative.gc_stream_create(out), "cudaStreamCreate(staging)");
          streams[i] = out[0];
        }
        for (int i = 0; i < bufs.length; i++) {
          check(GpuCoreNative.gc_malloc_host(out, cfg.chunkBytes()), "cudaMallocHost(staging)");
          bufs[i] = out[0];
          check(GpuCoreNative.gc_event_create(out), "cudaEventCreate");
          events[i] = out[0];
        }
      } catch (RuntimeException e) {
        for (int i = 0; i < bufs.length; i++) {
          GpuCoreNative.gc_free_host(bufs[i]);
          GpuCoreNative.gc_event_destroy(events[i]);
        }
        for (long st : streams) {
          GpuCoreNative.gc_stream_destroy(st);
        }
        throw e;
      }
      res.stagingStreams = streams;
      res.bufs = bufs;
      res.events = events;
    }
  }

  /**
   * Copies {@code count} elements of a Java array to device address {@code dst}. The array is
   * cut into chunks; sub-lane t takes chunks t, t+T, t+2T... and, on its own thread and stream,
   * alternates between its two pinned buffers: filling one (memcpy from the array held in a JNI
   * critical region) while the DMA of the other runs. Returns when the data is on the device.
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
    ensureStaging();
    long chunk = cfg.chunkBytes() / elemBytes;
    int chunks = (int) ((count + chunk - 1) / chunk);
    int lanes = pool == null ? 1 : Math.min(res.stagingStreams.length, chunks);
    List<ForkJoinTask<?>> tasks = new ArrayList<>(lanes);
    for (int t = 1; t < lanes; t++) {
      int lane = t;
      tasks.add(pool.submit(() -> subLane(lane, lanes, array, arrayOffset, dev, count, chunk,
          chunks, elemBytes, toDevice)));
    }
    RuntimeException failure = null;
    try {
      subLane(0, lanes, array, arrayOffset, dev, count, chunk, chunks, elemBytes, toDevice);
    } catch (RuntimeException e) {
      failure = e;
    }
    for (ForkJoinTask<?> t : tasks) {
      try {
        t.join();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private void subLane(int lane, int lanes, Object array, int arrayOffset, long dev, long count,
      long chunk, int chunks, int elemBytes, boolean toDevice) {
    GpuCoreNative.gc_set_device(dev_ordinal());
    long stream = res.stagingStreams[lane];
    long[] buf = {res.bufs[2 * lane], res.bufs[2 * lane + 1]};
    long[] ev = {res.events[2 * lane], res.events[2 * lane + 1]};
    int k = 0; // chunks handled by this sub-lane so far
    try {
      if (toDevice) {
        for (int c = lane; c < chunks; c += lanes, k++) {
          int b = k & 1;
          if (k >= 2) {
            check(GpuCoreNative.gc_event_sync(ev[b]), "cudaEventSynchronize");
          }
          long off = c * chunk;
          int n = (int) Math.min(chunk, count - off);
          copyPart(array, arrayOffset + (int) off, buf[b], n, elemBytes, true);
          check(GpuCoreNative.gc_memcpy_async(dev + off * elemBytes, buf[b], (long) n * elemBytes,
              H2D, stream), "cudaMemcpyAsync(H2D)");
          check(GpuCoreNative.gc_event_record(ev[b], stream), "cudaEventRecord");
        }
      } else {
        // keep up to two chunks in flight: enqueue c+lanes before copying c out
        int first = lane;
        if (first < chunks) {
          enqueueD2H(dev, first, chunk, count, elemBytes, buf[0], ev[0], stream);
        }
        for (int c = lane; c < chunks; c += lanes, k++) {
          int b = k & 1;
          int next = c + lanes;
          if (next < chunks) {
            enqueueD2H(dev, next, chunk, count, elemBytes, buf[b ^ 1], ev[b ^ 1], stream);
          }
          check(GpuCoreNative.gc_event_sync(ev[b]), "cudaEventSynchronize");
          long off = c * chunk;
          int n = (int) Math.min(chunk, count - off);
          copyPart(array, arrayOffset + (int) off, buf[b], n, elemBytes, false);
        }
      }
    } finally {
      // the buffers must be idle before anyone reuses them, whatever happened
      int s = GpuCoreNative.gc_stream_sync(stream);
      if (s != 0) {
        check(s, "cudaStreamSynchronize(staging)");
      }
    }
  }

  private int dev_ordinal() {
    return res.ordinal;
  }

  private void enqueueD2H(long dev, int c, long chunk, long count, int elemBytes, long buf,
      long event, long stream) {
    long off = c * chunk;
    long n = Math.min(chunk, count - off);
    check(GpuCoreNative.gc_memcpy_async(buf, dev + off * elemBytes, n * elemBytes, D2H, stream),
        "cudaMemcpyAsync(D2H)");
    check(GpuCoreNative.gc_event_record(event, stream), "cudaEventRecord");
  }

  /**
   * Copies one part between a Java array (in a JNI critical region: no JVM copy of the array)
   * and pinned memory with the C library's memcpy.
   */
  private static void copyPart(Object array, int offset, long addr, int n, int elemBytes,
      boolean toBuffer) {
    long off = (long) offset * elemBytes;
    long bytes = (long) n * elemBytes;
    int s;
    if (array instanceof float[] f) {
      s = toBuffer ? GpuCoreNative.gc_host_copy_in(addr, f, off, bytes)
          : GpuCoreNative.gc_host_copy_out(f, off, addr, bytes);
    } else if (array instanceof double[] d) {
      s = toBuffer ? GpuCoreNative.gc_host_copy_in(addr, d, off, bytes)
          : GpuCoreNative.gc_host_copy_out(d, off, addr, bytes);
    } else if (array instanceof short[] h) {
      s = toBuffer ? GpuCoreNative.gc_host_copy_in(addr, h, off, bytes)
          : GpuCoreNative.gc_host_copy_out(h, off, addr, bytes);
    } else {
      throw new GpuCoreException.InvalidArgument("unsupported array type " + array.getClass());
    }
    CudaErrors.check(s, "host staging copy", null);
  }
}
