package dev.gpucore.bench.suites;

import dev.gpucore.cli.JsonText;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The child JVM of the {@code blas} suite: calls netlib-java's BLAS from Java arrays through
 * whichever native BLAS {@code -Ddev.ludovic.netlib.blas.nativeLibPath} names (netlib reads it
 * once per JVM), driven line by line on stdin by {@link BlasSuite}, so that the suite can
 * interleave the samples of several such JVMs.
 *
 * <p>At start it says which implementation it got: a line {@code @blas {"hello":true, "impl":
 * BLAS.getInstance().getClass(), "native": [the BLAS libraries mapped into the process], ...}}
 * ({@code load_error}: why netlib fell back to Java, when it did). Then, one answer line
 * ({@code @blas {...}}) per command:
 *
 * <ul>
 *   <li>{@code prep ID KIND N SEED}: inputs of a case; KIND {@code dgemm}, {@code sgemm} (n x n,
 *       no transposes), {@code daxpy}, {@code ddot} (n elements, unit strides) or {@code dgemv}
 *       (n x n, no transpose, beta 0)
 *   <li>{@code check ID}: one call on fresh outputs checked against an fp64 sum on the host:
 *       {@code max_rel_err}, and its time {@code ns}
 *   <li>{@code calib ID MS}: calls per sample so that a sample lasts at least MS ms
 *   <li>{@code run ID CALLS}: CALLS back-to-back calls, {@code ns} for all of them
 *   <li>{@code maps}: the BLAS libraries mapped now
 *   <li>{@code free ID}, {@code quit}
 * </ul>
 *
 * A command that fails answers {@code {"error": ...}}. The calls go through method handles held
 * in constants, which the JIT compiles to direct calls: a call costs what netlib's costs.
 */
public final class BlasChild {
  /** Rows of C (and of y for dgemv) checked against an fp64 reference. */
  static final int CHECK_ROWS = 8;
  /** The prefix of every answer line on stdout. */
  static final String PREFIX = "@blas ";
  static final String API = "dev.ludovic.netlib.blas.BLAS";

  private static final Object BLAS;
  private static final MethodHandle DGEMM;
  private static final MethodHandle SGEMM;
  private static final MethodHandle DAXPY;
  private static final MethodHandle DDOT;
  private static final MethodHandle DGEMV;

