package dev.gpucore.bench.suites;

import java.util.Arrays;

/**
 * Summary of repeated timings, in nanoseconds: median, min, max, mean over every sample. The
 * median of an even count is the mean of the two middle samples. Immutable.
 */
public final class Stats {
  private final long[] samples;
  private final long[] sorted;

  private Stats(long[] samples) {
    if (samples.length == 0) {
      throw new IllegalArgumentException("no samples");
    }
    for (long s : samples) {
      if (s < 0) {
        throw new IllegalArgumentException("negative sample " + s);
      }
    }
    this.samples = samples.clone();
    this.sorted = samples.clone();
    Arrays.sort(sorted);
  }

  /** Statistics of these samples (nanoseconds, in the order taken). */
  public static Stats of(long... samplesNs) {
    return new Stats(samplesNs);
  }

  /** The samples in the order they were taken. */
  public long[] samples() {
    return samples.clone();
  }

  /** Number of samples. */
  public int count() {
    return samples.length;
  }

  /** Median in nanoseconds. */
  public double median() {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + (double) sorted[n / 2]) / 2;
  }

  /** Smallest sample. */
  public long min() {
    return sorted[0];
  }

  /** Largest sample. */
  public long max() {
    return sorted[sorted.length - 1];
  }

  /** Arithmetic mean. */
  public double mean() {
    double s = 0;
    for (long v : samples) {
      s += v;
    }
    return s / samples.length;
  }

  /** Median absolute deviation from the median, a spread measure robust to outliers. */
  public double mad() {
    double m = median();
    long[] d = new long[sorted.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = Math.round(Math.abs(sorted[i] - m));
    }
    return Stats.of(d).median();
  }

  /** Throughput of {@code work} units per median time, in units per second. */
  public double perSecond(double work) {
    return work / (median() / 1e9);
  }

  @Override
  public String toString() {
    return String.format(java.util.Locale.ROOT, "median %s (min %s, max %s, n=%d)",
        Fmt.time(median()), Fmt.time(min()), Fmt.time(max()), count());
  }
}
