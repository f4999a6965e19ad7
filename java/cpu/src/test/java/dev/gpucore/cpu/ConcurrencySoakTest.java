package dev.gpucore.cpu;

import static dev.gpucore.testkit.SoakCases.operand;
import static dev.gpucore.testkit.SoakCases.put;
import static dev.gpucore.testkit.SoakCases.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.blas.Decision;
import dev.gpucore.blas.Gemm;
import dev.gpucore.memory.HostArray;
import dev.gpucore.reduce.Accumulation;
import dev.gpucore.reduce.ReduceOp;
import dev.gpucore.testkit.ReduceCalls;
import dev.gpucore.testkit.SoakCases;
import dev.gpucore.testkit.SoakCases.GemmCase;
import dev.gpucore.testkit.SoakCases.MatrixCase;
import dev.gpucore.testkit.SoakCases.VectorCase;
import dev.gpucore.testkit.SoakContract;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Many threads on one CPU core at once: 16 threads x 1000 mixed operations (GEMMs on Java
 * arrays and host arrays with random shapes, layouts, transposes, views and batches;
 * reductions of every kind; host-array allocation, copies and close; router explanations;
 * rejected calls), each checked against a float64 reference with fresh random data and
 * poisoned outputs; a deadline turns a deadlock into a failure with a thread dump; the live
 * native counts come back to where they started. A second run interrupts the threads while
 * they work, and before calls, and checks that every call still completes correctly (gpucore
 * calls are not interruptible: the work finishes and the interrupt flag stays set), that no
 * interrupt is swallowed, and that the core serves right answers afterwards.
 */
class ConcurrencySoakTest extends SoakContract {
  static final int MAX_DIM = 64;

  /** Operation kinds, by weight out of 100 (the rest: rare kinds, see {@link #op}). */
  enum Kind { SGEMM, DGEMM, GEMM, REDUCE_JAVA, REDUCE_HOST, HOST_ARRAY, EXPLAIN, REJECTED,
    NO_GPU, LARGE_GEMM }

  ConcurrencySoakTest() {
    super("cpu", Kind.class, 180, 200);
  }

  @Override
  protected GpuCore open(String route) {
    return GpuCore.open(new Config(Config.Backend.CPU, 0));
  }

  @Override
  protected Worker worker(GpuCore core, String route) {
    return (r, what, interrupts) -> op(core, r, what, interrupts);
  }

  @Test
  void sixteenThreadsOfMixedOperationsOnOneCoreGetRightResultsAndReleaseEverything() {
    soak("cpu", OPS);
  }

  @Test
  void interruptedThreadsGetCompletedCallsKeepTheirFlagAndLeaveTheCoreWorking() {
    interrupted("cpu");
  }

  /** One random operation, checked; {@code what} names it in failures. */
  void op(GpuCore core, SplittableRandom r, String what, boolean interrupts) {
    // in thousandths; LARGE_GEMM 1.5 % (more with interrupts: its parallel copies wait on a pool)
    Kind k = SoakCases.pick(r, Kind.class, 150, 100, 250, 200, 120, 80, 40, 30, 15, 15);
    if (interrupts && r.nextInt(20) == 0) {
      k = Kind.LARGE_GEMM;
    }
    String w = what + " " + k;
    switch (k) {
      case SGEMM -> classicGemm(core, r, DType.FLOAT32, w);
      case DGEMM -> classicGemm(core, r, DType.FLOAT64, w);
      case GEMM -> generalGemm(core, r, w);
      case REDUCE_JAVA -> reduceJava(core, r, w);
      case REDUCE_HOST -> reduceHost(core, r, w);
      case HOST_ARRAY -> hostArray(core, r, w);
      case EXPLAIN -> explain(core, r, w);
      case REJECTED -> rejected(core, r, w);
      case NO_GPU -> noGpu(core, r, w);
      case LARGE_GEMM -> largeGemm(core, r, w);
      default -> throw new IllegalStateException();
    }
    count(k);
  }