  static {
    try {
      // by name: the suites module does not read netlib's (automatic) module; on the child's
      // class path everything is in the unnamed module
      Class<?> api = Class.forName(API);
      BLAS = api.getMethod("getInstance").invoke(null);
      MethodHandles.Lookup l = MethodHandles.publicLookup();
      Class<?> d = double[].class;
      Class<?> f = float[].class;
      Class<?> s = String.class;
      Class<?> i = int.class;
      DGEMM = l.findVirtual(api, "dgemm", MethodType.methodType(void.class,
          s, s, i, i, i, double.class, d, i, d, i, double.class, d, i)).bindTo(BLAS);
      SGEMM = l.findVirtual(api, "sgemm", MethodType.methodType(void.class,
          s, s, i, i, i, float.class, f, i, f, i, float.class, f, i)).bindTo(BLAS);
      DAXPY = l.findVirtual(api, "daxpy", MethodType.methodType(void.class,
          i, double.class, d, i, d, i)).bindTo(BLAS);
      DDOT = l.findVirtual(api, "ddot", MethodType.methodType(double.class,
          i, d, i, d, i)).bindTo(BLAS);
      DGEMV = l.findVirtual(api, "dgemv", MethodType.methodType(void.class,
          s, i, i, double.class, d, i, d, i, double.class, d, i)).bindTo(BLAS);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private static final PrintStream OUT = System.out;
  private static double sink;

  private BlasChild() {}

  /** One case's inputs and outputs. */
  private static final class Case {
    final String kind;
    final int n;
    double[] a;
    double[] b;
    double[] c;
    float[] af;
    float[] bf;
    float[] cf;

    Case(String kind, int n, long seed) {
      this.kind = kind;
      this.n = n;
      long nn = (long) n * n;
      switch (kind) {
        case "dgemm" -> {
          a = fill(nn, seed);
          b = fill(nn, seed + 1);
          c = new double[(int) nn];
        }
        case "sgemm" -> {
          af = fillF(nn, seed);
          bf = fillF(nn, seed + 1);
          cf = new float[(int) nn];
        }
        case "daxpy", "ddot" -> {
          a = fill(n, seed);
          b = fill(n, seed + 1);
        }
        case "dgemv" -> {
          a = fill(nn, seed);
          b = fill(n, seed + 1);
          c = new double[n];
        }
        default -> throw new IllegalArgumentException("unknown kind " + kind);
      }
    }

    void call() throws Throwable {
      int n = this.n;
      switch (kind) {
        case "dgemm" -> DGEMM.invokeExact("N", "N", n, n, n, 1.0, a, n, b, n, 0.0, c, n);
        case "sgemm" -> SGEMM.invokeExact("N", "N", n, n, n, 1.0f, af, n, bf, n, 0.0f, cf, n);
        // y grows by 1e-9 x per call: no overflow in any number of calls timed here
        case "daxpy" -> DAXPY.invokeExact(n, 1e-9, a, 1, b, 1);
        case "ddot" -> sink += (double) DDOT.invokeExact(n, a, 1, b, 1);
        case "dgemv" -> DGEMV.invokeExact("N", n, n, 1.0, a, n, b, 1, 0.0, c, 1);
        default -> throw new IllegalStateException(kind);
      }
    }

    long run(int calls) throws Throwable {
      long t0 = System.nanoTime();
      for (int i = 0; i < calls; i++) {
        call();
      }
      return System.nanoTime() - t0;
    }

    /** One call on fresh outputs, checked; returns the largest relative error. */
    double check() throws Throwable {
      int n = this.n;
      switch (kind) {
        case "dgemm" -> {
          java.util.Arrays.fill(c, Double.NaN);
          call();
          return checkGemm(n, (i, k) -> a[i + k * n], (k, j) -> b[k + j * n],
              (i, j) -> c[i + j * n]);
        }
        case "sgemm" -> {
          java.util.Arrays.fill(cf, Float.NaN);
          call();
          return checkGemm(n, (i, k) -> af[i + k * n], (k, j) -> bf[k + j * n],
              (i, j) -> cf[i + j * n]);
        }
        case "daxpy" -> {
          double[] y0 = b.clone();
          call();
          double worst = 0;
          for (int i = 0; i < n; i++) {
            double want = y0[i] + 1e-9 * a[i];
            double mag = Math.abs(y0[i]) + 1e-9 * Math.abs(a[i]);
            worst = worse(worst, Math.abs(b[i] - want) / Math.max(mag, Double.MIN_NORMAL));
          }
          return worst;
        }
        case "ddot" -> {
          double got = (double) DDOT.invokeExact(n, a, 1, b, 1);
          double s = 0;
          double mag = 0;
          for (int i = 0; i < n; i++) {
            s += a[i] * b[i];
            mag += Math.abs(a[i] * b[i]);
          }
          return worse(0, Math.abs(got - s) / Math.max(mag, Double.MIN_NORMAL));
        }
        case "dgemv" -> {
          java.util.Arrays.fill(c, Double.NaN);
          call();
          double worst = 0;
          for (int i = 0; i < n; i++) {
            double s = 0;
            double mag = 0;
            for (int k = 0; k < n; k++) {
              double p = a[i + k * n] * b[k];
              s += p;
              mag += Math.abs(p);
            }
            worst = worse(worst, Math.abs(c[i] - s) / Math.max(mag, Double.MIN_NORMAL));
          }
          return worst;
        }
        default -> throw new IllegalStateException(kind);
      }
    }
  }

  public static void main(String[] args) throws Exception {
    Map<String, Object> hello = new LinkedHashMap<>();
    hello.put("hello", true);
    String impl = BLAS.getClass().getName();
    hello.put("impl", impl);
    hello.put("native_lib_path", System.getProperty("dev.ludovic.netlib.blas.nativeLibPath", ""));
    hello.put("native", mappedBlas());
    hello.put("java", System.getProperty("java.version"));
    if (!impl.endsWith(".JNIBLAS")) {
      hello.put("load_error", loadError());
    }
    answer(hello);
    Map<String, Case> cases = new HashMap<>();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      String[] w = line.strip().split("\\s+");
      Map<String, Object> m = new LinkedHashMap<>();
      try {
        switch (w[0]) {
          case "prep" -> cases.put(w[1], new Case(w[2], Integer.parseInt(w[3]), Long.parseLong(w[4])));
          case "check" -> {
            Case c = get(cases, w[1]);
            long t0 = System.nanoTime();
            double err = c.check();
            m.put("ns", System.nanoTime() - t0);
            m.put("max_rel_err", err);
          }
          case "calib" -> m.put("calls", calibrate(get(cases, w[1]), Long.parseLong(w[2])));
          case "run" -> m.put("ns", get(cases, w[1]).run(Integer.parseInt(w[2])));
          case "maps" -> m.put("native", mappedBlas());
          case "free" -> cases.remove(w[1]);
          case "quit" -> {
            answer(Map.of("bye", true));
            return;
          }
          default -> throw new IllegalArgumentException("unknown command " + w[0]);
        }
        m.putIfAbsent("ok", true);
      } catch (Throwable t) {
        m.clear();
        m.put("error", t.getClass().getSimpleName() + ": " + t.getMessage());
      }
      answer(m);
    }
  }

  private static Case get(Map<String, Case> cases, String id) {
    Case c = cases.get(id);
    if (c == null) {
      throw new IllegalArgumentException("no case " + id);
    }
    return c;
  }

  /** Calls per sample for at least {@code ms} ms (doubling, then scaled; at most 1e7). */
  private static int calibrate(Case c, long ms) throws Throwable {
    long target = ms * 1_000_000L;
    int r = 1;
    long t = c.run(r);
    while (t < target / 4 && r < 10_000_000) {
      r = Math.min(10_000_000, r * 2);
      t = c.run(r);
    }
    double per = Math.max(1, t) / (double) r;
    return (int) Math.max(1, Math.min(10_000_000, Math.ceil(target / per)));
  }

  private static void answer(Map<String, Object> m) {
    OUT.println(PREFIX + JsonText.write(m).replace("\n", " "));
    OUT.flush();
  }

  /**
   * The BLAS libraries mapped into this process: paths from /proc/self/maps with "blas" in the
   * file name, and the one netlib's library path names.
   */
  static List<String> mappedBlas() {
    Set<String> libs = new LinkedHashSet<>();
    String named = System.getProperty("dev.ludovic.netlib.blas.nativeLibPath", "");
    if (!named.isEmpty()) {
      try {
        named = Path.of(named).toRealPath().toString();
      } catch (IOException | RuntimeException e) {
        // as given
      }
    }
    try {
      for (String l : Files.readAllLines(Path.of("/proc/self/maps"), StandardCharsets.UTF_8)) {
        int slash = l.indexOf('/');
        if (slash < 0) {
          continue;
        }
        String p = l.substring(slash).strip();
        String file = p.substring(p.lastIndexOf('/') + 1);
        if (p.equals(named)
            || file.contains(".so") && file.toLowerCase(java.util.Locale.ROOT).contains("blas")) {
          libs.add(p);
        }
      }
    } catch (IOException e) {
      libs.add("(cannot read /proc/self/maps: " + e.getMessage() + ")");
    }
    return new ArrayList<>(libs);
  }

  /** Why netlib could not use the native library: what loading it says. */
  private static String loadError() {
    String p = System.getProperty("dev.ludovic.netlib.blas.nativeLibPath");
    if (p == null || p.isEmpty()) {
      return "dev.ludovic.netlib.blas.nativeLibPath is not set";
    }
    if (!Files.isRegularFile(Path.of(p))) {
      return p + " does not exist";
    }
    try {
      System.load(p);
      return p + " loads, so netlib's own JNI part (libnetlibblasjni.so, extracted to "
          + "java.io.tmpdir) failed";
    } catch (Throwable t) {
      return t.getMessage();
    }
  }

  /** An element of a matrix by row and column, whatever its layout. */
  interface At {
    double at(int r, int c);
  }

  private static double worse(double worst, double e) {
    if (Double.isNaN(e)) {
      return Double.POSITIVE_INFINITY;
    }
    return Math.max(worst, e);
  }

  /**
   * The largest error of C's entries in {@link #CHECK_ROWS} rows (spread over C) against an fp64
   * sum, relative to the sum of the magnitudes of the products; infinite when one is NaN.
   */
  static double checkGemm(int n, At a, At b, At c) {
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
        worst = worse(worst, Math.abs(c.at(i, j) - s) / Math.max(mag, Double.MIN_NORMAL));
      }
    }
    return worst;
  }

  private static double[] fill(long len, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] x = new double[Math.toIntExact(len)];
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextDouble(-1, 1);
    }
    return x;
  }

  private static float[] fillF(long len, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[Math.toIntExact(len)];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextDouble(-1, 1);
    }
    return x;
  }
}
