package dev.gpucore.spi;

import dev.gpucore.blas.Precision;

/**
 * What the router learns from the host GEMMs it has timed: per route (CPU, GPU), precision
 * class (fp32, tf32, bf16/fp16, fp64) and size class (the work of one call, in steps of 4×), how
 * far the measured times are from the model's estimates, as the mean of
 * {@code log(measured / estimated)}, each ratio bounded to [1/{@link #MAX_FACTOR},
 * {@link #MAX_FACTOR}]. The first call of a class is
 * a warm-up (buffers of a new size, compilation) and not counted; the next {@link #MIN_CALLS}
 * weigh equally, and each later one by {@link #WEIGHT} (an exponentially weighted mean, which
 * follows a machine whose load changes), counted as at most {@link #STEP_MAX} times from the
 * class's figure either way: one stalled call moves it by at most STEP_MAX^WEIGHT (19%), a
 * lasting change is followed within a few calls. Once a class has {@link #MIN_CALLS} calls, its
 * estimates are multiplied by the learnt factor. Only the route a call took is timed: a route
 * estimated too fast learns that and gives way; one estimated too slow is timed when the router
 * tries it ({@code Router}'s probe, while its class has fewer than {@link #MIN_CALLS} calls:
 * when its estimate is near the other's learnt time, or however far, once the class has spent
 * enough time on the other route to pay for the try many times over), and again at growing
 * intervals ({@link #retry}; {@link #startTry} for one out of reach, once the class's calls
 * since its last call have paid for the try many times over), in case its figure was taken in
 * a bad moment:
 * the fastest counted call of such a try replaces what the route had learnt, being the only
 * recent word on it (a stall in one of its calls must not keep the route out for the next
 * interval; a figure too good is corrected by the calls the route then takes).
 * A timed call of a class on the other route than the class's timed calls before it is not
 * counted when those were two or more in a row: it pays for the switch (OpenBLAS's threads
 * woken, the GPU's staging threads and caches cold), which the class's calls that stay on that
 * route do not. Calls of a class that take the two routes in turn (shapes of the same work that
 * the model sends apart) all count: each of them pays for a switch, always. Nor is a call counted
 * that starts more than {@link #PAUSE_NS} after the previous timed call ended: it pays for
 * waking the machine (OpenBLAS's worker threads asleep, the staging threads parked, caches
 * cold), which calls that follow one another do not; a program whose calls all come after
 * pauses is routed by the model's figures alone.
 */
final class RouteLearning {
  /** Calls of a class before its factor is used. */
  static final int MIN_CALLS = 5;
  /** Calls of a class sent to the route not chosen, to time it: a warm-up and MIN_CALLS. */
  static final int PROBES = MIN_CALLS + 1;
  /** Weight of each new call in the mean. */
  static final double WEIGHT = 0.25;
  /** Largest factor learnt, either way. */
  static final double MAX_FACTOR = 8;
  /** Calls a class sends to its route before the other, learnt, is tried again (then 2x, 4x..). */
  static final int RETRY_FIRST = 64;
  /**
   * Calls of each such try: the first pays for the switch and is not counted, and the fastest
   * of the others stands for the route. A switch can slow more calls than the first (OpenBLAS's
   * threads, the staging threads and the caches take a few calls to come back): with too few,
   * every call of a try would pay for it and a faster route stay out for good.
   */
  static final int RETRY_CALLS = 5;
  /** The intervals stop growing at RETRY_FIRST << this. */
  static final int RETRY_MAX_SHIFT = 10;
  /** A class keeps the route of its last timed call while the other is not this much faster. */
  static final double STICK = 0.05;
  /** A timed call that starts this long after the previous one ended is not counted (ns). */
  static final long PAUSE_NS = 1_000_000;
  private static final int SIZES = 32;
  private static final double LOG_MAX = Math.log(MAX_FACTOR);
  /** Largest factor between a learnt class's figure and a call counted into it, either way. */
  static final double STEP_MAX = 2;
  private static final double LOG_STEP = Math.log(STEP_MAX);

