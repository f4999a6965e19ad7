package dev.gpucore.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Layout;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.memory.HostArray;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

/**
 * The GEMM property kit every backend's property tests use: the case generator (random shapes
 * from 0 to 70, primes included, both layouts, all transpose pairs, padded leading dimensions,
 * offsets and sub-matrix views, alpha and beta with 0 included, strided batches, fp32 and fp64),
 * where operands live ({@link Store}: Java arrays, host arrays, or a backend's device arrays),
 * the float64 reference with an error bound per element on the |alpha|·|A|·|B| + |beta·C|
 * scale, the check that everything outside the C matrices stays bit-for-bit as it was, and the
 * rejected-argument check ({@link GpuCoreException.InvalidArgument} naming the parameter, C untouched).
 */
public final class GemmProperties {
  private GemmProperties() {}
  // ------------------------------------------------------------------ the case

  /**
   * One GEMM: shape and options, leading-dimension padding, element offsets of A, B and C,
   * whether A is passed as a sub-matrix view (fp32 Java arrays: {@link Operand#view}), batch
   * and extra stride, and the seed of its data.
   */
  public record Case(DType dtype, Precision precision, Layout layout, boolean ta, boolean tb,
      int m, int n, int k, int padA, int padB, int padC, int offA, int offB, int offC,
      boolean viewA, int batch, int extraStride, boolean shareA, double alpha, double beta,
      long seed) implements GemmShape {
    boolean rowMajor() {
      return layout == Layout.ROW_MAJOR;
    }

    public int lda() {
      return Math.max(1, rowMajor() ? aCols() : aRows()) + padA;
    }

    public int ldb() {
      return Math.max(1, rowMajor() ? bCols() : bRows()) + padB;
    }

    public int ldc() {
      return Math.max(1, rowMajor() ? n : m) + padC;
    }

    static long span(Layout l, int rows, int cols, int ld) {
      if (rows == 0 || cols == 0) {
        return 0;
      }
      return l == Layout.ROW_MAJOR ? (long) (rows - 1) * ld + cols : (long) (cols - 1) * ld + rows;
    }

    public long spanA() {
      return span(layout, aRows(), aCols(), lda());
    }

    public long spanB() {
      return span(layout, bRows(), bCols(), ldb());
    }

    public long spanC() {
      return span(layout, m, n, ldc());
    }

    public long strideA() {
      return batch == 1 || shareA ? 0 : spanA() + extraStride;
    }

    public long strideB() {
      return batch == 1 ? 0 : spanB() + extraStride;
    }

    public long strideC() {
      return batch == 1 ? 0 : spanC() + extraStride;
    }

    /** Element count of an operand's storage: offset, the batch, and a little slack. */
    public int lengthA() {
      return (int) (offA + strideA() * (batch - 1) + spanA() + 2);
    }

    public int lengthB() {
      return (int) (offB + strideB() * (batch - 1) + spanB() + 1);
    }

    public int lengthC() {
      return (int) (offC + strideC() * (batch - 1) + spanC() + 3);
    }

    public Gemm gemm() {
      return Gemm.of(m, n, k).layout(layout).transA(ta).transB(tb).scale(alpha, beta)
          .precision(precision).batch(batch, strideA(), strideB(), strideC());
    }

    /** Storage index of element (i, j) of a matrix at {@code off}. */
    static long at(Layout l, long off, int ld, int i, int j) {
      return l == Layout.ROW_MAJOR ? off + (long) i * ld + j : off + i + (long) j * ld;
    }

    /** op(A)(i, p) of batch item q. */
    long idxA(int q, int i, int p) {
      long off = offA + q * strideA();
      return ta ? at(layout, off, lda(), p, i) : at(layout, off, lda(), i, p);
    }

    /** op(B)(p, j) of batch item q. */
    long idxB(int q, int p, int j) {
      long off = offB + q * strideB();
      return tb ? at(layout, off, ldb(), j, p) : at(layout, off, ldb(), p, j);
    }

    long idxC(int q, int i, int j) {
      return at(layout, offC + q * strideC(), ldc(), i, j);
    }

    public boolean scaleOnly() {
      return k == 0 || alpha == 0;
    }
  }

  // ------------------------------------------------------------------ generators

