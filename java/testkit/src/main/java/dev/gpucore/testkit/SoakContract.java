package dev.gpucore.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.GpuCore;
import dev.gpucore.memory.NativeMemory;
import java.time.Duration;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.LongAdder;

/**
 * The concurrency soak every backend runs: {@link #THREADS} threads of random, checked
 * operations on one core under a deadline (a deadlock fails with a thread dump), then the live
 * native counts back where they started; and the same under interrupts (sent by each thread to
 * itself before calls and by another thread during them): every call completes with the right
 * result, no interrupt is swallowed, and the core gives right answers afterwards. A backend's
 * test class supplies the operations ({@link #worker}) and how to open its core; its test
 * methods call {@link #soak} and {@link #interrupted}.
 *
 * <p>{@code -Dgpucore.soak.ops=N} sets the operations per thread (1000),
 * {@code -Dgpucore.soak.seed} replays a run, {@code -Dgpucore.soak.deadlineS} the deadline.
 */
public abstract class SoakContract {
  /** The run's seed ({@code -Dgpucore.soak.seed} replays one). */
  public static final long SEED = Long.getLong("gpucore.soak.seed", System.nanoTime());
  /** Threads working on the one core at once. */
  public static final int THREADS = 16;
  /** Operations per thread ({@code -Dgpucore.soak.ops}). */
  public static final int OPS = Integer.getInteger("gpucore.soak.ops", 1000);
  /** The kinds of memory that must come back once the threads closed what they hold. */
  public static final NativeMemory.Kind[] MEMORY = {NativeMemory.Kind.DEVICE,
      NativeMemory.Kind.PINNED, NativeMemory.Kind.PAGEABLE};

  /** One thread's operations on the core, and what the thread holds meanwhile. */
  protected interface Worker extends AutoCloseable {
    /**
     * One random operation, checked; {@code what} names it in failures; {@code interrupts}
     * says the thread is being interrupted (a backend may then favour its waiting kinds).
     */
    void op(SplittableRandom r, String what, boolean interrupts);

    @Override
    default void close() {}
  }

  private final String label;
  private final Enum<?>[] kinds;
  private final LongAdder[] done;
  private final Duration deadline;
  private final long chaosPeriodMicros;

  /**
   * @param label names the runs in threads and the printed summary ("cpu", "gpu")
   * @param kinds the operation kinds {@link #count} takes, for the summary
   * @param deadlineSeconds the deadline unless {@code -Dgpucore.soak.deadlineS} is given
   * @param chaosPeriodMicros mean period of the interrupting thread
   */
  protected SoakContract(String label, Class<? extends Enum<?>> kinds, long deadlineSeconds,
      long chaosPeriodMicros) {
    this.label = label;
    this.kinds = kinds.getEnumConstants();
    this.done = new LongAdder[this.kinds.length];
    for (int i = 0; i < done.length; i++) {
      done[i] = new LongAdder();
    }
    this.deadline = Duration.ofSeconds(Long.getLong("gpucore.soak.deadlineS", deadlineSeconds));
    this.chaosPeriodMicros = chaosPeriodMicros;
  }

  /** Opens the backend's core for {@code route} (the GEMM route, or the backend's name). */
  protected abstract GpuCore open(String route);

  /** What one thread works with on {@code core}. */
  protected abstract Worker worker(GpuCore core, String route);

  /** First uses that load libraries, run before the interrupting threads start. */
  protected void warmUp(GpuCore core) {}

  /** Counts one operation of {@code kind} done. */
  protected final void count(Enum<?> kind) {
    done[kind.ordinal()].increment();
  }

  /** Operations counted so far. */
  protected final long total() {
    long n = 0;
    for (LongAdder a : done) {
      n += a.sum();
    }
    return n;
  }

  private String mix() {
    StringBuilder sb = new StringBuilder();
    for (Enum<?> k : kinds) {
      sb.append(k.name().toLowerCase(Locale.ROOT)).append('=')
          .append(done[k.ordinal()].sum()).append(' ');
    }
    return sb.toString().trim();
  }

