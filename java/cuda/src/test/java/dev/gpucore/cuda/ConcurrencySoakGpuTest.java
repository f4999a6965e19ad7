package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Layout;
import dev.gpucore.blas.Decision;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.HostArray;
import dev.gpucore.reduce.Accumulation;
import dev.gpucore.reduce.ReduceOp;
import dev.gpucore.testkit.GpuTests;
import dev.gpucore.testkit.ReduceCalls;
import dev.gpucore.testkit.RequiresGpu;
import dev.gpucore.testkit.SoakCases;
import dev.gpucore.testkit.SoakCases.GemmCase;
import dev.gpucore.testkit.SoakCases.MatrixCase;
import dev.gpucore.testkit.SoakCases.VectorCase;
import dev.gpucore.testkit.SoakContract;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Many threads on one core with a GPU: 16 threads, each with its own stream, device arrays and
 * pinned host arrays, run mixed operations at once — device GEMMs (fp32, fp64; layouts,
 * transposes, views, batches) synchronous and queued on the thread's stream (or a fresh one)
 * between asynchronous copies; host-operand GEMMs with the router forced to the GPU
 * ({@code gpucore.gemm.route=gpu}) or deciding ({@code auto}); reductions of every kind on
 * device arrays (to the host, into device arrays, per row and column, with and without a
 * stream) and on host data; device and pinned arrays allocated, copied, copied device to
 * device, filled and closed; large staged copies; router explanations; rejected calls. Every
 * result against a float64 reference, fresh random data, outputs poisoned. A deadline turns a
 * deadlock into a failure with a thread dump; device, pinned and pageable bytes come back to
 * where they started once the threads closed what they hold, and every count (streams and
 * handles included) once the core is closed. A second test interrupts the threads during and
 * before calls: every call must still complete with the right result (gpucore calls are not
 * interruptible), no interrupt may be swallowed, and the core must give right answers after.
 *
 * <p>{@code -Dgpucore.soak.ops=N} sets the operations per thread (1000),
 * {@code -Dgpucore.soak.seed} replays a run, {@code -Dgpucore.soak.deadlineS} the deadline.
 */
@RequiresGpu
class ConcurrencySoakGpuTest extends SoakContract {
  static final int MAX_DIM = 64;
  /** Elements of each per-thread device and pinned array (the largest GEMM case needs 12.9k). */
  static final int CAP = 16384;

  enum Kind { DEVICE_GEMM, STREAM_GEMM, HOST_GEMM, CLASSIC_GEMM, DEVICE_REDUCE, HOST_REDUCE,
    DEVICE_ARRAY, PINNED_ARRAY, LARGE_COPY, EXPLAIN, REJECTED }

  ConcurrencySoakGpuTest() {
    super("gpu", Kind.class, 240, 300);
  }

  @Override
  protected GpuCore open(String route) {
    return GpuTests.openGpu("gpucore.gemm.route=" + route, "gpucore.gemm.panelMiB=1");
  }

  @Override
  protected Worker worker(GpuCore core, String route) {
    Kit kit = new Kit(core);
    return new Worker() {
      @Override
      public void op(SplittableRandom r, String what, boolean interrupts) {
        ConcurrencySoakGpuTest.this.op(core, kit, route, r, what);
      }

      @Override
      public void close() {
        kit.close();
      }
    };
  }

  /**
   * First uses load cuBLAS and the reduction kernels' library: done before the interrupts, so
   * the run tests interrupts during work (a load on an interrupted thread is its own issue).
   */
  @Override
  protected void warmUp(GpuCore core) {
    try (Kit kit = new Kit(core)) {
      SplittableRandom r = new SplittableRandom(SEED);
      deviceGemm(core, kit, r, "warm-up fp32", DType.FLOAT32, false);
      deviceGemm(core, kit, r, "warm-up fp64", DType.FLOAT64, true);
      deviceReduce(core, kit, r, "warm-up reduce");
      hostGemm(core, kit, "gpu", r, "warm-up host gemm");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"gpu", "auto"})
  void sixteenThreadsOfMixedOperationsOnOneGpuCoreGetRightResultsAndReleaseEverything(
      String route) {
    soak(route, route.equals("gpu") ? OPS : Math.max(50, OPS / 2));
  }

