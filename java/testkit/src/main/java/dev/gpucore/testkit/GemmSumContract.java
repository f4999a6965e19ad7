package dev.gpucore.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Layout;
import dev.gpucore.blas.Blas;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.HostArray;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The sum-of-products GEMM contract ({@code Blas.gemmSum}, {@code C = alpha·Σ_t op(A_t)·op(B_t)
 * + beta·C}) every core keeps: random sums (fp32 and fp64, both layouts, all transposes, 1 to 6
 * pairs with inner dimensions at times 0, m or n at times 0, alpha and beta with 0 included,
 * padded leading dimensions of their own per pair, each operand at an offset in a Java array or
 * a host array of its own) against a float64 reference, C poisoned with NaN where beta is 0, A
 * and B untouched and everything of C's storage outside its m×n matrix bit for bit as it was;
 * a sum with one non-empty pair equal to {@code gemm} bit for bit; the scale-only forms; device
 * operands where the core has a GPU; and every rejected input, which must name the argument
 * (and pair) and leave C bit for bit as it was.
 *
 * <p>A backend's test class extends it and gives the core through {@link OnCpuBackend} or
 * {@link RequiresGpu} (the GPU module's routes host GEMMs to the GPU, so that every sum runs
 * through its host-operand path), and adds its own cases.
 */
public abstract class GemmSumContract extends UsesCore {
  private final List<AutoCloseable> owned = new ArrayList<>();

  @AfterEach
  void closeOwned() throws Exception {
    for (AutoCloseable c : owned) {
      c.close();
    }
    owned.clear();
  }

  /** Where a matrix is stored: a Java array, a host array or (device sums) a device array. */
  protected enum Kind { JAVA, HOST, DEVICE }

  /**
   * A stored rows×cols matrix in {@code layout} with leading dimension ld at element {@code off}
   * of storage of its own, whose values (and those around the matrix) are {@code mirror}'s.
   */
  protected final class Mat {
    final double[] mirror;
    final Object data;
    final DType dtype;
    final long off;
    final int rows;
    final int cols;
    final int ld;
    final Layout layout;

    Mat(SplittableRandom r, Kind kind, DType dtype, int rows, int cols, int ld, Layout layout,
        int maxOff) {
      this.dtype = dtype;
      this.off = r.nextInt(maxOff);
      this.rows = rows;
      this.cols = cols;
      this.ld = ld;
      this.layout = layout;
      int len = (int) (off + SoakCases.span(layout, rows, cols, ld) + r.nextInt(3));
      mirror = new double[len];
      for (int i = 0; i < len; i++) {
        double v = r.nextDouble() * 2 - 1;
        mirror[i] = dtype == DType.FLOAT32 ? (float) v : v;
      }
      if (kind == Kind.HOST) {
        HostArray h = core.allocateHost(dtype, Math.max(1, len), false);
        owned.add(h);
        data = h;
      } else if (kind == Kind.DEVICE) {
        DeviceArray d = core.allocate(0, dtype, Math.max(1, len));
        owned.add(d);
        data = d;
      } else {
        data = dtype == DType.FLOAT64 ? new double[len] : new float[len];
      }
    }

    long index(int i, int j) {
      return SoakCases.at(layout, off, ld, i, j);
    }

    double get(int i, int j) {
      return mirror[(int) index(i, j)];
    }

    /** NaN over the matrix (not its padding), in the mirror: {@link #store} sends it. */
    void poison() {
      for (int i = 0; i < rows; i++) {
        for (int j = 0; j < cols; j++) {
          mirror[(int) index(i, j)] = Double.NaN;
        }
      }
    }

    /** Copies the mirror into the storage. */
    Mat store() {
      if (data instanceof HostArray h) {
        if (mirror.length > 0) {
          SoakCases.put(h, mirror);
        }
      } else if (data instanceof DeviceArray d) {
        if (dtype == DType.FLOAT32) {
          d.copyFrom(SoakCases.floats(mirror), 0, 0, mirror.length);
        } else {
          d.copyFrom(mirror, 0, 0, mirror.length);
        }
      } else if (data instanceof float[] f) {
        System.arraycopy(SoakCases.floats(mirror), 0, f, 0, f.length);
      } else {
        System.arraycopy(mirror, 0, (double[]) data, 0, mirror.length);
      }
      return this;
    }