  private final double[] logRatio = new double[2 * 4 * SIZES];
  /** exp(logRatio) once the slot has MIN_CALLS calls, else 1. */
  private final double[] factor = new double[2 * 4 * SIZES];
  private final int[] calls = new int[2 * 4 * SIZES];
  private final boolean[] warm = new boolean[2 * 4 * SIZES];
  private final int[] probes = new int[2 * 4 * SIZES];
  /** Milliseconds of the calls recorded, warm-ups and all. */
  private final double[] spentMs = new double[2 * 4 * SIZES];
  /** Probes given back (a probe call after a pause is not counted), at most PROBES per slot. */
  private final int[] refunds = new int[2 * 4 * SIZES];
  /*
   * Per class (precision and size, either route): the route of its last timed call (-1 none
   * yet, 0 the CPU, 1 the GPU); for its tries again, the route they were counted from (-1
   * none), its calls since the last try, the tries so far and the calls left of the current one.
   */
  private final int[] lastRoute = new int[4 * SIZES];
  /** Per class: timed calls in a row on its last route. */
  private final int[] run = new int[4 * SIZES];
  private final int[] retryFrom = new int[4 * SIZES];
  private final int[] since = new int[4 * SIZES];
  private final int[] retries = new int[4 * SIZES];
  private final int[] burst = new int[4 * SIZES];
  /** Per class: the try under way was started by {@link #startTry} (its route out of reach). */
  private final boolean[] exploring = new boolean[4 * SIZES];
  /** Per class: milliseconds of its calls on its last route since its last call on the other. */
  private final double[] runMs = new double[4 * SIZES];
  /** Per route and class: calls of a try again still to be recorded, and those counted. */
  private final int[] tryLeft = new int[2 * 4 * SIZES];
  private final int[] tryCounted = new int[2 * 4 * SIZES];
  private long total;
  /** When the last timed call ended (System.nanoTime), if any. */
  private long lastEnd;
  private boolean ended;

  RouteLearning() {
    java.util.Arrays.fill(factor, 1);
    java.util.Arrays.fill(lastRoute, -1);
    java.util.Arrays.fill(retryFrom, -1);
  }

  /** Size class of a call of {@code flops} (per GEMM of a batch): steps of 4× from 1 flop. */
  static int sizeClass(double flops) {
    int c = flops < 1 ? 0 : (Math.getExponent(flops) >> 1);
    return Math.min(SIZES - 1, Math.max(0, c));
  }

  private static int slot(boolean gpu, Precision p, double flops) {
    return (gpu ? 4 * SIZES : 0) + cls(p, flops);
  }

  /** The class of a call, either route. */
  private static int cls(Precision p, double flops) {
    int pc = switch (p) {
      case TF32 -> 1;
      case BF16, FP16 -> 2;
      case FP64 -> 3;
      default -> 0;
    };
    return pc * SIZES + sizeClass(flops);
  }

  /**
   * Records a call that took {@code nanos} and ended at {@code endNanos} ({@code System.nanoTime})
   * where {@code estimatedMs} was expected: not counted when it started more than
   * {@link #PAUSE_NS} after the previous call recorded here ended.
   */
  synchronized void add(boolean gpu, Precision p, double flops, long nanos, long endNanos,
      double estimatedMs) {
    boolean paused = ended && endNanos - nanos - lastEnd > PAUSE_NS;
    ended(endNanos);
    add(gpu, p, flops, nanos / 1e6, estimatedMs, paused);
  }

  /**
   * Notes that a host GEMM not timed for learning (split by {@code gpucore.gemm.cpuRatio},
   * failed over) ended at {@code endNanos}: the machine was busy until then.
   */
  synchronized void ended(long endNanos) {
    if (!ended || endNanos - lastEnd > 0) {
      lastEnd = endNanos;
      ended = true;
    }
  }

  /**
   * Records a call that took {@code measuredMs} where {@code estimatedMs} was expected (the
   * first of its class only warms up).
   */
  synchronized void add(boolean gpu, Precision p, double flops, double measuredMs,
      double estimatedMs) {
    add(gpu, p, flops, measuredMs, estimatedMs, false);
  }

