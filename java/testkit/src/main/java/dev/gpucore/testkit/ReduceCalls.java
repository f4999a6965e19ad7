package dev.gpucore.testkit;

import dev.gpucore.memory.HostArray;
import dev.gpucore.reduce.Accumulation;
import dev.gpucore.reduce.Matrix;
import dev.gpucore.reduce.Reduce;
import dev.gpucore.reduce.ReduceOp;

/**
 * One call of the host-side {@link Reduce} API whichever storage the data is in: {@code float[]},
 * {@code double[]} or {@link HostArray}, {@code y} of the same kind (read only for {@link
 * ReduceOp#DOT}, may be {@code null} otherwise). {@code double[]} data has no accumulation
 * argument (it accumulates in fp64), so {@code acc} is not passed for it.
 */
public final class ReduceCalls {
  private ReduceCalls() {}

  /** A reduction (or dot) of {@code count} elements from {@code xo} (and {@code yo}). */
  public static double whole(Reduce red, ReduceOp op, Object x, long xo, Object y, long yo,
      long count, Accumulation acc) {
    boolean dot = op == ReduceOp.DOT;
    if (x instanceof HostArray hx) {
      return dot ? red.dot(hx, xo, (HostArray) y, yo, count, acc)
          : red.reduce(op, hx, xo, count, acc);
    }
    int n = Math.toIntExact(count);
    if (x instanceof float[] fx) {
      return dot ? red.dot(fx, (int) xo, (float[]) y, (int) yo, n, acc)
          : red.reduce(op, fx, (int) xo, n, acc);
    }
    double[] dx = (double[]) x;
    return dot ? red.dot(dx, (int) xo, (double[]) y, (int) yo, n)
        : red.reduce(op, dx, (int) xo, n);
  }

  /**
   * A per-row ({@code perRow}) or per-column reduction (or dot) of {@code shape} stored from
   * {@code xo} (and {@code yo}), into {@code out} from {@code oo}: a {@code double[]} for Java
   * array data, a {@link HostArray} for host array data.
   */
  public static void matrix(Reduce red, ReduceOp op, Object x, long xo, Object y, long yo,
      Matrix shape, boolean perRow, Accumulation acc, Object out, long oo) {
    boolean dot = op == ReduceOp.DOT;
    if (x instanceof HostArray hx) {
      HostArray hy = (HostArray) y;
      HostArray ho = (HostArray) out;
      if (dot && perRow) {
        red.dotPerRow(hx, xo, hy, yo, shape, acc, ho, oo);
      } else if (dot) {
        red.dotPerColumn(hx, xo, hy, yo, shape, acc, ho, oo);
      } else if (perRow) {
        red.perRow(op, hx, xo, shape, acc, ho, oo);
      } else {
        red.perColumn(op, hx, xo, shape, acc, ho, oo);
      }
      return;
    }
    double[] o = (double[]) out;
    int xi = (int) xo;
    int yi = (int) yo;
    int oi = (int) oo;
    if (x instanceof float[] fx) {
      if (dot && perRow) {
        red.dotPerRow(fx, xi, (float[]) y, yi, shape, acc, o, oi);
      } else if (dot) {
        red.dotPerColumn(fx, xi, (float[]) y, yi, shape, acc, o, oi);
      } else if (perRow) {
        red.perRow(op, fx, xi, shape, acc, o, oi);
      } else {
        red.perColumn(op, fx, xi, shape, acc, o, oi);
      }
      return;
    }
    double[] dx = (double[]) x;
    if (dot && perRow) {
      red.dotPerRow(dx, xi, (double[]) y, yi, shape, o, oi);
    } else if (dot) {
      red.dotPerColumn(dx, xi, (double[]) y, yi, shape, o, oi);
    } else if (perRow) {
      red.perRow(op, dx, xi, shape, o, oi);
    } else {
      red.perColumn(op, dx, xi, shape, o, oi);
    }
  }
}
