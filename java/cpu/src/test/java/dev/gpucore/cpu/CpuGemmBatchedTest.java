package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Layout;
import dev.gpucore.blas.Blas;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.HostArray;
import dev.gpucore.spi.GemmCall;
import dev.gpucore.testkit.OnCpuBackend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Pointer-array batched GEMM ({@code Blas.gemmBatched}) on host operands: random shapes, both
 * layouts, all transposes, every item in a storage of its own, at offsets in shared storages or
 * a sub-matrix view, against a float64 reference; and every rejected input, which must name
 * the parameter and item and leave every C bit-for-bit as it was.
 */
@OnCpuBackend
class CpuGemmBatchedTest {
  private static final long SEED = System.nanoTime();
  private static GpuCore core;
  private static Blas blas;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeEach
  void useCore(GpuCore cpu) {
    core = cpu;
    blas = core.blas();
  }

  @AfterEach
  void release() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
    toClose.clear();
  }

  /** Storage of operands: a float[], double[] or HostArray. */
  final class Store {
    final Object data;
    final DType dtype;
    final int length;

    Store(DType dtype, int length, boolean hostArray) {
      this.dtype = dtype;
      this.length = length;
      if (hostArray) {
        HostArray h = core.allocateHost(dtype, length, false);
        toClose.add(h);
        data = h;
      } else {
        data = dtype == DType.FLOAT64 ? new double[length] : new float[length];
      }
    }

    double get(long i) {
      if (data instanceof float[] f) {
        return f[(int) i];
      }
      if (data instanceof double[] d) {
        return d[(int) i];
      }
      return ((HostArray) data).getDouble(i);
    }

    void set(long i, double v) {
      if (data instanceof float[] f) {
        f[(int) i] = (float) v;
      } else if (data instanceof double[] d) {
        d[(int) i] = v;
      } else {
        ((HostArray) data).setDouble(i, v);
      }
    }

    /** The raw bits of every element (NaN payloads included). */
    long[] bits() {
      long[] out = new long[length];
      if (data instanceof HostArray h && dtype == DType.FLOAT32) {
        float[] f = new float[length];
        h.get(0, f, 0, length);
        for (int i = 0; i < length; i++) {
          out[i] = Float.floatToRawIntBits(f[i]);
        }
        return out;
      }
      for (int i = 0; i < length; i++) {
        double v = get(i);
        out[i] = dtype == DType.FLOAT32 ? Float.floatToRawIntBits((float) v)
            : Double.doubleToRawLongBits(v);
      }
      return out;
    }

    Operand at(long off) {
      if (data instanceof float[] f) {
        return Operand.of(f, (int) off);
      }
      if (data instanceof double[] d) {
        return Operand.of(d, (int) off);
      }
      return Operand.of((HostArray) data, off);
    }
  }

  /** A stored matrix: rows×cols in {@code layout} with leading dimension ld, at store[off]. */
  record Mat(Store store, long off, int rows, int cols, int ld, Layout layout) {
    long index(int i, int j) {
      return layout == Layout.ROW_MAJOR ? off + (long) i * ld + j : off + i + (long) j * ld;
    }

    double get(int i, int j) {
      return store.get(index(i, j));
    }

    /** The matrix as an operand: its storage at {@code off}. */
    Operand operand() {
      return store.at(off);
    }

    static long span(int rows, int cols, int ld, Layout layout) {
      if (rows == 0 || cols == 0) {
        return 0;
      }
      return layout == Layout.ROW_MAJOR ? (long) (rows - 1) * ld + cols
          : (long) (cols - 1) * ld + rows;
    }
  }

  /** One random batch problem. */
  record Shape(int m, int n, int k, Layout layout, boolean ta, boolean tb, int lda, int ldb,
      int ldc, double alpha, double beta, DType dtype) {
    Gemm gemm() {
      return Gemm.of(m, n, k).layout(layout).transA(ta).transB(tb).scale(alpha, beta)
          .precision(dtype == DType.FLOAT64 ? Precision.FP64 : Precision.FP32);
    }
  }

  static int minLd(int rows, int cols, Layout l) {
    return Math.max(1, l == Layout.ROW_MAJOR ? cols : rows);
  }

  @Test
  void randomBatchesMatchFloat64Reference() {
    for (int trial = 0; trial < 120; trial++) {
      long seed = SEED + 7919L * trial;
      runRandom(new SplittableRandom(seed), "seed " + seed);
      try {
        release();
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }
  }

  private void runRandom(SplittableRandom r, String ctx) {
    DType t = r.nextBoolean() ? DType.FLOAT32 : DType.FLOAT64;
    Layout l = r.nextBoolean() ? Layout.ROW_MAJOR : Layout.COLUMN_MAJOR;
    boolean ta = r.nextBoolean();
    boolean tb = r.nextBoolean();
    int m = r.nextInt(10) == 0 ? 0 : 1 + r.nextInt(9);
    int n = r.nextInt(10) == 0 ? 0 : 1 + r.nextInt(9);
    int k = r.nextInt(8) == 0 ? 0 : 1 + r.nextInt(12);
    int aRows = ta ? k : m;
    int aCols = ta ? m : k;
    int bRows = tb ? n : k;
    int bCols = tb ? k : n;
    int padA = r.nextInt(3);
    int lda = minLd(aRows, aCols, l) + padA;
    int ldb = minLd(bRows, bCols, l) + r.nextInt(3);
    int ldc = minLd(m, n, l) + r.nextInt(3);
    double[] alphas = {1, -0.5, 2.25, 0};
    double[] betas = {0, 1, -0.75};
    double alpha = alphas[r.nextInt(r.nextInt(6) == 0 ? 4 : 3)];
    double beta = betas[r.nextInt(3)];
    Shape s = new Shape(m, n, k, l, ta, tb, lda, ldb, ldc, alpha, beta, t);
    int count = 1 + r.nextInt(7);
    ctx = ctx + " " + s + " count " + count;

    long spanA = Mat.span(aRows, aCols, lda, l);
    long spanB = Mat.span(bRows, bCols, ldb, l);
    long spanC = Mat.span(m, n, ldc, l);
    // shared storages: items placed at offsets (A and B may even repeat a location)
    int poolLen = (int) (count * (Math.max(spanA, Math.max(spanB, spanC)) + 4) + 8);
    Store poolA = new Store(t, poolLen, false);
    Store poolB = new Store(t, poolLen, r.nextInt(4) == 0);
    Store poolC = new Store(t, poolLen, r.nextInt(4) == 0);
    for (Store p : new Store[] {poolA, poolB, poolC}) {
      fillRandom(p, r);
    }
    // C positions in the pool: increasing, then shuffled among the items
    List<Long> cSlots = new ArrayList<>();
    long next = r.nextInt(3);
    for (int i = 0; i < count; i++) {
      cSlots.add(next);
      next += spanC + r.nextInt(3);
    }
    java.util.Collections.shuffle(cSlots, new java.util.Random(r.nextLong()));
    Mat[] ma = new Mat[count];
    Mat[] mb = new Mat[count];
    Mat[] mc = new Mat[count];
    Operand[] oa = new Operand[count];
    Operand[] ob = new Operand[count];
    Operand[] oc = new Operand[count];
    List<Store> cStores = new ArrayList<>(List.of(poolC));
    for (int i = 0; i < count; i++) {
      // A: own storage, a view into a larger matrix, or an offset in the shared storage
      int how = r.nextInt(3);
      if (how == 0) {
        ma[i] = ownMat(r, t, 4, aRows, aCols, lda, l);
        oa[i] = ma[i].operand();
      } else if (how == 1 && t == DType.FLOAT32 && padA > 0 && spanA > 0) {
        // the sub-matrix at inner index padA, outer index 1 of a parent with the same ld
        int outer = (l == Layout.ROW_MAJOR ? aRows : aCols) + 1;
        Store st = new Store(t, outer * lda, false);
        fillRandom(st, r);
        int row = l == Layout.ROW_MAJOR ? 1 : padA;
        int col = l == Layout.ROW_MAJOR ? padA : 1;
        oa[i] = Operand.view((float[]) st.data, l, lda, row, col);
        ma[i] = new Mat(st, oa[i].offset(), aRows, aCols, lda, l);
        assertEquals(l == Layout.ROW_MAJOR ? lda + padA : padA + lda, oa[i].offset());
      } else {
        ma[i] = new Mat(poolA, r.nextInt((int) Math.max(1, poolLen - spanA)), aRows, aCols, lda, l);
        oa[i] = ma[i].operand();
      }
      // B: own storage or the shared one
      mb[i] = r.nextBoolean() ? ownMat(r, t, 3, bRows, bCols, ldb, l)
          : new Mat(poolB, r.nextInt((int) Math.max(1, poolLen - spanB)), bRows, bCols, ldb, l);
      ob[i] = mb[i].operand();
      // C: own storage or a slot in the shared one
      if (r.nextBoolean()) {
        mc[i] = ownMat(r, t, 3, m, n, ldc, l);
        cStores.add(mc[i].store());
      } else {
        mc[i] = new Mat(poolC, cSlots.get(i), m, n, ldc, l);
      }
      oc[i] = mc[i].operand();
      if (beta == 0) { // beta = 0 must not read C
        for (int x = 0; x < m; x++) {
          for (int y = 0; y < n; y++) {
            mc[i].store().set(mc[i].index(x, y), Double.NaN);
          }
        }
      }
    }
    // reference before the call (C is read here, written later)
    double[][] ref = new double[count][m * n];
    for (int i = 0; i < count; i++) {
      for (int x = 0; x < m; x++) {
        for (int y = 0; y < n; y++) {
          double sum = 0;
          for (int p = 0; p < k; p++) {
            double av = ta ? ma[i].get(p, x) : ma[i].get(x, p);
            double bv = tb ? mb[i].get(y, p) : mb[i].get(p, y);
            sum += av * bv;
          }
          double old = beta == 0 ? 0 : mc[i].get(x, y);
          ref[i][x * n + y] = (alpha == 0 ? 0 : alpha * sum) + beta * old;
        }
      }
    }
    List<Store> inputs = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      inputs.add(ma[i].store());
      inputs.add(mb[i].store());
    }
    List<long[]> inBefore = new ArrayList<>();
    for (Store st : inputs) {
      inBefore.add(st.bits());
    }
    List<long[]> cBefore = new ArrayList<>();
    for (Store st : cStores) {
      cBefore.add(st.bits());
    }

    blas.gemmBatched(s.gemm(), oa, lda, ob, ldb, oc, ldc);

    for (int j = 0; j < inputs.size(); j++) {
      assertArrayEquals(inBefore.get(j), inputs.get(j).bits(), "A or B modified: " + ctx);
    }
    double bound = (t == DType.FLOAT64 ? 1e-13 : 1e-5) * Math.sqrt(Math.max(1, k));
    for (int i = 0; i < count; i++) {
      double errSq = 0;
      double refSq = 0;
      for (int x = 0; x < m; x++) {
        for (int y = 0; y < n; y++) {
          double got = mc[i].get(x, y);
          assertTrue(Double.isFinite(got), "c[" + i + "](" + x + "," + y + ") = " + got + ": "
              + ctx);
          double d = got - ref[i][x * n + y];
          errSq += d * d;
          refSq += ref[i][x * n + y] * ref[i][x * n + y];
        }
      }
      double rel = Math.sqrt(errSq) / Math.max(Math.sqrt(refSq), Double.MIN_NORMAL);
      assertTrue(rel <= bound || Math.sqrt(errSq) <= 1e-30,
          "item " + i + ": relative error " + rel + " > " + bound + ": " + ctx);
    }
    // everything of the C storages outside the items' m×n matrices is bit-for-bit unchanged
    for (int j = 0; j < cStores.size(); j++) {
      Store st = cStores.get(j);
      boolean[] inside = new boolean[st.length];
      for (Mat c : mc) {
        if (c.store() == st) {
          for (int x = 0; x < m; x++) {
            for (int y = 0; y < n; y++) {
              inside[(int) c.index(x, y)] = true;
            }
          }
        }
      }
      long[] before = cBefore.get(j);
      long[] after = st.bits();
      for (int e = 0; e < st.length; e++) {
        if (!inside[e]) {
          assertEquals(before[e], after[e], "element " + e + " outside every C changed: " + ctx);
        }
      }
    }
  }

  /**
   * A rows×cols matrix of random values in new storage of its own (a host array one time in 4),
   * from a random offset below {@code maxOff}, with up to 2 elements after it.
   */
  private Mat ownMat(SplittableRandom r, DType t, int maxOff, int rows, int cols, int ld,
      Layout l) {
    long off = r.nextInt(maxOff);
    Store st = new Store(t, (int) (off + Mat.span(rows, cols, ld, l) + r.nextInt(3)),
        r.nextInt(4) == 0);
    fillRandom(st, r);
    return new Mat(st, off, rows, cols, ld, l);
  }

  private static void fillRandom(Store s, SplittableRandom r) {
    for (int i = 0; i < s.length; i++) {
      s.set(i, r.nextDouble() * 2 - 1);
    }
  }

  @Test
  void emptyBatchAndEmptyMatricesDoNothing() {
    blas.gemmBatched(Gemm.of(3, 3, 3), new Operand[0], 3, new Operand[0], 3, new Operand[0], 3);
    float[] c = new float[9];
    Arrays.fill(c, Float.NaN);
    float[] a = new float[9];
    // m = 0: nothing to compute, C (NaN) untouched even with beta = 0
    blas.gemmBatched(Gemm.of(0, 3, 3), new Operand[] {Operand.of(a)}, 3,
        new Operand[] {Operand.of(a.clone())}, 3, new Operand[] {Operand.of(c)}, 3);
    for (float v : c) {
      assertTrue(Float.isNaN(v));
    }
    // k = 0: C = beta·C, A and B unread (here shorter than nothing at all)
    Arrays.fill(c, 2f);
    blas.gemmBatched(Gemm.of(3, 3, 0).scale(1, 0.5), new Operand[] {Operand.of(new float[0])}, 1,
        new Operand[] {Operand.of(new float[0])}, 3, new Operand[] {Operand.of(c)}, 3);
    for (float v : c) {
      assertEquals(1f, v);
    }
  }

  @Test
  void oneItemEqualsGemmBitForBit() {
    SplittableRandom r = new SplittableRandom(SEED);
    int m = 13;
    int n = 9;
    int k = 17;
    float[] a = new float[m * k + 3];
    float[] b = new float[k * n + 1];
    float[] c = new float[m * n];
    for (float[] x : new float[][] {a, b, c}) {
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) (r.nextDouble() * 2 - 1);
      }
    }
    float[] c2 = c.clone();
    Gemm g = Gemm.of(m, n, k).transB(true).scale(1.25, -0.5);
    blas.gemm(g, Operand.of(a, 3), k, Operand.of(b, 1), k, Operand.of(c), n);
    blas.gemmBatched(g, new Operand[] {Operand.of(a, 3)}, k, new Operand[] {Operand.of(b, 1)}, k,
        new Operand[] {Operand.of(c2)}, n);
    assertArrayEquals(c, c2);
  }

  @Test
  void spiDefaultRunsEveryItem() {
    // BlasOps.gemmBatched's default (the CPU backend keeps it): gemm on each item in order
    double[] a = {1, 2, 3, 4};
    double[] b = {5, 6, 7, 8};
    double[] c0 = new double[4];
    double[] c1 = new double[4];
    GemmCall i0 = new GemmCall(false, false, 2, 2, 2, 1, 0, Precision.FP64, DType.FLOAT64,
        Operand.of(a), 2, Operand.of(b), 2, Operand.of(c0), 2, 1, 0, 0, 0, null,
        GemmCall.OnHost.INSTANCE);
    GemmCall i1 = new GemmCall(false, true, 2, 2, 2, 2, 0, Precision.FP64, DType.FLOAT64,
        Operand.of(b), 2, Operand.of(a), 2, Operand.of(c1), 2, 1, 0, 0, 0, null,
        GemmCall.OnHost.INSTANCE);
    dev.gpucore.spi.Cores.backends(core).cpu().blas().gemmBatched(new GemmCall[] {i0, i1});
    assertArrayEquals(new double[] {19, 22, 43, 50}, c0);
    assertArrayEquals(new double[] {2 * 17, 2 * 39, 2 * 23, 2 * 53}, c1);
  }

  // ---- bad input ----

  /** Items of a valid 4×4×4 fp32 batch, each in storage of its own, C filled with 7. */
  static final int N = 4;

  static Operand[] fresh(int count, float fill) {
    Operand[] o = new Operand[count];
    for (int i = 0; i < count; i++) {
      float[] x = new float[N * N];
      Arrays.fill(x, fill);
      o[i] = Operand.of(x);
    }
    return o;
  }

  /** Asserts an InvalidArgument whose message contains {@code expected}; every C unchanged. */
  static void rejects(String expected, Executable call, Operand[]... cs) {
    List<float[]> before = new ArrayList<>();
    List<float[]> arrays = new ArrayList<>();
    for (Operand[] c : cs) {
      for (Operand o : c) {
        if (o != null && o.storage() instanceof float[] f) {
          arrays.add(f);
          before.add(f.clone());
        }
      }
    }
    GpuCoreException.InvalidArgument e =
        assertThrows(GpuCoreException.InvalidArgument.class, call, expected);
    assertTrue(e.getMessage().contains(expected),
        "message should name " + expected + ": " + e.getMessage());
    for (int i = 0; i < arrays.size(); i++) {
      assertArrayEquals(before.get(i), arrays.get(i), "C changed by a call rejected for "
          + expected);
    }
  }

  @Test
  void badBatchesThrowNamingTheParameterAndItemAndLeaveEveryCUntouched() {
    Gemm g = Gemm.of(N, N, N).scale(1, 1);
    Operand[] a = fresh(4, 1);
    Operand[] b = fresh(4, 1);
    Operand[] c = fresh(4, 7);

    rejects("a must not be null", () -> blas.gemmBatched(g, null, N, b, N, c, N), c);
    rejects("b must not be null", () -> blas.gemmBatched(g, a, N, null, N, c, N), c);
    rejects("c must not be null", () -> blas.gemmBatched(g, a, N, b, N, null, N));
    rejects("gemm must not be null", () -> blas.gemmBatched(null, a, N, b, N, c, N), c);
    rejects("one length", () -> blas.gemmBatched(g, Arrays.copyOf(a, 3), N, b, N, c, N), c);
    rejects("one length", () -> blas.gemmBatched(g, a, N, b, N, Arrays.copyOf(c, 5), N), c);
    rejects("gemm.batch() must be 1", () -> blas.gemmBatched(g.batch(2, 16, 16, 16), a, N, b, N,
        c, N), c);

    Operand[] a2 = a.clone();
    a2[2] = null;
    rejects("a[2] must not be null", () -> blas.gemmBatched(g, a2, N, b, N, c, N), c);
    Operand[] b3 = b.clone();
    b3[3] = null;
    rejects("b[3] must not be null", () -> blas.gemmBatched(g, a, N, b3, N, c, N), c);
    Operand[] c1 = c.clone();
    c1[1] = null;
    rejects("c[1] must not be null", () -> blas.gemmBatched(g, a, N, b, N, c1, N), c1);

    // shared leading dimensions: named as such, reported for the first item
    rejects("item 0: lda must be >= 4", () -> blas.gemmBatched(g, a, N - 1, b, N, c, N), c);
    rejects("item 0: ldb must be >= 4", () -> blas.gemmBatched(g, a, N, b, N - 1, c, N), c);
    rejects("item 0: ldc must be >= 4", () -> blas.gemmBatched(g, a, N, b, N, c, N - 1), c);

    // an item too short, by length or by offset
    Operand[] cShort = c.clone();
    float[] shortC = new float[N * N - 1];
    Arrays.fill(shortC, 7);
    cShort[3] = Operand.of(shortC);
    rejects("c[3] holds 15 elements but the call needs 16", () -> blas.gemmBatched(g, a, N, b,
        N, cShort, N), cShort);
    Operand[] aShort = a.clone();
    aShort[1] = Operand.of(new float[N * N], 1);
    rejects("a[1] holds 16 elements but the call needs 17", () -> blas.gemmBatched(g, aShort, N,
        b, N, c, N), c);
    Operand[] bShort = b.clone();
    bShort[2] = Operand.of(new float[N * N - 2]);
    rejects("b[2] holds", () -> blas.gemmBatched(g, a, N, bShort, N, c, N), c);
    // column-major: the names are still the caller's
    rejects("b[2] holds", () -> blas.gemmBatched(g.layout(Layout.COLUMN_MAJOR), a, N, bShort, N,
        c, N), c);

    // element types: within an item, and across items
    Operand[] aMixed = a.clone();
    aMixed[1] = Operand.of(new double[N * N]);
    rejects("item 1: a, b and c must have one element type",
        () -> blas.gemmBatched(g, aMixed, N, b, N, c, N), c);
    Operand[] a64 = a.clone();
    Operand[] b64 = b.clone();
    Operand[] c64 = c.clone();
    a64[2] = Operand.of(new double[N * N]);
    b64[2] = Operand.of(new double[N * N]);
    c64[2] = Operand.of(new double[N * N]);
    rejects("a[2] holds FLOAT64 but a[0] holds FLOAT32",
        () -> blas.gemmBatched(g, a64, N, b64, N, c64, N), c64);
    rejects("precision FP64", () -> blas.gemmBatched(g.precision(Precision.FP64), a, N, b, N, c,
        N), c);

    // C sharing storage with an A or B: of its own item, and of another item
    Operand[] cSelf = c.clone();
    cSelf[3] = Operand.of((float[]) a[3].storage());
    rejects("c[3] must not share storage with a[3] or b[3]",
        () -> blas.gemmBatched(g, a, N, b, N, cSelf, N), c);
    Operand[] cOther = c.clone();
    cOther[2] = Operand.of((float[]) a[0].storage());
    rejects("c[2] shares storage with a[0]", () -> blas.gemmBatched(g, a, N, b, N, cOther, N), c);
    Operand[] cOtherB = c.clone();
    cOtherB[1] = Operand.of((float[]) b[3].storage());
    rejects("c[1] shares storage with b[3]",
        () -> blas.gemmBatched(g, a, N, b, N, cOtherB, N), c);

    // overlapping C matrices in one storage (offsets out of order, so sorting matters)
    float[] pool = new float[200];
    Arrays.fill(pool, 7);
    Operand[] cPool = {Operand.of(pool, 100), Operand.of(pool, 0), Operand.of(pool, 50),
        Operand.of(pool, 40)};
    rejects("c[2] (offset 50) and c[3] (offset 40) overlap", () -> blas.gemmBatched(g, a, N, b,
        N, cPool, N), cPool);
    Operand[] cSame = {Operand.of(pool, 0), Operand.of(pool, 20), Operand.of(pool, 60),
        Operand.of(pool, 20)};
    rejects("c[1] (offset 20) and c[3] (offset 20) overlap", () -> blas.gemmBatched(g, a, N, b,
        N, cSame, N), cSame);
    // one element apart from touching: with ldc = 5 a C spans 3·5 + 4 = 19 elements
    Operand[] cTight = {Operand.of(pool, 0), Operand.of(pool, 18), Operand.of(pool, 60),
        Operand.of(pool, 100)};
    rejects("c[0] (offset 0) and c[1] (offset 18) overlap", () -> blas.gemmBatched(g, a, N, b, N,
        cTight, N + 1), cTight);
    // the same offsets with room to spare pass, and fill the four matrices
    Operand[] cFine = {Operand.of(pool, 0), Operand.of(pool, 19), Operand.of(pool, 60),
        Operand.of(pool, 100)};
    blas.gemmBatched(g.scale(1, 0), a, N, b, N, cFine, N + 1);
    assertEquals(4f, pool[0]);
    assertEquals(4f, pool[19 + 3 * 5 + 3]);
    assertEquals(7f, pool[19 + 4], "padding of C untouched");
    assertEquals(7f, pool[59], "between the matrices untouched");
  }

  @Test
  void closedStreamAndPlaceMismatchesAreRejected() {
    Gemm g = Gemm.of(N, N, N).scale(1, 1);
    Operand[] a = fresh(3, 1);
    Operand[] b = fresh(3, 1);
    Operand[] c = fresh(3, 7);

    HostArray h = core.allocateHost(DType.FLOAT32, N * N, false);
    h.close();
    Operand[] cClosed = c.clone();
    cClosed[1] = Operand.of(h, 0);
    rejects("c[1] is closed", () -> blas.gemmBatched(g, a, N, b, N, cClosed, N), c);

    try (GpuStream s = new FakeStream(0)) {
      rejects("item 0: stream is only for device operands",
          () -> blas.gemmBatched(g, a, N, b, N, c, N, s), c);
    }

    // device operands never reach a backend here: every case is rejected by the checks first
    List<DeviceArray> fakes = new ArrayList<>();
    try {
      DeviceArray[] d0 = new DeviceArray[4];
      DeviceArray[] d1 = new DeviceArray[3];
      for (int i = 0; i < d0.length; i++) {
        d0[i] = new FakeDevice(0, 64);
        fakes.add(d0[i]);
      }
      for (int i = 0; i < d1.length; i++) {
        d1[i] = new FakeDevice(1, 64);
        fakes.add(d1[i]);
      }
      // three valid device items on GPU 0: A in d0[0], B in d0[1], C in d0[2]
      Operand[] ad = {Operand.of(d0[0]), Operand.of(d0[0], 16), Operand.of(d0[0], 32)};
      Operand[] bd = {Operand.of(d0[1]), Operand.of(d0[1], 16), Operand.of(d0[1], 32)};
      Operand[] cd = {Operand.of(d0[2]), Operand.of(d0[2], 16), Operand.of(d0[2], 32)};

      Operand[] am = a.clone();
      Operand[] bm = b.clone();
      Operand[] cm = c.clone();
      am[2] = ad[2];
      bm[2] = bd[2];
      cm[2] = cd[2];
      rejects("a[2] is on GPU 0 but a[0] is on the host",
          () -> blas.gemmBatched(g, am, N, bm, N, cm, N), c);

      Operand[] a1 = ad.clone();
      Operand[] b1 = bd.clone();
      Operand[] c1 = cd.clone();
      a1[2] = Operand.of(d1[0]);
      b1[2] = Operand.of(d1[1]);
      c1[2] = Operand.of(d1[2]);
      rejects("a[2] is on GPU 1 but a[0] is on GPU 0",
          () -> blas.gemmBatched(g, a1, N, b1, N, c1, N));

      Operand[] cHost = cd.clone();
      cHost[2] = Operand.of(new float[N * N]);
      rejects("item 2: a, b and c must all be on a GPU or all on the host",
          () -> blas.gemmBatched(g, ad, N, bd, N, cHost, N), cHost);

      Operand[] cOverlap = {Operand.of(d0[2]), Operand.of(d0[2], 15), Operand.of(d0[3])};
      rejects("c[0] (offset 0) and c[1] (offset 15) overlap",
          () -> blas.gemmBatched(g, ad, N, bd, N, cOverlap, N));

      Operand[] aOwn = ad.clone();
      aOwn[2] = Operand.of(d0[3]);
      Operand[] cInA = {Operand.of(d0[2]), Operand.of(d0[2], 16), Operand.of(d0[0], 48)};
      rejects("c[2] shares storage with a[0]",
          () -> blas.gemmBatched(g, aOwn, N, bd, N, cInA, N));
      assertFalse(core.hasGpu(), "the fake device arrays never met a GPU");
    } finally {
      for (DeviceArray d : fakes) {
        d.close();
      }
    }
  }

  /** A device array that holds nothing: for argument checks that must fail before any use. */
  static final class FakeDevice extends DeviceArray {
    FakeDevice(int device, long length) {
      super(new dev.gpucore.spi.DeviceMemory(device, DType.FLOAT32, length, 1L << 20,
          () -> { }));
    }

    @Override
    protected void fromJava(Object src, int srcOffset, long dstOffset, int count) {
      throw new AssertionError("a fake device array was used");
    }

    @Override
    protected void toJava(long srcOffset, Object dst, int dstOffset, int count) {
      throw new AssertionError("a fake device array was used");
    }

    @Override
    protected void hostCopy(HostArray host, long hostOffset, long devOffset, long count,
        GpuStream stream, boolean toDevice) {
      throw new AssertionError("a fake device array was used");
    }

    @Override
    protected void deviceCopy(DeviceArray src, long srcOffset, long dstOffset, long count,
        GpuStream stream) {
      throw new AssertionError("a fake device array was used");
    }

    @Override
    protected void doFill(double value, GpuStream stream) {
      throw new AssertionError("a fake device array was used");
    }
  }

  /** A stream that is never used: only for the check that host operands take none. */
  static final class FakeStream extends GpuStream {
    FakeStream(int device) {
      super(new dev.gpucore.spi.StreamResource(device, () -> { }));
    }

    @Override
    public long handle() {
      throw new AssertionError("a fake stream was used");
    }

    @Override
    public void synchronize() {
      throw new AssertionError("a fake stream was used");
    }
  }
}