  /**
   * {@link #THREADS} threads of {@code ops} operations each on one core opened for
   * {@code route}: every operation ran; memory back once the threads closed theirs; every count
   * back and nothing left to the garbage collector once the core is closed.
   */
  protected final void soak(String route, int ops) {
    Soak.Counts before = Soak.Counts.now();
    Soak.Counts beforeClose;
    long t0 = System.nanoTime();
    try (GpuCore core = open(route)) {
      Soak.run(label + "-soak-" + route, THREADS, deadline, t -> {
        SplittableRandom r = new SplittableRandom(SEED * 1_000_003 + t);
        try (Worker w = worker(core, route)) {
          for (int i = 0; i < ops; i++) {
            w.op(r, "seed " + SEED + " route " + route + " thread " + t + " op " + i, false);
          }
        }
      });
      beforeClose = Soak.Counts.now();
    }
    double s = (System.nanoTime() - t0) / 1e9;
    Soak.Counts after = Soak.Counts.now();
    System.out.printf(Locale.ROOT,
        "%s soak (route %s): %d ops (%d threads x %d), %.1f s, %s; native before [%s], threads"
            + " done [%s], core closed [%s]%n", label, route, total(), THREADS, ops, s, mix(),
        before, beforeClose, after);
    assertEquals(THREADS * (long) ops, total(), "every operation ran");
    assertTrue(beforeClose.sameAs(before, MEMORY), "device, pinned and pageable memory back to "
        + "where they started once the threads closed theirs: before [" + before + "] after ["
        + beforeClose + "]");
    assertTrue(after.sameAs(before, NativeMemory.Kind.values()), "every count back to where it "
        + "started once the core is closed: before [" + before + "] after [" + after + "]");
    assertEquals(before.leaks(), after.leaks(), "nothing left to the garbage collector");
  }

  /**
   * The threads interrupted before and during calls ({@code max(50, OPS / 2)} operations
   * each), then 50 operations each on fresh threads and 20 on this one, on the same core: some
   * calls made with the flag set, none lost, memory and counts back.
   */
  protected final void interrupted(String route) {
    int ops = Math.max(50, OPS / 2);
    Soak.Counts before = Soak.Counts.now();
    Soak.Interrupts[] ins = new Soak.Interrupts[THREADS];
    for (int t = 0; t < THREADS; t++) {
      ins[t] = new Soak.Interrupts();
    }
    LongAdder flaggedCalls = new LongAdder();
    long t0 = System.nanoTime();
    long chaosSent;
    try (GpuCore core = open(route)) {
      warmUp(core);
      try (Soak.Chaos chaos = new Soak.Chaos(ins, chaosPeriodMicros, SEED ^ 0x5eed)) {
        Soak.run(label + "-interrupted", THREADS, deadline, t -> {
          Soak.Interrupts in = ins[t];
          in.bind();
          SplittableRandom r = new SplittableRandom(SEED * 7_000_003 + t);
          try (Worker w = worker(core, route)) {
            try {
              for (int i = 0; i < ops; i++) {
                if (r.nextInt(10) == 0) {
                  in.interruptSelf(); // interrupted before the call
                }
                if (Soak.Interrupts.flagged()) {
                  flaggedCalls.increment();
                }
                w.op(r, "seed " + SEED + " thread " + t + " op " + i + " (interrupts)", true);
                in.observe();
              }
            } finally {
              chaos.workerDone(in);
            }
            chaos.awaitStopped(in);
            in.assertNoneLost();
          }
        });
        chaosSent = chaos.interrupts();
      }
      // the same core, after all that, on fresh threads and this one
      Soak.run(label + "-after-interrupts", THREADS, deadline, t -> {
        SplittableRandom r = new SplittableRandom(SEED * 9_000_011 + t);
        try (Worker w = worker(core, route)) {
          for (int i = 0; i < 50; i++) {
            w.op(r, "seed " + SEED + " thread " + t + " op " + i + " (after interrupts)", false);
          }
        }
      });
      try (Worker w = worker(core, route)) {
        SplittableRandom r = new SplittableRandom(SEED);
        for (int i = 0; i < 20; i++) {
          w.op(r, "seed " + SEED + " main thread op " + i, false);
        }
      }
      assertTrue(Soak.Counts.now().sameAs(before, MEMORY), "device, pinned and pageable memory "
          + "back to where they started: before [" + before + "] now [" + Soak.Counts.now() + "]");
    }
    long sent = 0;
    for (Soak.Interrupts in : ins) {
      sent += in.sent();
    }
    Soak.Counts after = Soak.Counts.now();
    System.out.printf(Locale.ROOT,
        "%s interrupt soak: %d ops, %d interrupts (%d from another thread), %d calls made with"
            + " the flag set, %.1f s; native before [%s] after [%s]%n",
        label, total(), sent, chaosSent, flaggedCalls.sum(), (System.nanoTime() - t0) / 1e9,
        before, after);
    assertTrue(flaggedCalls.sum() > 0, "some calls were made with the interrupt flag set");
    assertTrue(after.sameAs(before, NativeMemory.Kind.values()),
        "native counts back to where they started: before [" + before + "] after [" + after + "]");
    assertEquals(before.leaks(), after.leaks(), "nothing left to the garbage collector");
  }
}
