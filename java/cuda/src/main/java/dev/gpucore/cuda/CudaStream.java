package dev.gpucore.cuda;

import dev.gpucore.GpuCoreException;
import dev.gpucore.cuda.bindings.GpuCoreNative;
import dev.gpucore.memory.GpuStream;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;

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
    cublasContext cublasHandle;
    long cublasWorkspace;
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
      if (cublasHandle != null) {
        cublas.cublasDestroy_v2(cublasHandle);
      }
      GpuCoreNative.gc_free(cublasWorkspace);
      GpuCoreNative.gc_free(workspace);
      GpuCoreNative.gc_free_host(resultSlot);
      if (bufs != null) {
        for (int i = 0; i < bufs.length; i++) {
          GpuCoreNative.gc_free_host(bufs[i]);
          GpuCoreNative.gc_event_destroy(events[i]);
        }
      }
      GpuCoreNative.gc_stream_destroy(stream);
    }
  }

  private CudaStream(DeviceState dev, StagingConfig cfg, Res res) {
    super(dev.index, res);
    this.dev = dev;
    this.res = res;
    this.cfg = cfg;
  }

  static CudaStream create(DeviceState dev, StagingConfig cfg, boolean internal) {
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

  private void ensureStaging() {
    if (res.bufs == null) {
      int k = cfg.buffers();
      long[] bufs = new long[k];
      long[] events = new long[k];
      long[] out = new long[1];
      try {
        for (int i = 0; i < k; i++) {
          check(GpuCoreNative.gc_malloc_host(out, cfg.chunkBytes()), "cudaMallocHost(staging)");
          bufs[i] = out[0];
          check(GpuCoreNative.gc_event_create(out), "cudaEventCreate");
          events[i] = out[0];
        }
      } catch (RuntimeException e) {
        for (int i = 0; i < k; i++) {
          GpuCoreNative.gc_free_host(bufs[i]);
          GpuCoreNative.gc_event_destroy(events[i]);
        }
        throw e;
      }
      res.bufs = bufs;
      res.events = events;
    }
  }

  /**
   * Copies {@code count} elements of a Java array to device address {@code dst}: chunks go
   * through the pinned buffers in turn; filling one buffer (split over threads) overlaps the
   * DMA of the previous ones. Returns when the data is on the device.
   */
  void fromJava(Object src, int srcOffset, long dst, long count, int elemBytes, ForkJoinPool pool) {
    ensureStaging();
    long chunk = cfg.chunkBytes() / elemBytes;
    int k = res.bufs.length;
    long done = 0;
    int i = 0;
    try {
      while (done < count) {
        int n = (int) Math.min(chunk, count - done);
        int b = i % k;
        if (i >= k) {
          check(GpuCoreNative.gc_event_sync(res.events[b]), "cudaEventSynchronize");
        }
        hostCopy(src, srcOffset + (int) done, res.bufs[b], n, elemBytes, true, pool);
        check(GpuCoreNative.gc_memcpy_async(dst + done * elemBytes, res.bufs[b],
            (long) n * elemBytes, H2D, res.stream), "cudaMemcpyAsync(H2D)");
        check(GpuCoreNative.gc_event_record(res.events[b], res.stream), "cudaEventRecord");
        done += n;
        i++;
      }
    } finally {
      // the buffers must be idle before anyone reuses them, whatever happened
      int s = GpuCoreNative.gc_stream_sync(res.stream);
      if (s != 0 && done >= count) {
        check(s, "cudaStreamSynchronize");
      }
    }
  }

  /** Copies {@code count} elements at device address {@code src} into a Java array. */
  void toJava(long src, Object dst, int dstOffset, long count, int elemBytes, ForkJoinPool pool) {
    ensureStaging();
    long chunk = cfg.chunkBytes() / elemBytes;
    int k = res.bufs.length;
    int chunks = (int) ((count + chunk - 1) / chunk);
    try {
      for (int j = 0; j < Math.min(k, chunks); j++) {
        enqueueD2H(src, j, chunk, count, elemBytes);
      }
      for (int j = 0; j < chunks; j++) {
        int b = j % k;
        check(GpuCoreNative.gc_event_sync(res.events[b]), "cudaEventSynchronize");
        long off = j * chunk;
        int n = (int) Math.min(chunk, count - off);
        hostCopy(dst, dstOffset + (int) off, res.bufs[b], n, elemBytes, false, pool);
        if (j + k < chunks) {
          enqueueD2H(src, j + k, chunk, count, elemBytes);
        }
      }
    } finally {
      GpuCoreNative.gc_stream_sync(res.stream);
    }
  }

  private void enqueueD2H(long src, int j, long chunk, long count, int elemBytes) {
    int b = j % res.bufs.length;
    long off = j * chunk;
    long n = Math.min(chunk, count - off);
    check(GpuCoreNative.gc_memcpy_async(res.bufs[b], src + off * elemBytes, n * elemBytes, D2H,
        res.stream), "cudaMemcpyAsync(D2H)");
    check(GpuCoreNative.gc_event_record(res.events[b], res.stream), "cudaEventRecord");
  }

  private static final long PARALLEL_MIN_BYTES = 1L << 20;

  /** Java array <-> pinned buffer, split over the pool's threads for large chunks. */
  private static void hostCopy(Object array, int offset, long buf, int n, int elemBytes,
      boolean toBuffer, ForkJoinPool pool) {
    long bytes = (long) n * elemBytes;
    int parts = pool == null ? 1 : (int) Math.min(pool.getParallelism() + 1,
        Math.max(1, bytes / PARALLEL_MIN_BYTES));
    if (parts <= 1) {
      copyPart(array, offset, buf, n, elemBytes, toBuffer);
      return;
    }
    int per = (n + parts - 1) / parts;
    List<ForkJoinTask<?>> tasks = new ArrayList<>(parts - 1);
    for (int p = 1; p < parts; p++) {
      int start = p * per;
      int len = Math.min(per, n - start);
      if (len <= 0) {
        break;
      }
      tasks.add(pool.submit(() -> copyPart(array, offset + start, buf + (long) start * elemBytes,
          len, elemBytes, toBuffer)));
    }
    copyPart(array, offset, buf, Math.min(per, n), elemBytes, toBuffer);
    for (ForkJoinTask<?> t : tasks) {
      t.join();
    }
  }

  private static void copyPart(Object array, int offset, long addr, int n, int elemBytes,
      boolean toBuffer) {
    if (array instanceof float[] f) {
      FloatPointer p = new FloatPointer(Native.at(addr));
      if (toBuffer) {
        p.put(f, offset, n);
      } else {
        p.get(f, offset, n);
      }
    } else if (array instanceof double[] d) {
      DoublePointer p = new DoublePointer(Native.at(addr));
      if (toBuffer) {
        p.put(d, offset, n);
      } else {
        p.get(d, offset, n);
      }
    } else {
      throw new GpuCoreException.InvalidArgument("unsupported array type " + array.getClass());
    }
  }
}
