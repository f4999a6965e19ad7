package dev.gpucore.testkit;

import dev.gpucore.memory.NativeMemory;
import java.lang.management.LockInfo;
import java.lang.management.ManagementFactory;
import java.lang.management.MonitorInfo;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * Harness for concurrency soak tests: runs a body on many threads under a deadline (a thread
 * still running at the deadline fails the run with a full thread dump, so a deadlock fails
 * instead of hanging), snapshots of {@link NativeMemory}, and bookkeeping of interrupts so a
 * test can tell whether the library swallowed one.
 */
public final class Soak {
  private Soak() {}

  /** The live count and bytes of every {@link NativeMemory.Kind}, and the leak count. */
  public record Counts(long[] count, long[] bytes, long leaks) {
    public static Counts now() {
      NativeMemory.Kind[] kinds = NativeMemory.Kind.values();
      long[] c = new long[kinds.length];
      long[] b = new long[kinds.length];
      for (NativeMemory.Kind k : kinds) {
        c[k.ordinal()] = NativeMemory.liveCount(k);
        b[k.ordinal()] = NativeMemory.liveBytes(k);
      }
      return new Counts(c, b, NativeMemory.leaks());
    }

    public long count(NativeMemory.Kind k) {
      return count[k.ordinal()];
    }

    public long bytes(NativeMemory.Kind k) {
      return bytes[k.ordinal()];
    }

    /** Whether every kind in {@code kinds} has the same count and bytes as in {@code o}. */
    public boolean sameAs(Counts o, NativeMemory.Kind... kinds) {
      for (NativeMemory.Kind k : kinds) {
        if (count(k) != o.count(k) || bytes(k) != o.bytes(k)) {
          return false;
        }
      }
      return true;
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder();
      for (NativeMemory.Kind k : NativeMemory.Kind.values()) {
        sb.append(k.name().toLowerCase(java.util.Locale.ROOT)).append('=').append(count(k))
            .append('/').append(bytes(k)).append("B ");
      }
      return sb.append("leaks=").append(leaks).toString();
    }
  }