  private void add(boolean gpu, Precision p, double flops, double measuredMs,
      double estimatedMs, boolean paused) {
    if (!(measuredMs > 0) || !(estimatedMs > 0) || Double.isInfinite(measuredMs)
        || Double.isInfinite(estimatedMs)) {
      return;
    }
    int s = slot(gpu, p, flops);
    int c = cls(p, flops);
    int route = gpu ? 1 : 0;
    spentMs[s] += measuredMs;
    boolean switched = lastRoute[c] >= 0 && lastRoute[c] != route && run[c] >= 2;
    if (lastRoute[c] == route) {
      run[c] = run[c] < Integer.MAX_VALUE ? run[c] + 1 : run[c];
      runMs[c] += measuredMs;
    } else {
      lastRoute[c] = route;
      run[c] = 1;
      runMs[c] = measuredMs;
    }
    boolean inTry = tryLeft[s] > 0;
    if (inTry) {
      tryLeft[s]--;
    }
    if (!warm[s] || switched || paused) {
      if (paused && warm[s] && !switched && calls[s] < MIN_CALLS && probes[s] > 0
          && refunds[s] < PROBES) {
        probes[s]--; // a probe that taught nothing: the route may still be learnt
        refunds[s]++;
      }
      warm[s] = true; // the warm-up call, the first after a switch of route or after a pause
      return;
    }
    double l = Math.max(-LOG_MAX, Math.min(LOG_MAX, Math.log(measuredMs / estimatedMs)));
    if (inTry && calls[s] >= MIN_CALLS) {
      // a try again: its fastest call replaces the route's old figure (a stall in a call or two
      // must not keep the route out for the next interval; its later calls correct an
      // optimistic figure)
      logRatio[s] = tryCounted[s] == 0 ? l : Math.min(logRatio[s], l);
      tryCounted[s]++;
    } else if (calls[s] < MIN_CALLS) {
      logRatio[s] += (l - logRatio[s]) / (calls[s] + 1); // the plain mean of the first ones
    } else {
      // each call moves the figure by at most WEIGHT of STEP_MAX: one stalled call moves it
      // little, a lasting change is followed within a few calls
      double d = Math.max(-LOG_STEP, Math.min(LOG_STEP, l - logRatio[s]));
      logRatio[s] += WEIGHT * d;
    }
    if (calls[s] < Integer.MAX_VALUE) {
      calls[s]++;
    }
    factor[s] = calls[s] < MIN_CALLS ? 1 : Math.exp(logRatio[s]);
    total++;
  }

  /** The factor the route's estimate is multiplied by: 1 until the class has enough calls. */
  synchronized double factor(boolean gpu, Precision p, double flops) {
    return factor[slot(gpu, p, flops)];
  }

  /** What a decision reads of a class, both routes, taken at once. */
  static final class View {
    double cpuFactor;
    double gpuFactor;
    int cpuCalls;
    int gpuCalls;
    /** Milliseconds of the class's calls recorded on each route. */
    double cpuSpentMs;
    double gpuSpentMs;
    /** The route of the class's last timed call: -1 none yet, 0 the CPU, 1 the GPU. */
    int lastRoute;
    /** Calls of a try again are still to go (see {@link RouteLearning#endRetry}). */
    boolean retrying;
    /** That try was started by {@link RouteLearning#startTry}. */
    boolean exploring;
    /** Milliseconds of the class's calls on its last route since its last call on the other. */
    double runMs;
    /** Tries again so far. */
    int retries;

    int calls(boolean gpu) {
      return gpu ? gpuCalls : cpuCalls;
    }

    double spentMs(boolean gpu) {
      return gpu ? gpuSpentMs : cpuSpentMs;
    }
  }

  /** Fills {@code v} with the class's factors, calls and last route, under one lock. */
  synchronized void read(Precision p, double flops, View v) {
    int c = cls(p, flops);
    v.cpuFactor = factor[c];
    v.gpuFactor = factor[4 * SIZES + c];
    v.cpuCalls = calls[c];
    v.gpuCalls = calls[4 * SIZES + c];
    v.cpuSpentMs = spentMs[c];
    v.gpuSpentMs = spentMs[4 * SIZES + c];
    v.lastRoute = lastRoute[c];
    v.retrying = burst[c] > 0;
    v.exploring = v.retrying && exploring[c];
    v.runMs = runMs[c];
    v.retries = retries[c];
  }

