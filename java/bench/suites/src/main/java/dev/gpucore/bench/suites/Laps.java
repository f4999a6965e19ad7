package dev.gpucore.bench.suites;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Times the stages of one repetition ({@code upload}, {@code gemm}, {@code sum}) with
 * {@link System#nanoTime()} between synchronous calls, and collects the stages and the total
 * over repetitions.
 */
public final class Laps {
  private final Map<String, List<Long>> laps = new LinkedHashMap<>();
  private final List<Long> totals = new ArrayList<>();
  private long start;
  private long last;

  /** Starts a repetition. */
  public void start() {
    start = System.nanoTime();
    last = start;
  }

  /** Ends the stage {@code name} now. */
  public void lap(String name) {
    long t = System.nanoTime();
    laps.computeIfAbsent(name, k -> new ArrayList<>()).add(t - last);
    last = t;
  }

  /** Ends the repetition; its total is the time since {@link #start()}. */
  public void end() {
    totals.add(System.nanoTime() - start);
  }

  /** Totals of the repetitions ended so far. */
  public Stats total() {
    return Stats.of(toArray(totals));
  }

  /** Each stage's statistics, in the order first seen. */
  public Map<String, Stats> stages() {
    Map<String, Stats> m = new LinkedHashMap<>();
    laps.forEach((k, v) -> m.put(k, Stats.of(toArray(v))));
    return m;
  }

  private static long[] toArray(List<Long> l) {
    long[] a = new long[l.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = l.get(i);
    }
    return a;
  }
}
