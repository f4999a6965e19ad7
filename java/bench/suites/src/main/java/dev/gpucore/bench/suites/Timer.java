package dev.gpucore.bench.suites;

import java.util.function.IntConsumer;

/**
 * Host timing of synchronous operations: {@code warmup} untimed runs, then {@code reps} runs each
 * bracketed by {@link System#nanoTime()}. The operation is told the run's index (negative for
 * warm-ups) so that it can rotate through its input buffers.
 */
public final class Timer {
  private Timer() {}

  /** Times {@code op}, which must return only once its work is complete (synchronised). */
  public static Stats measure(int warmup, int reps, IntConsumer op, Runnable afterEach) {
    if (reps < 1 || warmup < 0) {
      throw new IllegalArgumentException("reps must be >= 1 and warmup >= 0");
    }
    for (int i = 0; i < warmup; i++) {
      op.accept(-1 - i);
      afterEach.run();
    }
    long[] t = new long[reps];
    for (int i = 0; i < reps; i++) {
      long t0 = System.nanoTime();
      op.accept(i);
      t[i] = System.nanoTime() - t0;
      afterEach.run();
    }
    return Stats.of(t);
  }

  /**
   * How many input buffers to rotate through so that consecutive runs do not find their input
   * in the CPU's last-level cache: enough to cover twice the cache, at most 16, at least 1.
   */
  public static int rotation(long bytesPerBuffer, long cacheBytes) {
    if (bytesPerBuffer <= 0) {
      return 1;
    }
    long need = (2 * cacheBytes + bytesPerBuffer - 1) / bytesPerBuffer;
    return (int) Math.max(1, Math.min(16, need));
  }
}