  /** Calls counted in the class (the warm-up not counted). */
  synchronized int calls(boolean gpu, Precision p, double flops) {
    return calls[slot(gpu, p, flops)];
  }

  /** Counts a call sent to route {@code gpu} to time it, if the class has tries left. */
  synchronized boolean tryProbe(boolean gpu, Precision p, double flops) {
    int s = slot(gpu, p, flops);
    if (probes[s] >= PROBES) {
      return false;
    }
    probes[s]++;
    return true;
  }

  /** Whether the class may still send calls to route {@code gpu} to time it. */
  synchronized boolean probesLeft(boolean gpu, Precision p, double flops) {
    return probes[slot(gpu, p, flops)] < PROBES;
  }

  /**
   * Counts a call of a class whose route {@code chosenGpu} is chosen while the other is learnt;
   * true when this call goes to the other instead: after {@link #RETRY_FIRST} calls, then twice
   * as many each time (up to {@link #RETRY_MAX_SHIFT} doublings), {@link #RETRY_CALLS} calls.
   * When the class's chosen route changes, the count starts again from 0 and a try under way
   * ends.
   */
  synchronized boolean retry(boolean chosenGpu, Precision p, double flops) {
    int s = cls(p, flops);
    int from = chosenGpu ? 1 : 0;
    int other = (chosenGpu ? 0 : 4 * SIZES) + s;
    if (retryFrom[s] != from) {
      retryFrom[s] = from;
      since[s] = 0;
      burst[s] = 0;
      tryLeft[s] = 0;
      tryLeft[4 * SIZES + s] = 0;
    }
    if (burst[s] > 0) {
      burst[s]--;
      return true;
    }
    exploring[s] = false;
    tryLeft[s] = 0; // a try's calls not recorded (failed, not timed) end with it
    tryLeft[4 * SIZES + s] = 0;
    if (++since[s] < RETRY_FIRST << Math.min(retries[s], RETRY_MAX_SHIFT)) {
      return false;
    }
    since[s] = 0;
    retries[s]++;
    burst[s] = RETRY_CALLS - 1;
    tryLeft[other] = RETRY_CALLS;
    tryCounted[other] = 0;
    return true;
  }

  /**
   * Starts a try again of the route not chosen now, whatever the count since the last one: this
   * call and the next {@link #RETRY_CALLS} - 1 of the class go to it ({@link #retry} gives them)
   * and its counted calls replace what it had learnt. For a route whose learnt time is out of
   * the router's reach, once the class's calls have paid for the try many times over.
   */
  synchronized void startTry(boolean chosenGpu, Precision p, double flops) {
    int s = cls(p, flops);
    int other = (chosenGpu ? 0 : 4 * SIZES) + s;
    retryFrom[s] = chosenGpu ? 1 : 0;
    since[s] = 0;
    retries[s]++;
    burst[s] = RETRY_CALLS - 1;
    exploring[s] = true;
    tryLeft[s] = 0;
    tryLeft[4 * SIZES + s] = 0;
    tryLeft[other] = RETRY_CALLS;
    tryCounted[other] = 0;
  }

  /**
   * Ends a try again under way: the class's call does not qualify for one any more (the other
   * route fell out of reach, or the call would be split), so the calls left of it are dropped
   * rather than sent long after.
   */
  synchronized void endRetry(Precision p, double flops) {
    int c = cls(p, flops);
    burst[c] = 0;
    exploring[c] = false;
    tryLeft[c] = 0;
    tryLeft[4 * SIZES + c] = 0;
  }

  /** The route of the class's last timed call: -1 none yet, 0 the CPU, 1 the GPU. */
  synchronized int lastRoute(Precision p, double flops) {
    return lastRoute[cls(p, flops)];
  }

  /** Calls counted in all. */
  synchronized long total() {
    return total;
  }
}
