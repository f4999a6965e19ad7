package dev.gpucore.spark;

import dev.gpucore.DType;
import dev.gpucore.memory.HostArray;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Host-side copies of the block step: {@code double[]} into off-heap staging (converted to fp32
 * where the staging holds FLOAT32) and back (widened), and the same conversions between Java
 * arrays on {@link #THREADS} threads (one thread's copy cannot keep up with a PCIe link). The
 * threads come from a shared pool of daemon threads, started as needed and ended after a
 * minute idle. Spark-free.
 */
final class HostCopy {
  /** Threads a conversion between Java arrays runs on: half the cores, at most 8. */
  static final int THREADS = Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors() / 2));

  /** Elements a thread converts at a time between Java arrays. */
  static final int GRAIN = 1 << 16;

  private static final AtomicInteger NAMES = new AtomicInteger();
  private static final ExecutorService POOL = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "gpucore-block-copy-" + NAMES.incrementAndGet());
    t.setDaemon(true);
    return t;
  });

  private HostCopy() {}

  /** The shared pool. */
  static ExecutorService pool() {
    return POOL;
  }

  /**
   * Fills {@code dst} from index 0 with {@code count} values of {@code src} from
   * {@code srcOffset}: copied as they are into FLOAT64, rounded to float into FLOAT32 through
   * {@code scratch}, a piece of its length at a time (a small scratch stays in the core's cache).
   *
   * @param scratch floats for a FLOAT32 {@code dst} (not empty); unused (may be null) for
   *     FLOAT64
   * @throws IllegalArgumentException when a range is out of bounds or {@code scratch} is empty
   */
  static void pack(double[] src, int srcOffset, HostArray dst, int count, float[] scratch) {
    checkRange(src, srcOffset, count, "src", "srcOffset");
    checkStaging(dst, count, scratch, "dst");
    if (dst.dtype() == DType.FLOAT64) {
      dst.put(0, src, srcOffset, count);
    } else {
      for (int done = 0; done < count; done += scratch.length) {
        int n = Math.min(scratch.length, count - done);
        toFloat(src, srcOffset + done, scratch, 0, n);
        dst.put(done, scratch, 0, n);
      }
    }
  }

  /**
   * Copies the first {@code count} values of {@code src} into {@code dst} from
   * {@code dstOffset}, widening FLOAT32 values through {@code scratch}, a piece of its length at
   * a time.
   *
   * @throws IllegalArgumentException when a range is out of bounds or {@code scratch} is empty
   */
  static void unpack(HostArray src, int count, double[] dst, int dstOffset, float[] scratch) {
    checkRange(dst, dstOffset, count, "dst", "dstOffset");
    checkStaging(src, count, scratch, "src");
    if (src.dtype() == DType.FLOAT64) {
      src.get(0, dst, dstOffset, count);
    } else {
      for (int done = 0; done < count; done += scratch.length) {
        int n = Math.min(scratch.length, count - done);
        src.get(done, scratch, 0, n);
        widen(scratch, 0, dst, dstOffset + done, n);
      }
    }
  }

  /** {@code dst[dstOffset + i] = (float) src[srcOffset + i]} for {@code i < count}, on this thread. */
  static void toFloat(double[] src, int srcOffset, float[] dst, int dstOffset, int count) {
    for (int i = 0; i < count; i++) {
      dst[dstOffset + i] = (float) src[srcOffset + i];
    }
  }

  /** {@code dst[dstOffset + i] = src[srcOffset + i]} for {@code i < count}, on this thread. */
  static void widen(float[] src, int srcOffset, double[] dst, int dstOffset, int count) {
    for (int i = 0; i < count; i++) {
      dst[dstOffset + i] = src[srcOffset + i];
    }
  }

  /** {@code src} rounded to float, converted on the pool's threads. */
  static float[] toFloat(double[] src) {
    if (src == null) {
      throw new IllegalArgumentException("src must not be null");
    }
    float[] f = new float[src.length];
    parallel(src.length, (from, to) -> toFloat(src, from, f, from, to - from));
    return f;
  }

  /** Copies {@code src} into {@code dst} (of the same length), widened on the pool's threads. */
  static void widen(float[] src, double[] dst) {
    if (src == null || dst == null) {
      throw new IllegalArgumentException((src == null ? "src" : "dst") + " must not be null");
    }
    if (src.length != dst.length) {
      throw new IllegalArgumentException("dst has " + dst.length + " values but src has "
          + src.length);
    }
    parallel(src.length, (from, to) -> widen(src, from, dst, from, to - from));
  }

  /** A part of a range of indices, {@code [from, to)}. */
  interface Range {
    void run(int from, int to);
  }

  /**
   * Runs {@code body} over {@code [0, count)} in parts of at least {@link #GRAIN} indices, one on
   * this thread and the others on the pool; returns when all are done and rethrows the first
   * failure.
   */
  static void parallel(int count, Range body) {
    int parts = (int) Math.min(THREADS, Math.max(1, ((long) count + GRAIN - 1) / GRAIN));
    if (parts <= 1) {
      body.run(0, count);
      return;
    }
    List<Future<?>> futures = new ArrayList<>(parts - 1);
    for (int p = 1; p < parts; p++) {
      int from = (int) ((long) count * p / parts);
      int to = (int) ((long) count * (p + 1) / parts);
      futures.add(pool().submit(() -> body.run(from, to)));
    }
    Throwable failure = null;
    try {
      body.run(0, (int) ((long) count / parts));
    } catch (RuntimeException | Error e) {
      failure = e;
    }
    failure = join(futures, failure);
    rethrow(failure);
  }

  /** Waits for every future (uninterruptibly: they use arrays the caller owns) and returns the first failure. */
  static Throwable join(List<? extends Future<?>> futures, Throwable failure) {
    boolean interrupted = false;
    for (Future<?> f : futures) {
      for (;;) {
        try {
          f.get();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException e) {
          if (failure == null) {
            failure = e.getCause();
          }
          break;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    return failure;
  }

  /** The future's value, waited for uninterruptibly; its failure rethrown. */
  static <T> T await(Future<T> f) {
    boolean interrupted = false;
    try {
      for (;;) {
        try {
          return f.get();
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException e) {
          rethrow(e.getCause());
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Throws {@code failure} as it is when unchecked, else wrapped. */
  static void rethrow(Throwable failure) {
    if (failure == null) {
      return;
    }
    if (failure instanceof RuntimeException r) {
      throw r;
    }
    if (failure instanceof Error e) {
      throw e;
    }
    throw new IllegalStateException(failure);
  }

  private static void checkRange(Object array, int offset, int count, String name,
      String offsetName) {
    if (array == null) {
      throw new IllegalArgumentException(name + " must not be null");
    }
    int length = array instanceof double[] d ? d.length : ((float[]) array).length;
    if (count < 0) {
      throw new IllegalArgumentException("count must be 0 or more, got " + count);
    }
    if (offset < 0 || offset > length - count) {
      throw new IllegalArgumentException(offsetName + " " + offset + " with count " + count
          + " is outside " + name + " (" + length + " values)");
    }
  }

  private static void checkStaging(HostArray h, int count, float[] scratch, String name) {
    if (h == null) {
      throw new IllegalArgumentException(name + " must not be null");
    }
    if (count > h.length()) {
      throw new IllegalArgumentException("count " + count + " exceeds " + name + "'s "
          + h.length() + " values");
    }
    if (h.dtype() == DType.FLOAT32 && (scratch == null || scratch.length == 0)) {
      throw new IllegalArgumentException("scratch must hold floats for a FLOAT32 " + name
          + ", got " + (scratch == null ? "null" : "an empty array"));
    }
    if (h.dtype() != DType.FLOAT32 && h.dtype() != DType.FLOAT64) {
      throw new IllegalArgumentException(name + " must hold FLOAT32 or FLOAT64, got " + h.dtype());
    }
  }
}
