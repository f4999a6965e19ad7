package dev.gpucore.cuda;

import dev.gpucore.p2p.PeerConfig;
import dev.gpucore.p2p.PeerLink;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One ordered pair of GPUs (source, destination): how copies between them go once decided, the
 * lanes synchronous copies use (streams of the source: copies are pushed), and the staged path,
 * each made on first use.
 */
final class CudaPeerPair {
  final DeviceState src;
  final DeviceState dst;
  final boolean same;
  /** Guards the decision of the unordered pair (held on the lower-index pair's object). */
  final Object decideLock = new Object();
  volatile PeerLink link;
  private final AtomicReference<CudaPeerLane> cached = new AtomicReference<>();
  private final ConcurrentLinkedQueue<CudaPeerLane> spare = new ConcurrentLinkedQueue<>();
  private final List<CudaPeerLane> all = new ArrayList<>();
  private volatile CudaPeerStaging staging;

  CudaPeerPair(DeviceState src, DeviceState dst) {
    this.src = src;
    this.dst = dst;
    this.same = src == dst;
  }

  /** A lane of the source device, for one thread; give it back with {@link #release}. */
  CudaPeerLane acquire() {
    CudaPeerLane l = cached.getAndSet(null);
    if (l != null) {
      return l;
    }
    l = spare.poll();
    if (l != null) {
      return l;
    }
    l = CudaPeerLane.create(src);
    synchronized (all) {
      all.add(l);
    }
    return l;
  }

  void release(CudaPeerLane l) {
    if (!cached.compareAndSet(null, l)) {
      spare.offer(l);
    }
  }

  /** The staged path, made on first use. */
  CudaPeerStaging staging(PeerConfig cfg) {
    CudaPeerStaging s = staging;
    if (s == null) {
      synchronized (all) {
        s = staging;
        if (s == null) {
          s = CudaPeerStaging.create(src, dst, cfg.stagedChunkBytes(), cfg.stagedBuffers());
          staging = s;
        }
      }
    }
    return s;
  }

  void close() {
    synchronized (all) {
      for (CudaPeerLane l : all) {
        l.destroy();
      }
      all.clear();
      spare.clear();
      cached.set(null);
      if (staging != null) {
        staging.destroy();
        staging = null;
      }
    }
  }
}