  @Test
  void interruptedThreadsGetCompletedCallsKeepTheirFlagAndLeaveTheGpuCoreWorking() {
    interrupted("gpu");
  }

  /** What one thread holds for the whole run: a stream, device and pinned arrays per type. */
  static final class Kit implements AutoCloseable {
    final GpuStream stream;
    /** Index 0: FLOAT32, 1: FLOAT64. */
    final DeviceArray[] a = new DeviceArray[2];
    final DeviceArray[] b = new DeviceArray[2];
    final DeviceArray[] c = new DeviceArray[2];
    final HostArray[] ha = new HostArray[2];
    final HostArray[] hb = new HostArray[2];
    final HostArray[] hc = new HostArray[2];
    private final List<AutoCloseable> all = new ArrayList<>();

    Kit(GpuCore core) {
      try {
        stream = keep(core.stream(0));
        for (int i = 0; i < 2; i++) {
          DType t = i == 0 ? DType.FLOAT32 : DType.FLOAT64;
          a[i] = keep(core.allocate(0, t, CAP));
          b[i] = keep(core.allocate(0, t, CAP));
          c[i] = keep(core.allocate(0, t, CAP));
          ha[i] = keep(core.allocateHost(t, CAP, true));
          hb[i] = keep(core.allocateHost(t, CAP, true));
          hc[i] = keep(core.allocateHost(t, CAP, true));
          assertTrue(ha[i].isPinned(), "pinned host arrays with a GPU");
        }
      } catch (RuntimeException | Error e) {
        close();
        throw e;
      }
    }

    private <T extends AutoCloseable> T keep(T r) {
      all.add(r);
      return r;
    }

    @Override
    public void close() {
      for (AutoCloseable r : all) {
        try {
          r.close();
        } catch (Exception e) {
          throw new AssertionError("closing " + r, e);
        }
      }
    }
  }

  static int ti(DType t) {
    return t == DType.FLOAT32 ? 0 : 1;
  }

  static DType randomType(SplittableRandom r) {
    return r.nextBoolean() ? DType.FLOAT32 : DType.FLOAT64;
  }

  /** Copies a mirror to the start of a device array (synchronous, staged). */
  static void upload(DeviceArray d, double[] m) {
    GpuTests.upload(d, m);
  }

  /** Reads the first {@code n} elements of a device array. */
  static double[] download(DeviceArray d, int n) {
    return GpuTests.download(d, n);
  }

  /** Reads the first {@code n} elements of a host array or a Java array. */
  static double[] read(Object s, int n) {
    if (s instanceof HostArray h) {
      if (h.dtype() == DType.FLOAT32) {
        float[] f = new float[n];
        h.get(0, f, 0, n);
        return SoakCases.doubles(f);
      }
      double[] x = new double[n];
      h.get(0, x, 0, n);
      return x;
    }
    return java.util.Arrays.copyOf(SoakCases.read(s), n);
  }

  /** One random operation, checked; {@code what} names it in failures. */
  void op(GpuCore core, Kit kit, String route, SplittableRandom r, String what) {
    // in thousandths, in Kind's order
    Kind k = SoakCases.pick(r, Kind.class, 180, 120, 170, 50, 160, 80, 100, 50, 15, 40, 35);
    String w = what + " " + k;
    switch (k) {
      case DEVICE_GEMM -> deviceGemm(core, kit, r, w, randomType(r), false);
      case STREAM_GEMM -> deviceGemm(core, kit, r, w, randomType(r), true);
      case HOST_GEMM -> hostGemm(core, kit, route, r, w);
      case CLASSIC_GEMM -> classicGemm(core, r, w);
      case DEVICE_REDUCE -> deviceReduce(core, kit, r, w);
      case HOST_REDUCE -> hostReduce(core, kit, r, w);
      case DEVICE_ARRAY -> deviceArray(core, kit, r, w);
      case PINNED_ARRAY -> pinnedArray(core, kit, r, w);
      case LARGE_COPY -> largeCopy(core, r, w);
      case EXPLAIN -> explain(core, kit, route, r, w);
      case REJECTED -> rejected(core, kit, r, w);
      default -> throw new IllegalStateException();
    }
    count(k);
  }

