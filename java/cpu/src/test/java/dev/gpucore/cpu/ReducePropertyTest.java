package dev.gpucore.cpu;

import static dev.gpucore.testkit.ReduceProperties.check;
import static dev.gpucore.testkit.ReduceProperties.data;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Layout;
import dev.gpucore.memory.HostArray;
import dev.gpucore.reduce.Matrix;
import dev.gpucore.reduce.Reduce;
import dev.gpucore.reduce.ReduceOp;
import dev.gpucore.testkit.ReduceCalls;
import dev.gpucore.testkit.ReduceProperties;
import dev.gpucore.testkit.ReduceProperties.Case;
import dev.gpucore.testkit.ReduceProperties.Mode;
import java.util.Arrays;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;


/**
 * Reduction properties on the CPU backend: every op (sum, mean, min, max, argmin, argmax,
 * norm, dot) over a whole range, per row and per column of row- or column-major matrices with
 * padded leading dimensions and offsets, fp32 (both accumulations) and fp64, Java and host
 * arrays, random lengths and shapes, data of five magnitudes with NaN and infinities mixed in,
 * against the float64 reference and the bounds of {@link CpuReduceOpsTest} (those stated on
 * {@link Reduce}). Outputs are poisoned first; every output element outside the result must
 * stay as it was, and empty reductions that are undefined must be rejected.
 */
class ReducePropertyTest {
  static GpuCore core;

  @BeforeContainer
  static void open() {
    core = GpuCore.open(new Config(Config.Backend.CPU, 0));
  }

  @AfterContainer
  static void close() {
    if (core != null) {
      core.close();
    }
  }

  @Provide
  Arbitrary<Case> cases() {
    return ReduceProperties.cases();
  }

  @Property(tries = 300)
  void everyReductionMatchesTheFloat64Reference(@ForAll("cases") Case c) {
    SplittableRandom g = new SplittableRandom(c.seed());
    double[] x = data(g, c, c.offX() + c.extent() + 1, c.kind(), c.specials());
    double[] y = c.op() == ReduceOp.DOT ? data(g, c, c.offY() + c.extent() + 2, 0, 0) : null;
    int outLen = c.offOut() + c.outputs() + 2;
    double[] out0 = new double[outLen];
    Arrays.fill(out0, 12345.678); // outside the results: must stay
    Arrays.fill(out0, c.offOut(), c.offOut() + c.outputs(), Double.NaN); // poison
    int perOutput = c.mode() == Mode.WHOLE ? c.count()
        : c.mode() == Mode.PER_ROW ? c.cols() : c.rows();
    boolean undefined = perOutput == 0 && !c.op().definedOnEmpty() && c.outputs() > 0;
    double[] out = out0.clone();
    try (Io io = new Io(c, x, y, out)) {
      if (undefined) {
        GpuCoreException e = assertThrows(GpuCoreException.InvalidArgument.class,
            () -> io.run(core.reduce()), c.toString());
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
        io.readOut(out);
        assertTrue(Arrays.equals(out0, out), "output changed by a rejected call: " + c);
        return;
      }
      io.run(core.reduce());
      io.readOut(out);
    }
    for (int i = 0; i < outLen; i++) {
      boolean result = i >= c.offOut() && i < c.offOut() + c.outputs();
      if (!result && Double.doubleToRawLongBits(out[i]) != Double.doubleToRawLongBits(out0[i])) {
        fail("out[" + i + "] outside the results changed to " + out[i] + ": " + c);
      }
      if (result) {
        int o = i - c.offOut();
        String err = check(c, x, y, o, out[i], 1);
        if (err != null) {
          fail("output " + o + ": " + err + ": " + c);
        }
      }
    }
  }

  /** The case's call on Java arrays or host arrays; results into {@code out} as doubles. */
  static final class Io implements AutoCloseable {
    final Case c;
    final float[] xf;
    final float[] yf;
    final double[] xd;
    final double[] yd;
    final double[] out;
    HostArray hx;
    HostArray hy;
    HostArray hout;

    Io(Case c, double[] x, double[] y, double[] out) {
      this.c = c;
      this.out = out;
      this.xd = c.fp64() ? x.clone() : null;
      this.yd = c.fp64() && y != null ? y.clone() : null;
      this.xf = c.fp64() ? null : narrow(x);
      this.yf = c.fp64() || y == null ? null : narrow(y);
      if (c.host()) {
        DType t = c.fp64() ? DType.FLOAT64 : DType.FLOAT32;
        hx = host(t, x);
        hy = y == null ? null : host(t, y);
        hout = host(DType.FLOAT64, out);
      }
    }

