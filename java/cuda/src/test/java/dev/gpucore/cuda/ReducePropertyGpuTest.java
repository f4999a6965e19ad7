package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.reduce.Matrix;
import dev.gpucore.reduce.Reduce;
import dev.gpucore.reduce.ReduceOp;
import dev.gpucore.testkit.GpuTests;
import dev.gpucore.testkit.ReduceProperties;
import dev.gpucore.testkit.ReduceProperties.Case;
import dev.gpucore.testkit.ReduceProperties.Mode;
import java.util.Arrays;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.lifecycle.PropagationMode;

/**
 * The reduction properties of {@link ReduceProperties} on device arrays:
 * gpucore's kernels, whole range (result on the host, and into a device output), per row and
 * per column into a poisoned device output, against the same float64 reference and the
 * bounds stated on {@link Reduce}. Skipped with the reason without a GPU, failed under
 * {@code -Dgpucore.requireGpu=true} (the hook of {@link GemmPropertyGpuTest}).
 */
@AddLifecycleHook(value = GemmPropertyGpuTest.NeedsGpu.class,
    propagateTo = PropagationMode.DIRECT_DESCENDANTS)
class ReducePropertyGpuTest {
  static GpuCore core;

  @BeforeContainer
  static void open() {
    core = GemmPropertyGpuTest.gpuCore();
  }

  @AfterContainer
  static void close() {
    GemmPropertyGpuTest.close();
  }

  @Provide
  Arbitrary<Case> cases() {
    return ReduceProperties.cases();
  }

  static DeviceArray upload(DType t, double[] v) {
    DeviceArray d = core.allocate(0, t, Math.max(1, v.length));
    GpuTests.upload(d, v);
    return d;
  }

  @Property(tries = 300)
  void deviceReductionsMatchTheFloat64Reference(@ForAll("cases") Case c) {
    GpuTests.require(core);
    SplittableRandom g = new SplittableRandom(c.seed());
    double[] x = ReduceProperties.data(g, c, c.offX() + c.extent() + 1, c.kind(), c.specials());
    double[] y = c.op() == ReduceOp.DOT
        ? ReduceProperties.data(g, c, c.offY() + c.extent() + 2, 0, 0) : null;
    DType t = c.fp64() ? DType.FLOAT64 : DType.FLOAT32;
    int outLen = c.offOut() + c.outputs() + 2;
    double[] out0 = new double[outLen];
    Arrays.fill(out0, 12345.678);
    Arrays.fill(out0, c.offOut(), c.offOut() + c.outputs(), Double.NaN);
    int perOutput = c.mode() == Mode.WHOLE ? c.count()
        : c.mode() == Mode.PER_ROW ? c.cols() : c.rows();
    boolean undefined = perOutput == 0 && !c.op().definedOnEmpty() && c.outputs() > 0;
    Reduce r = core.reduce();
    try (DeviceArray dx = upload(t, x);
        DeviceArray dy = y == null ? null : upload(t, y);
        DeviceArray dout = upload(DType.FLOAT64, out0)) {
      boolean dot = c.op() == ReduceOp.DOT;
      int oo = c.offOut();
      Runnable call;
      double[] host = new double[1];
      if (c.mode() == Mode.WHOLE) {
        call = () -> {
          if (dot) {
            host[0] = r.dot(dx, c.offX(), dy, c.offY(), c.count(), c.acc(), null);
            r.dot(dx, c.offX(), dy, c.offY(), c.count(), c.acc(), dout, oo, null);
          } else {
            host[0] = r.reduce(c.op(), dx, c.offX(), c.count(), c.acc(), null);
            r.reduce(c.op(), dx, c.offX(), c.count(), c.acc(), dout, oo, null);
          }
        };
      } else {
        Matrix s = c.shape();
        boolean row = c.mode() == Mode.PER_ROW;
        call = () -> {
          if (dot && row) {
            r.dotPerRow(dx, c.offX(), dy, c.offY(), s, c.acc(), dout, oo, null);
          } else if (dot) {
            r.dotPerColumn(dx, c.offX(), dy, c.offY(), s, c.acc(), dout, oo, null);
          } else if (row) {
            r.perRow(c.op(), dx, c.offX(), s, c.acc(), dout, oo, null);
          } else {
            r.perColumn(c.op(), dx, c.offX(), s, c.acc(), dout, oo, null);
          }
        };
      }
      double[] out = new double[outLen];
      if (undefined) {
        assertThrows(GpuCoreException.InvalidArgument.class, call::run, c.toString());
        dout.copyTo(0, out, 0, outLen);
        if (!Arrays.equals(out0, out)) {
          fail("output changed by a rejected call: " + c);
        }
        return;
      }
      call.run();
      dout.copyTo(0, out, 0, outLen);
      for (int i = 0; i < outLen; i++) {
        boolean result = i >= oo && i < oo + c.outputs();
        if (!result && Double.doubleToRawLongBits(out[i]) != Double.doubleToRawLongBits(out0[i])) {
          fail("out[" + i + "] outside the results changed to " + out[i] + ": " + c);
        }
        if (result) {
          String err = ReduceProperties.check(c, x, y, i - oo, out[i], 1);
          if (err != null) {
            fail("output " + (i - oo) + ": " + err + ": " + c);
          }
        }
      }
      if (c.mode() == Mode.WHOLE) {
        String err = ReduceProperties.check(c, x, y, 0, host[0], 1);
        if (err != null) {
          fail("result on the host: " + err + ": " + c);
        }
      }
    }
  }
}