  /**
   * A GEMM on the thread's device arrays: synchronous with Java-array copies, or queued on a
   * stream (the thread's, or a fresh one) between asynchronous copies from and to pinned
   * arrays, then synchronized.
   */
  static void deviceGemm(GpuCore core, Kit kit, SplittableRandom r, String what, DType t,
      boolean onStream) {
    GemmCase g = new GemmCase(r, t, false, MAX_DIM);
    int i = ti(t);
    DeviceArray da = kit.a[i];
    DeviceArray db = kit.b[i];
    DeviceArray dc = kit.c[i];
    if (!onStream) {
      upload(da, g.a);
      upload(db, g.b);
      upload(dc, g.c0);
      core.blas().gemm(g.gemm(), Operand.of(da, g.offA), g.lda, Operand.of(db, g.offB), g.ldb,
          Operand.of(dc, g.offC), g.ldc);
      g.check(download(dc, g.c0.length), what);
      return;
    }
    GpuStream fresh = r.nextInt(8) == 0 ? core.stream(0) : null;
    GpuStream s = fresh != null ? fresh : kit.stream;
    try {
      SoakCases.put(kit.ha[i], g.a);
      SoakCases.put(kit.hb[i], g.b);
      SoakCases.put(kit.hc[i], g.c0);
      da.copyFromAsync(kit.ha[i], 0, 0, g.a.length, s);
      db.copyFromAsync(kit.hb[i], 0, 0, g.b.length, s);
      dc.copyFromAsync(kit.hc[i], 0, 0, g.c0.length, s);
      core.blas().gemm(g.gemm(), Operand.of(da, g.offA), g.lda, Operand.of(db, g.offB), g.ldb,
          Operand.of(dc, g.offC), g.ldc, s);
      // C comes down into A's pinned array (ordered after A went up from it on this stream):
      // if the copy did not happen, A's values are read and the check fails
      dc.copyToAsync(0, kit.ha[i], 0, g.c0.length, s);
      s.synchronize();
      g.check(read(kit.ha[i], g.c0.length), what + (fresh != null ? " (fresh stream)" : ""));
    } finally {
      if (fresh != null) {
        fresh.close();
      }
    }
  }

  /** Storage for a host operand: a Java array, the thread's pinned array, or a fresh host array. */
  static Object hostStorage(GpuCore core, HostArray mine, SplittableRandom r, double[] m,
      DType t, List<HostArray> fresh) {
    int p = r.nextInt(20);
    if (p < 10) {
      return t == DType.FLOAT32 ? SoakCases.floats(m) : m.clone();
    }
    HostArray h;
    if (p < 15) {
      h = mine;
    } else {
      h = core.allocateHost(t, Math.max(1, m.length), p < 18);
      fresh.add(h);
    }
    if (m.length > 0) {
      SoakCases.put(h, m);
    }
    return h;
  }

  /** A GEMM on host operands (Java arrays and host arrays mixed), where the router sends it. */
  static void hostGemm(GpuCore core, Kit kit, String route, SplittableRandom r, String what) {
    DType t = randomType(r);
    int i = ti(t);
    GemmCase g = new GemmCase(r, t, false, MAX_DIM);
    List<HostArray> fresh = new ArrayList<>();
    try {
      Object a = hostStorage(core, kit.ha[i], r, g.a, t, fresh);
      Object b = hostStorage(core, kit.hb[i], r, g.b, t, fresh);
      Object c = hostStorage(core, kit.hc[i], r, g.c0, t, fresh);
      Operand oa = SoakCases.operand(a, g.offA);
      Operand ob = SoakCases.operand(b, g.offB);
      Operand oc = SoakCases.operand(c, g.offC);
      if (route.equals("gpu")) {
        Decision d = core.blas().explain(g.gemm(), oa, g.lda, ob, g.ldb, oc, g.ldc);
        assertTrue(d.gpu(), what + ": gpucore.gemm.route=gpu sends host GEMMs to the GPU: " + d);
      }
      core.blas().gemm(g.gemm(), oa, g.lda, ob, g.ldb, oc, g.ldc);
      g.check(read(c, g.c0.length), what + " [storage " + kind(a) + "/" + kind(b) + "/"
          + kind(c) + "]");
      GemmCase.checkUnchanged(g.a, read(a, g.a.length), what + " A");
      GemmCase.checkUnchanged(g.b, read(b, g.b.length), what + " B");
    } finally {
      fresh.forEach(HostArray::close);
    }
  }