  /** Sizes 0 to 70; jqwik adds the edge cases 0, 1, 2, 69, 70. */
  static Arbitrary<Integer> size() {
    return Arbitraries.frequencyOf(
        Tuple.of(6, Arbitraries.integers().between(0, 70)),
        Tuple.of(2, Arbitraries.of(1, 2, 3, 5, 7, 13, 31, 61, 67)),
        Tuple.of(1, Arbitraries.integers().between(0, 4)));
  }

  static Arbitrary<Double> scalar(boolean isBeta) {
    return Arbitraries.frequencyOf(
        Tuple.of(3, Arbitraries.just(isBeta ? 0.0 : 1.0)),
        Tuple.of(1, Arbitraries.just(isBeta ? 1.0 : 0.0)),
        Tuple.of(1, Arbitraries.of(-1.0, 0.5, -0.75, 2.0)),
        Tuple.of(2, Arbitraries.doubles().between(-2, 2).ofScale(3)));
  }

  /**
   * GEMM cases of the given element types and precisions (the CPU computes every fp32
   * precision in strict fp32; the GPU twin restricts them per property).
   */
  public static Arbitrary<Case> cases(List<DType> dtypes, List<Precision> fp32Precisions) {
    Arbitrary<DType> dt = Arbitraries.of(dtypes);
    Arbitrary<Precision> prec = Arbitraries.of(fp32Precisions);
    Arbitrary<Layout> layout = Arbitraries.of(Layout.class);
    Arbitrary<Boolean> bool = Arbitraries.of(false, true);
    Arbitrary<Integer> pad = Arbitraries.frequencyOf(
        Tuple.of(2, Arbitraries.just(0)),
        Tuple.of(1, Arbitraries.integers().between(1, 9)));
    Arbitrary<Integer> off = Arbitraries.frequencyOf(
        Tuple.of(2, Arbitraries.just(0)),
        Tuple.of(1, Arbitraries.integers().between(1, 7)));
    Arbitrary<Integer> batch = Arbitraries.frequencyOf(
        Tuple.of(3, Arbitraries.just(1)),
        Tuple.of(1, Arbitraries.integers().between(2, 4)));
    Arbitrary<int[]> shape = Combinators.combine(size(), size(), size())
        .as((m, n, k) -> new int[] {m, n, k});
    Arbitrary<int[]> pads = Combinators.combine(pad, pad, pad, off, off, off)
        .as((a, b, c, oa, ob, oc) -> new int[] {a, b, c, oa, ob, oc});
    Arbitrary<Object[]> opts = Combinators.combine(dt, prec, layout, bool, bool, bool, batch,
        Arbitraries.integers().between(0, 3))
        .as((t, p, l, ta, tb, view, bt, extra) -> new Object[] {t, p, l, ta, tb, view, bt, extra});
    return Combinators.combine(shape, pads, opts, bool, scalar(false), scalar(true),
        Arbitraries.longs())
        .as((s, p, o, share, alpha, beta, seed) -> {
          DType t = (DType) o[0];
          Precision pr = t == DType.FLOAT64 ? Precision.FP64 : (Precision) o[1];
          return new Case(t, pr, (Layout) o[2], (Boolean) o[3], (Boolean) o[4], s[0], s[1], s[2],
              p[0], p[1], p[2], p[3], p[4], p[5], (Boolean) o[5], (Integer) o[6], (Integer) o[7],
              share, alpha, beta, seed);
        });
  }

  // ------------------------------------------------------------------ where operands live

  /** Puts values into operands of one kind and reads them back. */
  public interface Store extends AutoCloseable {
    /** An operand holding {@code values} (already representable in {@code t}) from {@code offset}. */
    Operand put(DType t, double[] values, int offset, Case c, String role);

    /** Every element of the operand's storage, as doubles. */
    double[] get(Operand o);

    /** Whether it can hold an operand of no element (off-heap storage holds at least one). */
    default boolean allowsEmpty() {
      return false;
    }

    @Override
    void close();
  }

  /** Java arrays; A as a sub-matrix view when the case asks for one (fp32). */
  public static final class JavaStore implements Store {
    @Override
    public Operand put(DType t, double[] values, int offset, Case c, String role) {
      if (t == DType.FLOAT64) {
        return Operand.of(values.clone(), offset);
      }
      float[] f = new float[values.length];
      for (int i = 0; i < f.length; i++) {
        f[i] = (float) values[i];
      }
      if (role.equals("a") && c.viewA()) {
        // the same offset expressed as (row, col) of the storage: row-major off = r*ld + c
        int ld = c.lda();
        int r = offset / ld;
        int col = offset % ld;
        return c.rowMajor() ? Operand.view(f, Layout.ROW_MAJOR, ld, r, col)
            : Operand.view(f, Layout.COLUMN_MAJOR, ld, col, r);
      }
      return Operand.of(f, offset);
    }

