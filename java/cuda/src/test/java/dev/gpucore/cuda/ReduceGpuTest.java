package dev.gpucore.cuda;

import static dev.gpucore.testkit.ReduceContract.SINGLE;
import static dev.gpucore.testkit.ReduceContract.randomDoubles;
import static dev.gpucore.testkit.ReduceContract.randomFloats;
import static dev.gpucore.testkit.ReduceContract.ref;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Layout;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.reduce.Accumulation;
import dev.gpucore.reduce.Matrix;
import dev.gpucore.reduce.Reduce;
import dev.gpucore.reduce.ReduceOp;
import dev.gpucore.testkit.GpuTests;
import dev.gpucore.testkit.RequiresGpu;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * gpucore's reduction kernels against a float64 reference and against the CPU backend, within
 * the bounds stated on {@link Reduce}; on fresh random data of awkward sizes and shapes (both
 * layouts, padded leading dimensions, unaligned offsets), with NaN, infinities, ties, huge and
 * tiny values; outputs poisoned first and checked for writes outside their range; every result
 * repeated (also on another stream) and required bitwise identical.
 */
@RequiresGpu
class ReduceGpuTest {
  static GpuCore core;
  static Reduce r;
  static final long SEED = System.nanoTime();
  static final double POISON = -7.77e33;

  @BeforeEach
  void useGpu(GpuCore gpu) {
    core = gpu;
    r = core.reduce();
  }

  // ------------------------------------------------------------------ reference and bounds

  /** The bound stated on Reduce (error against the exact result). */
  static double bound(ReduceOp op, double[] x, double[] y, boolean fp32Acc, double want) {
    int n = x.length;
    if (op == ReduceOp.NORM2) {
      return (n + 2) * 0x1p-53 * Math.abs(want) + 4 * Double.MIN_VALUE;
    }
    double abs = 0;
    for (int i = 0; i < n; i++) {
      abs += Math.abs(op == ReduceOp.DOT ? x[i] * y[i] : x[i]);
    }
    double u = fp32Acc ? 0x1p-24 : 0x1p-53;
    // n - 1 roundings of the additions, plus (dot) one per product, plus (fp32 accumulation)
    // the result's own rounding to fp32
    double b = (op == ReduceOp.DOT ? n : Math.max(1, n - 1)) * u * abs
        + (fp32Acc ? u * Math.abs(want) : 0);
    if (op == ReduceOp.MEAN) {
      b = b / n + u * Math.abs(want);
    }
    return b + Double.MIN_VALUE;
  }

  /**
   * Checks a GPU result against the reference (within the bound) and the CPU result (within
   * twice the bound; exactly for min, max and indices). Returns a message or null.
   */
  static String check(ReduceOp op, double[] x, double[] y, boolean fp32Acc, double gpu,
      double cpu) {
    double want = ref(op, x, y);
    boolean exact = op.isIndex() || op == ReduceOp.MIN || op == ReduceOp.MAX
        || Double.isNaN(want) || Double.isInfinite(want);
    if (exact) {
      boolean ok = Double.isNaN(want) ? Double.isNaN(gpu) && Double.isNaN(cpu)
          : gpu == want && cpu == want;
      return ok ? null : op + " gpu " + gpu + " cpu " + cpu + " want " + want;
    }
    double b = bound(op, x, y, fp32Acc, want);
    if (!(Math.abs(gpu - want) <= b)) {
      return op + " gpu " + gpu + " want " + want + " err " + Math.abs(gpu - want) + " > " + b;
    }
    if (!(Math.abs(gpu - cpu) <= 2 * b)) {
      return op + " gpu " + gpu + " cpu " + cpu + " differ by more than " + 2 * b;
    }
    return null;
  }

  static double[] widen(float[] f, int off, int n) {
    double[] d = new double[n];
    for (int i = 0; i < n; i++) {
      d[i] = f[off + i];
    }
    return d;
  }

  static DeviceArray upload(float[] x) {
    DeviceArray d = core.allocate(0, DType.FLOAT32, Math.max(1, x.length));
    d.copyFrom(x);
    return d;
  }

