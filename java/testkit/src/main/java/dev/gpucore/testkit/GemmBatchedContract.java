package dev.gpucore.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Layout;
import dev.gpucore.blas.BatchedGemm;
import dev.gpucore.blas.Blas;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.HostArray;
import dev.gpucore.memory.NativeMemory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The pointer-array batched GEMM contract ({@code Blas.gemmBatched}) every core keeps on host
 * operands: random batches (fp32 and fp64, both layouts, all transposes, m, n or k at times 0,
 * alpha and beta with 0 included, 1 to 7 items each in a Java array or host array of its own,
 * at offsets in shared storages, or a sub-matrix view) against a float64 reference, with C
 * poisoned with NaN where beta is 0, A and B untouched and everything of the C storages outside
 * the items' matrices bit-for-bit as it was; one item equal to {@code gemm} bit for bit; empty
 * batches and matrices a no-op; and every rejected input, which must name the parameter and
 * item and leave every C bit-for-bit as it was.
 *
 * <p>A backend's test class extends it and gives the core through {@link OnCpuBackend} or
 * {@link RequiresGpu} (the GPU module's routes host GEMMs to the GPU, so that every item runs
 * through its host-operand pipeline), and adds its own cases; {@link #reference}, {@link
 * #assertItemsMatch} and {@link #assertOutsideUnchanged} check batches in other storage, such
 * as device arrays (placed with {@link SoakCases#at} and {@link SoakCases#span}).
 */
public abstract class GemmBatchedContract extends UsesCore {
  private final List<AutoCloseable> hostArrays = new ArrayList<>();

  @AfterEach
  void closeHostArrays() throws Exception {
    for (AutoCloseable c : hostArrays) {
      c.close();
    }
    hostArrays.clear();
  }

  // ------------------------------------------------------------ checks of a batch's results

  /** Element (i, j) of a stored matrix (row i, column j of the matrix as stored). */
  @FunctionalInterface
  protected interface Matrix {
    double get(int i, int j);
  }

  /** Where element (i, j) of a stored matrix lies in its storage. */
  @FunctionalInterface
  protected interface Placement {
    long index(int i, int j);
  }

  /**
   * The float64 reference of one item, m×n in row-major order: {@code alpha·op(A)·op(B) +
   * beta·C} as plain sums; no product where alpha is 0 and no C read where beta is 0 (C may hold
   * NaN there).
   */
  protected static double[] reference(GemmShape s, double alpha, double beta, Matrix a,
      Matrix b, Matrix c) {
    double[] ref = new double[s.m() * s.n()];
    for (int i = 0; i < s.m(); i++) {
      for (int j = 0; j < s.n(); j++) {
        double sum = 0;
        for (int p = 0; p < s.k(); p++) {
          double av = s.ta() ? a.get(p, i) : a.get(i, p);
          double bv = s.tb() ? b.get(j, p) : b.get(p, j);
          sum += av * bv;
        }
        double old = beta == 0 ? 0 : c.get(i, j);
        ref[i * s.n() + j] = (alpha == 0 ? 0 : alpha * sum) + beta * old;
      }
    }
    return ref;
  }

  /**
   * Checks the m×n results of a batch's items ({@code got}, read after the call) against their
   * references: every element finite, and the Frobenius norm of the error at most {@code
   * itemBound} times the reference's for each item and {@code bound} times it over the whole
   * batch (an error norm of at most 1e-30 passes: where the reference is 0, the result must be).
   */
  protected static void assertItemsMatch(GemmShape s, double[][] ref, Matrix[] got,
      double bound, double itemBound, String ctx) {
    double numAll = 0;
    double denAll = 0;
    for (int item = 0; item < ref.length; item++) {
      double num = 0;
      double den = 0;
      for (int i = 0; i < s.m(); i++) {
        for (int j = 0; j < s.n(); j++) {
          double v = got[item].get(i, j);
          assertTrue(Double.isFinite(v), "c[" + item + "](" + i + "," + j + ") = " + v + ": "
              + ctx);
          double r = ref[item][i * s.n() + j];
          num += (v - r) * (v - r);
          den += r * r;
        }
      }
      assertWithin(num, den, itemBound, "c[" + item + "]", ctx);
      numAll += num;
      denAll += den;
    }
    assertWithin(numAll, denAll, bound, "the batch", ctx);
  }

  private static void assertWithin(double num, double den, double bound, String what,
      String ctx) {
    double err = Math.sqrt(num);
    double rel = err / Math.max(Math.sqrt(den), Double.MIN_NORMAL);
    assertTrue(rel <= bound || err <= 1e-30, what + ": relative error " + rel + " > " + bound
        + ": " + ctx);
  }

  /**
   * Checks that every element of one C storage outside the m×n matrices of the items in it
   * ({@code items}) kept its bits: {@code before} and {@code after} are the storage's raw bits.
   */
  protected static void assertOutsideUnchanged(GemmShape s, long[] before, long[] after,
      List<Placement> items, String ctx) {
    boolean[] inside = new boolean[before.length];
    for (Placement c : items) {
      for (int i = 0; i < s.m(); i++) {
        for (int j = 0; j < s.n(); j++) {
          inside[(int) c.index(i, j)] = true;
        }
      }
    }
    for (int e = 0; e < before.length; e++) {
      if (!inside[e]) {
        assertEquals(before[e], after[e], "element " + e + " outside every C changed: " + ctx);
      }
    }
  }

  /** The raw bits of {@code x} (NaN payloads included). */
  protected static long[] rawBits(double[] x) {
    long[] out = new long[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = Double.doubleToRawLongBits(x[i]);
    }
    return out;
  }

  // ------------------------------------------------------------ host operands under test

  /** Storage of host operands: a float[], double[] or HostArray. */
  private final class Store {
    final Object data;
    final DType dtype;
    final int length;

    Store(DType dtype, int length, boolean hostArray) {
      this.dtype = dtype;
      this.length = length;
      if (hostArray) {
        HostArray h = core.allocateHost(dtype, length, false);
        hostArrays.add(h);
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

    void fillRandom(SplittableRandom r) {
      for (int i = 0; i < length; i++) {
        set(i, r.nextDouble() * 2 - 1);
      }
    }
  }

  /** A stored matrix: rows×cols in {@code layout} with leading dimension ld, at store[off]. */
  private record Mat(Store store, long off, int rows, int cols, int ld, Layout layout) {
    long index(int i, int j) {
      return SoakCases.at(layout, off, ld, i, j);
    }

    double get(int i, int j) {
      return store.get(index(i, j));
    }

    /** The matrix as an operand: its storage at {@code off}. */
    Operand operand() {
      return store.at(off);
    }
  }

  /** One random batch problem. */
  private record Shape(int m, int n, int k, Layout layout, boolean ta, boolean tb, int lda,
      int ldb, int ldc, double alpha, double beta, DType dtype) implements GemmShape {
    Gemm gemm() {
      return Gemm.of(m, n, k).layout(layout).transA(ta).transB(tb).scale(alpha, beta)
          .precision(dtype == DType.FLOAT64 ? Precision.FP64 : Precision.FP32);
    }
  }

  private static int minLd(int rows, int cols, Layout l) {
    return Math.max(1, l == Layout.ROW_MAJOR ? cols : rows);
  }

  /** The two ways a batch is run: {@code gemmBatched}, and {@code prepareBatched}, run, close. */
  protected enum Form {
    /** {@code Blas.gemmBatched}. */
    DIRECT,
    /** {@code Blas.prepareBatched}, one run (the stream synchronized after it), close. */
    PREPARED;

    /** Runs the batch synchronously. */
    public void run(Blas blas, Gemm g, Operand[] a, int lda, Operand[] b, int ldb, Operand[] c,
        int ldc) {
      run(blas, g, a, lda, b, ldb, c, ldc, null);
    }

    /** Runs the batch on {@code s} (null: synchronously), and waits for it. */
    public void run(Blas blas, Gemm g, Operand[] a, int lda, Operand[] b, int ldb, Operand[] c,
        int ldc, GpuStream s) {
      if (this == DIRECT) {
        blas.gemmBatched(g, a, lda, b, ldb, c, ldc, s);
      } else {
        try (BatchedGemm p = blas.prepareBatched(g, a, lda, b, ldb, c, ldc)) {
          p.run(s);
          if (s != null) {
            s.synchronize();
          }
        }
      }
    }
  }

  @Test
  void randomBatchesMatchFloat64Reference() throws Exception {
    for (int trial = 0; trial < 120; trial++) {
      long seed = SEED + 7919L * trial;
      runRandom(new SplittableRandom(seed), "seed " + seed, false);
      closeHostArrays();
    }
  }

  @Test
  void preparedRandomBatchesMatchFloat64Reference() throws Exception {
    // prepareBatched, then run (twice where beta = 0: the same result again), then close
    for (int trial = 0; trial < 60; trial++) {
      long seed = SEED + 104729L * trial;
      runRandom(new SplittableRandom(seed), "prepared, seed " + seed, true);
      closeHostArrays();
    }
  }

  private void runRandom(SplittableRandom r, String ctx, boolean prepared) {
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

    long spanA = SoakCases.span(l, aRows, aCols, lda);
    long spanB = SoakCases.span(l, bRows, bCols, ldb);
    long spanC = SoakCases.span(l, m, n, ldc);
    // shared storages: items placed at offsets (A and B may even repeat a location)
    int poolLen = (int) (count * (Math.max(spanA, Math.max(spanB, spanC)) + 4) + 8);
    Store poolA = new Store(t, poolLen, false);
    Store poolB = new Store(t, poolLen, r.nextInt(4) == 0);
    Store poolC = new Store(t, poolLen, r.nextInt(4) == 0);
    for (Store p : new Store[] {poolA, poolB, poolC}) {
      p.fillRandom(r);
    }
    // C positions in the pool: increasing, then shuffled among the items
    List<Long> cSlots = new ArrayList<>();
    long next = r.nextInt(3);
    for (int i = 0; i < count; i++) {
      cSlots.add(next);
      next += spanC + r.nextInt(3);
    }
    Collections.shuffle(cSlots, new Random(r.nextLong()));
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
        st.fillRandom(r);
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
    double[][] ref = new double[count][];
    for (int i = 0; i < count; i++) {
      ref[i] = reference(s, alpha, beta, ma[i]::get, mb[i]::get, mc[i]::get);
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

    if (prepared) {
      try (BatchedGemm p = core.blas().prepareBatched(s.gemm(), oa, lda, ob, ldb, oc, ldc)) {
        assertEquals(count, p.size());
        assertEquals(-1, p.device(), "host operands");
        p.run();
        if (beta == 0) {
          p.run();
        }
      }
    } else {
      core.blas().gemmBatched(s.gemm(), oa, lda, ob, ldb, oc, ldc);
    }

    for (int j = 0; j < inputs.size(); j++) {
      assertArrayEquals(inBefore.get(j), inputs.get(j).bits(), "A or B modified: " + ctx);
    }
    double bound = (t == DType.FLOAT64 ? 1e-13 : 1e-5) * Math.sqrt(Math.max(1, k));
    Matrix[] got = new Matrix[count];
    for (int i = 0; i < count; i++) {
      got[i] = mc[i]::get;
    }
    assertItemsMatch(s, ref, got, bound, bound, ctx);
    for (int j = 0; j < cStores.size(); j++) {
      Store st = cStores.get(j);
      List<Placement> in = new ArrayList<>();
      for (Mat c : mc) {
        if (c.store() == st) {
          in.add(c::index);
        }
      }
      assertOutsideUnchanged(s, cBefore.get(j), st.bits(), in, ctx);
    }
  }

  /**
   * A rows×cols matrix of random values in new storage of its own (a host array one time in 4),
   * from a random offset below {@code maxOff}, with up to 2 elements after it.
   */
  private Mat ownMat(SplittableRandom r, DType t, int maxOff, int rows, int cols, int ld,
      Layout l) {
    long off = r.nextInt(maxOff);
    Store st = new Store(t, (int) (off + SoakCases.span(l, rows, cols, ld) + r.nextInt(3)),
        r.nextInt(4) == 0);
    st.fillRandom(r);
    return new Mat(st, off, rows, cols, ld, l);
  }

  @Test
  void emptyBatchAndEmptyMatricesDoNothing() {
    core.blas().gemmBatched(Gemm.of(3, 3, 3), new Operand[0], 3, new Operand[0], 3,
        new Operand[0], 3);
    float[] c = new float[9];
    Arrays.fill(c, Float.NaN);
    float[] a = new float[9];
    // m = 0: nothing to compute, C (NaN) untouched even with beta = 0
    core.blas().gemmBatched(Gemm.of(0, 3, 3), new Operand[] {Operand.of(a)}, 3,
        new Operand[] {Operand.of(a.clone())}, 3, new Operand[] {Operand.of(c)}, 3);
    for (float v : c) {
      assertTrue(Float.isNaN(v));
    }
    // k = 0: C = beta·C, A and B unread (here shorter than nothing at all)
    Arrays.fill(c, 2f);
    core.blas().gemmBatched(Gemm.of(3, 3, 0).scale(1, 0.5),
        new Operand[] {Operand.of(new float[0])}, 1, new Operand[] {Operand.of(new float[0])}, 3,
        new Operand[] {Operand.of(c)}, 3);
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
    core.blas().gemm(g, Operand.of(a, 3), k, Operand.of(b, 1), k, Operand.of(c), n);
    core.blas().gemmBatched(g, new Operand[] {Operand.of(a, 3)}, k,
        new Operand[] {Operand.of(b, 1)}, k, new Operand[] {Operand.of(c2)}, n);
    assertArrayEquals(c, c2);
  }

  // ------------------------------------------------------------ bad input

  /** Items of a valid 4×4×4 fp32 batch, each in storage of its own, C filled with 7. */
  private static final int N = 4;

  /** {@code count} items of N×N elements, each in a float[] of its own filled with {@code fill}. */
  private static Operand[] fresh(int count, float fill) {
    Operand[] o = new Operand[count];
    for (int i = 0; i < count; i++) {
      float[] x = new float[N * N];
      Arrays.fill(x, fill);
      o[i] = Operand.of(x);
    }
    return o;
  }

  /** A valid batch of {@code count} N×N×N items with beta = 1: A and B all 1, C all 7. */
  private record Valid(Gemm g, Operand[] a, Operand[] b, Operand[] c) {
    Valid(int count) {
      this(Gemm.of(N, N, N).scale(1, 1), fresh(count, 1), fresh(count, 1), fresh(count, 7));
    }
  }

  /** Asserts an InvalidArgument whose message contains {@code expected}; every C unchanged. */
  private static void rejects(String expected, Executable call, Operand[]... cs) {
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

  @ParameterizedTest
  @EnumSource(Form.class)
  void badBatchesThrowNamingTheParameterAndItemAndLeaveEveryCUntouched(Form form) {
    Valid v = new Valid(4);
    Gemm g = v.g();
    Operand[] a = v.a();
    Operand[] b = v.b();
    Operand[] c = v.c();
    Blas blas = core.blas();

    rejects("a must not be null", () -> form.run(blas, g, null, N, b, N, c, N), c);
    rejects("b must not be null", () -> form.run(blas, g, a, N, null, N, c, N), c);
    rejects("c must not be null", () -> form.run(blas, g, a, N, b, N, null, N));
    rejects("gemm must not be null", () -> form.run(blas, null, a, N, b, N, c, N), c);
    rejects("one length", () -> form.run(blas, g, Arrays.copyOf(a, 3), N, b, N, c, N), c);
    rejects("one length", () -> form.run(blas, g, a, N, b, N, Arrays.copyOf(c, 5), N), c);
    rejects("gemm.batch() must be 1", () -> form.run(blas, g.batch(2, 16, 16, 16), a, N, b, N,
        c, N), c);

    Operand[] a2 = a.clone();
    a2[2] = null;
    rejects("a[2] must not be null", () -> form.run(blas, g, a2, N, b, N, c, N), c);
    Operand[] b3 = b.clone();
    b3[3] = null;
    rejects("b[3] must not be null", () -> form.run(blas, g, a, N, b3, N, c, N), c);
    Operand[] c1 = c.clone();
    c1[1] = null;
    rejects("c[1] must not be null", () -> form.run(blas, g, a, N, b, N, c1, N), c1);

    // shared leading dimensions: named as such, reported for the first item
    rejects("item 0: lda must be >= 4", () -> form.run(blas, g, a, N - 1, b, N, c, N), c);
    rejects("item 0: ldb must be >= 4", () -> form.run(blas, g, a, N, b, N - 1, c, N), c);
    rejects("item 0: ldc must be >= 4", () -> form.run(blas, g, a, N, b, N, c, N - 1), c);

    // an item too short, by length or by offset
    Operand[] cShort = c.clone();
    float[] shortC = new float[N * N - 1];
    Arrays.fill(shortC, 7);
    cShort[3] = Operand.of(shortC);
    rejects("c[3] holds 15 elements but the call needs 16", () -> form.run(blas, g, a, N, b,
        N, cShort, N), cShort);
    Operand[] aShort = a.clone();
    aShort[1] = Operand.of(new float[N * N], 1);
    rejects("a[1] holds 16 elements but the call needs 17", () -> form.run(blas, g, aShort, N,
        b, N, c, N), c);
    Operand[] bShort = b.clone();
    bShort[2] = Operand.of(new float[N * N - 2]);
    rejects("b[2] holds", () -> form.run(blas, g, a, N, bShort, N, c, N), c);
    // column-major: the names are still the caller's
    rejects("b[2] holds", () -> form.run(blas, g.layout(Layout.COLUMN_MAJOR), a, N, bShort, N,
        c, N), c);

    // element types: within an item, and across items
    Operand[] aMixed = a.clone();
    aMixed[1] = Operand.of(new double[N * N]);
    rejects("item 1: a, b and c must have one element type",
        () -> form.run(blas, g, aMixed, N, b, N, c, N), c);
    Operand[] a64 = a.clone();
    Operand[] b64 = b.clone();
    Operand[] c64 = c.clone();
    a64[2] = Operand.of(new double[N * N]);
    b64[2] = Operand.of(new double[N * N]);
    c64[2] = Operand.of(new double[N * N]);
    rejects("a[2] holds FLOAT64 but a[0] holds FLOAT32",
        () -> form.run(blas, g, a64, N, b64, N, c64, N), c64);
    rejects("precision FP64", () -> form.run(blas, g.precision(Precision.FP64), a, N, b, N, c,
        N), c);

    // C sharing storage with an A or B: of its own item, and of another item
    Operand[] cSelf = c.clone();
    cSelf[3] = Operand.of((float[]) a[3].storage());
    rejects("c[3] must not share storage with a[3] or b[3]",
        () -> form.run(blas, g, a, N, b, N, cSelf, N), c);
    Operand[] cOther = c.clone();
    cOther[2] = Operand.of((float[]) a[0].storage());
    rejects("c[2] shares storage with a[0]", () -> form.run(blas, g, a, N, b, N, cOther, N), c);
    Operand[] cOtherB = c.clone();
    cOtherB[1] = Operand.of((float[]) b[3].storage());
    rejects("c[1] shares storage with b[3]",
        () -> form.run(blas, g, a, N, b, N, cOtherB, N), c);

    // overlapping C matrices in one storage (offsets out of order, so sorting matters)
    float[] pool = new float[200];
    Arrays.fill(pool, 7);
    Operand[] cPool = {Operand.of(pool, 100), Operand.of(pool, 0), Operand.of(pool, 50),
        Operand.of(pool, 40)};
    rejects("c[2] (offset 50) and c[3] (offset 40) overlap", () -> form.run(blas, g, a, N, b,
        N, cPool, N), cPool);
    Operand[] cSame = {Operand.of(pool, 0), Operand.of(pool, 20), Operand.of(pool, 60),
        Operand.of(pool, 20)};
    rejects("c[1] (offset 20) and c[3] (offset 20) overlap", () -> form.run(blas, g, a, N, b,
        N, cSame, N), cSame);
    // one element apart from touching: with ldc = 5 a C spans 3·5 + 4 = 19 elements
    Operand[] cTight = {Operand.of(pool, 0), Operand.of(pool, 18), Operand.of(pool, 60),
        Operand.of(pool, 100)};
    rejects("c[0] (offset 0) and c[1] (offset 18) overlap", () -> form.run(blas, g, a, N, b, N,
        cTight, N + 1), cTight);
    // the same offsets with room to spare pass, and fill the four matrices
    Operand[] cFine = {Operand.of(pool, 0), Operand.of(pool, 19), Operand.of(pool, 60),
        Operand.of(pool, 100)};
    form.run(blas, g.scale(1, 0), a, N, b, N, cFine, N + 1);
    assertEquals(4f, pool[0]);
    assertEquals(4f, pool[19 + 3 * 5 + 3]);
    assertEquals(7f, pool[19 + 4], "padding of C untouched");
    assertEquals(7f, pool[59], "between the matrices untouched");
  }

  @ParameterizedTest
  @EnumSource(Form.class)
  void closedStreamAndPlaceMismatchesAreRejected(Form form) {
    Blas blas = core.blas();
    Valid v = new Valid(3);
    Gemm g = v.g();

    HostArray h = core.allocateHost(DType.FLOAT32, N * N, false);
    h.close();
    Operand[] cClosed = v.c().clone();
    cClosed[1] = Operand.of(h, 0);
    rejects("c[1] is closed", () -> form.run(blas, g, v.a(), N, v.b(), N, cClosed, N), v.c());

    try (GpuStream s = FakeGpu.stream(0)) {
      rejects(form == Form.DIRECT ? "item 0: stream is only for device operands"
          : "stream is only for device operands",
          () -> form.run(blas, g, v.a(), N, v.b(), N, v.c(), N, s), v.c());
    }

    // device operands never reach a backend here: every case is rejected by the checks first.
    // The fake arrays (on "GPUs" 0 and 1, whatever the core has) hold 7 and must still do.
    List<DeviceArray> fakes = new ArrayList<>();
    try {
      DeviceArray[] d0 = new DeviceArray[4];
      DeviceArray[] d1 = new DeviceArray[3];
      for (int i = 0; i < d0.length + d1.length; i++) {
        DeviceArray d = FakeGpu.arrayAt(i < d0.length ? 0 : 1, DType.FLOAT32, 64,
            (1L << 20) * (i + 1));
        d.fill(7);
        fakes.add(d);
        if (i < d0.length) {
          d0[i] = d;
        } else {
          d1[i - d0.length] = d;
        }
      }
      // three valid device items on GPU 0: A in d0[0], B in d0[1], C in d0[2]
      Operand[] ad = {Operand.of(d0[0]), Operand.of(d0[0], 16), Operand.of(d0[0], 32)};
      Operand[] bd = {Operand.of(d0[1]), Operand.of(d0[1], 16), Operand.of(d0[1], 32)};
      Operand[] cd = {Operand.of(d0[2]), Operand.of(d0[2], 16), Operand.of(d0[2], 32)};

      Operand[] am = v.a().clone();
      Operand[] bm = v.b().clone();
      Operand[] cm = v.c().clone();
      am[2] = ad[2];
      bm[2] = bd[2];
      cm[2] = cd[2];
      rejects("a[2] is on GPU 0 but a[0] is on the host",
          () -> form.run(blas, g, am, N, bm, N, cm, N), v.c());

      Operand[] a1 = ad.clone();
      Operand[] b1 = bd.clone();
      Operand[] c1 = cd.clone();
      a1[2] = Operand.of(d1[0]);
      b1[2] = Operand.of(d1[1]);
      c1[2] = Operand.of(d1[2]);
      rejects("a[2] is on GPU 1 but a[0] is on GPU 0",
          () -> form.run(blas, g, a1, N, b1, N, c1, N));

      Operand[] cHost = cd.clone();
      cHost[2] = Operand.of(new float[N * N]);
      rejects("item 2: a, b and c must all be on a GPU or all on the host",
          () -> form.run(blas, g, ad, N, bd, N, cHost, N), cHost);

      Operand[] cOverlap = {Operand.of(d0[2]), Operand.of(d0[2], 15), Operand.of(d0[3])};
      rejects("c[0] (offset 0) and c[1] (offset 15) overlap",
          () -> form.run(blas, g, ad, N, bd, N, cOverlap, N));

      Operand[] aOwn = ad.clone();
      aOwn[2] = Operand.of(d0[3]);
      Operand[] cInA = {Operand.of(d0[2]), Operand.of(d0[2], 16), Operand.of(d0[0], 48)};
      rejects("c[2] shares storage with a[0]",
          () -> form.run(blas, g, aOwn, N, bd, N, cInA, N));

      float[] held = new float[64];
      float[] sevens = new float[64];
      Arrays.fill(sevens, 7f);
      for (DeviceArray d : fakes) {
        d.copyTo(held);
        assertArrayEquals(sevens, held, "a fake device array was written");
      }
    } finally {
      for (DeviceArray d : fakes) {
        d.close();
      }
    }
  }

  // ------------------------------------------------------------ prepared batches

  /**
   * {@code count} row-major items C_i (m×n) = A_i (m×k) · B_i (k×n), every matrix of a kind in
   * one pool, item i's at {@code i·slot}.
   */
  private record Pools(int count, int m, int n, int k, int slot) implements GemmShape {
    @Override
    public boolean ta() {
      return false;
    }

    @Override
    public boolean tb() {
      return false;
    }

    int length() {
      return count * slot;
    }

    /** Item i's matrix with {@code cols} columns in {@code pool}. */
    Matrix in(double[] pool, int i, int cols) {
      return (r, c) -> pool[i * slot + r * cols + c];
    }

    double[][] reference(double alpha, double beta, double[] a, double[] b, double[] c) {
      double[][] ref = new double[count][];
      for (int i = 0; i < count; i++) {
        ref[i] = GemmBatchedContract.reference(this, alpha, beta, in(a, i, k), in(b, i, n),
            in(c, i, n));
      }
      return ref;
    }

    Matrix[] got(double[] c) {
      Matrix[] out = new Matrix[count];
      for (int i = 0; i < count; i++) {
        out[i] = in(c, i, n);
      }
      return out;
    }

    List<Placement> cPlaces() {
      List<Placement> out = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        int item = i;
        out.add((r, c) -> (long) item * slot + (long) r * n + c);
      }
      return out;
    }

    Operand[] views(double[] pool) {
      Operand[] o = new Operand[count];
      for (int i = 0; i < count; i++) {
        o[i] = Operand.of(pool, i * slot);
      }
      return o;
    }

    Operand[] views(DeviceArray pool) {
      Operand[] o = new Operand[count];
      for (int i = 0; i < count; i++) {
        o[i] = Operand.of(pool, (long) i * slot);
      }
      return o;
    }
  }

  private static double[] random(SplittableRandom r, int length) {
    double[] x = new double[length];
    for (int i = 0; i < length; i++) {
      x[i] = r.nextDouble() * 2 - 1;
    }
    return x;
  }

  @Test
  void aPreparedBatchRunsAgainAndReadsItsOperandsAtEachRun() {
    // beta = 1: each run adds alpha·A·B to C, with A as it holds at that run
    Pools p = new Pools(6, 5, 4, 3, 24);
    SplittableRandom r = new SplittableRandom(SEED);
    double[] a = random(r, p.length());
    double[] b = random(r, p.length());
    double[] c = random(r, p.length());
    Gemm g = Gemm.of(p.m(), p.n(), p.k()).scale(1.5, 1).precision(Precision.FP64);
    double bound = 1e-13 * Math.sqrt(p.k());
    Operand[] oa = p.views(a);
    Operand[] ob = p.views(b);
    Operand[] oc = p.views(c);
    try (BatchedGemm batch = core.blas().prepareBatched(g, oa, p.k(), ob, p.n(), oc, p.n())) {
      assertEquals(6, batch.size());
      assertEquals(-1, batch.device());
      // the operand arrays are not kept: changing them changes nothing
      Arrays.fill(oa, null);
      for (int run = 0; run < 3; run++) {
        double[] before = c.clone();
        double[][] ref = p.reference(1.5, 1, a, b, before);
        batch.run();
        String ctx = "run " + run + ", seed " + SEED;
        assertItemsMatch(p, ref, p.got(c), bound, bound, ctx);
        assertOutsideUnchanged(p, rawBits(before), rawBits(c), p.cPlaces(), ctx);
        for (int i = 0; i < a.length; i++) {
          a[i] = r.nextDouble() * 2 - 1; // new contents, same storage
        }
      }
    }
  }

  @Test
  void aClosedPreparedBatchThrowsAndWritesNothing() {
    Valid v = new Valid(3);
    BatchedGemm batch = core.blas().prepareBatched(v.g(), v.a(), N, v.b(), N, v.c(), N);
    assertFalse(batch.isClosed());
    batch.close();
    assertTrue(batch.isClosed());
    batch.close(); // again: nothing
    rejects("this BatchedGemm is closed", batch::run, v.c());
    try (GpuStream s = FakeGpu.stream(0)) {
      rejects("this BatchedGemm is closed", () -> batch.run(s), v.c());
    }
  }

  @Test
  void aPreparedBatchWithAClosedHostArrayThrowsNamingItAndWritesNothing() {
    // c[0] and c[2] in Java arrays, c[1] in a host array closed after the preparation: the
    // run computes no item at all, not even c[0]
    Valid v = new Valid(3);
    HostArray h = core.allocateHost(DType.FLOAT32, N * N, false);
    hostArrays.add(h);
    float[] sevens = new float[N * N];
    Arrays.fill(sevens, 7);
    h.put(0, sevens, 0, sevens.length);
    Operand[] c = v.c().clone();
    c[1] = Operand.of(h, 0);
    try (BatchedGemm batch = core.blas().prepareBatched(v.g(), v.a(), N, v.b(), N, c, N)) {
      h.close();
      rejects("c[1] is closed: its HostArray was closed after prepareBatched", batch::run, c);
    }
    // an A in a host array shared by items 1 and 2: named after the first of them
    HostArray ha = core.allocateHost(DType.FLOAT32, 2 * N * N, false);
    hostArrays.add(ha);
    float[] ones = new float[2 * N * N];
    Arrays.fill(ones, 1);
    ha.put(0, ones, 0, ones.length);
    Operand[] a = v.a().clone();
    a[1] = Operand.of(ha, 0);
    a[2] = Operand.of(ha, N * N);
    try (BatchedGemm batch = core.blas().prepareBatched(v.g(), a, N, v.b(), N, v.c(), N)) {
      batch.run(); // C = 1·A·B + C: 7 + 4
      for (Operand o : v.c()) {
        assertEquals(11f, ((float[]) o.storage())[5]);
      }
      ha.close();
      rejects("a[1] is closed", batch::run, v.c());
    }
  }

  @Test
  void emptyPreparedBatchesDoNothing() {
    try (BatchedGemm batch = core.blas().prepareBatched(Gemm.of(3, 3, 3), new Operand[0], 3,
        new Operand[0], 3, new Operand[0], 3)) {
      assertEquals(0, batch.size());
      batch.run();
    }
    float[] c = new float[9];
    Arrays.fill(c, Float.NaN);
    float[] a = new float[9];
    try (BatchedGemm batch = core.blas().prepareBatched(Gemm.of(0, 3, 3),
        new Operand[] {Operand.of(a)}, 3, new Operand[] {Operand.of(a.clone())}, 3,
        new Operand[] {Operand.of(c)}, 3)) {
      batch.run();
      batch.run();
    }
    for (float x : c) {
      assertTrue(Float.isNaN(x), "C of an m = 0 batch written");
    }
  }

  /**
   * A device batch of {@code p}'s items on GPU 0: A and C views into one array each (C in the
   * order of the items), B in an array per item; every array's matrices 16-byte aligned.
   */
  private final class DeviceBatch implements AutoCloseable {
    final Pools p;
    final DType t;
    final DeviceArray a;
    final DeviceArray[] b;
    final DeviceArray c;
    final double[] ha;
    final double[] hb;
    final Operand[] oa;
    final Operand[] ob;
    final Operand[] oc;

    DeviceBatch(Pools p, DType t, SplittableRandom r) {
      this.p = p;
      this.t = t;
      ha = random(r, p.length());
      hb = random(r, p.length());
      a = core.allocate(0, t, p.length());
      c = core.allocate(0, t, p.length());
      b = new DeviceArray[p.count()];
      put(a, ha, 0, p.length());
      oa = p.views(a);
      oc = p.views(c);
      ob = new Operand[p.count()];
      for (int i = 0; i < p.count(); i++) {
        b[i] = core.allocate(0, t, p.slot());
        put(b[i], hb, i * p.slot(), p.slot());
        ob[i] = Operand.of(b[i]);
      }
      // what the GPU holds: the inputs rounded to the storage type
      double[] ra = GpuTests.download(a, p.length());
      System.arraycopy(ra, 0, ha, 0, ra.length);
      for (int i = 0; i < p.count(); i++) {
        double[] rb = GpuTests.download(b[i], p.slot());
        System.arraycopy(rb, 0, hb, i * p.slot(), rb.length);
      }
    }

    private void put(DeviceArray d, double[] x, int from, int count) {
      double[] part = Arrays.copyOfRange(x, from, from + count);
      if (t == DType.FLOAT64) {
        d.copyFrom(part);
      } else {
        float[] f = new float[count];
        for (int i = 0; i < count; i++) {
          f[i] = (float) part[i];
        }
        d.copyFrom(f);
      }
    }

    BatchedGemm prepare(Gemm g) {
      return core.blas().prepareBatched(g, oa, p.k(), ob, p.n(), oc, p.n());
    }

    /** C = A·B of every item, read back, within the bound; the rest of C still NaN. */
    void verify(String ctx) {
      double[] got = GpuTests.download(c, p.length());
      double[] nan = new double[p.length()];
      Arrays.fill(nan, Double.NaN);
      double bound = (t == DType.FLOAT64 ? 1e-13 : 1e-5) * Math.sqrt(p.k());
      assertItemsMatch(p, p.reference(1, 0, ha, hb, nan), p.got(got), bound, bound, ctx);
      assertOutsideUnchanged(p, rawBits(nan), rawBits(got), p.cPlaces(), ctx);
    }

    @Override
    public void close() {
      a.close();
      c.close();
      for (DeviceArray d : b) {
        d.close();
      }
    }
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
  void aPreparedDeviceBatchMatchesFloat64ReferenceAtEveryRun(DType t) {
    assumeTrue(core.hasGpu(), "no GPU in this core: " + core.noGpuReason());
    // 37 items of 7×5×9; slots of 64 elements keep every matrix 16-byte aligned
    Pools p = new Pools(37, 7, 5, 9, 64);
    Gemm g = Gemm.of(p.m(), p.n(), p.k()).precision(
        t == DType.FLOAT64 ? Precision.FP64 : Precision.FP32);
    try (DeviceBatch d = new DeviceBatch(p, t, new SplittableRandom(SEED));
        GpuStream s = core.stream(0)) {
      long before = NativeMemory.liveCount(NativeMemory.Kind.DEVICE);
      try (BatchedGemm batch = d.prepare(g)) {
        assertEquals(0, batch.device());
        assertEquals(37, batch.size());
        d.c.fill(Double.NaN); // beta = 0 never reads C
        batch.run();
        d.verify(t + " run(), seed " + SEED);
        d.c.fill(Double.NaN);
        batch.run(s);
        batch.run(s); // twice queued: the same C
        s.synchronize();
        d.verify(t + " run(stream) twice, seed " + SEED);
      }
      assertEquals(before, NativeMemory.liveCount(NativeMemory.Kind.DEVICE),
          "device memory of the prepared batch released on close");
    }
  }

  @Test
  void aPreparedDeviceBatchRefusesClosedOperandsStreamsAndItself() {
    assumeTrue(core.hasGpu(), "no GPU in this core: " + core.noGpuReason());
    Pools p = new Pools(5, 4, 4, 4, 16);
    Gemm g = Gemm.of(p.m(), p.n(), p.k()).scale(1, 1);
    try (DeviceBatch d = new DeviceBatch(p, DType.FLOAT32, new SplittableRandom(SEED))) {
      d.c.fill(7);
      double[] sevens = GpuTests.download(d.c, p.length());
      BatchedGemm batch = d.prepare(g);
      try {
        try (GpuStream s = core.stream(0)) {
          s.close();
          rejects("stream must be open and on device 0", () -> batch.run(s));
        }
        GpuStream other = FakeGpu.stream(1);
        rejects("stream must be open and on device 0", () -> batch.run(other));
        other.close();
        d.b[3].close(); // B of item 3, an array of its own
        rejects("b[3] is closed: its DeviceArray was closed after prepareBatched", batch::run);
        assertArrayEquals(rawBits(sevens), rawBits(GpuTests.download(d.c, p.length())),
            "C written by a run refused for a closed operand");
      } finally {
        batch.close();
      }
      rejects("this BatchedGemm is closed", batch::run);
      assertArrayEquals(rawBits(sevens), rawBits(GpuTests.download(d.c, p.length())),
          "C written by a closed batch");
    }
  }
}