    @Override
    public double[] get(Operand o) {
      Object s = o.storage();
      if (s instanceof double[] d) {
        return d.clone();
      }
      float[] f = (float[]) s;
      double[] d = new double[f.length];
      for (int i = 0; i < f.length; i++) {
        d[i] = f[i];
      }
      return d;
    }

    @Override
    public boolean allowsEmpty() {
      return true;
    }

    @Override
    public void close() {}
  }

  /** Off-heap host arrays, pinned or pageable. */
  public static final class HostStore implements Store {
    private final GpuCore core;
    private final boolean pinned;
    private final List<HostArray> open = new ArrayList<>();

    public HostStore(GpuCore core, boolean pinned) {
      this.core = core;
      this.pinned = pinned;
    }

    @Override
    public Operand put(DType t, double[] values, int offset, Case c, String role) {
      HostArray h = core.allocateHost(t, Math.max(1, values.length), pinned);
      open.add(h);
      for (int i = 0; i < values.length; i++) {
        h.setDouble(i, values[i]);
      }
      return Operand.of(h, offset);
    }

    @Override
    public double[] get(Operand o) {
      HostArray h = (HostArray) o.storage();
      double[] d = new double[(int) h.length()];
      for (int i = 0; i < d.length; i++) {
        d[i] = h.getDouble(i);
      }
      return d;
    }

    @Override
    public void close() {
      open.forEach(HostArray::close);
      open.clear();
    }
  }

  // ------------------------------------------------------------------ data, reference, checks

  static double round(DType t, double v) {
    return t == DType.FLOAT64 ? v : (float) v;
  }

  static double[] random(SplittableRandom r, DType t, int len) {
    double[] x = new double[len];
    for (int i = 0; i < len; i++) {
      x[i] = round(t, 2 * r.nextDouble() - 1);
    }
    return x;
  }

  /**
   * Unit roundoff of a precision's products: inputs rounded to TF32 (10-bit mantissa), BF16
   * (7) or FP16 (10), else none beyond the accumulation.
   */
  public static double inputUnit(Precision p) {
    return switch (p) {
      case TF32, FP16 -> 0x1p-11;
      case BF16 -> 0x1p-8;
      default -> 0;
    };
  }

  /**
   * Runs one case on operands from {@code store} and checks it: C against a float64 reference,
   * within {@code factor·(2·u_in + (k + 2)·u_acc)} (u_in of {@code boundAs}, the precision the
   * backend really computes in) times the element's
   * {@code |alpha|·Σ|a||b| + |beta·c|} (u_acc = 2^-24 for fp32, 2^-53 for fp64), every element
   * outside the C matrices bit-for-bit unchanged, A and B unchanged.
   */
  public static void check(GpuCore core, Store store, Case c, Precision boundAs,
      double factor) {
    String ctx = c.toString();
    DType t = c.dtype();
    SplittableRandom r = new SplittableRandom(c.seed());
    double[] a = random(r, t, c.lengthA());
    double[] b = random(r, t, c.lengthB());
    double[] c0 = random(r, t, c.lengthC()); // also the sentinel outside the C matrices
    boolean[] inC = new boolean[c0.length];
    for (int q = 0; q < c.batch(); q++) {
      for (int i = 0; i < c.m(); i++) {
        for (int j = 0; j < c.n(); j++) {
          int idx = (int) c.idxC(q, i, j);
          inC[idx] = true;
          if (c.beta() == 0) {
            c0[idx] = Double.NaN; // beta = 0: C is never read
          }
        }
      }
    }
    if (c.scaleOnly()) {
      java.util.Arrays.fill(a, Double.NaN); // k = 0 or alpha = 0: A and B are never read
      java.util.Arrays.fill(b, Double.NaN);
    }
    Operand oa = store.put(t, a, c.offA(), c, "a");
    Operand ob = store.put(t, b, c.offB(), c, "b");
    Operand oc = store.put(t, c0, c.offC(), c, "c");
    core.blas().gemm(c.gemm(), oa, c.lda(), ob, c.ldb(), oc, c.ldc());
    double[] got = store.get(oc);
    assertArraysBitwise(a, store.get(oa), "A modified: " + ctx);
    assertArraysBitwise(b, store.get(ob), "B modified: " + ctx);
    double uAcc = t == DType.FLOAT64 ? 0x1p-53 : 0x1p-24;
    double uIn = inputUnit(boundAs);
    for (int idx = 0; idx < c0.length; idx++) {
      if (!inC[idx] && Double.doubleToRawLongBits(got[idx])
          != Double.doubleToRawLongBits(c0[idx])) {
        fail("element " + idx + " outside C changed from " + c0[idx] + " to " + got[idx] + ": "
            + ctx);
      }
    }
    for (int q = 0; q < c.batch(); q++) {
      for (int i = 0; i < c.m(); i++) {
        for (int j = 0; j < c.n(); j++) {
          double s = 0;
          double scale = 0;
          if (!c.scaleOnly()) {
            for (int p = 0; p < c.k(); p++) {
              double x = a[(int) c.idxA(q, i, p)];
              double y = b[(int) c.idxB(q, p, j)];
              s += x * y;
              scale += Math.abs(x * y);
            }
          }
          int idx = (int) c.idxC(q, i, j);
          double prior = c.beta() == 0 ? 0 : c.beta() * c0[idx];
          double want = (c.scaleOnly() ? 0 : c.alpha() * s) + prior;
          scale = Math.abs(c.alpha()) * scale + Math.abs(prior);
          double bound = factor * (2 * uIn + (c.k() + 2) * uAcc) * scale;
          double g = got[idx];
          if (!(Math.abs(g - want) <= bound)) {
            fail("C(" + i + "," + j + ") of item " + q + " = " + g + ", want " + want
                + " (error " + Math.abs(g - want) + " > bound " + bound + "): " + ctx);
          }
        }
      }
    }
  }

