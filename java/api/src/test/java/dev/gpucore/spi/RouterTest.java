package dev.gpucore.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Setting;
import dev.gpucore.Settings;
import dev.gpucore.blas.Decision;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.device.DeviceInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The router's decisions and settings, with a made-up H100 (no GPU needed). */
class RouterTest {
  static final DeviceInfo H100 = new DeviceInfo(0, 0, 0, "GPU-x", "H100", "00000000:01:00.0", 9,
      0, 132, 80L << 30, 0, 80L << 30, 0, 0, 40, 100, 700, List.of());

  static Settings settings(String... kv) {
    Map<String, String> p = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      p.put(kv[i], kv[i + 1]);
    }
    return Settings.from(p, Map.of());
  }

  static GemmCall call(int n, DType t, Precision p, int batch) {
    Operand o = t == DType.FLOAT64 ? Operand.of(new double[1]) : Operand.of(new float[1]);
    return new GemmCall(false, true, n, n, n, 1, 0, p, t, o, n, o, n, o, n, batch, 0, 0, 0, null,
        GemmCall.OnHost.INSTANCE);
  }

  /** Inputs the stand-in model saw, last first. */
  static final java.util.Deque<RouteModel.Input> SEEN = new java.util.ArrayDeque<>();

  /** A stand-in model: the GPU from a GFLOP of work on, with round times. */
  static final RouteModel MODEL = in -> {
    SEEN.push(in);
    return new RouteModel.Estimate(in.flops() >= 1e9, 1.5, in.flops() / 1e9, 0.25, 0.5, 0.75,
        0.125, 100, 40000);
  };

  @Test
  void theModelDecidesAndTheReasonShowsItsFigures() {
    Router r = new Router(settings(), 1, H100, MODEL, 16);
    Decision small = r.explain(call(64, DType.FLOAT32, Precision.FP32, 1));
    assertFalse(small.gpu(), small.reason());
    assertTrue(small.reason().startsWith("estimated GPU 1.500 ms (B up 0.250, A/C up 0.500, "
        + "multiply 0.750 at 40000 GFLOP/s, C down 0.125, overhead 0.5, 1 GPU) vs CPU 0.001 ms"
        + " at 100 GFLOP/s"), small.reason());
    Decision big = r.explain(call(4096, DType.FLOAT32, Precision.FP32, 1));
    assertTrue(big.gpu(), big.reason());
    assertEquals(1, big.devices());
  }

  @Test
  void theModelIsToldTheCallTheGpuAndTheSettings() {
    Router r = new Router(settings("gpucore.gemm.cpuGflops", "123", "gpucore.gemm.busGBs", "20",
        "gpucore.gemm.overheadMs", "0.25"), 1, H100, MODEL, 16);
    // 300 x 300 by 300, A transposed: B crosses once per batch item
    Operand o = Operand.of(new double[1]);
    r.explain(new GemmCall(true, false, 300, 200, 100, 1, 0.5, Precision.FP64, DType.FLOAT64, o,
        310, o, 200, o, 220, 3, 0, 0, 0, null, GemmCall.OnHost.INSTANCE));
    RouteModel.Input in = SEEN.peek();
    assertEquals(Precision.FP64, in.precision());
    assertEquals(2.0 * 300 * 200 * 100 * 3, in.flops());
    assertEquals((99.0 * 310 + 300) * 8 * 3, in.bytesA());
    assertEquals((99.0 * 200 + 200) * 8 * 3, in.bytesB());
    assertEquals((299.0 * 220 + 200) * 8 * 3, in.bytesC());
    assertTrue(in.betaNonZero());
    assertEquals(1, in.gpus());
    assertEquals(9, in.ccMajor());
    assertEquals(132, in.sms());
    assertEquals(16, in.cpuThreads());
    assertEquals(123, in.cpuGflops());
    assertEquals(0, in.gpuGflops());
    assertEquals(20, in.busGBs());
    assertEquals(0.25, in.overheadMs());
  }

  @Test
  void noGpuMeansCpu() {
    Router r = new Router(settings(), 0, null, null, 2);
    Decision d = r.explain(call(8192, DType.FLOAT32, Precision.FP32, 1));
    assertFalse(d.gpu());
    assertEquals("no GPU is usable", d.reason());
  }

  @Test
  void forcedRoutesAndDisabledRoutines() {
    assertTrue(new Router(settings("gpucore.gemm.route", "gpu"), 1, H100, MODEL, 16)
        .explain(call(8, DType.FLOAT32, Precision.FP32, 1)).gpu());
    assertFalse(new Router(settings("gpucore.gemm.route", "cpu"), 1, H100, MODEL, 16)
        .explain(call(8192, DType.FLOAT32, Precision.FP32, 1)).gpu());
    Router dis = new Router(settings("gpucore.gemm.disable", "dgemm, sgemm_batched"), 1, H100, MODEL, 16);
    Decision d = dis.explain(call(8192, DType.FLOAT64, Precision.FP64, 1));
    assertFalse(d.gpu());
    assertTrue(d.reason().contains("dgemm is disabled"), d.reason());
    assertFalse(dis.explain(call(8192, DType.FLOAT32, Precision.FP32, 2)).gpu());
    assertTrue(dis.explain(call(8192, DType.FLOAT32, Precision.FP32, 1)).gpu());
  }

  @Test
  void scaleOnlyStaysOnTheCpu() {
    Operand o = Operand.of(new float[1]);
    GemmCall k0 = new GemmCall(false, false, 4096, 4096, 0, 1, 2, Precision.FP32, DType.FLOAT32,
        o, 1, o, 4096, o, 4096, 1, 0, 0, 0, null, GemmCall.OnHost.INSTANCE);
    assertFalse(new Router(settings(), 1, H100, MODEL, 16).explain(k0).gpu());
  }

  @Test
  void badSettingsAreClearErrors() {
    GpuCoreException e = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> new Router(settings("gpucore.gemm.route", "fast"), 1, H100, MODEL, 16));
    assertEquals("gpucore.gemm.route (system property) is \"fast\": must be one of auto, cpu, "
        + "gpu", e.getMessage());
    e = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> new Router(settings("gpucore.gemm.disable", "zgemm"), 1, H100, MODEL, 16));
    assertTrue(e.getMessage().contains("unknown routine \"zgemm\""), e.getMessage());
    e = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> new Router(settings("gpucore.gemm.busGBs", "-1"), 1, H100, MODEL, 16));
    assertTrue(e.getMessage().startsWith("gpucore.gemm.busGBs (system property) is \"-1\": must "
        + "be from 0.001 to 1000000"), e.getMessage());
    assertEquals(List.of(1, 0), Router.gpuList(settings("gpucore.gpu.list", "1,0,1"), 2));
    assertEquals(List.of(0, 1), Router.gpuList(settings(), 2));
  }

  @Test
  void gpuListNamingAnAbsentGpuIsAWarningAndIgnored() {
    Settings s = settings("gpucore.gpu.list", "0,3");
    assertEquals(List.of(0), Router.gpuList(s, 2));
    assertEquals(List.of("gpucore.gpu.list (system property) names GPU 3 but only GPUs 0 to 1 "
        + "are usable; ignored"), s.warnings());
    Settings none = settings("gpucore.gpu.list", "7");
    assertEquals(List.of(), Router.gpuList(none, 0), "no GPU: nothing to route to");
    assertEquals(List.of(0, 1), Router.gpuList(none, 2), "nothing left named: every GPU");
    assertEquals(2, none.warnings().size(), none.warnings().toString());
    assertTrue(none.warnings().get(0).contains("no GPU is usable"), none.warnings().toString());
    assertTrue(none.warnings().get(1).contains("the setting is ignored (all GPUs)"),
        none.warnings().toString());
  }

  @Test
  void decisionsAreLoggedToTheFile(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("route.log");
    Router r = new Router(settings("gpucore.log.file", log.toString()), 1, H100, MODEL, 16);
    r.decide(call(64, DType.FLOAT32, Precision.FP32, 1));
    r.decide(call(8192, DType.FLOAT32, Precision.FP32, 1));
    List<String> lines = Files.readAllLines(log);
    assertEquals(2, lines.size());
    assertTrue(lines.get(0).contains("sgemm m=64") && lines.get(0).contains("-> cpu"), lines.get(0));
    assertTrue(lines.get(1).contains("-> gpu"), lines.get(1));
  }

  @Test
  void settingsPrecedencePropertyEnvironmentFile(@TempDir Path dir) throws Exception {
    Path conf = dir.resolve("gpucore.conf");
    Files.writeString(conf, "# nvblas.conf style\ngpucore.gemm.route = cpu\ngpucore.trace = true\n"
        + "gpucore.gemm.panelMiB=8\n");
    Map<String, String> env = Map.of("GPUCORE_CONFIG", conf.toString(),
        "GPUCORE_GEMM_PANELMIB", "32");
    Settings s = Settings.from(Map.of("gpucore.trace", "false"), env);
    assertEquals("cpu", s.get(Setting.GEMM_ROUTE), "from the file");
    assertEquals(32.0, s.get(Setting.GEMM_PANEL_MIB), "environment beats the file");
    assertFalse(s.get(Setting.TRACE), "property beats the file");
    assertEquals(conf.toString(), s.fileName());
    GpuCoreException e = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> Settings.from(Map.of("gpucore.config", dir.resolve("missing.conf").toString()),
            Map.of()));
    assertTrue(e.getMessage().startsWith("gpucore.config (system property) is"), e.getMessage());
    assertTrue(e.getMessage().endsWith("cannot read the configuration file: no such file"),
        e.getMessage());
  }
}
