package dev.gpucore.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Layout;
import dev.gpucore.memory.HostArray;
import dev.gpucore.reduce.Accumulation;
import dev.gpucore.reduce.Matrix;
import dev.gpucore.reduce.Reduce;
import dev.gpucore.reduce.ReduceOp;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The reduction contract every core keeps: every reduction of Java arrays, host arrays and
 * matrix rows/columns against a float64 reference (compensated sums, scaled norms) within the
 * bounds stated on {@link Reduce}, on fresh random data of awkward sizes, with special values;
 * Java arrays, host arrays and matrix rows/columns agree bitwise. A backend's test class extends
 * it and gives the core through {@link OnCpuBackend} or {@link RequiresGpu}.
 */
public abstract class ReduceContract {
  static final long SEED = System.nanoTime();
  static GpuCore core;
  static Reduce r;

  @BeforeEach
  void useCore(GpuCore given) {
    core = given;
    r = core.reduce();
  }

  /** The reductions of one array (not DOT); callers do not change it. */
  public static final ReduceOp[] SINGLE = {ReduceOp.SUM, ReduceOp.MEAN, ReduceOp.MIN, ReduceOp.MAX,
      ReduceOp.ARGMIN, ReduceOp.ARGMAX, ReduceOp.NORM2};

  // ------------------------------------------------------------------ reference

  /** Float64 reference with the documented semantics; index results as doubles. */
  public static double ref(ReduceOp op, double[] x, double[] y) {
    int n = x.length;
    switch (op) {
      case SUM:
      case MEAN:
      case DOT: {
        double s = 0;
        double c = 0;
        boolean special = false;
        double naive = 0;
        for (int i = 0; i < n; i++) {
          double v = op == ReduceOp.DOT ? x[i] * y[i] : x[i];
          naive += v;
          if (!Double.isFinite(v)) {
            special = true;
          }
          double t = s + v;
          c += Math.abs(s) >= Math.abs(v) ? (s - t) + v : (v - t) + s;
          s = t;
        }
        double sum = special ? naive : s + c;
        return op == ReduceOp.MEAN ? sum / n : sum;
      }
      case NORM2: {
        double mx = 0;
        for (double v : x) {
          if (Double.isNaN(v)) {
            return Double.NaN;
          }
          mx = Math.max(mx, Math.abs(v));
        }
        if (Double.isInfinite(mx)) {
          return Double.POSITIVE_INFINITY;
        }
        if (mx == 0) {
          return 0;
        }
        int e = Math.getExponent(mx);
        double s = 0;
        double c = 0;
        for (double v : x) {
          double w = Math.scalb(v, -e);
          double q = w * w;
          double t = s + q;
          c += (s - t) + q;
          s = t;
        }
        return Math.scalb(Math.sqrt(s + c), e);
      }
      case MIN:
      case MAX:
      case ARGMIN:
      case ARGMAX: {
        boolean max = op == ReduceOp.MAX || op == ReduceOp.ARGMAX;
        int at = 0;
        for (int i = 0; i < n; i++) {
          if (Double.isNaN(x[i])) {
            at = i;
            break;
          }
          if (max ? x[i] > x[at] : x[i] < x[at]) {
            at = i;
          }
        }
        return op.isIndex() ? at : x[at];
      }
      default:
        throw new IllegalArgumentException();
    }
  }