  static String kind(Object s) {
    return s instanceof HostArray h ? (h.isPinned() ? "pinned" : "pageable") : "java";
  }

  /** blas().sgemm / dgemm on Java arrays, where the router sends them. */
  static void classicGemm(GpuCore core, SplittableRandom r, String what) {
    DType t = randomType(r);
    GemmCase g = new GemmCase(r, t, true, MAX_DIM);
    if (t == DType.FLOAT32) {
      float[] c = SoakCases.floats(g.c0);
      core.blas().sgemm(g.ta, g.tb, g.m, g.n, g.k, (float) g.alpha, SoakCases.floats(g.a), g.lda,
          SoakCases.floats(g.b), g.ldb, (float) g.beta, c, g.ldc);
      g.check(SoakCases.doubles(c), what);
    } else {
      double[] c = g.c0.clone();
      core.blas().dgemm(g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.a.clone(), g.lda, g.b.clone(), g.ldb,
          g.beta, c, g.ldc);
      g.check(c, what);
    }
  }

  /**
   * Reductions of device arrays: a value to the host, a value into a device array, per row or
   * per column into a device array; on the thread's stream or an internal one.
   */
  static void deviceReduce(GpuCore core, Kit kit, SplittableRandom r, String what) {
    DType t = randomType(r);
    boolean f32 = t == DType.FLOAT32;
    int i = ti(t);
    Accumulation acc = r.nextBoolean() ? Accumulation.FP64 : Accumulation.INPUT;
    boolean f32Acc = SoakCases.f32Acc(f32, acc);
    boolean dot = r.nextInt(8) == 0;
    ReduceOp op = dot ? ReduceOp.DOT : SoakCases.SINGLE_OPS[r.nextInt(SoakCases.SINGLE_OPS.length)];
    GpuStream s = r.nextBoolean() ? kit.stream : null;
    DeviceArray dx = kit.a[i];
    DeviceArray dy = kit.b[i];
    DType outType = op.isIndex() || r.nextBoolean() ? DType.FLOAT64 : DType.FLOAT32;
    DeviceArray out = kit.c[ti(outType)];
    var red = core.reduce();
    int mode = r.nextInt(3);
    String w = what + " " + op + " " + t + " " + acc + (s != null ? " on a stream" : "");
    if (mode < 2) {
      VectorCase v = SoakCases.vectorCase(r, 8192, false, f32);
      upload(dx, v.x());
      upload(dy, v.y());
      if (mode == 0) {
        v.check(w, op, f32Acc, dot ? red.dot(dx, v.xo(), dy, v.yo(), v.count(), acc, s)
            : red.reduce(op, dx, v.xo(), v.count(), acc, s));
        return;
      }
      int oo = r.nextInt(4);
      double[] poison = new double[oo + 3];
      java.util.Arrays.fill(poison, SoakCases.SENTINEL);
      upload(out, poison);
      if (dot) {
        red.dot(dx, v.xo(), dy, v.yo(), v.count(), acc, out, oo, s);
      } else {
        red.reduce(op, dx, v.xo(), v.count(), acc, out, oo, s);
      }
      if (s != null) {
        s.synchronize();
      }
      double[] got = download(out, poison.length);
      for (int o = 0; o < got.length; o++) {
        if (o == oo) {
          SoakCases.checkValue(w + " into " + outType + " n=" + v.count(), got[o],
              v.reference(op, f32Acc, outType == DType.FLOAT32));
        } else if (Double.compare(got[o], SoakCases.SENTINEL) != 0) {
          throw new AssertionError(w + ": out[" + o + "] beside the result changed to " + got[o]);
        }
      }
      return;
    }
    MatrixCase mc = SoakCases.matrixCase(r, MAX_DIM, f32);
    double[] poison = new double[mc.oo() + mc.outputs() + 2];
    java.util.Arrays.fill(poison, SoakCases.SENTINEL);
    upload(dx, mc.x());
    upload(dy, mc.y());
    upload(out, poison);
    if (dot) {
      if (mc.perRow()) {
        red.dotPerRow(dx, mc.xo(), dy, mc.yo(), mc.shape(), acc, out, mc.oo(), s);
      } else {
        red.dotPerColumn(dx, mc.xo(), dy, mc.yo(), mc.shape(), acc, out, mc.oo(), s);
      }
    } else if (mc.perRow()) {
      red.perRow(op, dx, mc.xo(), mc.shape(), acc, out, mc.oo(), s);
    } else {
      red.perColumn(op, dx, mc.xo(), mc.shape(), acc, out, mc.oo(), s);
    }
    if (s != null) {
      s.synchronize();
    }
    mc.check(w + " " + mc.describe() + " into " + outType, op, f32Acc, outType == DType.FLOAT32,
        download(out, poison.length));
  }