  /** blas().sgemm / dgemm on Java arrays (row-major, offsets 0, padded leading dimensions). */
  static void classicGemm(GpuCore core, SplittableRandom r, DType t, String what) {
    GemmCase g = new GemmCase(r, t, true, MAX_DIM);
    if (t == DType.FLOAT32) {
      float[] a = SoakCases.floats(g.a);
      float[] b = SoakCases.floats(g.b);
      float[] c = SoakCases.floats(g.c0);
      core.blas().sgemm(g.ta, g.tb, g.m, g.n, g.k, (float) g.alpha, a, g.lda, b, g.ldb,
          (float) g.beta, c, g.ldc);
      g.check(SoakCases.doubles(c), what);
      GemmCase.checkUnchanged(g.a, SoakCases.doubles(a), what + " A");
      GemmCase.checkUnchanged(g.b, SoakCases.doubles(b), what + " B");
    } else {
      double[] a = g.a.clone();
      double[] b = g.b.clone();
      double[] c = g.c0.clone();
      core.blas().dgemm(g.ta, g.tb, g.m, g.n, g.k, g.alpha, a, g.lda, b, g.ldb, g.beta, c, g.ldc);
      g.check(c, what);
      GemmCase.checkUnchanged(g.a, a, what + " A");
      GemmCase.checkUnchanged(g.b, b, what + " B");
    }
  }

  /** Storage for one operand: a Java array, or a host array (closed by the caller). */
  static Object store(GpuCore core, SplittableRandom r, double[] mirror, DType t) {
    if (r.nextInt(3) == 0) {
      HostArray h = core.allocateHost(t, mirror.length, r.nextBoolean());
      put(h, mirror);
      return h;
    }
    return t == DType.FLOAT32 ? SoakCases.floats(mirror) : mirror.clone();
  }

  /** A GEMM case's A, B and C, each in storage from {@link #store}; closes the host arrays. */
  record Stored(Object a, Object b, Object c) implements AutoCloseable {
    static Stored of(GpuCore core, SplittableRandom r, GemmCase g) {
      return new Stored(store(core, r, g.a, g.dtype), store(core, r, g.b, g.dtype),
          store(core, r, g.c0, g.dtype));
    }

    @Override
    public void close() {
      for (Object s : new Object[] {a, b, c}) {
        if (s instanceof HostArray h) {
          h.close();
        }
      }
    }
  }

  /** blas().gemm with layouts, views, batches, Java arrays and host arrays mixed. */
  static void generalGemm(GpuCore core, SplittableRandom r, String what) {
    DType t = r.nextBoolean() ? DType.FLOAT32 : DType.FLOAT64;
    GemmCase g = new GemmCase(r, t, false, MAX_DIM);
    try (Stored s = Stored.of(core, r, g)) {
      core.blas().gemm(g.gemm(), operand(s.a(), g.offA), g.lda, operand(s.b(), g.offB), g.ldb,
          operand(s.c(), g.offC), g.ldc);
      g.check(read(s.c()), what);
      GemmCase.checkUnchanged(g.a, read(s.a()), what + " A");
      GemmCase.checkUnchanged(g.b, read(s.b()), what + " B");
    }
  }

