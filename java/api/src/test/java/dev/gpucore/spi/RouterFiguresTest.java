package dev.gpucore.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Settings;
import dev.gpucore.blas.Decision;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.blas.Routing;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where the router's figures come from (setting, calibration file, measurement, built-in
 * model), what it learns from timed calls, and its short way for small calls; with a stand-in
 * model of the engine's form and a stand-in calibration (no GPU needed).
 */
class RouterFiguresTest {
  /** Model figures when none is given: CPU 500 GFLOP/s, GPU 20 TFLOP/s. */
  static final double MODEL_CPU = 500;
  static final double MODEL_GPU = 20000;

  /** Inputs the model saw, in order. */
  final List<RouteModel.Input> seen = new ArrayList<>();

  /** The engine's model in its simplest form: the CPU's time against bus + multiply + overhead. */
  final RouteModel model = in -> {
    seen.add(in);
    double cpu = in.cpuGflops() > 0 ? in.cpuGflops() : MODEL_CPU;
    if (in.precision() == Precision.FP64) {
      cpu /= 2;
    }
    double gpu = (in.gpuGflops() > 0 ? in.gpuGflops() : MODEL_GPU) * Math.max(1, in.gpus());
    double up = (in.bytesA() + in.bytesB() + (in.betaNonZero() ? in.bytesC() : 0))
        / in.busGBs() / 1e6;
    double down = in.bytesC() / in.busGBs() / 1e6;
    double mul = in.flops() / gpu / 1e6;
    double gpuMs = in.overheadMs() + up + mul + down;
    double cpuMs = in.flops() / cpu / 1e6;
    return new RouteModel.Estimate(gpuMs < cpuMs, gpuMs, cpuMs, in.bytesB() / in.busGBs() / 1e6,
        up, mul, down, cpu, gpu);
  };

  /** A stand-in calibration: counts its runs, answers {@link #measured}. */
  final AtomicInteger measurements = new AtomicInteger();
  RouteRates measured;

  final Router.Calibrator calibrator = key -> {
    measurements.incrementAndGet();
    return new RouteRates(key, measured.measured(), measured.cpuFp32(), measured.cpuFp64(),
        measured.gpuFp32(), measured.gpuFp64(), measured.busGBs(), measured.overheadMs());
  };