    /** The storage's values now. */
    double[] read() {
      if (data instanceof DeviceArray d) {
        if (dtype == DType.FLOAT32) {
          float[] f = new float[mirror.length];
          d.copyTo(0, f, 0, f.length);
          return SoakCases.doubles(f);
        }
        double[] x = new double[mirror.length];
        d.copyTo(0, x, 0, x.length);
        return x;
      }
      double[] x = SoakCases.read(data);
      return x.length == mirror.length ? x : Arrays.copyOf(x, mirror.length);
    }

    Operand operand() {
      return data instanceof DeviceArray d ? Operand.of(d, off)
          : SoakCases.operand(data, (int) off);
    }
  }

  /** One random sum: shape and options shared by the pairs, and each pair's k and padding. */
  private record Shape(int m, int n, int[] k, Layout layout, boolean ta, boolean tb,
      double alpha, double beta, DType dtype) {
    int kSum() {
      return Arrays.stream(k).sum();
    }

    Gemm gemm() {
      return Gemm.of(m, n, kSum()).layout(layout).transA(ta).transB(tb).scale(alpha, beta)
          .precision(dtype == DType.FLOAT64 ? Precision.FP64 : Precision.FP32);
    }

    @Override
    public String toString() {
      return dtype + " " + layout + " ta=" + ta + " tb=" + tb + " m=" + m + " n=" + n + " k="
          + Arrays.toString(k) + " alpha=" + alpha + " beta=" + beta;
    }
  }

  private static int minLd(int rows, int cols, Layout l) {
    return Math.max(1, l == Layout.ROW_MAJOR ? cols : rows);
  }

  /** A sum's operands: the pairs' A and B, and C. */
  private record Problem(Shape s, Mat[] a, int[] lda, Mat[] b, int[] ldb, Mat c) {
    Operand[] oa() {
      return Arrays.stream(a).map(Mat::operand).toArray(Operand[]::new);
    }

    Operand[] ob() {
      return Arrays.stream(b).map(Mat::operand).toArray(Operand[]::new);
    }

    /** The float64 reference, m×n in row-major order (C read only where beta != 0). */
    double[] reference() {
      double[] ref = new double[s.m() * s.n()];
      for (int i = 0; i < s.m(); i++) {
        for (int j = 0; j < s.n(); j++) {
          double sum = 0;
          for (int t = 0; t < a.length; t++) {
            for (int p = 0; p < s.k()[t]; p++) {
              double av = s.ta() ? a[t].get(p, i) : a[t].get(i, p);
              double bv = s.tb() ? b[t].get(j, p) : b[t].get(p, j);
              sum += av * bv;
            }
          }
          double old = s.beta() == 0 ? 0 : s.beta() * c.get(i, j);
          ref[i * s.n() + j] = (s.alpha() == 0 ? 0 : s.alpha() * sum) + old;
        }
      }
      return ref;
    }

    void run(Blas blas) {
      blas.gemmSum(s.gemm(), s.k(), oa(), lda, ob(), ldb, c.operand(), c.ld);
    }
  }

