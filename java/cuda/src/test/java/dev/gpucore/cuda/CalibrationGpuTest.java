package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.GpuCore;
import dev.gpucore.blas.Decision;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Routing;
import dev.gpucore.spi.RouteCalibration;
import dev.gpucore.spi.RouteRates;
import dev.gpucore.testkit.GpuTests;
import dev.gpucore.testkit.RequiresGpu;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The router's calibration on a real GPU: it measures positive rates in a few seconds at most,
 * caches them, a second core reads them back, and a large host SGEMM (n = 4096) is routed to the GPU.
 */
@RequiresGpu
class CalibrationGpuTest {
  @Test
  void calibratesCachesAndRoutesLargeCallsToTheGpu(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("routing.properties");
    String setting = "gpucore.gemm.calibrationFile=" + file;
    Routing routing;
    long t0 = System.nanoTime();
    try (GpuCore core = GpuTests.openGpu(setting)) {
      routing = core.blas().calibrate();
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertTrue(seconds < 20, "calibration took " + seconds + " s");
    assertTrue(Files.isRegularFile(file), routing.calibration());
    for (Routing.Figure f : routing.figures()) {
      assertEquals(Routing.Source.CALIBRATION, f.source(), f.toString());
    }
    Properties p = new Properties();
    try (var in = Files.newBufferedReader(file)) {
      p.load(in);
    }
    RouteRates r = RouteRates.read(file, p.getProperty("key")).rates();
    assertNotNull(r, routing.calibration());
    assertTrue(p.getProperty("key").contains("version=" + RouteCalibration.version()));
    for (RouteRates.Curve c : new RouteRates.Curve[] {r.cpuFp32(), r.cpuFp64(), r.gpuFp32(),
        r.gpuFp64()}) {
      for (double g : c.gflops()) {
        assertTrue(g > 0, c.describe());
      }
    }
    assertTrue(r.busGBs() > 0.1, "bus " + r.busGBs());
    assertTrue(r.overheadMs() >= 0 && r.overheadMs() < 1000, "overhead " + r.overheadMs());
    System.out.println("calibration in " + seconds + " s: " + String.join("; ", routing.lines()));

    // a second core reads the file and routes by it
    try (GpuCore core = GpuTests.openGpu(setting)) {
      int n = 4096;
      Operand ab = Operand.of(new float[n * n]); // explained, not run: A and B may share it
      Decision big = core.blas().explain(Gemm.of(n, n, n), ab, n, ab, n,
          Operand.of(new float[n * n]), n);
      assertTrue(big.gpu(), big.reason());
      assertTrue(big.reason().contains("from the calibration file " + file + " of "
          + r.measured()), big.reason());
      assertTrue(core.blas().routing().calibration().startsWith("file " + file),
          core.blas().routing().calibration());
      Decision small = core.blas().explain(Gemm.of(8, 8, 8), Operand.of(new float[64]), 8,
          Operand.of(new float[64]), 8, Operand.of(new float[64]), 8);
      assertFalse(small.gpu(), small.reason());
    }
  }
}