  static void assertArraysBitwise(double[] want, double[] got, String msg) {
    assertEquals(want.length, got.length, msg);
    for (int i = 0; i < want.length; i++) {
      if (Double.doubleToRawLongBits(want[i]) != Double.doubleToRawLongBits(got[i])
          && !(Double.isNaN(want[i]) && Double.isNaN(got[i]))) {
        fail(msg + " at " + i + ": " + want[i] + " -> " + got[i]);
      }
    }
  }

  // ------------------------------------------------------------------ invalid arguments

  /** One way to break a valid call, and the parameter the error must name. */
  public enum Breakage {
    NEGATIVE_M("m"), NEGATIVE_N("n"), NEGATIVE_K("k"), LDA_TOO_SMALL("lda"),
    LDB_TOO_SMALL("ldb"), LDC_TOO_SMALL("ldc"), A_TOO_SHORT("a"), B_TOO_SHORT("b"),
    C_TOO_SHORT("c"), OFFSET_PAST_END("offset"), VIEW_NEGATIVE_ROW("row"),
    STRIDE_OVERFLOWS("a"), NEGATIVE_STRIDE("strideC"), ZERO_BATCH("batch"),
    OVERLAPPING_BATCH_C("strideC"), C_IS_A("c must not share"), WRONG_PRECISION("precision"),
    MIXED_TYPES("a, b and c must have one element type");

    /** The start of the message. */
    public final String names;

    Breakage(String names) {
      this.names = names;
    }
  }