  static Settings settings(String... kv) {
    Map<String, String> p = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      p.put(kv[i], kv[i + 1]);
    }
    return Settings.from(p, Map.of());
  }

  Router router(Settings s) {
    return new Router(s, List.of(0), i -> null, List.of(RouterTest.H100), model, 16, calibrator);
  }

  /** An m×1×1 call of {@code flops} flops (m = flops / 2). */
  static GemmCall shape(long flops, DType t) {
    Operand o = t == DType.FLOAT64 ? Operand.of(new double[1]) : Operand.of(new float[1]);
    int m = Math.toIntExact(flops / 2);
    return new GemmCall(false, false, m, 1, 1, 1, 0,
        t == DType.FLOAT64 ? Precision.FP64 : Precision.FP32, t, o, 1, o, 1, o, 1, 1, 0, 0, 0,
        null, GemmCall.OnHost.INSTANCE);
  }

  static GemmCall square(int n, DType t) {
    Operand o = t == DType.FLOAT64 ? Operand.of(new double[1]) : Operand.of(new float[1]);
    return new GemmCall(false, false, n, n, n, 1, 0,
        t == DType.FLOAT64 ? Precision.FP64 : Precision.FP32, t, o, n, o, n, o, n, 1, 0, 0, 0,
        null, GemmCall.OnHost.INSTANCE);
  }

  /** Flat rates: the CPU at {@code cpu}, the GPU at {@code gpu}, as a calibration measures. */
  static RouteRates flat(double cpu, double gpu, double bus, double overhead) {
    RouteRates.Curve c = new RouteRates.Curve(new double[] {1}, new double[] {cpu});
    RouteRates.Curve g = new RouteRates.Curve(new double[] {1}, new double[] {gpu});
    return new RouteRates("k", Instant.parse("2026-12-06T07:00:00Z"), c, c, g, g, bus, overhead);
  }

  RouteModel.Input last() {
    return seen.get(seen.size() - 1);
  }

  @Test
  void theFirstCallThatNeedsTheModelMeasuresOnceAndCachesTheFile(@TempDir Path dir) {
    Path file = dir.resolve("cal.properties");
    measured = flat(2000, 30000, 20, 0.25);
    Router r = router(settings("gpucore.gemm.calibrationFile", file.toString()));
    assertEquals(0, measurements.get(), "nothing measured at construction");
    assertTrue(r.routing().calibration().startsWith("not measured yet"));
    r.decide(square(8, DType.FLOAT32)); // small: the short way, no calibration
    assertEquals(0, measurements.get());
    Decision d = r.explain(square(1024, DType.FLOAT32));
    assertEquals(1, measurements.get());
    assertTrue(Files.isRegularFile(file));
    assertEquals(2000, last().cpuGflops());
    assertEquals(30000, last().gpuGflops());
    assertEquals(20, last().busGBs());
    assertEquals(0.25, last().overheadMs());
    assertTrue(d.reason().endsWith("; figures: CPU rate, GPU rate, bus and overhead from the"
        + " calibration file " + file + " of 2026-12-06T07:00:00Z"), d.reason());
    r.explain(square(2048, DType.FLOAT32));
    assertEquals(1, measurements.get(), "measured once");
    Routing routing = r.routing();
    assertTrue(routing.calibration().contains("cached in " + file), routing.calibration());
    assertEquals(List.of(Routing.Source.CALIBRATION, Routing.Source.CALIBRATION,
        Routing.Source.CALIBRATION, Routing.Source.CALIBRATION),
        routing.figures().stream().map(Routing.Figure::source).toList());

    // the next process reads the file
    Router next = router(settings("gpucore.gemm.calibrationFile", file.toString()));
    next.explain(square(1024, DType.FLOAT32));
    assertEquals(1, measurements.get(), "read from the file, not measured");
    assertEquals(2000, last().cpuGflops());
    assertTrue(next.routing().calibration().startsWith("file " + file + ", measured "
        + "2026-12-06T07:00:00Z"), next.routing().calibration());
  }

  @Test
  void aCorruptOrForeignFileIsMeasuredAgainAndReplaced(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("cal.properties");
    measured = flat(2000, 30000, 20, 0.25);
    Files.writeString(file, "format=1\nkey=");
    router(settings("gpucore.gemm.calibrationFile", file.toString()))
        .explain(square(1024, DType.FLOAT32));
    assertEquals(1, measurements.get());
    assertTrue(RouteRates.read(file, readKey(file)).rates() != null, "replaced by a good file");
    flat(1, 1, 1, 1).write(file); // key "k": another machine's
    Router r = router(settings("gpucore.gemm.calibrationFile", file.toString()));
    r.explain(square(1024, DType.FLOAT32));
    assertEquals(2, measurements.get());
    assertTrue(r.routing().calibration().contains("another machine or version"),
        r.routing().calibration());
    assertEquals(2000, last().cpuGflops());
  }

  static String readKey(Path file) throws Exception {
    java.util.Properties p = new java.util.Properties();
    try (var in = Files.newBufferedReader(file)) {
      p.load(in);
    }
    return p.getProperty("key");
  }

  @Test
  void aFileThatCannotBeWrittenOnlyCostsTheCache(@TempDir Path dir) throws Exception {
    Path blocker = dir.resolve("file");
    Files.writeString(blocker, "x");
    measured = flat(2000, 30000, 20, 0.25);
    Router r = router(settings("gpucore.gemm.calibrationFile",
        blocker.resolve("below/a/file").toString()));
    r.explain(square(1024, DType.FLOAT32));
    assertEquals(2000, last().cpuGflops(), "measured figures used all the same");
    assertTrue(r.routing().calibration().contains("not cached"), r.routing().calibration());
    // the next core of this process takes that measurement, not another
    Router next = router(settings("gpucore.gemm.calibrationFile",
        blocker.resolve("below/a/file").toString()));
    Decision d = next.explain(square(1024, DType.FLOAT32));
    assertEquals(1, measurements.get());
    assertEquals(2000, last().cpuGflops());
    assertTrue(next.routing().calibration().contains("earlier in this process, not cached"),
        next.routing().calibration());
    assertTrue(d.reason().contains("from the calibration of 2026-12-06T07:00:00Z (not cached)"),
        d.reason());
    // asked for, it measures again
    next.calibrate();
    assertEquals(2, measurements.get());
  }

  @Test
  void aFailedCalibrationFallsBackToTheModelOnce(@TempDir Path dir) {
    Router r = new Router(settings("gpucore.gemm.calibrationFile",
        dir.resolve("c").toString()), List.of(0), i -> null, List.of(RouterTest.H100), model, 16,
        key -> {
          measurements.incrementAndGet();
          throw new GpuCoreException.OutOfMemory("no room", false);
        });
    Decision d = r.explain(square(1024, DType.FLOAT32));
    r.explain(square(2048, DType.FLOAT32));
    assertEquals(1, measurements.get(), "tried once");
    assertEquals(0, last().cpuGflops());
    assertTrue(d.reason().endsWith("figures: CPU rate and GPU rate from the built-in model; bus"
        + " and overhead from the defaults"), d.reason());
    assertTrue(r.routing().calibration().startsWith("failed (no room)"),
        r.routing().calibration());
    // asked for explicitly, the failure is the caller's
    assertThrows(GpuCoreException.OutOfMemory.class, r::calibrate);
  }

  @Test
  void calibrationOffKeepsTheModelAndCalibrateMeasuresAllTheSame(@TempDir Path dir) {
    measured = flat(2000, 30000, 20, 0.25);
    Router r = router(settings("gpucore.gemm.calibrate", "off", "gpucore.gemm.calibrationFile",
        dir.resolve("c").toString()));
    r.explain(square(1024, DType.FLOAT32));
    assertEquals(0, measurements.get());
    assertEquals(0, last().cpuGflops());
    assertEquals(35, last().busGBs());
    assertEquals(0.5, last().overheadMs());
    assertTrue(r.routing().calibration().startsWith("off (gpucore.gemm.calibrate (system"
        + " property))"), r.routing().calibration());
    assertEquals(Routing.Source.MODEL, r.routing().figures().get(0).source());
    Routing after = r.calibrate();
    assertEquals(1, measurements.get());
    assertEquals(Routing.Source.CALIBRATION, after.figures().get(0).source());
    assertTrue(after.calibration().contains("(asked for)"), after.calibration());
  }

  @Test
  void settingsGivenExplicitlyWinOverTheCalibration(@TempDir Path dir) {
    measured = flat(2000, 30000, 20, 0.25);
    Router r = router(settings("gpucore.gemm.calibrationFile", dir.resolve("c").toString(),
        "gpucore.gemm.cpuGflops", "123", "gpucore.gemm.busGBs", "35"));
    Decision d = r.explain(square(1024, DType.FLOAT32));
    assertEquals(123, last().cpuGflops());
    assertEquals(35, last().busGBs(), "given explicitly, though equal to the default");
    assertEquals(30000, last().gpuGflops());
    assertEquals(0.25, last().overheadMs());
    assertTrue(d.reason().endsWith("figures: CPU rate from gpucore.gemm.cpuGflops (system"
        + " property); GPU rate and overhead from the calibration file " + dir.resolve("c")
        + " of 2026-12-06T07:00:00Z; bus from gpucore.gemm.busGBs (system property)"),
        d.reason());
    List<Routing.Figure> f = r.routing().figures();
    assertEquals(Routing.Source.SETTING, f.get(0).source());
    assertEquals("gpucore.gemm.cpuGflops (system property)", f.get(0).detail());
    assertEquals(Routing.Source.CALIBRATION, f.get(1).source());
    assertEquals(Routing.Source.SETTING, f.get(2).source());
    assertEquals(Routing.Source.CALIBRATION, f.get(3).source());
    // every figure given: nothing to measure
    Router all = router(settings("gpucore.gemm.calibrationFile", dir.resolve("d").toString(),
        "gpucore.gemm.cpuGflops", "1", "gpucore.gemm.gpuGflops", "2", "gpucore.gemm.busGBs", "3",
        "gpucore.gemm.overheadMs", "4"));
    all.explain(square(4096, DType.FLOAT32));
    assertEquals(1, measurements.get());
    assertTrue(all.routing().calibration().startsWith("not needed"));
  }

  @Test
  void theCalibratedFp64CpuRateIsGivenAsTheModelTakesIt(@TempDir Path dir) {
    RouteRates.Curve c32 = new RouteRates.Curve(new double[] {1}, new double[] {1000});
    RouteRates.Curve c64 = new RouteRates.Curve(new double[] {1}, new double[] {300});
    RouteRates.Curve g = new RouteRates.Curve(new double[] {1}, new double[] {20000});
    RouteRates.Curve g64 = new RouteRates.Curve(new double[] {1}, new double[] {9000});
    measured = new RouteRates("k", Instant.EPOCH, c32, c64, g, g64, 20, 0.25);
    Router r = router(settings("gpucore.gemm.calibrationFile", dir.resolve("c").toString()));
    r.explain(square(1024, DType.FLOAT64));
    // the model halves an fp32-style rate for fp64: 600 given is 300 used
    assertEquals(600, last().cpuGflops());
    assertEquals(9000, last().gpuGflops());
    Decision tf32 = r.explain(new GemmCall(false, false, 1024, 1024, 1024, 1, 0, Precision.TF32,
        DType.FLOAT32, Operand.of(new float[1]), 1024, Operand.of(new float[1]), 1024,
        Operand.of(new float[1]), 1024, 1, 0, 0, 0, null, GemmCall.OnHost.INSTANCE));
    assertEquals(0, last().gpuGflops(), "TF32 keeps the built-in rate");
    assertTrue(tf32.reason().contains("GPU rate from the built-in model"), tf32.reason());
  }

  /** The H200 case: the built-in figures send n = 1024 to the GPU, this machine's to the CPU. */
  @Test
  void theFittedFiguresPickTheFasterRoute(@TempDir Path dir) {
    Router builtIn = router(settings("gpucore.gemm.calibrate", "off"));
    assertTrue(builtIn.explain(square(1024, DType.FLOAT32)).gpu());
    // a fast CPU and a slow bus and a large fixed cost, as measured
    measured = flat(3000, 30000, 8, 1.5);
    Router fitted = router(settings("gpucore.gemm.calibrationFile", dir.resolve("c").toString()));
    Decision d = fitted.explain(square(1024, DType.FLOAT32));
    assertFalse(d.gpu(), d.reason());
    assertTrue(fitted.explain(square(8192, DType.FLOAT32)).gpu());
    // and the other way: a slow CPU sends mid-sized calls to the GPU
    measured = flat(50, 30000, 40, 0.1);
    Router slowCpu = router(settings("gpucore.gemm.calibrationFile",
        dir.resolve("e").toString()));
    assertTrue(slowCpu.explain(square(256, DType.FLOAT32)).gpu());
    assertFalse(builtIn.explain(square(256, DType.FLOAT32)).gpu());
  }

  @Test
  void learningCorrectsARouteEstimatedTooFast(@TempDir Path dir) {
    measured = flat(500, 20000, 35, 0.5);
    Router r = router(settings("gpucore.gemm.calibrationFile", dir.resolve("c").toString()));
    GemmCall call = square(1024, DType.FLOAT32); // GPU 0.97 ms estimated, CPU 4.3 ms
    Decision before = r.explain(call);
    assertTrue(before.gpu(), before.reason());
    assertTrue(r.learns(call));
    double gpuMs = model.estimate(seen.get(seen.size() - 1)).gpuMs();
    r.learn(call, true, 0, (long) (gpuMs * 100 * 1e6)); // the first: a warm-up, not counted
    assertTrue(r.explain(call).gpu());
    for (int i = 0; i < RouteLearning.MIN_CALLS - 1; i++) {
      r.learn(call, true, 0, (long) (gpuMs * 6 * 1e6)); // the GPU takes 6 times the estimate
      assertTrue(r.explain(call).gpu(), "too few calls to change the estimate");
    }
    r.learn(call, true, 0, (long) (gpuMs * 6 * 1e6));
    Decision after = r.explain(call);
    assertFalse(after.gpu(), after.reason());
    assertTrue(after.reason().contains("learnt from 0 CPU and 5 GPU calls of this size and"
        + " precision"), after.reason());
    assertTrue(after.reason().contains("(x6.00)"), after.reason());
    assertTrue(r.decide(call).gpu() == after.gpu());
    assertEquals(5, r.routing().learntCalls());
    // other sizes and precisions learnt nothing
    assertTrue(r.explain(square(2048, DType.FLOAT32)).gpu());
  }

  /**
   * A router measured as flat(500, 20000, 35, 0.5), whose estimates send n = 1024 fp32 to the
   * GPU (0.97 ms against the CPU's 4.3 ms), after it has timed a warm-up and five GPU calls of
   * {@code gpuFactor} times the GPU's estimate; {@code ms} gets the two estimates (GPU, CPU).
   */
  Router gpuLearnt(Path file, GemmCall call, double gpuFactor, double[] ms) {
    measured = flat(500, 20000, 35, 0.5);
    Router r = router(settings("gpucore.gemm.calibrationFile", file.toString()));
    assertTrue(r.explain(call).gpu());
    RouteModel.Estimate e = model.estimate(last());
    ms[0] = e.gpuMs();
    ms[1] = e.cpuMs();
    for (int i = 0; i <= RouteLearning.MIN_CALLS; i++) {
      assertTrue(r.decide(call).gpu(), "the GPU's time not yet learnt");
      r.learn(call, true, 0, (long) (ms[0] * gpuFactor * 1e6));
    }
    return r;
  }

  /** The CPU's first tries of {@code call}: a warm-up and five, each sent there, of {@code ms}. */
  static void cpuTried(Router r, GemmCall call, double ms) {
    for (int i = 0; i <= RouteLearning.MIN_CALLS; i++) {
      assertFalse(r.decide(call).gpu(), "a try of the CPU");
      r.learn(call, false, 0, (long) (ms * 1e6));
    }
  }

  @Test
  void aRouteEstimatedTooSlowIsTriedOnceTheOtherIsLearnt(@TempDir Path dir) {
    GemmCall call = square(1024, DType.FLOAT32);
    double[] ms = new double[2];
    // the GPU takes 3 times its estimate: still under the CPU's estimate, but within 2x
    Router r = gpuLearnt(dir.resolve("c"), call, 3, ms);
    double cpuMs = ms[1];
    // the CPU is tried: its warm-up call and five more
    for (int i = 0; i <= RouteLearning.MIN_CALLS; i++) {
      Decision d = r.explain(call);
      assertFalse(d.gpu(), d.reason());
      assertTrue(d.reason().startsWith("trying the CPU: its estimate, "), d.reason());
      assertFalse(r.decide(call).gpu());
      r.learn(call, false, 0, (long) (cpuMs * 0.5 * 1e6)); // the CPU takes half its estimate
    }
    // both learnt: the CPU (2.15 ms) beats the GPU (2.90 ms), and nothing is tried any more
    Decision d = r.explain(call);
    assertFalse(d.gpu(), d.reason());
    assertFalse(d.reason().contains("trying"), d.reason());
    assertTrue(d.reason().contains("learnt from 5 CPU and 5 GPU calls"), d.reason());
  }

  @Test
  void aRouteLearntInABadMomentIsTriedAgainAtGrowingIntervals(@TempDir Path dir) {
    GemmCall call = square(1024, DType.FLOAT32);
    double[] ms = new double[2];
    Router r = gpuLearnt(dir.resolve("c"), call, 3, ms); // the GPU learnt at 2.90 ms
    double cpuMs = ms[1];
    // the CPU is tried, and its calls then ran slow: 0.8 of its estimate, 3.4 ms
    cpuTried(r, call, cpuMs * 0.8);
    // the GPU again; the CPU, now at half its estimate (2.15 ms), is tried after 64 calls
    int firstTry = -1;
    int cpuCalls = 0;
    for (int i = 1; i <= 200; i++) {
      Decision d = r.explain(call);
      assertFalse(d.reason().contains("again"), "an explanation announces no try: " + d.reason());
      boolean gpu = r.decide(call).gpu();
      if (!gpu) {
        cpuCalls++;
        if (firstTry < 0) {
          firstTry = i;
        }
      }
      r.learn(call, gpu, 0, (long) ((gpu ? ms[0] * 3 : cpuMs * 0.5) * 1e6));
    }
    // the 64th call after the first tries goes to the CPU
    assertEquals(RouteLearning.RETRY_FIRST, firstTry);
    // the try's first call pays for the switch; its two others bring the CPU under the GPU
    Decision d = r.explain(call);
    assertFalse(d.gpu(), d.reason());
    assertTrue(cpuCalls > 100, "the CPU kept after the try: " + cpuCalls);
  }

  @Test
  void nearTheCrossingTheRouteOfTheLastTimedCallIsKept(@TempDir Path dir) {
    GemmCall call = square(1024, DType.FLOAT32);
    double[] ms = new double[2];
    Router r = gpuLearnt(dir.resolve("c"), call, 3, ms); // the GPU learnt at 2.90 ms
    double gpuMs = ms[0] * 3;
    // the CPU tried: its calls take 2.80 ms, 3.4% less than the GPU's
    cpuTried(r, call, gpuMs * 0.966);
    Decision d = r.explain(call);
    assertFalse(d.gpu(), "the CPU is faster and ran last: " + d.reason());
    // a GPU call ran last (another thread, a try): the GPU is kept, the CPU being less than 5%
    // faster
    r.learn(square(1024, DType.FLOAT32), true, 0, (long) (gpuMs * 1e6));
    d = r.explain(call);
    assertTrue(d.gpu(), d.reason());
    assertTrue(d.reason().contains("; stays on the GPU, where the last timed call of this size"
        + " and precision ran: the CPU is not 5% faster"), d.reason());
    assertFalse(r.explain(square(2048, DType.FLOAT32)).reason().contains("stays"),
        "another size keeps nothing");
    // 10% faster: the CPU
    Router far = gpuLearnt(dir.resolve("f"), call, 3, new double[2]);
    cpuTried(far, call, gpuMs * 0.9);
    far.learn(call, true, 0, (long) (gpuMs * 1e6));
    assertFalse(far.explain(call).gpu(), far.explain(call).reason());
  }

  @Test
  void aRouteNotYetLearntIsNotKeptOutByTheLastCallsRoute(@TempDir Path dir) {
    GemmCall call = square(1024, DType.FLOAT32);
    double[] ms = new double[2];
    // the GPU learnt at 4.42 ms, over the CPU's estimate of 4.30 ms; the last timed call ran
    // on the GPU, but the CPU, not learnt, is taken and tried
    Router r = gpuLearnt(dir.resolve("c"), call, 4.42 / 0.9701, ms);
    Decision d = r.explain(call);
    assertFalse(d.gpu(), d.reason());
    assertFalse(d.reason().contains("stays"), d.reason());
  }

  @Test
  void learningUsesTheEstimateOfTheCallsDecisionWithoutAskingTheModelAgain(@TempDir Path dir) {
    measured = flat(500, 20000, 35, 0.5);
    Router r = router(settings("gpucore.gemm.calibrationFile", dir.resolve("c").toString()));
    GemmCall call = square(1024, DType.FLOAT32);
    r.decide(call);
    int asked = seen.size();
    r.learn(call, true, 0, 1_000_000);
    assertEquals(asked, seen.size(), "the decision's estimate, not a new one");
    r.learn(square(2048, DType.FLOAT32), true, 0, 1_000_000); // not decided last: asked
    assertEquals(asked + 1, seen.size());
    assertEquals(1, last().gpus());
  }

  @Test
  void aNewCalibrationsCallsAreLearntFromItsOwnEstimates(@TempDir Path dir) {
    measured = flat(500, 20000, 35, 0.5);
    Router r = router(settings("gpucore.gemm.calibrationFile", dir.resolve("c").toString()));
    GemmCall call = square(1024, DType.FLOAT32);
    r.decide(call);
    r.calibrate(); // new figures between the decision and the call's time
    int asked = seen.size();
    r.learn(call, true, 0, 1_000_000);
    assertEquals(asked + 1, seen.size(), "an estimate from the new figures");
  }

  @Test
  void aCallThatCpuRatioWouldSplitDoesNotStayOnTheGpu(@TempDir Path dir) {
    GemmCall call = square(1024, DType.FLOAT32);
    measured = flat(500, 20000, 35, 0.5);
    for (String ratio : new String[] {"0", "0.25"}) {
      Router r = router(settings("gpucore.gemm.cpuRatio", ratio, "gpucore.gemm.calibrationFile",
          dir.resolve("f" + ratio).toString()));
      assertTrue(r.explain(call).gpu());
      RouteModel.Estimate e = model.estimate(last());
      double gpuMs = e.gpuMs() * 3;
      // both routes learnt (timed directly), the CPU 3.4% faster, the GPU's call timed last
      for (int i = 0; i <= RouteLearning.MIN_CALLS + 1; i++) {
        r.learn(call, false, 0, (long) (gpuMs * 0.966 * 1e6));
      }
      for (int i = 0; i <= RouteLearning.MIN_CALLS + 1; i++) {
        r.learn(call, true, 0, (long) (gpuMs * 1e6));
      }
      Decision d = r.explain(call);
      assertEquals(ratio.equals("0"), d.gpu(), "cpuRatio " + ratio + ": " + d.reason());
    }
  }

  @Test
  void triesWhoseCallsAreNotTimedEndAfterSix(@TempDir Path dir) {
    // the CPU's tries fail or are retried elsewhere, so none is timed: six tries, then no more
    GemmCall call = square(1024, DType.FLOAT32);
    Router r = gpuLearnt(dir.resolve("c"), call, 3, new double[2]);
    for (int i = 0; i < 3; i++) {
      assertFalse(r.explain(call).gpu(), "an explanation tries nothing");
    }
    int tries = 0;
    for (int i = 0; i < 40; i++) {
      if (!r.decide(call).gpu()) {
        tries++;
      }
    }
    assertEquals(RouteLearning.PROBES, tries);
    Decision d = r.explain(call);
    assertTrue(d.gpu(), d.reason());
  }

  @Test
  void theGpuIsTriedWhenTheCpuIsChosenButNotWhenItsCallsAreSplit(@TempDir Path dir) {
    // the CPU, 0.72 ms, is chosen and the GPU's estimate, 0.97 ms, is within 2x of it
    GemmCall call = square(1024, DType.FLOAT32);
    measured = flat(3000, 20000, 35, 0.5);
    for (String ratio : new String[] {"0", "0.25"}) {
      Router r = router(settings("gpucore.gemm.cpuRatio", ratio, "gpucore.trace", "true",
          "gpucore.gemm.calibrationFile", dir.resolve("f" + ratio).toString()));
      assertFalse(r.explain(call).gpu());
      double cpuMs = model.estimate(last()).cpuMs();
      for (int i = 0; i <= RouteLearning.MIN_CALLS; i++) {
        assertFalse(r.decide(call).gpu(), "the CPU's time not yet learnt");
        r.learn(call, false, 0, (long) (cpuMs * 1e6));
      }
      int tries = 0;
      for (int i = 0; i < 20; i++) {
        Decision d = r.decide(call); // traced: the decision with its reason, counted once
        if (d.gpu()) {
          tries++;
          assertTrue(d.reason().startsWith("trying the GPU: "), d.reason());
        }
      }
      // with gpucore.gemm.cpuRatio the GPU's calls are split and not timed: never tried
      assertEquals(ratio.equals("0") ? RouteLearning.PROBES : 0, tries, "cpuRatio " + ratio);
    }
  }

  /** GPU calls of {@code gpuMs} until the router would send the next to the CPU; their time. */
  static double gpuUntilCpuTry(Router r, GemmCall call, double gpuMs) {
    double spent = 0;
    for (int calls = 0; r.explain(call).gpu(); calls++) {
      assertTrue(calls < 2000, "the CPU was never tried");
      assertTrue(r.decide(call).gpu());
      r.learn(call, true, 0, (long) (gpuMs * 1e6));
      spent += gpuMs;
    }
    return spent;
  }

  @Test
  void aRouteFarSlowerByItsFiguresIsTriedOnceTheOtherHasTakenEnoughTime(@TempDir Path dir) {
    GemmCall call = square(1024, DType.FLOAT32);
    double[] ms = new double[2];
    Router r = gpuLearnt(dir.resolve("c"), call, 1, ms); // the GPU as estimated: 0.97 ms
    double gpuMs = ms[0];
    double cpuMs = ms[1]; // 4.3 ms: out of the 2x reach of a first try
    double spent = (RouteLearning.MIN_CALLS + 1) * gpuMs + gpuUntilCpuTry(r, call, gpuMs);
    // tried once the GPU's calls have taken EXPLORE times what six CPU calls would at 4.3 ms
    assertTrue(spent >= Router.EXPLORE * RouteLearning.PROBES * cpuMs, "" + spent);
    assertTrue(spent < Router.EXPLORE * RouteLearning.PROBES * cpuMs + 2 * gpuMs, "" + spent);
    Decision d = r.explain(call);
    assertTrue(d.reason().startsWith("trying the CPU: its estimate, 4.295 ms,"), d.reason());
    assertTrue(d.reason().contains("is not learnt from calls of this size and precision"),
        d.reason());
    cpuTried(r, call, cpuMs / 6); // the CPU takes a sixth of its figure: 0.72 ms
    d = r.explain(call);
    assertFalse(d.gpu(), d.reason());
    assertTrue(d.reason().contains("learnt from 5 CPU and"), d.reason());
    assertFalse(r.decide(call).gpu());
  }

  @Test
  void aRouteLearntFarTooSlowIsTriedAgainOnceTheOtherHasTakenEnoughTime(@TempDir Path dir) {
    GemmCall call = square(1024, DType.FLOAT32);
    double[] ms = new double[2];
    Router r = gpuLearnt(dir.resolve("c"), call, 1, ms); // the GPU as estimated: 0.97 ms
    double gpuMs = ms[0];
    double cpuMs = ms[1];
    gpuUntilCpuTry(r, call, gpuMs); // until the first try of the CPU (never learnt)
    cpuTried(r, call, cpuMs * 2); // tried in a bad moment: learnt at 8.6 ms
    // the GPU's calls from here: the CPU is out of reach (8.6 ms against 0.97), and tried again
    // once they have taken 32 times what three CPU calls take at 8.6 ms
    double spent = 0;
    boolean tried = false;
    for (int i = 0; i < 2000 && !tried; i++) {
      Decision d = r.decide(call);
      if (!d.gpu()) {
        tried = true;
        r.learn(call, false, 0, (long) (cpuMs / 6 * 1e6)); // the first, paying for the switch
        break;
      }
      r.learn(call, true, 0, (long) (gpuMs * 1e6));
      spent += gpuMs;
    }
    assertTrue(tried, "the CPU was not tried again");
    double due = Router.EXPLORE * RouteLearning.RETRY_CALLS * cpuMs * 2;
    assertTrue(spent >= due - gpuMs && spent < due + 2 * gpuMs, spent + " against " + due);
    for (int i = 1; i < RouteLearning.RETRY_CALLS; i++) {
      assertFalse(r.decide(call).gpu(), "the rest of the try");
      r.learn(call, false, 0, (long) (cpuMs / 6 * 1e6));
    }
    // its counted calls replaced the bad figure: the CPU (0.72 ms) is taken
    Decision d = r.explain(call);
    assertFalse(d.gpu(), d.reason());
    for (int i = 0; i < 50; i++) {
      assertFalse(r.decide(call).gpu());
      r.learn(call, false, 0, (long) (cpuMs / 6 * 1e6));
    }
  }

  @Test
  void aRouteTriedAndFoundSlowIsLeftAndOneFarSlowerWaits(@TempDir Path dir) {
    GemmCall call = square(1024, DType.FLOAT32);
    double[] ms = new double[2];
    Router r = gpuLearnt(dir.resolve("c"), call, 3, ms);
    double gpuMs = ms[0];
    double cpuMs = ms[1];
    cpuTried(r, call, cpuMs * 2); // slower than estimated
    for (int i = 0; i < 20; i++) {
      assertTrue(r.decide(call).gpu(), "the GPU is faster, and the CPU was tried");
    }
    // a GPU as fast as estimated: the CPU, 4.4 times slower by its estimate, is not tried in
    // these calls (only once the GPU's have taken EXPLORE times six of its estimate); nor at 2.5
    // times: the GPU learnt at 1.75 times its estimate (CPU 4.3 against 1.69 ms)
    Router fast = router(settings("gpucore.gemm.calibrationFile", dir.resolve("d").toString()));
    fast.explain(call);
    for (int i = 0; i < 4 * RouteLearning.MIN_CALLS; i++) {
      assertTrue(fast.decide(call).gpu());
      fast.learn(call, true, 0, (long) (gpuMs * 1e6));
    }
    Router near = gpuLearnt(dir.resolve("n"), call, 1.75, new double[2]);
    for (int i = 0; i < 4 * RouteLearning.MIN_CALLS; i++) {
      assertTrue(near.decide(call).gpu(), near.explain(call).reason());
      near.learn(call, true, 0, (long) (gpuMs * 1.75 * 1e6));
    }
  }

  @Test
  void noLearningWhenOffOrWithoutRealTimes(@TempDir Path dir) {
    measured = flat(500, 20000, 35, 0.5);
    GemmCall call = square(1024, DType.FLOAT32);
    Router off = router(settings("gpucore.gemm.learn", "false", "gpucore.gemm.calibrationFile",
        dir.resolve("c").toString()));
    assertFalse(off.learns(call));
    Router stand = new Router(settings(), List.of(0), i -> null, List.of(RouterTest.H100), model,
        16, null);
    assertFalse(stand.learns(call));
    assertTrue(stand.routing().calibration().startsWith("not measured: this GPU backend"));
    assertThrows(GpuCoreException.DeviceUnavailable.class, stand::calibrate);
    Router forced = router(settings("gpucore.gemm.route", "gpu", "gpucore.gemm.calibrationFile",
        dir.resolve("c").toString()));
    assertFalse(forced.learns(call));
  }

  @Test
  void theShortWayAgreesWithTheModelAndSkipsIt() {
    Router r = router(settings("gpucore.gemm.calibrate", "off"));
    double fast = r.fastFlops(DType.FLOAT64);
    double fast32 = r.fastFlops(DType.FLOAT32);
    assertTrue(fast >= 2.0 * 8 * 8 * 8, "an 8x8x8 call takes the short way: " + fast);
    // the CPU time of a call at the limit is under 1/64 of the fixed cost at its own type's
    // rate (fp64 at half the fp32 rate here), and twice the call's is not
    assertTrue(fast / (MODEL_CPU / 2) / 1e6 * Router.FAST_MARGIN < 0.5);
    assertTrue(2 * fast / (MODEL_CPU / 2) / 1e6 * Router.FAST_MARGIN >= 0.5);
    assertTrue(fast32 / MODEL_CPU / 1e6 * Router.FAST_MARGIN < 0.5);
    assertTrue(2 * fast32 / MODEL_CPU / 1e6 * Router.FAST_MARGIN >= 0.5);
    assertEquals(2 * fast, fast32, "fp32 calls, at twice the rate, take the short way to twice the"
        + " flops");
    int before = seen.size();
    Decision d = r.decide(square(8, DType.FLOAT32));
    assertFalse(d.gpu());
    assertEquals(before, seen.size(), "the model was not asked");
    assertTrue(d == r.decide(square(16, DType.FLOAT64)), "one shared decision, no allocation");
    // a call of exactly the limit's flops takes it too (n = 64 on a GPU host is such a call),
    // and is not timed for learning; one of twice as many flops is
    GemmCall atLimit = shape((long) fast, DType.FLOAT64);
    assertEquals(fast, atLimit.flops());
    assertTrue(r.decide(atLimit) == d, "the call at the limit takes the short way");
    assertEquals(before, seen.size(), "the model was not asked");
    assertFalse(r.learns(atLimit));
    GemmCall beyond = shape(2 * (long) fast, DType.FLOAT64);
    assertFalse(r.decide(beyond).gpu());
    assertEquals(before + 1, seen.size(), "the model decided the larger call");
    assertTrue(r.learns(beyond));
    // the fp32 call of those flops is within its own limit: the short way, untimed
    GemmCall beyond32 = shape(2 * (long) fast, DType.FLOAT32);
    assertTrue(r.decide(beyond32) == d, "an fp32 call within the fp32 limit takes the short way");
    assertEquals(before + 1, seen.size(), "the model was not asked");
    assertFalse(r.learns(beyond32));
    GemmCall beyond32Limit = shape(2 * (long) fast32, DType.FLOAT32);
    assertFalse(r.decide(beyond32Limit).gpu());
    assertEquals(before + 2, seen.size(), "the model decided the fp32 call beyond its limit");
    assertTrue(r.learns(beyond32Limit));
    for (int n = 1; n <= 4096; n = n * 3 / 2 + 1) {
      for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
        assertEquals(r.explain(square(n, t)).gpu(), r.decide(square(n, t)).gpu(), "n=" + n);
      }
    }
    // a forced GPU route takes no short way; without a fixed cost there is none
    assertTrue(router(settings("gpucore.gemm.route", "gpu")).decide(square(8, DType.FLOAT32))
        .gpu());
    assertEquals(0, router(settings("gpucore.gemm.overheadMs", "0")).fastFlops(DType.FLOAT32));
  }

  /**
   * The router's calls of one class (n = 1024 fp32, estimated GPU 0.97 ms, CPU 4.3 ms) on a
   * noisy machine: each call {@code stall} times slower with probability {@code stallShare},
   * and a call on the other route than the call before it {@code switchCost} times slower
   * (OpenBLAS's threads asleep, the staging threads parked); the CPU takes {@code cpuMs[0]}
   * until call {@code change}, then {@code cpuMs[1]}; the GPU {@code gpuMs}. Seeded. Returns
   * the time of the faster route alone on the same draws over the router's time (1: no loss).
   */
  double noisyShare(Path file, double[] cpuMs, int change, double gpuMs, double stallShare,
      double stall, double switchCost, int calls, long seed) {
    return noisyShare(file, cpuMs, change, gpuMs, stallShare, stall, switchCost, 1, calls, seed);
  }

  /** {@link #noisyShare} where the first {@code switchCalls} calls after a switch pay for it. */
  double noisyShare(Path file, double[] cpuMs, int change, double gpuMs, double stallShare,
      double stall, double switchCost, int switchCalls, int calls, long seed) {
    measured = flat(500, 20000, 35, 0.5);
    Router r = router(settings("gpucore.gemm.calibrationFile", file.toString()));
    GemmCall call = square(1024, DType.FLOAT32);
    java.util.Random rnd = new java.util.Random(seed);
    double routed = 0;
    double best = 0;
    long clock = 1_000_000_000L;
    int last = -1;
    int sinceSwitch = switchCalls; // calls since the last switch: none yet
    for (int i = 0; i < calls; i++) {
      double noise = rnd.nextDouble() < stallShare ? stall : 1;
      double cpu = cpuMs[i < change ? 0 : 1];
      boolean gpu = r.decide(call).gpu();
      if (last >= 0 && (last == 1) != gpu) {
        sinceSwitch = 0;
      }
      double ms = (gpu ? gpuMs : cpu) * noise
          * (sinceSwitch++ < switchCalls ? switchCost : 1);
      long nanos = (long) (ms * 1e6);
      r.learn(call, gpu, clock, clock + nanos); // back to back: no pause
      clock += nanos;
      routed += ms;
      best += Math.min(cpu, gpuMs) * noise;
      last = gpu ? 1 : 0;
    }
    return best / routed;
  }

  @Test
  void stalledCallsDoNotSendAClassToTheSlowerRouteForLong(@TempDir Path dir) {
    // the CPU 2.0 ms, the GPU 3.4 ms (within the 2x reach: both are tried again at times);
    // one call in 20 stalls at 6x, a switch costs 3x
    for (long seed = 1; seed <= 8; seed++) {
      double share = noisyShare(dir.resolve("c" + seed), new double[] {2.0, 2.0}, 0, 3.4, 0.05,
          6, 3, 20000, seed);
      assertTrue(share >= 0.97, "seed " + seed + ": the faster route's time over the router's "
          + share);
      // the GPU the faster
      share = noisyShare(dir.resolve("g" + seed), new double[] {3.4, 3.4}, 0, 2.0, 0.05, 6, 3,
          20000, seed);
      assertTrue(share >= 0.97, "seed " + seed + ", the GPU faster: " + share);
      // the two routes equally fast: the class does not go back and forth, paying for switches
      share = noisyShare(dir.resolve("e" + seed), new double[] {2.0, 2.0}, 0, 2.0, 0.05, 6, 3,
          20000, seed);
      assertTrue(share >= 0.99, "seed " + seed + ", the routes equal: " + share);
    }
  }

  @Test
  void aSwitchThatSlowsSeveralCallsDoesNotKeepAClassOnTheSlowerRoute(@TempDir Path dir) {
    // the CPU 2.0 ms, the GPU 2.4 ms; after a switch the next three calls take 3x: the calls of
    // a try again that count must reach past them, else the CPU never wins one back
    for (long seed = 1; seed <= 4; seed++) {
      double share = noisyShare(dir.resolve("c" + seed), new double[] {2.0, 2.0}, 0, 2.4, 0.05,
          3, 3, 3, 4000, seed);
      assertTrue(share >= 0.93, "seed " + seed + ": " + share);
    }
  }

  @Test
  void aLastingChangeIsFollowed(@TempDir Path dir) {
    // the CPU at 2.0 ms, then from call 5000 at 5.0 (the GPU 3.4 ms): the class moves over
    for (long seed = 1; seed <= 4; seed++) {
      double share = noisyShare(dir.resolve("c" + seed), new double[] {2.0, 5.0}, 5000, 3.4,
          0.05, 6, 3, 20000, seed);
      assertTrue(share >= 0.985, "seed " + seed + ": " + share);
    }
  }

  @Test
  void withoutAGpuTheRoutingSaysSo() {
    Router r = new Router(settings(), 0, null, null, 2);
    assertEquals("no GPU: host GEMMs run on the CPU", r.routing().calibration());
    assertTrue(r.routing().figures().isEmpty());
    assertThrows(GpuCoreException.DeviceUnavailable.class, r::calibrate);
    assertFalse(r.learns(square(4096, DType.FLOAT32)));
  }
}
