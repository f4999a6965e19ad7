package dev.gpucore.testkit;

import dev.gpucore.Layout;
import dev.gpucore.reduce.Accumulation;
import dev.gpucore.reduce.Matrix;
import dev.gpucore.reduce.Reduce;
import dev.gpucore.reduce.ReduceOp;
import java.util.Arrays;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

/**
 * The reduction property kit every backend's property tests use: the case generator (every op
 * over a whole range, per row and per column of row- or column-major matrices with padded
 * leading dimensions and offsets, fp32 with both accumulations and fp64, random lengths and
 * shapes, data of five magnitudes with NaN and infinities mixed in) and the check against the
 * float64 reference of {@link ReduceContract} within the bounds stated on {@link Reduce}.
 */
public final class ReduceProperties {
  private ReduceProperties() {}

  /** Over what the reduction runs. */
  public enum Mode { WHOLE, PER_ROW, PER_COLUMN }

  /** One reduction: what, over which shape, where, and the seed of its data. */
  public record Case(ReduceOp op, boolean fp64, Accumulation acc, Mode mode, Layout layout,
      int rows, int cols, int pad, int offX, int offY, int offOut, int kind, int specials,
      boolean host, long seed) {

    public Matrix shape() {
      long inner = layout == Layout.ROW_MAJOR ? cols : rows;
      return new Matrix(rows, cols, Math.max(1, inner) + pad, layout);
    }

    /** Elements reduced by a whole-range case: any length, primes included. */
    public int count() {
      return rows * cols + pad;
    }

    public int extent() {
      return mode == Mode.WHOLE ? count() : (int) shape().span();
    }

    public int outputs() {
      return switch (mode) {
        case WHOLE -> 1;
        case PER_ROW -> rows;
        case PER_COLUMN -> cols;
      };
    }

    public boolean fp32Acc() {
      return !fp64 && acc == Accumulation.INPUT && op.usesAccumulation();
    }
  }

  /** Reduction cases. */
    public static Arbitrary<Case> cases() {
    Arbitrary<Integer> dim = Arbitraries.frequencyOf(
        Tuple.of(5, Arbitraries.integers().between(0, 70)),
        Tuple.of(2, Arbitraries.of(1, 2, 3, 7, 31, 61, 67)),
        Tuple.of(1, Arbitraries.integers().between(0, 3)));
    Arbitrary<Integer> small = Arbitraries.frequencyOf(
        Tuple.of(2, Arbitraries.just(0)),
        Tuple.of(1, Arbitraries.integers().between(1, 9)));
    Arbitrary<Object[]> what = Combinators.combine(Arbitraries.of(ReduceOp.class),
        Arbitraries.of(false, true), Arbitraries.of(Accumulation.class), Arbitraries.of(Mode.class),
        Arbitraries.of(Layout.class), Arbitraries.of(false, true))
        .as((op, f64, acc, mode, l, host) -> new Object[] {op, f64, acc, mode, l, host});
    Arbitrary<int[]> where = Combinators.combine(dim, dim, small, small, small, small,
        Arbitraries.integers().between(0, 4),
        Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.just(0)),
            Tuple.of(1, Arbitraries.integers().between(1, 3))))
        .as((r, c, pad, ox, oy, oo, kind, sp) -> new int[] {r, c, pad, ox, oy, oo, kind, sp});
    return Combinators.combine(what, where, Arbitraries.longs()).as((w, n, seed) -> {
      boolean f64 = (Boolean) w[1];
      Accumulation acc = (Accumulation) w[2];
      ReduceOp op = (ReduceOp) w[0];
      int kind = n[6];
      if (!f64 && acc == Accumulation.INPUT && op.usesAccumulation() && kind >= 2) {
        kind = 0; // fp32 running sums of huge or tiny data over- or underflow by design
      }
      if (op == ReduceOp.DOT && kind >= 2) {
        kind = 1; // products of huge (tiny) values over- (under-)flow by design
      }
      return new Case(op, f64, acc, (Mode) w[3], (Layout) w[4], n[0], n[1], n[2], n[3],
          n[4], n[5], kind, n[7], (Boolean) w[5], seed);
    });
  }

  /** Data of the case's kind, rounded to its type, with NaN or infinities at random places. */
  public static double[] data(SplittableRandom g, Case c, int len, int kind, int specials) {
    double[] x = new double[len];
    if (c.fp64()) {
      x = ReduceContract.randomDoubles(g, len, kind);
    } else {
      x = ReduceContract.widen(ReduceContract.randomFloats(g, len, kind));
    }
    for (int s = 0; s < specials && len > 0; s++) {
      double[] special = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
      x[g.nextInt(len)] = special[g.nextInt(special.length)];
    }
    return x;
  }

  /** Elements of output {@code o} (row or column {@code o}, or the whole range). */
  public static double[] slice(Case c, double[] x, int off, int o) {
    if (c.mode() == Mode.WHOLE) {
      return Arrays.copyOfRange(x, off, off + c.count());
    }
    Matrix s = c.shape();
    boolean row = c.mode() == Mode.PER_ROW;
    int len = row ? c.cols() : c.rows();
    double[] v = new double[len];
    for (int e = 0; e < len; e++) {
      v[e] = x[off + (int) (row ? s.index(o, e) : s.index(e, o))];
    }
    return v;
  }

  /**
   * Checks result {@code got} of output {@code o} against the reference within
   * {@code factor} times the bound stated on {@link Reduce}; returns a message or null.
   */
  public static String check(Case c, double[] x, double[] y, int o, double got, double factor) {
    double[] xs = slice(c, x, c.offX(), o);
    double[] ys = y == null ? null : slice(c, y, c.offY(), o);
    return ReduceContract.check(c.op(), xs, ys, c.fp32Acc(), got, factor);
  }

}