  /**
   * Breaks a valid case in one way (where the case allows it) and checks that the call throws
   * InvalidArgument starting with the parameter's name and leaves C bit-for-bit untouched.
   * Returns false when the case cannot be broken that way (the caller discards it).
   */
  public static boolean checkRejected(GpuCore core, Store store, Case c, Breakage how,
      int amount) {
    DType t = c.dtype();
    SplittableRandom r = new SplittableRandom(c.seed());
    double[] a = random(r, t, c.lengthA());
    double[] b = random(r, t, c.lengthB());
    double[] cv = random(r, t, c.lengthC());
    boolean readsAB = !c.scaleOnly() && c.m() > 0 && c.n() > 0;
    int amt = Math.max(1, amount);
    int lda = c.lda();
    int ldb = c.ldb();
    int ldc = c.ldc();
    switch (how) {
      case LDA_TOO_SMALL -> lda = Math.max(1, c.rowMajor() ? c.aCols() : c.aRows()) - amt;
      case LDB_TOO_SMALL -> ldb = Math.max(1, c.rowMajor() ? c.bCols() : c.bRows()) - amt;
      case LDC_TOO_SMALL -> ldc = Math.max(1, c.rowMajor() ? c.n() : c.m()) - amt;
      // one element short of what the call needs (the offset itself stays valid)
      case A_TOO_SHORT, STRIDE_OVERFLOWS -> {
        if (!readsAB) {
          return false;
        }
        if (how == Breakage.A_TOO_SHORT) {
          a = java.util.Arrays.copyOf(a, (int) (c.offA() + c.strideA() * (c.batch() - 1)
              + c.spanA() - 1));
        }
      }
      case B_TOO_SHORT -> {
        if (!readsAB) {
          return false;
        }
        b = java.util.Arrays.copyOf(b, (int) (c.offB() + c.strideB() * (c.batch() - 1)
            + c.spanB() - 1));
      }
      case C_TOO_SHORT -> {
        if (c.spanC() == 0) {
          return false;
        }
        cv = java.util.Arrays.copyOf(cv, (int) (c.offC() + c.strideC() * (c.batch() - 1)
            + c.spanC() - 1));
      }
      case OVERLAPPING_BATCH_C -> {
        if (c.spanC() == 0 || c.batch() == 1) {
          return false;
        }
      }
      default -> { }
    }
    if (!store.allowsEmpty() && (a.length == 0 || b.length == 0 || cv.length == 0)) {
      return false;
    }
    double[] av = a;
    double[] bv = b;
    double[] cBefore = cv.clone();
    double[] cData = cv;
    int fLda = lda;
    int fLdb = ldb;
    int fLdc = ldc;
    Operand[] ops = new Operand[3];
    GpuCoreException.InvalidArgument e = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> {
          Gemm g = switch (how) {
            case NEGATIVE_M -> Gemm.of(-amt, c.n(), c.k());
            case NEGATIVE_N -> Gemm.of(c.m(), -amt, c.k());
            case NEGATIVE_K -> Gemm.of(c.m(), c.n(), -amt);
            case NEGATIVE_STRIDE -> c.gemm().batch(c.batch(), c.strideA(), c.strideB(), -amt);
            case ZERO_BATCH -> c.gemm().batch(1 - amt, 0, 0, 0);
            // A's extent overflows 64 bits (B shared across the batch, so it still fits)
            case STRIDE_OVERFLOWS -> c.gemm().batch(3, Long.MAX_VALUE / 2 + amt, 0,
                c.strideC());
            case OVERLAPPING_BATCH_C -> c.gemm().batch(c.batch(), c.strideA(), c.strideB(),
                Math.max(0, c.spanC() - amt));
            case WRONG_PRECISION -> c.gemm().precision(
                t == DType.FLOAT64 ? Precision.TF32 : Precision.FP64);
            default -> c.gemm();
          };
          ops[2] = store.put(t, cData, c.offC(), c, "c");
          ops[0] = switch (how) {
            case C_IS_A -> ops[2];
            case VIEW_NEGATIVE_ROW -> Operand.view(new float[av.length], c.layout(), fLda, -amt, 0);
            case OFFSET_PAST_END -> offsetPastEnd(store.put(t, av, 0, c, "a"), amt);
            default -> store.put(t, av, c.offA(), c, "a");
          };
          ops[1] = store.put(how == Breakage.MIXED_TYPES
              ? (t == DType.FLOAT64 ? DType.FLOAT32 : DType.FLOAT64) : t, bv, c.offB(), c, "b");
          core.blas().gemm(g, ops[0], fLda, ops[1], fLdb, ops[2], fLdc);
        }, how + " " + c);
    assertTrue(e.getMessage().startsWith(how.names),
        how + ": \"" + e.getMessage() + "\" should start with \"" + how.names + "\": " + c);
    if (ops[2] != null) {
      assertArraysBitwise(cBefore, store.get(ops[2]), "C changed by a rejected call: " + how);
    }
    return true;
  }

  /** An operand of the same storage whose offset lies {@code amt} past its end. */
  static Operand offsetPastEnd(Operand o, int amt) {
    Object s = o.storage();
    if (s instanceof float[] f) {
      return Operand.of(f, f.length + amt);
    }
    if (s instanceof double[] d) {
      return Operand.of(d, d.length + amt);
    }
    if (s instanceof HostArray h) {
      return Operand.of(h, h.length() + amt);
    }
    return Operand.of((dev.gpucore.memory.DeviceArray) s, o.capacity() + amt);
  }
}
