package dev.gpucore.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The schedule of a copy between a Java array and device memory through pinned staging, apart
 * from the calls that carry it out ({@link Ops}: the CUDA runtime's in {@link CudaStream}, a
 * simulated device in the tests).
 *
 * <p>The array is cut into chunks of {@link StagingConfig#chunkBytes}. Up to
 * {@link StagingConfig#threads} sub-lanes run at once, the first on the calling thread, the
 * others on the copy pool; each has its own stream and two pinned buffers. A sub-lane takes the
 * next chunk not yet taken (one counter for all: a sub-lane that starts late, or a thread that
 * runs slowly, takes fewer chunks and no chunk waits for a given thread), so the copy engine gets
 * chunks as fast as the threads together can stage them; a pool task that has not started when
 * the calling thread's sub-lane runs out of chunks is not waited for. Up (to the device): the sub-lane
 * copies the chunk into one buffer while the DMA of its other buffer runs. Down: it queues the
 * DMA of its next chunk into one buffer before copying the current chunk out of the other. Each
 * host copy of a chunk is one native call, one JNI critical region: the garbage collector waits
 * at most one chunk's copy. A failure stops the other sub-lanes at their next chunk; every
 * sub-lane's stream is drained before the copy returns or throws, so the buffers are idle.
 */
final class StagedCopy {
  private StagedCopy() {}

  /** The calls a staged copy makes. Failures are thrown as runtime exceptions. */
  interface Ops {
    /** On a sub-lane's thread, before its first call (the CUDA backend selects the device). */
    void enterLane();

    /**
     * Copies {@code n} elements between {@code array} from element {@code offset} and the pinned
     * buffer at {@code buf}, into the buffer when {@code toBuffer}; {@code streaming}: with
     * stores that bypass the CPU caches.
     */
    void hostCopy(Object array, int offset, long buf, int n, int elemBytes, boolean toBuffer,
        boolean streaming);

    /** Queues a copy of {@code bytes} from {@code src} to {@code dst} on {@code stream}. */
    void copyAsync(long dst, long src, long bytes, boolean toDevice, long stream);

    /** Records {@code event} on {@code stream}. */
    void record(long event, long stream);

    /** Waits until the work before the last record of {@code event} has run. */
    void await(long event);

    /** Waits until everything queued on {@code stream} has run. */
    void drain(long stream);
  }

  /** One sub-lane's resources: a stream, two pinned buffers of a chunk each, two events. */
  record Lane(long stream, long buf0, long buf1, long event0, long event1) {
    long buf(int b) {
      return b == 0 ? buf0 : buf1;
    }

    long event(int b) {
      return b == 0 ? event0 : event1;
    }
  }

  /** Chunks of a copy of {@code count} elements. */
  static int chunks(StagingConfig cfg, long count, int elemBytes) {
    long chunk = chunkElements(cfg, elemBytes);
    return (int) ((count + chunk - 1) / chunk);
  }

  /** Sub-lanes a copy of {@code count} elements uses (one without a pool). */
  static int lanes(StagingConfig cfg, long count, int elemBytes, boolean pooled) {
    int chunks = chunks(cfg, count, elemBytes);
    return pooled ? Math.min(cfg.threads(), chunks) : Math.min(1, chunks);
  }

  private static long chunkElements(StagingConfig cfg, int elemBytes) {
    return Math.max(1, cfg.chunkBytes() / elemBytes);
  }

  /**
   * Copies {@code count} elements between {@code array} (from {@code arrayOffset}) and device
   * address {@code dev}: to the device when {@code toDevice}. {@code lanes} holds at least
   * {@link #lanes} sub-lanes. Returns when the data has arrived.
   */
  static void run(Ops ops, StagingConfig cfg, Lane[] lanes, ForkJoinPool pool, Object array,
      int arrayOffset, long dev, long count, int elemBytes, boolean toDevice) {
    int used = lanes(cfg, count, elemBytes, pool != null);
    if (used == 0) {
      return;
    }
    Job job = new Job(ops, array, arrayOffset, dev, count, chunkElements(cfg, elemBytes),
        chunks(cfg, count, elemBytes), elemBytes, toDevice, cfg.streams(count * elemBytes), used);
    List<ForkJoinTask<?>> tasks = new ArrayList<>(used - 1);
    try {
      for (int t = 1; t < used; t++) {
        Lane lane = lanes[t];
        int id = t;
        tasks.add(pool.submit(() -> {
          if (job.claim(id)) {
            job.lane(lane);
          }
        }));
      }
      job.lane(lanes[0]);
    } catch (RuntimeException e) {
      job.failed(e); // the pool refused a task
    }
    for (int t = 1; t <= tasks.size(); t++) {
      if (job.claim(t)) {
        continue; // not started (the pool is busy): it will not run, there is nothing to wait for
      }
      tasks.get(t - 1).quietlyJoin();
    }
    Throwable failure = job.failure.get();
    if (failure instanceof Error e) {
      throw e;
    }
    if (failure != null) {
      throw (RuntimeException) failure;
    }
  }

  private static final class Job {
    final Ops ops;
    final Object array;
    final int arrayOffset;
    final long dev;
    final long count;
    final long chunk;
    final int chunks;
    final int elemBytes;
    final boolean toDevice;
    final boolean streaming;
    final AtomicInteger next = new AtomicInteger();
    final AtomicIntegerArray claimed;
    /** The first failure of any sub-lane, thrown as it was by the calling thread. */
    final AtomicReference<Throwable> failure = new AtomicReference<>();

    Job(Ops ops, Object array, int arrayOffset, long dev, long count, long chunk, int chunks,
        int elemBytes, boolean toDevice, boolean streaming, int lanes) {
      this.ops = ops;
      this.array = array;
      this.arrayOffset = arrayOffset;
      this.dev = dev;
      this.count = count;
      this.chunk = chunk;
      this.chunks = chunks;
      this.elemBytes = elemBytes;
      this.toDevice = toDevice;
      this.streaming = streaming;
      this.claimed = new AtomicIntegerArray(lanes);
    }

    /**
     * Whether this caller is the first to claim sub-lane {@code t}: its pool task, when it
     * starts, or the calling thread, once its own sub-lane is done, so that a task the busy pool
     * has not started yet is not waited for.
     */
    boolean claim(int t) {
      return claimed.compareAndSet(t, 0, 1);
    }

    /** The next chunk not yet taken; {@code chunks} or more when none is left. */
    int take() {
      return next.getAndIncrement();
    }

    /** No chunk is handed out any more. */
    void stop() {
      next.set(chunks);
    }

    /** Records a failure (the first one is thrown); no chunk is handed out any more. */
    void failed(Throwable e) {
      stop();
      failure.compareAndSet(null, e);
    }

    /** Runs one sub-lane; its failure goes to {@link #failure}. */
    void lane(Lane lane) {
      Throwable failure = null;
      try {
        ops.enterLane();
        if (toDevice) {
          up(lane);
        } else {
          down(lane);
        }
      } catch (RuntimeException | Error e) {
        stop();
        failure = e;
      } finally {
        // the buffers must be idle before anyone reuses them, whatever happened
        try {
          ops.drain(lane.stream());
        } catch (RuntimeException e) {
          if (failure == null) {
            failure = e;
          } else {
            failure.addSuppressed(e);
          }
        }
      }
      if (failure != null) {
        failed(failure);
      }
    }

    private void up(Lane lane) {
      int k = 0; // chunks this sub-lane has taken so far
      for (int c = take(); c < chunks; c = take(), k++) {
        int b = k & 1;
        if (k >= 2) {
          ops.await(lane.event(b)); // the DMA out of this buffer two chunks ago
        }
        long off = c * chunk;
        int n = (int) Math.min(chunk, count - off);
        ops.hostCopy(array, arrayOffset + (int) off, lane.buf(b), n, elemBytes, true, streaming);
        ops.copyAsync(dev + off * elemBytes, lane.buf(b), (long) n * elemBytes, true,
            lane.stream());
        ops.record(lane.event(b), lane.stream());
      }
    }

    private void down(Lane lane) {
      int c = take();
      if (c >= chunks) {
        return;
      }
      queueDown(lane, c, 0);
      for (int b = 0; c < chunks; b ^= 1) {
        int following = take();
        if (following < chunks) {
          queueDown(lane, following, b ^ 1);
        }
        ops.await(lane.event(b));
        long off = c * chunk;
        int n = (int) Math.min(chunk, count - off);
        ops.hostCopy(array, arrayOffset + (int) off, lane.buf(b), n, elemBytes, false, streaming);
        c = following;
      }
    }

    private void queueDown(Lane lane, int c, int b) {
      long off = c * chunk;
      long n = Math.min(chunk, count - off);
      ops.copyAsync(lane.buf(b), dev + off * elemBytes, n * elemBytes, false, lane.stream());
      ops.record(lane.event(b), lane.stream());
    }
  }
}