  /**
   * A random problem of shape {@code s}: operands of {@code kinds} at random (device operands
   * all on GPU 0 when {@code kinds} is DEVICE alone), leading dimensions padded by up to 2,
   * C poisoned where beta is 0.
   */
  private Problem problem(SplittableRandom r, Shape s, Kind... kinds) {
    int pairs = s.k().length;
    Layout l = s.layout();
    Mat[] a = new Mat[pairs];
    Mat[] b = new Mat[pairs];
    int[] lda = new int[pairs];
    int[] ldb = new int[pairs];
    for (int t = 0; t < pairs; t++) {
      int k = s.k()[t];
      int aRows = s.ta() ? k : s.m();
      int aCols = s.ta() ? s.m() : k;
      int bRows = s.tb() ? s.n() : k;
      int bCols = s.tb() ? k : s.n();
      lda[t] = minLd(aRows, aCols, l) + r.nextInt(3);
      ldb[t] = minLd(bRows, bCols, l) + r.nextInt(3);
      a[t] = new Mat(r, kinds[r.nextInt(kinds.length)], s.dtype(), aRows, aCols, lda[t], l, 5)
          .store();
      b[t] = new Mat(r, kinds[r.nextInt(kinds.length)], s.dtype(), bRows, bCols, ldb[t], l, 5)
          .store();
    }
    int ldc = minLd(s.m(), s.n(), l) + r.nextInt(3);
    Mat c = new Mat(r, kinds[r.nextInt(kinds.length)], s.dtype(), s.m(), s.n(), ldc, l, 4);
    if (s.beta() == 0) {
      c.poison(); // beta = 0 must not read C
    }
    c.store();
    return new Problem(s, a, lda, b, ldb, c);
  }

  /**
   * Runs {@code p} and checks it: A and B unchanged, C within the float64 reference's bound of
   * its precision, everything of C's storage outside the matrix bit for bit as it was.
   */
  private void runAndCheck(Problem p, String ctx) {
    Shape s = p.s();
    double[] ref = p.reference();
    p.run(core.blas());
    for (Mat x : p.a()) {
      assertArrayEquals(x.mirror, x.read(), "an A was modified: " + ctx);
    }
    for (Mat x : p.b()) {
      assertArrayEquals(x.mirror, x.read(), "a B was modified: " + ctx);
    }
    double[] got = p.c().read();
    boolean[] inC = new boolean[got.length];
    double num = 0;
    double den = 0;
    for (int i = 0; i < s.m(); i++) {
      for (int j = 0; j < s.n(); j++) {
        int at = (int) p.c().index(i, j);
        inC[at] = true;
        double v = got[at];
        assertTrue(Double.isFinite(v), "C(" + i + "," + j + ") = " + v + ": " + ctx);
        double w = ref[i * s.n() + j];
        num += (v - w) * (v - w);
        den += w * w;
      }
    }
    double bound = (s.dtype() == DType.FLOAT64 ? 1e-13 : 1e-5)
        * Math.sqrt(Math.max(1, s.kSum()));
    double err = Math.sqrt(num);
    assertTrue(err <= bound * Math.sqrt(den) || err <= 1e-30, "relative error "
        + err / Math.sqrt(den) + " > " + bound + ": " + ctx);
    for (int e = 0; e < got.length; e++) {
      if (!inC[e]) {
        assertEquals(Double.doubleToRawLongBits(p.c().mirror[e]),
            Double.doubleToRawLongBits(got[e]), "element " + e + " outside C changed: " + ctx);
      }
    }
  }

  private static Shape randomShape(SplittableRandom r, boolean allowEmpty) {
    DType t = r.nextBoolean() ? DType.FLOAT32 : DType.FLOAT64;
    Layout l = r.nextBoolean() ? Layout.ROW_MAJOR : Layout.COLUMN_MAJOR;
    int m = allowEmpty && r.nextInt(12) == 0 ? 0 : 1 + r.nextInt(11);
    int n = allowEmpty && r.nextInt(12) == 0 ? 0 : 1 + r.nextInt(11);
    int[] k = new int[1 + r.nextInt(6)];
    for (int i = 0; i < k.length; i++) {
      k[i] = r.nextInt(4) == 0 ? 0 : 1 + r.nextInt(9);
    }
    double[] alphas = {1, -0.5, 2.25, 0};
    double[] betas = {0, 1, -0.75};
    double alpha = alphas[r.nextInt(allowEmpty && r.nextInt(6) == 0 ? 4 : 3)];
    return new Shape(m, n, k, l, r.nextBoolean(), r.nextBoolean(), alpha, betas[r.nextInt(3)],
        t);
  }