  /** sum |x_i| (or |x_i y_i|): the scale of the summation error bound. */
  static double absSum(ReduceOp op, double[] x, double[] y) {
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      s += Math.abs(op == ReduceOp.DOT ? x[i] * y[i] : x[i]);
    }
    return s;
  }

  /** The bound stated on Reduce, times {@code factor}. */
  static double bound(ReduceOp op, double[] x, double[] y, boolean fp32Acc, double ref,
      double factor) {
    int n = x.length;
    if (op == ReduceOp.NORM2) {
      return factor * (n + 2) * 0x1p-53 * Math.abs(ref) + 4 * Double.MIN_VALUE;
    }
    double u = fp32Acc ? 0x1p-24 : 0x1p-53;
    // n - 1 additions, and for DOT n rounded products as well
    double b = Math.max(1, op == ReduceOp.DOT ? n : n - 1) * u * absSum(op, x, y);
    if (op == ReduceOp.MEAN) {
      b = b / n + (fp32Acc ? 0x1p-24 : 0x1p-53) * Math.abs(ref);
    }
    return factor * b + Double.MIN_VALUE;
  }

  /** Checks {@code got} against the reference; returns a message or null. */
  public static String check(ReduceOp op, double[] x, double[] y, boolean fp32Acc, double got,
      double factor) {
    double want = ref(op, x, y);
    if (op.isIndex() || op == ReduceOp.MIN || op == ReduceOp.MAX) {
      boolean ok = Double.isNaN(want) ? Double.isNaN(got) : got == want;
      return ok ? null : op + " got " + got + " want " + want;
    }
    if (Double.isNaN(want) || Double.isInfinite(want)) {
      boolean ok = Double.isNaN(want) ? Double.isNaN(got) : got == want;
      return ok ? null : op + " got " + got + " want " + want;
    }
    double b = bound(op, x, y, fp32Acc, want, factor);
    return Math.abs(got - want) <= b ? null
        : op + " got " + got + " want " + want + " err " + Math.abs(got - want) + " > " + b;
  }

  public static double[] widen(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  public static float[] randomFloats(SplittableRandom g, int n, int kind) {
    // huge: the norm must not overflow; subnormal: it must not underflow
    double[] d = randomValues(g, n, kind, 3e38, 1e-39, 1e30, 1e-30);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) d[i];
    }
    return x;
  }

  public static double[] randomDoubles(SplittableRandom g, int n, int kind) {
    return randomValues(g, n, kind, 1e300, 1e-310, 1e200, 1e-200);
  }

  /**
   * Values in (-1, 1) of kind 0, many ties (1), scaled to {@code huge} (2), to the subnormal
   * {@code tiny} (3), or else mixed {@code wide} and {@code narrow} magnitudes.
   */
  private static double[] randomValues(SplittableRandom g, int n, int kind, double huge,
      double tiny, double wide, double narrow) {
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      double u = g.nextDouble() * 2 - 1;
      x[i] = switch (kind) {
        case 0 -> u;
        case 1 -> Math.rint(u * 3); // many ties
        case 2 -> u * huge;
        case 3 -> u * tiny;
        default -> u * (i % 3 == 0 ? wide : narrow);
      };
    }
    return x;
  }

  static double[] slice(double[] a, int off, int n) {
    double[] s = new double[n];
    System.arraycopy(a, off, s, 0, n);
    return s;
  }

  // ------------------------------------------------------------------ whole ranges

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 31, 1023, (1 << 20) + 1})
  void wholeRangesMatchFloat64Reference(int n) {
    SplittableRandom g = new SplittableRandom(SEED + n);
    for (int kind = 0; kind < 5; kind++) {
      if (n > 5000 && kind > 0) {
        continue;
      }
      float[] xf = randomFloats(g, n + 1, kind);
      float[] yf = randomFloats(g, n + 1, 0);
      double[] xd = randomDoubles(g, n + 1, kind);
      double[] yd = randomDoubles(g, n + 1, 0);
      for (int off = 0; off <= 1; off++) {
        double[] wx = slice(widen(xf), off, n);
        double[] wy = slice(widen(yf), off, n);
        double[] dx = slice(xd, off, n);
        double[] dy = slice(yd, off, n);
        String where = " n=" + n + " kind=" + kind + " off=" + off + " seed=" + SEED;
        for (ReduceOp op : SINGLE) {
          for (Accumulation acc : Accumulation.values()) {
            boolean fp32Acc = acc == Accumulation.INPUT && op.usesAccumulation();
            if (fp32Acc && kind >= 2) {
              continue; // fp32 running sums of huge or tiny data over/underflow by design
            }
            double got = r.reduce(op, xf, off, n, acc);
            String e = check(op, wx, null, fp32Acc, got, 1);
            if (e != null) {
              fail("fp32 " + acc + " " + e + where);
            }
          }
          String e = check(op, dx, null, false, r.reduce(op, xd, off, n), 1);
          if (e != null) {
            fail("fp64 " + e + where);
          }
        }
        if (kind < 2) {
          assertNull(check(ReduceOp.DOT, wx, wy, false,
              r.dot(xf, off, yf, off, n, Accumulation.FP64), 1), "dot fp32" + where);
          assertNull(check(ReduceOp.DOT, wx, wy, true,
              r.dot(xf, off, yf, off, n, Accumulation.INPUT), 1), "dot fp32 acc" + where);
          assertNull(check(ReduceOp.DOT, dx, dy, false, r.dot(xd, off, yd, off, n), 1),
              "dot fp64" + where);
        }
      }
    }
  }

  static void assertNull(String message, String where) {
    if (message != null) {
      fail(message + where);
    }
  }

  @Test
  void convenienceMethodsAgreeWithGeneralOnes() {
    SplittableRandom g = new SplittableRandom(SEED);
    float[] x = randomFloats(g, 1001, 0);
    double[] d = randomDoubles(g, 1001, 0);
    assertEquals(r.reduce(ReduceOp.SUM, x, 0, x.length, Accumulation.FP64), r.sum(x));
    assertEquals(r.reduce(ReduceOp.MEAN, x, 0, x.length, Accumulation.FP64), r.mean(x));
    assertEquals(r.reduce(ReduceOp.MIN, x, 0, x.length, Accumulation.FP64), r.min(x));
    assertEquals(r.reduce(ReduceOp.MAX, x, 0, x.length, Accumulation.FP64), r.max(x));
    assertEquals((long) r.reduce(ReduceOp.ARGMIN, x, 0, x.length, Accumulation.FP64),
        r.argmin(x));
    assertEquals((long) r.reduce(ReduceOp.ARGMAX, x, 0, x.length, Accumulation.FP64),
        r.argmax(x));
    assertEquals(r.reduce(ReduceOp.NORM2, x, 0, x.length, Accumulation.FP64), r.norm2(x));
    assertEquals(r.reduce(ReduceOp.SUM, d, 0, d.length), r.sum(d));
    assertEquals(r.reduce(ReduceOp.NORM2, d, 0, d.length), r.norm2(d));
    assertEquals(r.dot(d, 0, d, 0, d.length), r.dot(d, d));
    assertEquals(r.dot(x, 0, x, 0, x.length, Accumulation.FP64), r.dot(x, x));
    assertEquals(x[(int) r.argmax(x)], r.max(x));
    assertEquals(d[(int) r.argmin(d)], r.min(d));
  }

  @Test
  void nanInfinityAndTies() {
    float[] x = {1, 3, 3, -2, -2, 0};
    assertEquals(1, r.argmax(x), "ties give the first index");
    assertEquals(3, r.argmin(x), "ties give the first index");
    float[] n = {1, Float.NaN, 5, Float.NaN, -9};
    assertTrue(Double.isNaN(r.max(n)));
    assertTrue(Double.isNaN(r.min(n)));
    assertEquals(1, r.argmax(n), "first NaN");
    assertEquals(1, r.argmin(n), "first NaN");
    assertTrue(Double.isNaN(r.sum(n)));
    assertTrue(Double.isNaN(r.norm2(n)));
    assertEquals(0, r.argmax(new double[] {Double.NaN, Double.POSITIVE_INFINITY}));
    float[] inf = {1, Float.NEGATIVE_INFINITY, 2, Float.POSITIVE_INFINITY};
    assertEquals(Double.POSITIVE_INFINITY, r.norm2(inf));
    assertEquals(Double.POSITIVE_INFINITY, r.max(inf));
    assertEquals(3, r.argmax(inf));
    assertEquals(1, r.argmin(inf));
    assertTrue(Double.isNaN(r.sum(inf)), "+Inf + -Inf");
    assertTrue(Double.isNaN(r.norm2(new double[] {Double.POSITIVE_INFINITY, Double.NaN})),
        "NaN wins over Inf in the norm");
    float[] allNegInf = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
    assertEquals(0, r.argmax(allNegInf));
    assertEquals(Double.NEGATIVE_INFINITY, r.max(allNegInf));
    assertEquals(0, r.argmin(new float[] {Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY}));
    assertEquals(0, r.argmax(new float[] {-0f, 0f}), "-0 and +0 tie");
    // the NaN in position 0 must be found too
    assertEquals(0, r.argmin(new double[] {Double.NaN, -1, -2}));
  }

  @Test
  void normsNeitherOverflowNorUnderflow() {
    float[] big = {3e38f, 3e38f, -3e38f, 3e38f};
    assertEquals(6e38, r.norm2(big), 6e38 * 1e-7);
    float[] tiny = {1e-45f, 1e-45f, 1e-45f, 1e-45f};
    assertEquals(2 * (double) 1e-45f, r.norm2(tiny), 1e-60);
    double[] huge = {1e300, 1e300, 1e300, 1e300};
    assertEquals(2e300, r.norm2(huge), 2e300 * 1e-15);
    double[] small = {1e-300, -1e-300, 1e-300, 1e-300};
    assertEquals(2e-300, r.norm2(small), 2e-300 * 1e-15);
    double[] sub = {4.9e-324, 4.9e-324, 4.9e-324, 4.9e-324};
    assertEquals(2 * 4.9e-324, r.norm2(sub), 1e-323);
    double[] mixed = {1e300, 3e-300, 1, 2};
    assertEquals(1e300, r.norm2(mixed), 1e300 * 1e-15);
    double[] midSmall = {1, 1e-200, 1e-200};
    assertEquals(1, r.norm2(midSmall));
    double[] onlySmallAndMid = {3e-160, 4e-160};
    assertEquals(5e-160, r.norm2(onlySmallAndMid), 5e-160 * 1e-15);
    assertEquals(Double.MAX_VALUE, r.norm2(new double[] {Double.MAX_VALUE, 0}));
    assertEquals(Double.POSITIVE_INFINITY,
        r.norm2(new double[] {Double.MAX_VALUE, Double.MAX_VALUE}), "the norm itself overflows");
  }

  @Test
  void accumulationOption() {
    // 2^24 + 1 + 1 + ... : fp32 running sums lose the ones, fp64 ones keep them
    float[] x = new float[4001];
    x[0] = 16777216f;
    java.util.Arrays.fill(x, 1, x.length, 1f);
    assertEquals(16777216.0 + 4000, r.reduce(ReduceOp.SUM, x, 0, x.length, Accumulation.FP64));
    double fp32 = r.reduce(ReduceOp.SUM, x, 0, x.length, Accumulation.INPUT);
    assertEquals((float) fp32, fp32, "an fp32 accumulation gives an fp32 value");
    assertTrue(fp32 < 16777216.0 + 4000, "fp32 running sums lose ones: " + fp32);
    double mean = r.reduce(ReduceOp.MEAN, x, 0, x.length, Accumulation.INPUT);
    assertEquals((float) mean, mean);
    // fp64 data ignores the option
    try (HostArray d = core.allocateHost(DType.FLOAT64, 5, false)) {
      d.put(0, new double[] {1e16, 1, 1, 1, 1}, 0, 5);
      assertEquals(r.reduce(ReduceOp.SUM, d, 0, 5, Accumulation.FP64),
          r.reduce(ReduceOp.SUM, d, 0, 5, Accumulation.INPUT));
    }
  }

  @Test
  void emptyRanges() {
    float[] x = new float[3];
    assertEquals(0.0, r.reduce(ReduceOp.SUM, x, 1, 0, Accumulation.FP64));
    assertEquals(0.0, r.reduce(ReduceOp.NORM2, x, 1, 0, Accumulation.FP64));
    assertEquals(0.0, r.dot(x, 0, x, 0, 0, Accumulation.INPUT));
    assertEquals(0.0, r.sum(new double[0]));
    for (ReduceOp op : new ReduceOp[] {ReduceOp.MEAN, ReduceOp.MIN, ReduceOp.MAX,
        ReduceOp.ARGMIN, ReduceOp.ARGMAX}) {
      GpuCoreException e = assertThrows(GpuCoreException.InvalidArgument.class,
          () -> r.reduce(op, x, 2, 0, Accumulation.FP64), op.name());
      assertTrue(e.getMessage().contains("empty"), e.getMessage());
      assertThrows(GpuCoreException.InvalidArgument.class, () -> r.reduce(op, new double[0], 0, 0));
    }
    assertThrows(GpuCoreException.InvalidArgument.class, () -> r.argmax(new float[0]));
    assertThrows(GpuCoreException.InvalidArgument.class, () -> r.mean(new double[0]));
  }

  @Test
  void argumentsAreChecked() {
    float[] x = new float[10];
    assertThrows(GpuCoreException.InvalidArgument.class,
        () -> r.reduce(ReduceOp.DOT, x, 0, 10, Accumulation.FP64));
    assertThrows(GpuCoreException.InvalidArgument.class,
        () -> r.reduce(null, x, 0, 10, Accumulation.FP64));
    assertThrows(GpuCoreException.InvalidArgument.class,
        () -> r.reduce(ReduceOp.SUM, x, 0, 10, null));
    assertThrows(GpuCoreException.InvalidArgument.class,
        () -> r.reduce(ReduceOp.SUM, x, 5, 6, Accumulation.FP64));
    assertThrows(GpuCoreException.InvalidArgument.class,
        () -> r.reduce(ReduceOp.SUM, x, -1, 2, Accumulation.FP64));
    assertThrows(GpuCoreException.InvalidArgument.class, () -> r.dot(x, new float[9]));
    assertThrows(GpuCoreException.InvalidArgument.class,
        () -> r.dot(x, 0, new float[9], 1, 9, Accumulation.FP64));
    double[] out = new double[2];
    assertThrows(GpuCoreException.InvalidArgument.class,
        () -> r.perRow(ReduceOp.SUM, x, 0, Matrix.rowMajor(3, 3), Accumulation.FP64, out, 0),
        "out too short");
    assertThrows(GpuCoreException.InvalidArgument.class,
        () -> r.perRow(ReduceOp.SUM, x, 2, Matrix.rowMajor(3, 3), Accumulation.FP64,
            new double[3], 0), "x too short from the offset");
    assertThrows(GpuCoreException.InvalidArgument.class,
        () -> r.perRow(ReduceOp.DOT, x, 0, Matrix.rowMajor(2, 2), Accumulation.FP64,
            new double[3], 0));
    assertThrows(GpuCoreException.InvalidArgument.class, () -> Matrix.rowMajor(3, 4, 3));
    assertThrows(GpuCoreException.InvalidArgument.class, () -> Matrix.columnMajor(4, 3, 3));
    assertThrows(GpuCoreException.InvalidArgument.class, () -> Matrix.rowMajor(-1, 4));
    assertThrows(GpuCoreException.InvalidArgument.class,
        () -> r.perColumn(ReduceOp.MIN, x, 0, Matrix.rowMajor(0, 3), Accumulation.FP64,
            new double[3], 0), "min over empty columns");
    r.perRow(ReduceOp.MIN, x, 0, Matrix.rowMajor(0, 3), Accumulation.FP64, new double[0], 0);
    double[] zeros = {7, 7, 7};
    r.perColumn(ReduceOp.SUM, x, 0, Matrix.rowMajor(0, 3), Accumulation.FP64, zeros, 0);
    assertArrayEquals(new double[] {0, 0, 0}, zeros, "sums over empty columns are 0");
    try (HostArray h = core.allocateHost(DType.FLOAT32, 10, false);
        HostArray o32 = core.allocateHost(DType.FLOAT32, 4, false);
        HostArray d = core.allocateHost(DType.FLOAT64, 10, false)) {
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> r.perRow(ReduceOp.ARGMAX, h, 0, Matrix.rowMajor(2, 5), Accumulation.FP64, o32,
              0), "indices need a FLOAT64 output");
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> r.dot(h, 0, d, 0, 10, Accumulation.FP64), "mixed types");
      HostArray closed = core.allocateHost(DType.FLOAT32, 4, false);
      closed.close();
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> r.reduce(ReduceOp.SUM, closed, 0, 4, Accumulation.FP64));
    }
  }

  // ------------------------------------------------------------------ host arrays and matrices

  @ParameterizedTest
  @ValueSource(ints = {1, 7, 8193, 20011})
  void hostArraysGiveBitwiseTheJavaArrayResult(int n) {
    SplittableRandom g = new SplittableRandom(SEED + 7 * n);
    float[] xf = randomFloats(g, n + 3, 0);
    float[] yf = randomFloats(g, n + 3, 0);
    double[] xd = randomDoubles(g, n + 3, 0);
    double[] yd = randomDoubles(g, n + 3, 0);
    try (HostArray hf = core.allocateHost(DType.FLOAT32, n + 3, false);
        HostArray hg = core.allocateHost(DType.FLOAT32, n + 3, false);
        HostArray hd = core.allocateHost(DType.FLOAT64, n + 3, false);
        HostArray he = core.allocateHost(DType.FLOAT64, n + 3, false)) {
      hf.put(0, xf, 0, n + 3);
      hg.put(0, yf, 0, n + 3);
      hd.put(0, xd, 0, n + 3);
      he.put(0, yd, 0, n + 3);
      for (ReduceOp op : SINGLE) {
        for (Accumulation acc : Accumulation.values()) {
          assertEquals(r.reduce(op, xf, 3, n, acc), r.reduce(op, hf, 3, n, acc),
              op + " " + acc + " n=" + n);
          assertEquals(r.reduce(op, xd, 2, n), r.reduce(op, hd, 2, n, acc), op + " fp64 n=" + n);
        }
      }
      for (Accumulation acc : Accumulation.values()) {
        assertEquals(r.dot(xf, 1, yf, 2, n, acc), r.dot(hf, 1, hg, 2, n, acc));
      }
      assertEquals(r.dot(xd, 1, yd, 2, n), r.dot(hd, 1, he, 2, n, Accumulation.FP64));
    }
  }

  static final long[][] SHAPES = {{1, 1}, {3, 5}, {31, 17}, {7, 1000}, {1000, 7}, {5, 70}, {130, 66},
      {2, 1}, {1, 9}};

  @Test
  void perRowAndPerColumnEqualTheWholeRangeReductionOfEachVector() {
    SplittableRandom g = new SplittableRandom(SEED + 99);
    for (long[] sh : SHAPES) {
      int rows = (int) sh[0];
      int cols = (int) sh[1];
      for (Layout layout : Layout.values()) {
        int pad = g.nextInt(3);
        Matrix m = layout == Layout.ROW_MAJOR ? Matrix.rowMajor(rows, cols, cols + pad)
            : Matrix.columnMajor(rows, cols, rows + pad);
        int off = g.nextInt(3);
        int total = (int) (off + m.span() + 2);
        float[] xf = randomFloats(g, total, g.nextInt(2));
        float[] yf = randomFloats(g, total, 0);
        double[] xd = randomDoubles(g, total, g.nextInt(2));
        double[] yd = randomDoubles(g, total, 0);
        if (total > 10) {
          xf[total / 2] = Float.NaN;
          xd[total / 3] = Double.NaN;
        }
        String where = " shape " + rows + "x" + cols + " " + layout + " ld " + m.ld();
        for (ReduceOp op : ReduceOp.values()) {
          for (Accumulation acc : Accumulation.values()) {
            for (boolean perRow : new boolean[] {true, false}) {
              int outs = perRow ? rows : cols;
              int len = perRow ? cols : rows;
              double[] outF = new double[outs + 2];
              double[] outD = new double[outs + 2];
              java.util.Arrays.fill(outF, -777);
              java.util.Arrays.fill(outD, -777);
              ReduceCalls.matrix(r, op, xf, off, yf, off, m, perRow, acc, outF, 1);
              ReduceCalls.matrix(r, op, xd, off, yd, off, m, perRow, acc, outD, 1);
              assertEquals(-777, outF[0], "written before the offset" + where);
              assertEquals(-777, outF[outs + 1], "written past the end" + where);
              for (int k = 0; k < outs; k++) {
                float[] vx = new float[len];
                float[] vy = new float[len];
                double[] wx = new double[len];
                double[] wy = new double[len];
                for (int i = 0; i < len; i++) {
                  long at = off + (perRow ? m.index(k, i) : m.index(i, k));
                  vx[i] = xf[(int) at];
                  vy[i] = yf[(int) at];
                  wx[i] = xd[(int) at];
                  wy[i] = yd[(int) at];
                }
                double wantF = op == ReduceOp.DOT ? r.dot(vx, 0, vy, 0, len, acc)
                    : r.reduce(op, vx, 0, len, acc);
                double wantD = op == ReduceOp.DOT ? r.dot(wx, 0, wy, 0, len)
                    : r.reduce(op, wx, 0, len);
                assertEquals(wantF, outF[1 + k], op + " " + acc + (perRow ? " row " : " col ") + k
                    + where);
                assertEquals(wantD, outD[1 + k], op + " fp64" + (perRow ? " row " : " col ") + k
                    + where);
              }
            }
          }
        }
        // host arrays: the same results, into FLOAT64 and FLOAT32 outputs
        try (HostArray hx = core.allocateHost(DType.FLOAT32, total, false);
            HostArray o64 = core.allocateHost(DType.FLOAT64, Math.max(rows, cols) + 1, false);
            HostArray o32 = core.allocateHost(DType.FLOAT32, Math.max(rows, cols) + 1, false)) {
          hx.put(0, xf, 0, total);
          for (ReduceOp op : SINGLE) {
            double[] want = new double[cols];
            r.perColumn(op, xf, off, m, Accumulation.FP64, want, 0);
            r.perColumn(op, hx, off, m, Accumulation.FP64, o64, 1);
            for (int k = 0; k < cols; k++) {
              assertEquals(want[k], o64.getDouble(1 + k), op + " host col " + k + where);
            }
            if (!op.isIndex()) {
              want = new double[rows];
              r.perRow(op, xf, off, m, Accumulation.FP64, want, 0);
              r.perRow(op, hx, off, m, Accumulation.FP64, o32, 0);
              for (int k = 0; k < rows; k++) {
                assertEquals((float) want[k], o32.getDouble(k), op + " host row " + k + where);
              }
            }
          }
        }
      }
    }
  }

  @Test
  void largeStridedReductionsMatchTheReference() {
    SplittableRandom g = new SplittableRandom(SEED + 5);
    int rows = 3001;
    int cols = 131;
    Matrix m = Matrix.rowMajor(rows, cols, 133);
    float[] x = randomFloats(g, (int) m.span(), 0);
    double[] out = new double[cols];
    for (ReduceOp op : SINGLE) {
      r.perColumn(op, x, 0, m, Accumulation.FP64, out, 0);
      for (int j = 0; j < cols; j++) {
        double[] col = new double[rows];
        for (int i = 0; i < rows; i++) {
          col[i] = x[(int) m.index(i, j)];
        }
        String e = check(op, col, null, false, out[j], 1);
        if (e != null) {
          fail("col " + j + ": " + e + " seed " + SEED);
        }
      }
    }
  }

  @Test
  void deterministic() {
    SplittableRandom g = new SplittableRandom(SEED + 3);
    float[] x = randomFloats(g, 100_003, 0);
    for (ReduceOp op : SINGLE) {
      for (Accumulation acc : Accumulation.values()) {
        double a = r.reduce(op, x, 0, x.length, acc);
        for (int k = 0; k < 3; k++) {
          assertEquals(Double.doubleToRawLongBits(a),
              Double.doubleToRawLongBits(r.reduce(op, x, 0, x.length, acc)), op + " " + acc);
        }
      }
    }
  }
}