  static DeviceArray upload(double[] x) {
    DeviceArray d = core.allocate(0, DType.FLOAT64, Math.max(1, x.length));
    d.copyFrom(x);
    return d;
  }

  static double[] download(DeviceArray d) {
    if (d.dtype() == DType.FLOAT64) {
      double[] h = new double[(int) d.length()];
      d.copyTo(h);
      return h;
    }
    float[] f = new float[(int) d.length()];
    d.copyTo(f);
    return widen(f, 0, f.length);
  }

  /** Bitwise equal (so -0.0 differs from 0.0); any NaN equals any NaN. */
  static void same(double a, double b, String what) {
    boolean ok = Double.isNaN(a) ? Double.isNaN(b)
        : Double.doubleToRawLongBits(a) == Double.doubleToRawLongBits(b);
    if (!ok) {
      fail(what + ": " + a + " then " + b + " (not bitwise identical), seed " + SEED);
    }
  }

  // ------------------------------------------------------------------ whole ranges

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 31, 1023, 65_537, (1 << 20) + 1, 5_000_011})
  void wholeRangesMatchReferenceAndCpuAndAreDeterministic(int n) {
    GpuTests.skipLargeUnderSanitizer(n);
    SplittableRandom g = new SplittableRandom(SEED + n);
    try (GpuStream stream = core.stream(0);
        DeviceArray out64 = core.allocate(0, DType.FLOAT64, 3);
        DeviceArray out32 = core.allocate(0, DType.FLOAT32, 3)) {
      for (int kind = 0; kind < 6; kind++) {
        if (n > (1 << 21) && kind > 0) {
          continue;
        }
        float[] xf = randomFloats(g, n + 1, kind == 5 ? 0 : kind);
        float[] yf = randomFloats(g, n + 1, 0);
        double[] xd = randomDoubles(g, n + 1, kind == 5 ? 0 : kind);
        double[] yd = randomDoubles(g, n + 1, 0);
        if (kind == 5) { // specials planted at random places
          for (int k = 0; k < 3; k++) {
            int at = g.nextInt(n + 1);
            float v = k == 0 ? Float.NaN : k == 1 ? Float.POSITIVE_INFINITY
                : Float.NEGATIVE_INFINITY;
            xf[at] = v;
            xd[g.nextInt(n + 1)] = v;
          }
        }
        try (DeviceArray x32 = upload(xf); DeviceArray y32 = upload(yf);
            DeviceArray x64 = upload(xd); DeviceArray y64 = upload(yd)) {
          for (int off = 0; off <= 1; off++) {
            double[] wx = widen(xf, off, n);
            double[] wy = widen(yf, off, n);
            double[] dx = Arrays.copyOfRange(xd, off, off + n);
            double[] dy = Arrays.copyOfRange(yd, off, off + n);
            String where = " n=" + n + " kind=" + kind + " off=" + off + " seed=" + SEED;
            for (ReduceOp op : SINGLE) {
              for (Accumulation acc : Accumulation.values()) {
                boolean fp32Acc = acc == Accumulation.INPUT && op.usesAccumulation();
                if (fp32Acc && (kind == 2 || kind == 3 || kind == 4)) {
                  continue; // fp32 running sums of huge or tiny data over/underflow by design
                }
                double got = r.reduce(op, x32, off, n, acc, null);
                String e = check(op, wx, null, fp32Acc, got, r.reduce(op, xf, off, n, acc));
                if (e != null) {
                  fail("fp32 " + acc + " " + e + where);
                }
                if (fp32Acc) {
                  assertEquals((float) got, got, "an fp32 accumulation gives an fp32 value");
                }
                repeatAndAsync(op, acc, x32, null, off, n, got, stream, out64, out32,
                    "fp32 " + op + " " + acc + where);
              }
              double got = r.reduce(op, x64, off, n, Accumulation.FP64, null);
              String e = check(op, dx, null, false, got, r.reduce(op, xd, off, n));
              if (e != null) {
                fail("fp64 " + e + where);
              }
              repeatAndAsync(op, Accumulation.FP64, x64, null, off, n, got, stream, out64, out32,
                  "fp64 " + op + where);
            }
            if (kind <= 1 || kind == 5) {
              for (Accumulation acc : Accumulation.values()) {
                double got = r.dot(x32, off, y32, 1 - off, n, acc, null);
                String e = check(ReduceOp.DOT, wx, widen(yf, 1 - off, n),
                    acc == Accumulation.INPUT, got, r.dot(xf, off, yf, 1 - off, n, acc));
                if (e != null) {
                  fail("fp32 dot " + acc + " " + e + where);
                }
                repeatAndAsync(ReduceOp.DOT, acc, x32, y32, off, n, got, stream, out64, out32,
                    "fp32 dot " + acc + where);
              }
              double got = r.dot(x64, off, y64, off, n, Accumulation.FP64, null);
              String e = check(ReduceOp.DOT, dx, dy, false, got, r.dot(xd, off, yd, off, n));
              if (e != null) {
                fail("fp64 dot " + e + where);
              }
            }
          }
        }
      }
    }
  }

  /**
   * The same call again (internal stream), on a user stream, and into poisoned device outputs
   * asynchronously: every result bitwise equal to {@code first}, nothing written outside.
   */
  private static void repeatAndAsync(ReduceOp op, Accumulation acc, DeviceArray x, DeviceArray y,
      int off, int n, double first, GpuStream stream, DeviceArray out64, DeviceArray out32,
      String what) {
    int yOff = y == null ? 0 : (x.dtype() == DType.FLOAT32 ? 1 - off : off);
    for (int rep = 0; rep < 2; rep++) {
      GpuStream s = rep == 0 ? null : stream;
      double again = y == null ? r.reduce(op, x, off, n, acc, s) : r.dot(x, off, y, yOff, n, acc, s);
      same(first, again, what + " repeated" + (s == null ? "" : " on a user stream"));
    }
    out64.fill(POISON);
    out32.fill(POISON);
    if (y == null) {
      r.reduce(op, x, off, n, acc, out64, 1, stream);
      if (!op.isIndex()) {
        r.reduce(op, x, off, n, acc, out32, 1, stream);
      }
    } else {
      r.dot(x, off, y, yOff, n, acc, out64, 1, stream);
      r.dot(x, off, y, yOff, n, acc, out32, 1, stream);
    }
    stream.synchronize();
    double[] o64 = download(out64);
    double[] o32 = download(out32);
    same(first, o64[1], what + " into a FLOAT64 device array");
    assertEquals(POISON, o64[0], what + ": wrote before its output");
    assertEquals(POISON, o64[2], what + ": wrote after its output");
    if (!op.isIndex()) {
      same((float) first, o32[1], what + " into a FLOAT32 device array (rounded once)");
      assertEquals((float) POISON, o32[2], what + ": wrote after its output");
    }
  }

  @Test
  void convenienceMethodsAndEmptyRanges() {
    SplittableRandom g = new SplittableRandom(SEED + 1);
    float[] x = randomFloats(g, 4097, 0);
    try (DeviceArray d = upload(x)) {
      assertEquals(r.reduce(ReduceOp.SUM, d, 0, x.length, Accumulation.FP64, null), r.sum(d));
      assertEquals(r.reduce(ReduceOp.MEAN, d, 0, x.length, Accumulation.FP64, null), r.mean(d));
      assertEquals(r.min(x), r.min(d));
      assertEquals(r.max(x), r.max(d));
      assertEquals(r.argmin(x), r.argmin(d));
      assertEquals(r.argmax(x), r.argmax(d));
      assertEquals(r.reduce(ReduceOp.NORM2, d, 0, x.length, Accumulation.FP64, null), r.norm2(d));
      assertEquals(r.dot(d, 0, d, 0, x.length, Accumulation.FP64, null), r.dot(d, d));
      assertEquals(0.0, r.sum(d, 5, 0, null));
      assertEquals(0.0, r.reduce(ReduceOp.NORM2, d, 5, 0, Accumulation.FP64, null));
      assertEquals(0.0, r.dot(d, 3, d, 4, 0, Accumulation.INPUT, null));
      for (ReduceOp op : new ReduceOp[] {ReduceOp.MEAN, ReduceOp.MIN, ReduceOp.MAX,
          ReduceOp.ARGMIN, ReduceOp.ARGMAX}) {
        assertThrows(GpuCoreException.InvalidArgument.class,
            () -> r.reduce(op, d, 7, 0, Accumulation.FP64, null), op.name());
      }
      try (DeviceArray out = core.allocate(0, DType.FLOAT64, 2)) {
        out.fill(POISON);
        r.reduce(ReduceOp.SUM, d, 1, 0, Accumulation.FP64, out, 1, null);
        assertEquals(0.0, download(out)[1], "an empty sum writes 0");
      }
    }
  }

  @Test
  void specialValuesAgreeWithTheCpuExactly() {
    float[][] cases = {
        {1, 3, 3, -2, -2, 0},
        {1, Float.NaN, 5, Float.NaN, -9},
        {Float.NaN, -1, -2},
        {1, Float.NEGATIVE_INFINITY, 2, Float.POSITIVE_INFINITY},
        {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY},
        {Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN},
        {-0f, 0f, -0f},
        {3e38f, 3e38f, -3e38f, 3e38f},
        {1e-45f, 1e-45f, -1e-45f, 1e-45f},
    };
    for (float[] c : cases) {
      // also long versions, so that many threads and blocks see the specials
      for (int rep : new int[] {1, 100_000}) {
        float[] x = repeated(c, rep);
        try (DeviceArray d = upload(x)) {
          for (ReduceOp op : SINGLE) {
            double gpu = r.reduce(op, d, 0, x.length, Accumulation.FP64, null);
            double cpu = r.reduce(op, x, 0, x.length, Accumulation.FP64);
            String e = check(op, widen(x, 0, x.length), null, false, gpu, cpu);
            if (e != null) {
              fail(Arrays.toString(c) + " x" + rep + ": " + e);
            }
          }
        }
      }
    }
    double[][] dcases = {
        {1e300, 1e300, 1e300, 1e300},
        {1e-300, -1e-300, 1e-300, 1e-300},
        {4.9e-324, 4.9e-324, 4.9e-324, 4.9e-324},
        {1e300, 3e-300, 1, 2},
        {3e-160, 4e-160},
        {1, 1e-200, 1e-200},
        {Double.MAX_VALUE, 0},
        {Double.POSITIVE_INFINITY, Double.NaN},
        {Double.NaN, Double.POSITIVE_INFINITY},
    };
    for (double[] c : dcases) {
      for (int rep : new int[] {1, 50_000}) {
        double[] x = repeated(c, rep);
        try (DeviceArray d = upload(x)) {
          for (ReduceOp op : SINGLE) {
            if (op.usesAccumulation() && Math.abs(c[0]) > 1e200) {
              continue; // sums of 1e300s overflow in some orders
            }
            double gpu = r.reduce(op, d, 0, x.length, Accumulation.FP64, null);
            String e = check(op, x, null, false, gpu, r.reduce(op, x, 0, x.length));
            if (e != null) {
              fail(Arrays.toString(c) + " x" + rep + ": " + e);
            }
          }
        }
      }
    }
  }

  /** {@code rep} copies of the array {@code c} ({@code float[]} or {@code double[]}) in a row. */
  @SuppressWarnings("unchecked")
  static <T> T repeated(T c, int rep) {
    int len = java.lang.reflect.Array.getLength(c);
    T x = (T) java.lang.reflect.Array.newInstance(c.getClass().getComponentType(), len * rep);
    for (int i = 0; i < rep; i++) {
      System.arraycopy(c, 0, x, i * len, len);
    }
    return x;
  }

  // ------------------------------------------------------------------ matrices

  /**
   * Matrix shapes; {2, 16_384}, {3, 20_000} and {9, 5_000} are wide rows (row-split and
   * row-per-block kernels) small enough for racecheck's 2^16 + 1 element cap.
   */
  static final int[][] SHAPES = {{1, 1}, {3, 5}, {31, 17}, {7, 1000}, {1000, 7}, {130, 66},
      {2, 300_001}, {33, 4100}, {100_003, 3}, {4099, 2051}, {5, 20_000}, {17, 1}, {1, 9},
      {2, 16_384}, {3, 20_000}, {9, 5_000}};

  @Test
  void perRowAndPerColumnMatchTheCpuBothLayouts() {
    SplittableRandom g = new SplittableRandom(SEED + 2);
    for (int[] sh : SHAPES) {
      int rows = sh[0];
      int cols = sh[1];
      if (GpuTests.tooLargeForSanitizer((long) rows * cols)) {
        continue; // too slow under the sanitizer; the wide shapes under the cap cover the kernels
      }
      boolean big = (long) rows * cols > 1_000_000;
      for (Layout layout : Layout.values()) {
        int pad = g.nextInt(3);
        Matrix m = layout == Layout.ROW_MAJOR ? Matrix.rowMajor(rows, cols, cols + pad)
            : Matrix.columnMajor(rows, cols, rows + pad);
        int off = g.nextInt(3);
        int total = (int) (off + m.span());
        float[] xf = randomFloats(g, total, g.nextInt(2));
        float[] yf = randomFloats(g, total, 0);
        double[] xd = randomDoubles(g, total, 0);
        double[] yd = randomDoubles(g, total, 0);
        for (int k = 0; k < 3; k++) {
          xf[g.nextInt(total)] = k == 0 ? Float.NaN : Float.NEGATIVE_INFINITY;
          xd[g.nextInt(total)] = k == 0 ? Double.NaN : Double.POSITIVE_INFINITY;
        }
        String where = " shape " + rows + "x" + cols + " " + layout + " ld=" + m.ld() + " off="
            + off + " seed=" + SEED;
        try (DeviceArray x32 = upload(xf); DeviceArray y32 = upload(yf);
            DeviceArray x64 = upload(xd); DeviceArray y64 = upload(yd);
            DeviceArray out = core.allocate(0, DType.FLOAT64, Math.max(rows, cols) + 2)) {
          for (ReduceOp op : ReduceOp.values()) {
            for (Accumulation acc : Accumulation.values()) {
              if (big && (op == ReduceOp.MEAN || op == ReduceOp.MIN || op == ReduceOp.ARGMIN
                  || (acc == Accumulation.INPUT && op != ReduceOp.SUM))) {
                continue; // the same kernels as their siblings: keep the big shapes quick
              }
              for (boolean perRow : new boolean[] {true, false}) {
                for (int t = 0; t < 2; t++) {
                  boolean f32 = t == 0;
                  if (!f32 && acc == Accumulation.INPUT) {
                    continue;
                  }
                  int outs = perRow ? rows : cols;
                  int len = perRow ? cols : rows;
                  double[] cpu = new double[outs];
                  DeviceArray x = f32 ? x32 : x64;
                  DeviceArray y = f32 ? y32 : y64;
                  out.fill(POISON);
                  if (op == ReduceOp.DOT) {
                    if (perRow) {
                      r.dotPerRow(x, off, y, off, m, acc, out, 1, null);
                      if (f32) {
                        r.dotPerRow(xf, off, yf, off, m, acc, cpu, 0);
                      } else {
                        r.dotPerRow(xd, off, yd, off, m, cpu, 0);
                      }
                    } else {
                      r.dotPerColumn(x, off, y, off, m, acc, out, 1, null);
                      if (f32) {
                        r.dotPerColumn(xf, off, yf, off, m, acc, cpu, 0);
                      } else {
                        r.dotPerColumn(xd, off, yd, off, m, cpu, 0);
                      }
                    }
                  } else if (perRow) {
                    r.perRow(op, x, off, m, acc, out, 1, null);
                    if (f32) {
                      r.perRow(op, xf, off, m, acc, cpu, 0);
                    } else {
                      r.perRow(op, xd, off, m, cpu, 0);
                    }
                  } else {
                    r.perColumn(op, x, off, m, acc, out, 1, null);
                    if (f32) {
                      r.perColumn(op, xf, off, m, acc, cpu, 0);
                    } else {
                      r.perColumn(op, xd, off, m, cpu, 0);
                    }
                  }
                  double[] gpu = download(out);
                  String what = (f32 ? "fp32 " : "fp64 ") + op + " " + acc
                      + (perRow ? " per row" : " per column") + where;
                  assertEquals(POISON, gpu[0], what + ": wrote before its output");
                  for (int k = outs + 1; k < gpu.length; k++) {
                    assertEquals(POISON, gpu[k], what + ": wrote after its output");
                  }
                  boolean fp32Acc = f32 && acc == Accumulation.INPUT && op.usesAccumulation();
                  for (int k = 0; k < outs; k++) {
                    double[] vx = new double[len];
                    double[] vy = new double[len];
                    for (int i = 0; i < len; i++) {
                      int at = (int) (off + (perRow ? m.index(k, i) : m.index(i, k)));
                      vx[i] = f32 ? xf[at] : xd[at];
                      vy[i] = f32 ? yf[at] : yd[at];
                    }
                    String e = check(op, vx, vy, fp32Acc, gpu[1 + k], cpu[k]);
                    if (e != null) {
                      fail(what + " output " + k + ": " + e);
                    }
                  }
                  // deterministic: the same call again gives bitwise the same outputs
                  if (op == ReduceOp.SUM || op == ReduceOp.NORM2 || op == ReduceOp.DOT) {
                    out.fill(POISON);
                    if (op == ReduceOp.DOT) {
                      if (perRow) {
                        r.dotPerRow(x, off, y, off, m, acc, out, 1, null);
                      } else {
                        r.dotPerColumn(x, off, y, off, m, acc, out, 1, null);
                      }
                    } else if (perRow) {
                      r.perRow(op, x, off, m, acc, out, 1, null);
                    } else {
                      r.perColumn(op, x, off, m, acc, out, 1, null);
                    }
                    double[] again = download(out);
                    for (int k = 0; k < outs; k++) {
                      same(gpu[1 + k], again[1 + k], what + " output " + k);
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  @Test
  void asyncMatrixReductionOnAUserStreamIntoFloat32() {
    int rows = 515;
    int cols = 1031;
    SplittableRandom g = new SplittableRandom(SEED + 4);
    float[] x = randomFloats(g, rows * cols, 0);
    Matrix m = Matrix.rowMajor(rows, cols);
    try (GpuStream s = core.stream(0); DeviceArray d = upload(x);
        DeviceArray rowsOut = core.allocate(0, DType.FLOAT32, rows);
        DeviceArray colsOut = core.allocate(0, DType.FLOAT32, cols)) {
      rowsOut.fill(POISON);
      colsOut.fill(POISON);
      r.perRow(ReduceOp.SUM, d, 0, m, Accumulation.FP64, rowsOut, 0, s);
      r.perColumn(ReduceOp.MAX, d, 0, m, Accumulation.FP64, colsOut, 0, s);
      s.synchronize();
      double[] wantRows = new double[rows];
      double[] wantCols = new double[cols];
      r.perRow(ReduceOp.SUM, x, 0, m, Accumulation.FP64, wantRows, 0);
      r.perColumn(ReduceOp.MAX, x, 0, m, Accumulation.FP64, wantCols, 0);
      double[] gotRows = download(rowsOut);
      double[] gotCols = download(colsOut);
      for (int i = 0; i < rows; i++) {
        assertEquals((float) wantRows[i], gotRows[i], Math.ulp((float) wantRows[i]), "row " + i);
      }
      for (int j = 0; j < cols; j++) {
        assertEquals((float) wantCols[j], gotCols[j], "col " + j);
      }
    }
  }

  @Test
  void argumentsAreCheckedBeforeAnyNativeCall() {
    try (DeviceArray x = core.allocate(0, DType.FLOAT32, 100);
        DeviceArray o32 = core.allocate(0, DType.FLOAT32, 10);
        DeviceArray o64 = core.allocate(0, DType.FLOAT64, 10);
        DeviceArray h = core.allocate(0, DType.FLOAT16, 10)) {
      x.fill(1);
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> r.reduce(ReduceOp.ARGMAX, x, 0, 100, Accumulation.FP64, o32, 0, null),
          "indices need FLOAT64");
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> r.reduce(ReduceOp.SUM, x, 0, 100, Accumulation.FP64, x, 50, null),
          "out overlaps x");
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> r.perRow(ReduceOp.SUM, x, 0, Matrix.rowMajor(10, 10), Accumulation.FP64, o32, 1,
              null), "out too short");
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> r.reduce(ReduceOp.SUM, h, 0, 10, Accumulation.FP64, null), "half arrays");
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> r.dot(x, 0, o64, 0, 10, Accumulation.FP64, null), "mixed types");
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> r.reduce(ReduceOp.DOT, x, 0, 10, Accumulation.FP64, null));
      GpuStream closed = core.stream(0);
      closed.close();
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> r.reduce(ReduceOp.SUM, x, 0, 10, Accumulation.FP64, closed));
      o64.fill(POISON);
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> r.perColumn(ReduceOp.MIN, x, 0, Matrix.rowMajor(0, 10), Accumulation.FP64, o64,
              0, null), "min over empty columns");
      assertEquals(POISON, download(o64)[0], "a rejected call changes nothing");
      r.perColumn(ReduceOp.SUM, x, 0, Matrix.rowMajor(0, 10), Accumulation.FP64, o64, 0, null);
      for (double v : download(o64)) {
        assertEquals(0.0, v, "sums over empty columns are 0");
      }
      assertEquals(100.0, r.sum(x));
    }
  }

  // ------------------------------------------------------------------ per-call overhead

  /**
   * The latency goal: up to 2^20 elements, the time from the Java call to the result on
   * the host is at most 10 us above a bare kernel launch (an empty kernel launched and waited
   * for from Java on the same stream). Prints the medians: performance is reported, not
   * asserted (measured figures are in docs/benchmarks.md); the test checks the results it timed.
   */
  @Test
  void smallReductionsCostLittleMoreThanAnEmptyKernel() {
    // under compute-sanitizer the times mean nothing; a few calls still check the results
    int reps = GpuTests.SANITIZER ? 20 : 3000;
    try (GpuStream s = core.stream(0);
        DeviceArray x = core.allocate(0, DType.FLOAT32, 1 << 20)) {
      x.fill(0.5);
      long h = s.handle();
      long[] t = new long[reps];
      // warm up both paths
      for (int i = 0; i < reps / 10; i++) {
        noop(h);
        r.sum(x, 0, GpuTests.tooLargeForSanitizer(1 << 20) ? 1024 : 1 << 20, s);
      }
      for (int i = 0; i < reps; i++) {
        long t0 = System.nanoTime();
        noop(h);
        t[i] = System.nanoTime() - t0;
      }
      double base = median(t) / 1e3;
      StringBuilder report = new StringBuilder(String.format(
          "empty kernel launch + sync from Java: %.2f us (median of %d)%n", base, reps));
      double worst = 0;
      for (int n : new int[] {1, 1024, 1 << 16, 1 << 20}) {
        if (GpuTests.tooLargeForSanitizer(n)) {
          continue;
        }
        for (ReduceOp op : new ReduceOp[] {ReduceOp.SUM, ReduceOp.MAX, ReduceOp.ARGMAX,
            ReduceOp.NORM2}) {
          double last = Double.NaN;
          for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            last = r.reduce(op, x, 0, n, Accumulation.FP64, s);
            t[i] = System.nanoTime() - t0;
          }
          double want = switch (op) {
            case SUM -> 0.5 * n;
            case MAX -> 0.5;
            case ARGMAX -> 0; // every element ties: the first index
            default -> Math.sqrt(0.25 * n); // NORM2
          };
          assertEquals(want, last, 1e-12 * Math.max(1, want), op + " n=" + n);
          double us = median(t) / 1e3;
          worst = Math.max(worst, us - base);
          report.append(String.format("  %-6s n=%-8d %7.2f us  (+%.2f us)%n", op, n, us,
              us - base));
        }
      }
      report.append(String.format("worst overhead above the empty kernel: %.2f us (goal <= 10)%n",
          worst));
      System.out.print(report);
    }
  }

  private static void noop(long stream) {
    int st = dev.gpucore.cuda.bindings.ReduceNative.gc_reduce_noop(stream);
    if (st == 0) {
      st = dev.gpucore.cuda.bindings.GpuCoreNative.gc_stream_sync(stream);
    }
    assertEquals(0, st, "noop kernel");
  }

  private static double median(long[] t) {
    long[] c = t.clone();
    Arrays.sort(c);
    return c[c.length / 2];
  }
}