  @Test
  void randomSumsMatchFloat64Reference() throws Exception {
    for (int trial = 0; trial < 120; trial++) {
      long seed = SEED + 7919L * trial;
      SplittableRandom r = new SplittableRandom(seed);
      Shape s = randomShape(r, true);
      runAndCheck(problem(r, s, Kind.JAVA, Kind.JAVA, Kind.HOST), "seed " + seed + " " + s);
      closeOwned();
    }
  }

  @Test
  void everyLayoutAndTransposeWithManyPairs() throws Exception {
    SplittableRandom r = new SplittableRandom(SEED);
    for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
      for (Layout l : Layout.values()) {
        for (int tr = 0; tr < 4; tr++) {
          for (double beta : new double[] {0, 0.5}) {
            Shape s = new Shape(37, 29, new int[] {13, 0, 40, 1, 22}, l, (tr & 1) != 0,
                (tr & 2) != 0, -1.25, beta, t);
            runAndCheck(problem(r, s, Kind.JAVA, Kind.HOST), "seed " + SEED + " " + s);
            closeOwned();
          }
        }
      }
    }
  }

  @Test
  void aSumOfOneProductIsThatGemmBitForBit() {
    SplittableRandom r = new SplittableRandom(SEED);
    Shape s = new Shape(13, 9, new int[] {0, 17, 0}, Layout.ROW_MAJOR, false, true, 1.25, -0.5,
        DType.FLOAT32);
    Problem p = problem(r, s, Kind.JAVA);
    float[] c2 = ((float[]) p.c().data).clone();
    p.run(core.blas());
    core.blas().gemm(Gemm.of(13, 9, 17).transB(true).scale(1.25, -0.5), p.a()[1].operand(),
        p.lda()[1], p.b()[1].operand(), p.ldb()[1], SoakCases.operand(c2, (int) p.c().off),
        p.c().ld);
    assertArrayEquals(c2, (float[]) p.c().data);
  }

  @Test
  void scaleOnlySumsAndEmptyMatrices() {
    Blas blas = core.blas();
    // every k[t] = 0: C = beta·C, A and B unread (here shorter than nothing at all)
    double[] c = {2, 4, 6, 8, 10, 12};
    Operand[] none = {Operand.of(new double[0]), Operand.of(new double[0])};
    blas.gemmSum(Gemm.of(2, 3, 0).scale(1, 0.5), new int[] {0, 0}, none, new int[] {1, 1}, none,
        new int[] {3, 3}, Operand.of(c), 3);
    assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, c);
    // alpha = 0: C = beta·C, A (NaN) unread
    double[] nan = new double[6];
    Arrays.fill(nan, Double.NaN);
    blas.gemmSum(Gemm.of(2, 3, 2).scale(0, 2), new int[] {1, 1},
        new Operand[] {Operand.of(nan), Operand.of(nan)}, new int[] {1, 1},
        new Operand[] {Operand.of(nan.clone()), Operand.of(nan.clone())}, new int[] {3, 3},
        Operand.of(c), 3);
    assertArrayEquals(new double[] {2, 4, 6, 8, 10, 12}, c);
    // beta = 0 with every k[t] = 0: C = 0 without reading it
    Arrays.fill(c, Double.NaN);
    blas.gemmSum(Gemm.of(2, 3, 0), new int[] {0}, new Operand[] {Operand.of(new double[0])},
        new int[] {1}, new Operand[] {Operand.of(new double[0])}, new int[] {3}, Operand.of(c), 3);
    assertArrayEquals(new double[6], c);
    // m = 0: nothing to compute, C (NaN) untouched even with beta = 0
    float[] cf = new float[9];
    Arrays.fill(cf, Float.NaN);
    blas.gemmSum(Gemm.of(0, 3, 4), new int[] {2, 2},
        new Operand[] {Operand.of(new float[8]), Operand.of(new float[8])}, new int[] {2, 2},
        new Operand[] {Operand.of(new float[6]), Operand.of(new float[6])}, new int[] {3, 3},
        Operand.of(cf), 3);
    for (float v : cf) {
      assertTrue(Float.isNaN(v));
    }
  }

  @Test
  void deviceOperandsSumOnTheirGpu() throws Exception {
    Assumptions.assumeTrue(core.hasGpu(), "device sums need a GPU backend");
    for (int trial = 0; trial < 16; trial++) {
      long seed = SEED + 104729L * trial;
      SplittableRandom r = new SplittableRandom(seed);
      Shape s = randomShape(r, false);
      runAndCheck(problem(r, s, Kind.DEVICE), "device, seed " + seed + " " + s);
      closeOwned();
    }
  }

  // ------------------------------------------------------------ bad input

  private static final int N = 4;

  private static Operand[] fresh(int count, float fill) {
    Operand[] o = new Operand[count];
    for (int i = 0; i < count; i++) {
      float[] x = new float[N * N];
      Arrays.fill(x, fill);
      o[i] = Operand.of(x);
    }
    return o;
  }

  private static int[] filled(int count, int v) {
    int[] x = new int[count];
    Arrays.fill(x, v);
    return x;
  }

  /** Asserts an InvalidArgument whose message contains {@code expected}, C unchanged. */
  private static void rejects(String expected, Executable call, float[] c) {
    float[] before = c.clone();
    GpuCoreException.InvalidArgument e =
        assertThrows(GpuCoreException.InvalidArgument.class, call, expected);
    assertTrue(e.getMessage().contains(expected),
        "message should name " + expected + ": " + e.getMessage());
    assertArrayEquals(before, c, "C changed by a call rejected for " + expected);
  }

  @Test
  void badSumsThrowNamingTheArgumentAndPairAndLeaveCUntouched() {
    Blas blas = core.blas();
    // a valid sum of 3 pairs of N×N×N with beta = 1: A and B all 1, C all 7
    Gemm g = Gemm.of(N, N, 3 * N).scale(1, 1);
    int[] k = filled(3, N);
    Operand[] a = fresh(3, 1);
    Operand[] b = fresh(3, 1);
    int[] ld = filled(3, N);
    float[] cData = new float[N * N];
    Arrays.fill(cData, 7);
    Operand c = Operand.of(cData);

    rejects("gemm must not be null", () -> blas.gemmSum(null, k, a, ld, b, ld, c, N), cData);
    rejects("k must not be null", () -> blas.gemmSum(g, null, a, ld, b, ld, c, N), cData);
    rejects("a must not be null", () -> blas.gemmSum(g, k, null, ld, b, ld, c, N), cData);
    rejects("lda must not be null", () -> blas.gemmSum(g, k, a, null, b, ld, c, N), cData);
    rejects("b must not be null", () -> blas.gemmSum(g, k, a, ld, null, ld, c, N), cData);
    rejects("ldb must not be null", () -> blas.gemmSum(g, k, a, ld, b, null, c, N), cData);
    rejects("c must not be null", () -> blas.gemmSum(g, k, a, ld, b, ld, null, N), cData);

    rejects("one length", () -> blas.gemmSum(g, k, Arrays.copyOf(a, 2), ld, b, ld, c, N), cData);
    rejects("one length", () -> blas.gemmSum(g, k, a, filled(4, N), b, ld, c, N), cData);
    rejects("one length", () -> blas.gemmSum(g, k, a, ld, Arrays.copyOf(b, 4), ld, c, N), cData);
    rejects("one length", () -> blas.gemmSum(g, k, a, ld, b, filled(2, N), c, N), cData);
    rejects("one length", () -> blas.gemmSum(g, filled(2, N), a, ld, b, ld, c, N), cData);
    rejects("at least one pair", () -> blas.gemmSum(Gemm.of(N, N, 0), new int[0],
        new Operand[0], new int[0], new Operand[0], new int[0], c, N), cData);
    rejects("gemm.batch() must be 1", () -> blas.gemmSum(g.batch(2, 16, 16, 16), k, a, ld, b,
        ld, c, N), cData);

    rejects("k[1] must be >= 0", () -> blas.gemmSum(g, new int[] {N, -1, 2 * N + 1}, a, ld, b,
        ld, c, N), cData);
    rejects("k must add up to gemm.k() = 12; its elements add up to 11",
        () -> blas.gemmSum(g, new int[] {N, N, N - 1}, a, ld, b, ld, c, N), cData);

    Operand[] a2 = a.clone();
    a2[2] = null;
    rejects("a[2] must not be null", () -> blas.gemmSum(g, k, a2, ld, b, ld, c, N), cData);
    Operand[] b0 = b.clone();
    b0[0] = null;
    rejects("b[0] must not be null", () -> blas.gemmSum(g, k, a, ld, b0, ld, c, N), cData);

    // leading dimensions: per pair, and C's
    rejects("lda[1] must be >= 4", () -> blas.gemmSum(g, k, a, new int[] {N, N - 1, N}, b, ld,
        c, N), cData);
    rejects("ldb[2] must be >= 4", () -> blas.gemmSum(g, k, a, ld, b, new int[] {N, N, 0}, c,
        N), cData);
    rejects("ldc must be >= 4", () -> blas.gemmSum(g, k, a, ld, b, ld, c, N - 1), cData);

    // an operand too short, by length or by offset; C too short
    Operand[] aShort = a.clone();
    aShort[1] = Operand.of(new float[N * N], 1);
    rejects("a[1] holds 16 elements but the call needs 17", () -> blas.gemmSum(g, k, aShort, ld,
        b, ld, c, N), cData);
    Operand[] bShort = b.clone();
    bShort[2] = Operand.of(new float[N * N - 2]);
    rejects("b[2] holds", () -> blas.gemmSum(g, k, a, ld, bShort, ld, c, N), cData);
    // column-major: the names are still the caller's
    rejects("b[2] holds", () -> blas.gemmSum(g.layout(Layout.COLUMN_MAJOR), k, a, ld, bShort, ld,
        c, N), cData);
    // a pair's extent follows its own k: pair 1 with k = 2N needs 2N rows of B
    rejects("b[1] holds 16 elements but the call needs 32", () -> blas.gemmSum(
        g.transA(true), new int[] {N, 2 * N, 0}, new Operand[] {a[0], Operand.of(new float[32]),
            a[2]}, ld, b, ld, c, N), cData);
    float[] shortC = new float[N * N - 1];
    Arrays.fill(shortC, 7);
    rejects("c holds 15 elements but the call needs 16", () -> blas.gemmSum(g, k, a, ld, b, ld,
        Operand.of(shortC), N), shortC);

    // element types and precisions
    Operand[] aMixed = a.clone();
    aMixed[1] = Operand.of(new double[N * N]);
    rejects("pair 1: a, b and c must have one element type",
        () -> blas.gemmSum(g, k, aMixed, ld, b, ld, c, N), cData);
    rejects("pair 0: precision FP64", () -> blas.gemmSum(g.precision(Precision.FP64), k, a, ld,
        b, ld, c, N), cData);

    // C sharing storage with a pair's A or B
    Operand[] bInC = b.clone();
    bInC[1] = Operand.of(cData);
    rejects("c must not share storage with a[1] or b[1]",
        () -> blas.gemmSum(g, k, a, ld, bInC, ld, c, N), cData);

    // a closed operand; an operand on a (fake) GPU beside host operands
    HostArray h = core.allocateHost(DType.FLOAT32, N * N, false);
    h.close();
    Operand[] aClosed = a.clone();
    aClosed[2] = Operand.of(h, 0);
    rejects("a[2] is closed", () -> blas.gemmSum(g, k, aClosed, ld, b, ld, c, N), cData);
    try (DeviceArray d = FakeGpu.arrayAt(0, DType.FLOAT32, 64, 1L << 20)) {
      Operand[] bDev = b.clone();
      bDev[1] = Operand.of(d);
      rejects("pair 1: a, b and c must all be on a GPU or all on the host",
          () -> blas.gemmSum(g, k, a, ld, bDev, ld, c, N), cData);
    }

    // and the valid sum runs: 7 + 3N
    blas.gemmSum(g, k, a, ld, b, ld, c, N);
    for (float v : cData) {
      assertEquals(7f + 3 * N, v);
    }
  }
}