  /**
   * Runs {@code body.accept(t)} for t in [0, threads) on threads of their own and waits for all
   * of them until {@code deadline}. Throws the first failure (the others suppressed); throws an
   * AssertionError with a thread dump when a thread is still running at the deadline.
   */
  public static void run(String name, int threads, Duration deadline, IntConsumer body) {
    List<Thread> all = new ArrayList<>();
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    CountDownLatch finished = new CountDownLatch(threads);
    for (int t = 0; t < threads; t++) {
      int index = t;
      Thread th = new Thread(() -> {
        try {
          body.accept(index);
        } catch (Throwable e) {
          failures.add(new AssertionError(Thread.currentThread().getName() + ": " + e, e));
        } finally {
          finished.countDown();
        }
      }, name + "-" + t);
      th.setDaemon(true); // a thread stuck in a deadlock must not keep the JVM alive
      all.add(th);
    }
    all.forEach(Thread::start);
    boolean done;
    try {
      done = finished.await(deadline.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for the soak threads", e);
    }
    if (!done) {
      List<String> stuck = new ArrayList<>();
      for (Thread th : all) {
        if (th.isAlive()) {
          stuck.add(th.getName());
        }
      }
      AssertionError e = new AssertionError(name + ": " + stuck.size() + " of " + threads
          + " threads still running after " + deadline.toSeconds() + " s (deadlock or livelock?): "
          + stuck + "\n" + threadDump());
      failures.forEach(e::addSuppressed);
      throw e;
    }
    if (!failures.isEmpty()) {
      Throwable first = failures.get(0);
      AssertionError e = new AssertionError(name + ": " + failures.size()
          + " thread(s) failed; first: " + first.getMessage(), first.getCause() != null ? first.getCause() : first);
      for (int i = 1; i < Math.min(failures.size(), 8); i++) {
        e.addSuppressed(failures.get(i));
      }
      throw e;
    }
  }

  /** Every thread with its full stack, the locks it holds and waits for, and deadlocks found. */
  public static String threadDump() {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    StringBuilder sb = new StringBuilder("---- thread dump ----\n");
    long[] dead = mx.isSynchronizerUsageSupported() ? mx.findDeadlockedThreads()
        : mx.findMonitorDeadlockedThreads();
    if (dead != null) {
      sb.append("DEADLOCKED thread ids: ").append(java.util.Arrays.toString(dead)).append('\n');
    }
    for (ThreadInfo ti : mx.dumpAllThreads(mx.isObjectMonitorUsageSupported(),
        mx.isSynchronizerUsageSupported())) {
      sb.append('"').append(ti.getThreadName()).append("\" id=").append(ti.getThreadId())
          .append(' ').append(ti.getThreadState());
      if (ti.getLockName() != null) {
        sb.append(" on ").append(ti.getLockName());
      }
      if (ti.getLockOwnerName() != null) {
        sb.append(" owned by \"").append(ti.getLockOwnerName()).append("\" id=")
            .append(ti.getLockOwnerId());
      }
      sb.append('\n');
      StackTraceElement[] st = ti.getStackTrace();
      MonitorInfo[] monitors = ti.getLockedMonitors();
      for (int i = 0; i < st.length; i++) {
        sb.append("\tat ").append(st[i]).append('\n');
        for (MonitorInfo mi : monitors) {
          if (mi.getLockedStackDepth() == i) {
            sb.append("\t- locked ").append(mi).append('\n');
          }
        }
      }
      for (LockInfo li : ti.getLockedSynchronizers()) {
        sb.append("\t- holds ").append(li).append('\n');
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  /**
   * Interrupt bookkeeping for one worker thread. Whoever interrupts the worker first marks an
   * interrupt as pending ({@link #interruptFrom} for another thread, {@link #interruptSelf}
   * for the worker itself); the worker consumes its interrupt flag after each operation with
   * {@link #observe}. An interrupt still pending once no more can arrive and the worker has
   * looked at its flag was swallowed by whatever the worker called.
   */
  public static final class Interrupts {
    private final AtomicBoolean pending = new AtomicBoolean();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong seen = new AtomicLong();
    private volatile Thread worker;

    /** Called by the worker before its first operation. */
    public void bind() {
      worker = Thread.currentThread();
    }

    /** Called by the worker when it will make no more calls to the library. */
    public void unbind() {
      worker = null;
    }

    /** From another thread: interrupts the worker unless an interrupt is already pending. */
    public boolean interruptFrom() {
      Thread w = worker;
      if (w != null && pending.compareAndSet(false, true)) {
        sent.incrementAndGet();
        w.interrupt();
        return true;
      }
      return false;
    }

    /** From the worker: sets its own interrupt flag (an interrupt that lands before a call). */
    public void interruptSelf() {
      if (pending.compareAndSet(false, true)) {
        sent.incrementAndGet();
      }
      Thread.currentThread().interrupt();
    }

    /** Whether the worker's interrupt flag is set now (without clearing it). */
    public static boolean flagged() {
      return Thread.currentThread().isInterrupted();
    }

    /** From the worker: consumes its interrupt flag; fails on a flag nobody set. */
    public void observe() {
      if (Thread.interrupted()) {
        consumed();
      }
    }

    /** From the worker: an InterruptedException it caught itself consumed the flag. */
    public void consumed() {
      if (!pending.getAndSet(false)) {
        throw new AssertionError("interrupt flag set but no interrupt was sent to "
            + Thread.currentThread().getName());
      }
      seen.incrementAndGet();
    }

    /** From the worker, once no more interrupts can arrive: fails when one was swallowed. */
    public void assertNoneLost() {
      observe();
      if (pending.get()) {
        throw new AssertionError(Thread.currentThread().getName() + ": an interrupt was sent but"
            + " the thread's interrupt flag was cleared by a library call (swallowed); sent "
            + sent.get() + ", seen " + seen.get());
      }
    }

    public long sent() {
      return sent.get();
    }
  }

  /**
   * Interrupts random bound workers, one every {@code periodMicros} on average, until every
   * worker has called {@link #workerDone}; then stops for good. A worker calls
   * {@link #workerDone} after its last library call, then {@link #awaitStopped} (which counts the
   * interrupts still arriving), then {@link Interrupts#assertNoneLost}.
   */
  public static final class Chaos implements AutoCloseable {
    private final Thread thread;
    private final CountDownLatch working;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean stop;
    private final AtomicLong interrupts = new AtomicLong();

    public Chaos(Interrupts[] targets, long periodMicros, long seed) {
      working = new CountDownLatch(targets.length);
      thread = new Thread(() -> {
        try {
          java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
          while (!stop && working.getCount() > 0) {
            LockSupport.parkNanos(r.nextLong(1, 2 * periodMicros + 1) * 1000);
            if (targets[r.nextInt(targets.length)].interruptFrom()) {
              interrupts.incrementAndGet();
            }
          }
        } finally {
          stopped.countDown();
        }
      }, "soak-chaos");
      thread.setDaemon(true);
      thread.start();
    }

    public void workerDone(Interrupts in) {
      in.unbind();
      working.countDown();
    }

    public void awaitStopped(Interrupts in) {
      awaitCounting(stopped, in);
    }

    public long interrupts() {
      return interrupts.get();
    }

    /** Stops (if the workers did not) and waits for the chaos thread. */
    @Override
    public void close() {
      stop = true;
      boolean wasInterrupted = false;
      while (thread.isAlive()) {
        try {
          thread.join();
        } catch (InterruptedException e) {
          wasInterrupted = true;
        }
      }
      if (wasInterrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Waits for {@code latch} and counts every interrupt that arrives meanwhile as seen. */
  public static void awaitCounting(CountDownLatch latch, Interrupts in) {
    while (true) {
      try {
        latch.await();
        return;
      } catch (InterruptedException e) {
        in.consumed();
      }
    }
  }
}
