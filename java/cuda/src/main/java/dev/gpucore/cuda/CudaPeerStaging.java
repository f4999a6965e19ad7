package dev.gpucore.cuda;

import dev.gpucore.cuda.bindings.GpuCoreNative;
import dev.gpucore.cuda.bindings.PeerNative;

/**
 * The staged path of one ordered pair of GPUs: a stream on each, page-locked buffers, and the
 * events that let the source's device-to-host copy of chunk i+1 run while the destination's
 * host-to-device copy of chunk i does (native {@code gc_p2p_staged}). Copies are queued under
 * this object's lock, so their buffer reuse is ordered; nobody waits on the host between chunks.
 */
final class CudaPeerStaging {
  final DeviceState src;
  final DeviceState dst;
  final long chunk;
  final int nbuf;
  long srcStream;
  long dstStream;
  final long[] buffers;
  final long[] d2h;
  final long[] h2d;
  long afterSrc;
  long afterDst;
  long done;

  private CudaPeerStaging(DeviceState src, DeviceState dst, long chunk, int nbuf) {
    this.src = src;
    this.dst = dst;
    this.chunk = chunk;
    this.nbuf = nbuf;
    this.buffers = new long[nbuf];
    this.d2h = new long[nbuf];
    this.h2d = new long[nbuf];
  }

  static CudaPeerStaging create(DeviceState src, DeviceState dst, long chunk, int nbuf) {
    CudaPeerStaging s = new CudaPeerStaging(src, dst, chunk, nbuf);
    try {
      long[] out = new long[1];
      CudaErrors.check(PeerNative.gc_p2p_stream_create(src.ordinal, out),
          "cudaStreamCreate(staged, source)", src);
      s.srcStream = out[0];
      CudaErrors.check(PeerNative.gc_p2p_stream_create(dst.ordinal, out),
          "cudaStreamCreate(staged, destination)", dst);
      s.dstStream = out[0];
      for (int b = 0; b < nbuf; b++) {
        CudaErrors.check(GpuCoreNative.gc_malloc_host(out, chunk),
            "cudaMallocHost(" + chunk + " bytes, staged copy buffer)", null);
        s.buffers[b] = out[0];
        CudaErrors.check(PeerNative.gc_p2p_event_create(src.ordinal, out), "cudaEventCreate", src);
        s.d2h[b] = out[0];
        CudaErrors.check(PeerNative.gc_p2p_event_create(dst.ordinal, out), "cudaEventCreate", dst);
        s.h2d[b] = out[0];
      }
      CudaErrors.check(PeerNative.gc_p2p_event_create(src.ordinal, out), "cudaEventCreate", src);
      s.afterSrc = out[0];
      CudaErrors.check(PeerNative.gc_p2p_event_create(dst.ordinal, out), "cudaEventCreate", dst);
      s.afterDst = out[0];
      CudaErrors.check(PeerNative.gc_p2p_event_create(dst.ordinal, out), "cudaEventCreate", dst);
      s.done = out[0];
      return s;
    } catch (RuntimeException e) {
      s.destroy();
      throw e;
    }
  }

  /**
   * Queues a copy of {@code bytes} from {@code from} (source device) to {@code to}; with a
   * user stream ({@code afterStream} != 0, on {@code afterDev}, the source or the destination)
   * the copy is ordered after its earlier work and before its later work.
   */
  synchronized void enqueue(long to, long from, long bytes, long afterStream, DeviceState afterDev) {
    long afterEvent = 0;
    int afterOrdinal = -1;
    if (afterStream != 0) {
      afterEvent = afterDev == src ? afterSrc : afterDst;
      afterOrdinal = afterDev.ordinal;
    }
    int st = PeerNative.gc_p2p_staged(to, dst.ordinal, dstStream, from, src.ordinal, srcStream,
        bytes, buffers, d2h, h2d, nbuf, chunk, afterOrdinal, afterStream, afterEvent,
        afterStream != 0 ? done : 0);
    if (st != 0) {
      throw CudaErrors.error(st, "staged copy of " + bytes + " bytes from device " + src.index
          + " to device " + dst.index, CudaErrors.isSticky(st) ? dst : null);
    }
  }

  /** Waits for every staged copy queued so far; returns the status. */
  int waitDone(int waitMode) {
    return PeerNative.gc_p2p_wait(dst.ordinal, dstStream, 0,
        waitMode == PeerNative.GC_P2P_WAIT_BLOCK ? PeerNative.GC_P2P_WAIT_BLOCK
            : PeerNative.GC_P2P_WAIT_SPIN_STREAM);
  }

  synchronized void destroy() {
    if (srcStream != 0) {
      PeerNative.gc_p2p_wait(src.ordinal, srcStream, 0, PeerNative.GC_P2P_WAIT_BLOCK);
    }
    if (dstStream != 0) {
      PeerNative.gc_p2p_wait(dst.ordinal, dstStream, 0, PeerNative.GC_P2P_WAIT_BLOCK);
    }
    for (int b = 0; b < nbuf; b++) {
      GpuCoreNative.gc_free_host(buffers[b]);
      PeerNative.gc_p2p_event_destroy(src.ordinal, d2h[b]);
      PeerNative.gc_p2p_event_destroy(dst.ordinal, h2d[b]);
      buffers[b] = 0;
      d2h[b] = 0;
      h2d[b] = 0;
    }
    PeerNative.gc_p2p_event_destroy(src.ordinal, afterSrc);
    PeerNative.gc_p2p_event_destroy(dst.ordinal, afterDst);
    PeerNative.gc_p2p_event_destroy(dst.ordinal, done);
    PeerNative.gc_p2p_stream_destroy(src.ordinal, srcStream);
    PeerNative.gc_p2p_stream_destroy(dst.ordinal, dstStream);
    afterSrc = afterDst = done = srcStream = dstStream = 0;
  }
}
