package dev.gpucore.bench.suites;

import dev.gpucore.cli.JsonText;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The child JVM of the {@code blas} suite: times netlib's {@code ?gemm} from Java arrays through
 * whichever native BLAS {@code -Ddev.ludovic.netlib.blas.nativeLibPath} names (netlib reads it
 * once per JVM), and prints one JSON line per size on stdout.
 *
 * <p>Arguments: {@code DTYPE SIZES REPS WARMUP SEED} (DTYPE {@code fp32} or {@code fp64}; SIZES
 * comma-separated n of square matrices).
 */
public final class BlasChild {
  /** Rows of C checked against an fp64 reference. */
  static final int CHECK_ROWS = 8;

  private BlasChild() {}

  public static void main(String[] args) throws Exception {
    String dtype = args[0];
    List<Long> sizes = new ArrayList<>();
    for (String s : args[1].split(",")) {
      sizes.add(Long.parseLong(s));
    }
    int reps = Integer.parseInt(args[2]);
    int warmup = Integer.parseInt(args[3]);
    long seed = Long.parseLong(args[4]);
    // by reflection: the suites module does not read netlib's (automatic) module
    Class<?> api = Class.forName("dev.ludovic.netlib.blas.BLAS");
    Object blas = api.getMethod("getInstance").invoke(null);
    String impl = blas.getClass().getName();
    Method dgemm = api.getMethod("dgemm", String.class, String.class, int.class, int.class,
        int.class, double.class, double[].class, int.class, double[].class, int.class,
        double.class, double[].class, int.class);
    Method sgemm = api.getMethod("sgemm", String.class, String.class, int.class, int.class,
        int.class, float.class, float[].class, int.class, float[].class, int.class,
        float.class, float[].class, int.class);
    if (!impl.endsWith(".JNIBLAS")) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("error", "netlib did not load the native library (it uses " + impl + ")");
      System.out.println(JsonText.write(m).replace("\n", " "));
      return;
    }
    for (long nl : sizes) {
      int n = (int) nl;
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("dtype", dtype);
      m.put("n", n);
      m.put("impl", impl);
      long[] ns = new long[reps];
      double err;
      if (dtype.equals("fp64")) {
        double[] a = fill(n, seed);
        double[] b = fill(n, seed + 1);
        double[] c = new double[n * n];
        for (int i = 0; i < warmup + reps; i++) {
          long t0 = System.nanoTime();
          dgemm.invoke(blas, "N", "N", n, n, n, 1.0, a, n, b, n, 0.0, c, n);
          long t = System.nanoTime() - t0;
          if (i >= warmup) {
            ns[i - warmup] = t;
          }
        }
        err = check(n, (i, k) -> a[i + k * n], (k, j) -> b[k + j * n], (i, j) -> c[i + j * n]);
      } else {
        float[] a = fillF(n, seed);
        float[] b = fillF(n, seed + 1);
        float[] c = new float[n * n];
        for (int i = 0; i < warmup + reps; i++) {
          long t0 = System.nanoTime();
          sgemm.invoke(blas, "N", "N", n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
          long t = System.nanoTime() - t0;
          if (i >= warmup) {
            ns[i - warmup] = t;
          }
        }
        err = check(n, (i, k) -> a[i + k * n], (k, j) -> b[k + j * n], (i, j) -> c[i + j * n]);
      }
      m.put("samples_ns", toList(ns));
      m.put("max_rel_err", err);
      System.out.println(JsonText.write(m).replace("\n", " "));
      System.out.flush();
    }
  }

  private interface At {
    double at(int r, int c);
  }

  /**
   * The largest error of C's entries in {@link #CHECK_ROWS} rows (spread over C) against an fp64
   * sum, relative to the sum of the magnitudes of the products.
   */
  private static double check(int n, At a, At b, At c) {
    double worst = 0;
    int rows = Math.min(n, CHECK_ROWS);
    for (int r = 0; r < rows; r++) {
      int i = (int) ((long) r * n / rows);
      for (int j = 0; j < n; j++) {
        double s = 0;
        double mag = 0;
        for (int k = 0; k < n; k++) {
          double p = a.at(i, k) * b.at(k, j);
          s += p;
          mag += Math.abs(p);
        }
        double e = Math.abs(c.at(i, j) - s) / Math.max(mag, Double.MIN_NORMAL);
        if (!(e <= worst)) {
          worst = Double.isNaN(e) ? Double.POSITIVE_INFINITY : e;
        }
      }
    }
    return worst;
  }

  private static double[] fill(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] x = new double[n * n];
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextDouble(-1, 1);
    }
    return x;
  }

  private static float[] fillF(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n * n];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextDouble(-1, 1);
    }
    return x;
  }

  private static List<Long> toList(long[] v) {
    List<Long> l = new ArrayList<>();
    for (long x : v) {
      l.add(x);
    }
    return l;
  }
}
