package dev.gpucore.bench.suites;

/**
 * Seeded inputs that every peer can reproduce bit for bit (Java here, C in peers.c, numpy in
 * peers_torch.py): element {@code i} is
 * {@code ((splitmix64(seed + (i + 1) * 0x9E3779B97F4A7C15) >>> 40) + 0.5) * 2^-24}, rounded to
 * float, uniform in (0, 1) and never zero. Identical inputs let each peer's result be checked
 * against gpucore's CPU figure.
 */
public final class InputGen {
  static final long GOLDEN = 0x9E3779B97F4A7C15L;

  private InputGen() {}

  /** The splitmix64 finaliser. */
  public static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Element {@code i} of the sequence for {@code seed}, as a double (exactly the float value). */
  public static double value(long seed, long i) {
    long z = mix(seed + (i + 1) * GOLDEN);
    return (float) (((z >>> 40) + 0.5) * 0x1p-24);
  }

  /** Fills {@code a} with elements {@code 0 .. a.length-1}. */
  public static void fill(float[] a, long seed) {
    for (int i = 0; i < a.length; i++) {
      long z = mix(seed + (i + 1L) * GOLDEN);
      a[i] = (float) (((z >>> 40) + 0.5) * 0x1p-24);
    }
  }

  /** Fills {@code a} with the same values as {@link #fill(float[], long)}, widened. */
  public static void fill(double[] a, long seed) {
    for (int i = 0; i < a.length; i++) {
      long z = mix(seed + (i + 1L) * GOLDEN);
      a[i] = (float) (((z >>> 40) + 0.5) * 0x1p-24);
    }
  }
}
