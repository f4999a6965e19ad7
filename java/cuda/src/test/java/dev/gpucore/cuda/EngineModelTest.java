package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.DType;
import dev.gpucore.Settings;
import dev.gpucore.blas.Decision;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.device.DeviceInfo;
import dev.gpucore.spi.GemmCall;
import dev.gpucore.spi.RouteModel;
import dev.gpucore.spi.Router;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The engine's routing model (libgpucore_blas.so) as the router uses it, with a made-up H100:
 * no GPU needed, the model is arithmetic. The rates are those gpucore_engine.h states.
 */
class EngineModelTest {
  static final DeviceInfo H100 = new DeviceInfo(0, 0, 0, "GPU-x", "H100", "00000000:01:00.0", 9,
      0, 132, 80L << 30, 0, 80L << 30, 0, 0, 40, 100, 700, List.of());
  static final RouteModel MODEL = new EngineModel();

  static GemmCall square(int n, DType t, Precision p) {
    Operand o = t == DType.FLOAT64 ? Operand.of(new double[1]) : Operand.of(new float[1]);
    return new GemmCall(false, false, n, n, n, 1, 0, p, t, o, n, o, n, o, n, 1, 0, 0, 0, null,
        GemmCall.OnHost.INSTANCE);
  }

  static Router router(String... kv) {
    Map<String, String> p = new java.util.HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      p.put(kv[i], kv[i + 1]);
    }
    return new Router(Settings.from(p, Map.of()), 1, H100, MODEL, 16);
  }

  @Test
  void theBindingsAreBuiltForTheEngineTheyLoad() {
    dev.gpucore.cuda.bindings.EngineNative.load();
    assertEquals(dev.gpucore.cuda.bindings.EngineNative.VERSION,
        dev.gpucore.cuda.bindings.EngineNative.gpucore_engine_version());
  }

  @Test
  void smallGoesToTheCpuLargeToTheGpu() {
    Decision small = router().explain(square(64, DType.FLOAT32, Precision.FP32));
    assertFalse(small.gpu(), small.reason());
    Decision big = router().explain(square(4096, DType.FLOAT32, Precision.FP32));
    assertTrue(big.gpu(), big.reason());
    // 16 threads at 69 GFLOP/s in fp32 on a large call; the H100 at 48 TFLOP/s
    assertTrue(big.reason().endsWith("vs CPU 124.492 ms at 1104 GFLOP/s; figures: CPU rate and"
        + " GPU rate from the built-in model; bus and overhead from the defaults"), big.reason());
    assertTrue(big.reason().contains("multiply 2.863 at 48000 GFLOP/s"), big.reason());
  }

  @Test
  void theRatesFollowPrecisionArchitectureAndOverrides() {
    RouteModel.Input fp32 = new RouteModel.Input(Precision.FP32, 1e12, 0, 0, 0, false, 1, 9, 132,
        16, 0, 0, 35, 0.5);
    assertEquals(48000, MODEL.estimate(fp32).gpuGflops(), 1e-9);
    assertEquals(1104, MODEL.estimate(fp32).cpuGflops(), 1e-9);
    RouteModel.Input tf32 = new RouteModel.Input(Precision.TF32, 1e12, 0, 0, 0, false, 2, 9, 66,
        16, 0, 0, 35, 0.5);
    assertEquals(250000, MODEL.estimate(tf32).gpuGflops(), 1e-9); // two half-size GPUs
    RouteModel.Input fp64 = new RouteModel.Input(Precision.FP64, 1e12, 0, 0, 0, false, 1, 8, 108,
        16, 1000, 0, 35, 0.5);
    assertEquals(18000, MODEL.estimate(fp64).gpuGflops(), 1e-9);
    assertEquals(500, MODEL.estimate(fp64).cpuGflops(), 1e-9); // the override, halved for fp64
    RouteModel.Input small = new RouteModel.Input(Precision.FP32, 2.6e8, 0, 0, 0, false, 1, 9, 132,
        16, 0, 777, 35, 0.5);
    // a sixteenth of the saturating work: the CPU at half its rate (the fourth root of 1/16)
    assertEquals(552, MODEL.estimate(small).cpuGflops(), 1e-9);
    assertEquals(777, MODEL.estimate(small).gpuGflops(), 1e-9);
  }

  /**
   * The engine's model on figures a calibration measured: where the built-in rates send an
   * n = 1024 SGEMM to the GPU, a host with a fast CPU and a slower bus and fixed cost keeps it
   * on the CPU, and still sends n = 8192 to the GPU.
   */
  @Test
  void calibratedFiguresMoveTheCrossover(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
    GemmCall n1024 = square(1024, DType.FLOAT32, Precision.FP32);
    assertTrue(router("gpucore.gemm.calibrate", "off").explain(n1024).gpu());
    dev.gpucore.spi.RouteRates.Curve cpu = new dev.gpucore.spi.RouteRates.Curve(
        new double[] {3.4e7, 2.0 * 1024 * 1024 * 1024, 1.7e10}, new double[] {400, 3000, 3200});
    dev.gpucore.spi.RouteRates.Curve gpu = new dev.gpucore.spi.RouteRates.Curve(
        new double[] {1.7e10, 1.4e11}, new double[] {40000, 50000});
    Map<String, String> p = Map.of("gpucore.gemm.calibrationFile", dir.resolve("c").toString());
    Router fitted = new Router(Settings.from(p, Map.of()), List.of(0), i -> null, List.of(H100),
        MODEL, 16, key -> new dev.gpucore.spi.RouteRates(key, java.time.Instant.now(), cpu, cpu,
            gpu, gpu, 20, 1.0));
    Decision d = fitted.explain(n1024);
    assertFalse(d.gpu(), d.reason());
    assertTrue(d.reason().contains("at 3000 GFLOP/s; figures: CPU rate, GPU rate, bus and"
        + " overhead from the calibration file " + dir.resolve("c") + " of "), d.reason());
    assertTrue(fitted.explain(square(8192, DType.FLOAT32, Precision.FP32)).gpu());
  }

  @Test
  void theBusBoundsTheGpuTime() {
    // 1 GB up and down at 10 GB/s over a tiny multiply: 100 ms each way, overlapped but for 1/8
    RouteModel.Estimate e = MODEL.estimate(new RouteModel.Input(Precision.FP32, 1e6, 1e9, 0, 1e9,
        false, 1, 9, 132, 16, 0, 0, 10, 0.5));
    assertEquals(100, e.acUpMs(), 1e-9);
    assertEquals(100, e.cDownMs(), 1e-9);
    assertEquals(0.5 + 100 + 100.0 / 8, e.gpuMs(), 1e-9);
  }
}