  /**
   * A GEMM whose A is large enough that the CPU backend copies it to scratch in parallel parts
   * (a fork-join pool the calling thread waits on), with a small result.
   */
  static void largeGemm(GpuCore core, SplittableRandom r, String what) {
    int m = 1024 + r.nextInt(512);
    int k = 512 + r.nextInt(64);
    int n = 1 + r.nextInt(3);
    boolean f32 = r.nextBoolean();
    double[] a = SoakCases.vector(r, m * k, f32);
    double[] b = SoakCases.vector(r, k * n, f32);
    double[] ref = new double[m * n];
    double[] bound = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        double abs = 0;
        for (int p = 0; p < k; p++) {
          double x = a[i * k + p] * b[p * n + j];
          s += x;
          abs += Math.abs(x);
        }
        ref[i * n + j] = s;
        bound[i * n + j] = 2 * (k + 3) * (f32 ? 0x1p-24 : 0x1p-53) * abs;
      }
    }
    double[] c;
    if (f32) {
      float[] cf = new float[m * n];
      java.util.Arrays.fill(cf, Float.NaN);
      core.blas().sgemm(false, false, m, n, k, 1f, SoakCases.floats(a), k, SoakCases.floats(b), n,
          0f, cf, n);
      c = SoakCases.doubles(cf);
    } else {
      c = new double[m * n];
      java.util.Arrays.fill(c, Double.NaN);
      core.blas().dgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n);
    }
    for (int i = 0; i < c.length; i++) {
      if (!(Math.abs(c[i] - ref[i]) <= bound[i])) {
        throw new AssertionError(what + ": m=" + m + " n=" + n + " k=" + k + " f32=" + f32
            + " element " + i + " is " + c[i] + ", expected " + ref[i] + " within " + bound[i]);
      }
    }
  }

  /** Reductions of Java arrays: whole ranges, dots, per row and per column. */
  static void reduceJava(GpuCore core, SplittableRandom r, String what) {
    boolean f32 = r.nextBoolean();
    Accumulation acc = r.nextBoolean() ? Accumulation.FP64 : Accumulation.INPUT;
    boolean f32Acc = SoakCases.f32Acc(f32, acc);
    if (r.nextBoolean()) {
      VectorCase v = SoakCases.vectorCase(r, 4096, true, f32);
      boolean dot = r.nextInt(8) == 0;
      ReduceOp op = dot ? ReduceOp.DOT
          : SoakCases.SINGLE_OPS[r.nextInt(SoakCases.SINGLE_OPS.length)];
      v.check(what + " " + op + " f32=" + f32 + " " + acc, op, f32Acc,
          v.reduceArrays(core.reduce(), op, f32, acc));
      return;
    }
    MatrixCase mc = SoakCases.matrixCase(r, MAX_DIM, f32);
    boolean dot = r.nextInt(8) == 0;
    ReduceOp op = dot ? ReduceOp.DOT : SoakCases.SINGLE_OPS[r.nextInt(SoakCases.SINGLE_OPS.length)];
    double[] out = new double[mc.oo() + mc.outputs() + r.nextInt(3)];
    java.util.Arrays.fill(out, SoakCases.SENTINEL);
    ReduceCalls.matrix(core.reduce(), op, f32 ? SoakCases.floats(mc.x()) : mc.x(), mc.xo(),
        f32 ? SoakCases.floats(mc.y()) : mc.y(), mc.yo(), mc.shape(), mc.perRow(), acc, out,
        mc.oo());
    mc.check(what + " " + op + " " + mc.describe() + " f32=" + f32 + " " + acc, op, f32Acc, false,
        out);
  }


  /** Reductions of host arrays (pageable here): ranges, dots, per row and column. */
  static void reduceHost(GpuCore core, SplittableRandom r, String what) {
    boolean f32 = r.nextBoolean();
    DType t = f32 ? DType.FLOAT32 : DType.FLOAT64;
    Accumulation acc = r.nextBoolean() ? Accumulation.FP64 : Accumulation.INPUT;
    boolean f32Acc = SoakCases.f32Acc(f32, acc);
    boolean dot = r.nextInt(8) == 0;
    ReduceOp op = dot ? ReduceOp.DOT : SoakCases.SINGLE_OPS[r.nextInt(SoakCases.SINGLE_OPS.length)];
    boolean pinned = r.nextBoolean();
    if (r.nextBoolean()) {
      VectorCase v = SoakCases.vectorCase(r, 20000, true, f32);
      try (HostArray hx = core.allocateHost(t, v.x().length, pinned);
          HostArray hy = core.allocateHost(t, v.y().length, pinned)) {
        put(hx, v.x());
        put(hy, v.y());
        v.check(what + " " + op + " f32=" + f32 + " " + acc, op, f32Acc,
            ReduceCalls.whole(core.reduce(), op, hx, v.xo(), hy, v.yo(), v.count(), acc));
      }
      return;
    }
    MatrixCase mc = SoakCases.matrixCase(r, MAX_DIM, f32);
    DType outType = op.isIndex() || r.nextBoolean() ? DType.FLOAT64 : DType.FLOAT32;
    double[] out0 = new double[mc.oo() + mc.outputs() + r.nextInt(3)];
    java.util.Arrays.fill(out0, SoakCases.SENTINEL);
    try (HostArray hx = core.allocateHost(t, mc.x().length, pinned);
        HostArray hy = core.allocateHost(t, mc.y().length, pinned);
        HostArray ho = core.allocateHost(outType, out0.length, pinned)) {
      put(hx, mc.x());
      put(hy, mc.y());
      put(ho, out0);
      ReduceCalls.matrix(core.reduce(), op, hx, mc.xo(), hy, mc.yo(), mc.shape(), mc.perRow(),
          acc, ho, mc.oo());
      mc.check(what + " " + op + " " + mc.describe() + " f32=" + f32 + " " + acc + " out "
          + outType, op, f32Acc, outType == DType.FLOAT32, read(ho));
    }
  }

  /** Host arrays: allocate, copy in and out at offsets, element access, close, use after close. */
  static void hostArray(GpuCore core, SplittableRandom r, String what) {
    boolean f32 = r.nextBoolean();
    DType t = f32 ? DType.FLOAT32 : DType.FLOAT64;
    int len = 1 + r.nextInt(r.nextInt(10) == 0 ? 200_000 : 2000);
    HostArray h = core.allocateHost(t, len, r.nextBoolean());
    try {
      assertEquals(len, h.length(), what);
      assertEquals((long) len * t.bytes(), h.byteSize(), what);
      assertEquals(0.0, h.getDouble(r.nextInt(len)), what + ": a new host array is zeroed");
      int off = r.nextInt(len);
      int count = r.nextInt(len - off + 1);
      int srcOff = r.nextInt(4);
      double[] v = SoakCases.vector(r, srcOff + count, f32);
      double[] back = new double[count];
      if (f32) {
        h.put(off, SoakCases.floats(v), srcOff, count);
        float[] got = new float[count];
        h.get(off, got, 0, count);
        back = SoakCases.doubles(got);
      } else {
        h.put(off, v, srcOff, count);
        h.get(off, back, 0, count);
      }
      for (int i = 0; i < count; i++) {
        if (Double.compare(back[i], v[srcOff + i]) != 0) {
          throw new AssertionError(what + ": element " + (off + i) + " read back " + back[i]
              + ", wrote " + v[srcOff + i]);
        }
      }
      int idx = r.nextInt(len);
      double x = SoakCases.value(r, true);
      h.setDouble(idx, x);
      assertEquals(x, h.getDouble(idx), what + ": setDouble/getDouble");
    } finally {
      h.close();
    }
    assertTrue(h.isClosed(), what);
    h.close(); // idempotent
    assertThrows(GpuCoreException.InvalidArgument.class, () -> h.getDouble(0),
        what + ": use after close is rejected");
  }

  /** The router's explanation for a host call: the CPU, since there is no GPU. */
  static void explain(GpuCore core, SplittableRandom r, String what) {
    GemmCase g = new GemmCase(r, r.nextBoolean() ? DType.FLOAT32 : DType.FLOAT64, false, MAX_DIM);
    try (Stored s = Stored.of(core, r, g)) {
      Decision d = core.blas().explain(g.gemm(), operand(s.a(), g.offA), g.lda,
          operand(s.b(), g.offB), g.ldb, operand(s.c(), g.offC), g.ldc);
      assertFalse(d.gpu(), what + ": " + d);
      assertFalse(d.reason().isBlank(), what + ": s.a() reason");
      GemmCase.checkUnchanged(g.c0, read(s.c()), what + ": explain does not run the call");
    }
  }

  /** A call with a too small leading dimension: rejected, C untouched. */
  static void rejected(GpuCore core, SplittableRandom r, String what) {
    GemmCase g = new GemmCase(r, r.nextBoolean() ? DType.FLOAT32 : DType.FLOAT64, false, MAX_DIM);
    try (Stored s = Stored.of(core, r, g)) {
      Gemm gemm = g.gemm();
      int badLdc = (g.layout == dev.gpucore.Layout.ROW_MAJOR ? g.n : g.m) - 1;
      GpuCoreException.InvalidArgument e = assertThrows(GpuCoreException.InvalidArgument.class,
          () -> core.blas().gemm(gemm, operand(s.a(), g.offA), g.lda, operand(s.b(), g.offB), g.ldb,
              operand(s.c(), g.offC), badLdc), what);
      assertTrue(e.getMessage().contains("ldc"), what + ": " + e.getMessage());
      GemmCase.checkUnchanged(g.c0, read(s.c()), what + ": s.a() rejected call leaves C untouched");
    }
  }

  /** GPU-only calls on a CPU core: DeviceUnavailable, naming why. */
  static void noGpu(GpuCore core, SplittableRandom r, String what) {
    GpuCoreException.DeviceUnavailable e = assertThrows(GpuCoreException.DeviceUnavailable.class,
        () -> {
          if (r.nextBoolean()) {
            core.allocate(0, DType.FLOAT32, 16).close();
          } else {
            core.stream(0).close();
          }
        }, what);
    assertTrue(e.getMessage().contains("No GPU visible"), what + ": " + e.getMessage());
  }
}