  /** Reductions of host data (Java arrays, the thread's pinned arrays): on the CPU. */
  static void hostReduce(GpuCore core, Kit kit, SplittableRandom r, String what) {
    DType t = randomType(r);
    boolean f32 = t == DType.FLOAT32;
    int i = ti(t);
    Accumulation acc = r.nextBoolean() ? Accumulation.FP64 : Accumulation.INPUT;
    boolean dot = r.nextInt(8) == 0;
    ReduceOp op = dot ? ReduceOp.DOT : SoakCases.SINGLE_OPS[r.nextInt(SoakCases.SINGLE_OPS.length)];
    VectorCase v = SoakCases.vectorCase(r, 8192, false, f32);
    double got;
    if (r.nextBoolean()) {
      SoakCases.put(kit.ha[i], v.x());
      SoakCases.put(kit.hb[i], v.y());
      got = ReduceCalls.whole(core.reduce(), op, kit.ha[i], v.xo(), kit.hb[i], v.yo(), v.count(),
          acc);
    } else {
      got = v.reduceArrays(core.reduce(), op, f32, acc);
    }
    v.check(what + " " + op + " " + t + " " + acc, op, SoakCases.f32Acc(f32, acc), got);
  }

  /**
   * Device arrays: allocate, fill, copy in at an offset, copy device to device (on a stream or
   * not), read back, close, use after close.
   */
  static void deviceArray(GpuCore core, Kit kit, SplittableRandom r, String what) {
    DType t = randomType(r);
    boolean f32 = t == DType.FLOAT32;
    int len = 1 + r.nextInt(r.nextInt(8) == 0 ? 200_000 : 5000);
    DeviceArray d = core.allocate(0, t, len);
    try {
      assertEquals(len, d.length(), what);
      assertEquals((long) len * t.bytes(), d.byteSize(), what);
      d.fill(SoakCases.SENTINEL);
      int off = r.nextInt(len);
      int count = r.nextInt(len - off + 1);
      int srcOff = r.nextInt(4);
      double[] v = SoakCases.vector(r, srcOff + count, f32);
      if (f32) {
        d.copyFrom(SoakCases.floats(v), srcOff, off, count);
      } else {
        d.copyFrom(v, srcOff, off, count);
      }
      double[] want = new double[len];
      java.util.Arrays.fill(want, SoakCases.SENTINEL);
      System.arraycopy(v, srcOff, want, off, count);
      DeviceArray from = d;
      DeviceArray d2 = null;
      if (r.nextBoolean()) {
        d2 = core.allocate(0, t, len);
        GpuStream s = r.nextBoolean() ? kit.stream : null;
        d2.copyFrom(d, 0, 0, len, s);
        if (s != null) {
          s.synchronize();
        }
        from = d2;
      }
      try {
        double[] got = download(from, len);
        for (int e = 0; e < len; e++) {
          if (Double.compare(got[e], want[e]) != 0) {
            throw new AssertionError(what + ": element " + e + " of " + len + " is " + got[e]
                + ", expected " + want[e] + " (copied " + count + " at " + off
                + (d2 != null ? ", then device to device" : "") + ")");
          }
        }
      } finally {
        if (d2 != null) {
          d2.close();
        }
      }
    } finally {
      d.close();
    }
    assertTrue(d.isClosed(), what);
    d.close(); // idempotent
    assertThrows(GpuCoreException.InvalidArgument.class, () -> d.copyTo(new double[1]),
        what + ": use after close is rejected");
  }