    static float[] narrow(double[] d) {
      float[] f = new float[d.length];
      for (int i = 0; i < d.length; i++) {
        f[i] = (float) d[i];
      }
      return f;
    }

    HostArray host(DType t, double[] v) {
      HostArray h = core.allocateHost(t, Math.max(1, v.length), false);
      for (int i = 0; i < v.length; i++) {
        h.setDouble(i, v[i]);
      }
      return h;
    }

    void run(Reduce r) {
      Object x = c.host() ? hx : c.fp64() ? xd : xf;
      Object y = c.host() ? hy : c.fp64() ? yd : yf;
      int oo = c.offOut();
      if (c.mode() == Mode.WHOLE) {
        double v = ReduceCalls.whole(r, c.op(), x, c.offX(), y, c.offY(), c.count(), c.acc());
        if (c.host()) {
          hout.setDouble(oo, v);
        } else {
          out[oo] = v;
        }
        return;
      }
      ReduceCalls.matrix(r, c.op(), x, c.offX(), y, c.offY(), c.shape(),
          c.mode() == Mode.PER_ROW, c.acc(), c.host() ? hout : out, oo);
    }

    /** Copies the results (host arrays) into {@code dst}. */
    void readOut(double[] dst) {
      if (hout != null) {
        for (int i = 0; i < dst.length; i++) {
          dst[i] = hout.getDouble(i);
        }
      }
    }

    @Override
    public void close() {
      for (HostArray h : new HostArray[] {hx, hy, hout}) {
        if (h != null) {
          h.close();
        }
      }
    }
  }

  /** Ranges past the end, negative offsets and overflowing shapes name what is wrong. */
  @Property(tries = 200)
  void outOfRangeArgumentsAreRejected(@ForAll("cases") Case c,
      @ForAll @IntRange(min = 1, max = 1 << 20) int by, @ForAll @IntRange(min = 0, max = 3) int how) {
    SplittableRandom g = new SplittableRandom(c.seed());
    double[] x = data(g, c, c.offX() + c.extent(), 0, 0);
    double[] y = data(g, c, c.offY() + c.extent(), 0, 0);
    double[] out0 = new double[c.offOut() + c.outputs()];
    Arrays.fill(out0, 7.5);
    Case bad = switch (how) {
      // x one element (or more) too short: its range ends past the end
      case 0 -> new Case(c.op(), c.fp64(), c.acc(), c.mode(), c.layout(), c.rows(), c.cols(),
          c.pad(), c.offX() + by, c.offY(), c.offOut(), 0, 0, c.host(), c.seed());
      case 1 -> new Case(c.op(), c.fp64(), c.acc(), c.mode(), c.layout(), c.rows(), c.cols(),
          c.pad(), -by, c.offY(), c.offOut(), 0, 0, c.host(), c.seed());
      case 2 -> new Case(c.op(), c.fp64(), c.acc(), c.mode(), c.layout(), c.rows(), c.cols(),
          c.pad(), c.offX(), c.offY(), c.offOut() + by, 0, 0, c.host(), c.seed());
      default -> c;
    };
    if (how == 3) {
      // a matrix whose extent overflows 64 bits, or a leading dimension too small
      GpuCoreException e = assertThrows(GpuCoreException.InvalidArgument.class,
          () -> new Matrix(Long.MAX_VALUE / (by + 1L) + 2, by + 1L, by + 1L,
              Layout.ROW_MAJOR));
      assertTrue(e.getMessage().contains("overflows"), e.getMessage());
      e = assertThrows(GpuCoreException.InvalidArgument.class,
          () -> Matrix.columnMajor(by + 1L, 3, by));
      assertTrue(e.getMessage().startsWith("ld must be"), e.getMessage());
      return;
    }
    boolean hitsOut = how == 2;
    if (hitsOut && c.mode() != Mode.WHOLE && c.outputs() > 0 || how != 2 && c.extent() > 0
        || how == 1) {
      double[] out = out0.clone();
      try (Io io = new Io(bad, x, y, out)) {
        GpuCoreException e = assertThrows(GpuCoreException.InvalidArgument.class,
            () -> io.run(core.reduce()), bad.toString());
        String want = hitsOut ? "out" : "x";
        assertTrue(e.getMessage().startsWith(want), "\"" + e.getMessage() + "\" should name "
            + want + ": " + bad);
        io.readOut(out);
      }
      assertTrue(Arrays.equals(out0, out), "output changed by a rejected call: " + bad);
    }
  }
}