  /** A fresh pinned array: filled, copied up and down asynchronously on a stream, closed. */
  static void pinnedArray(GpuCore core, Kit kit, SplittableRandom r, String what) {
    DType t = randomType(r);
    int i = ti(t);
    int len = 1 + r.nextInt(CAP);
    double[] v = SoakCases.vector(r, len, t == DType.FLOAT32);
    try (HostArray h = core.allocateHost(t, len, true)) {
      assertTrue(h.isPinned(), what);
      assertEquals(0.0, h.getDouble(r.nextInt(len)), what + ": a new host array is zeroed");
      SoakCases.put(h, v);
      GpuStream s = kit.stream;
      kit.a[i].copyFromAsync(h, 0, 0, len, s);
      kit.b[i].copyFrom(kit.a[i], 0, 0, len, s);
      kit.b[i].copyToAsync(0, kit.hc[i], 0, len, s);
      s.synchronize();
      GemmCase.checkUnchanged(v, read(kit.hc[i], len), what + ": pinned -> device -> device ->"
          + " pinned");
    }
  }

  /** A copy of several staging chunks each way (the staging threads and their pool at work). */
  static void largeCopy(GpuCore core, SplittableRandom r, String what) {
    DType t = randomType(r);
    int len = (t == DType.FLOAT32 ? 600_000 : 300_000) + r.nextInt(1_500_000);
    try (DeviceArray d = core.allocate(0, t, len)) {
      if (t == DType.FLOAT32) {
        float[] v = new float[len];
        for (int e = 0; e < len; e++) {
          v[e] = (float) r.nextDouble(-1, 1);
        }
        d.copyFrom(v);
        float[] back = new float[len];
        d.copyTo(back);
        int bad = java.util.Arrays.mismatch(v, back);
        assertEquals(-1, bad, what + ": " + len + " floats round trip, first difference");
      } else {
        double[] v = r.doubles(len, -1, 1).toArray();
        d.copyFrom(v);
        double[] back = new double[len];
        d.copyTo(back);
        int bad = java.util.Arrays.mismatch(v, back);
        assertEquals(-1, bad, what + ": " + len + " doubles round trip, first difference");
      }
    }
  }

  /** The router's explanation for host and device calls. */
  static void explain(GpuCore core, Kit kit, String route, SplittableRandom r, String what) {
    DType t = randomType(r);
    int i = ti(t);
    GemmCase g = new GemmCase(r, t, false, MAX_DIM);
    Gemm gemm = g.gemm();
    Decision dev = core.blas().explain(gemm, Operand.of(kit.a[i], g.offA), g.lda,
        Operand.of(kit.b[i], g.offB), g.ldb, Operand.of(kit.c[i], g.offC), g.ldc);
    assertTrue(dev.gpu(), what + ": device operands run on their GPU: " + dev);
    Object a = t == DType.FLOAT32 ? SoakCases.floats(g.a) : g.a.clone();
    Object b = t == DType.FLOAT32 ? SoakCases.floats(g.b) : g.b.clone();
    Object c = t == DType.FLOAT32 ? SoakCases.floats(g.c0) : g.c0.clone();
    Decision host = core.blas().explain(gemm, SoakCases.operand(a, g.offA), g.lda,
        SoakCases.operand(b, g.offB), g.ldb, SoakCases.operand(c, g.offC), g.ldc);
    assertFalse(host.reason().isBlank(), what + ": a reason");
    if (route.equals("gpu")) {
      assertTrue(host.gpu(), what + ": " + host);
    }
    GemmCase.checkUnchanged(g.c0, SoakCases.read(c), what + ": explain does not run the call");
  }

  /** A device GEMM with a too small leading dimension: rejected, C untouched. */
  static void rejected(GpuCore core, Kit kit, SplittableRandom r, String what) {
    DType t = randomType(r);
    int i = ti(t);
    GemmCase g = new GemmCase(r, t, false, MAX_DIM);
    upload(kit.c[i], g.c0);
    int badLdc = (g.layout == Layout.ROW_MAJOR ? g.n : g.m) - 1;
    Gemm gemm = g.gemm();
    GpuStream s = r.nextBoolean() ? kit.stream : null;
    GpuCoreException.InvalidArgument e = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> core.blas().gemm(gemm, Operand.of(kit.a[i], g.offA), g.lda,
            Operand.of(kit.b[i], g.offB), g.ldb, Operand.of(kit.c[i], g.offC), badLdc, s), what);
    assertTrue(e.getMessage().contains("ldc"), what + ": " + e.getMessage());
    GemmCase.checkUnchanged(g.c0, download(kit.c[i], g.c0.length),
        what + ": a rejected call leaves C untouched");
  }
}
