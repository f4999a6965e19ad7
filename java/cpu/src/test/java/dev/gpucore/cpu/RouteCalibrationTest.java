package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Config;
import dev.gpucore.GpuCoreException;
import dev.gpucore.spi.Backend;
import dev.gpucore.spi.RouteCalibration;
import dev.gpucore.spi.RouteRates;
import dev.gpucore.testkit.FakeGpu;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The calibration's measurement run through, at small sizes, on the CPU backend and a stand-in
 * GPU (whose times mean nothing: only that every step runs and gives usable figures).
 */
class RouteCalibrationTest {
  static final RouteCalibration.Sizes SMALL = new RouteCalibration.Sizes(new int[] {8, 16, 32},
      new int[] {8, 16}, new int[] {8, 16}, new int[] {8, 16}, 4096);

  @Test
  void everyStepRunsAndGivesPositiveFigures() {
    Config config = Config.from(Map.of(), Map.of());
    try (Backend cpu = new CpuBackendProvider().open(config)) {
      FakeGpu gpu = new FakeGpu().configure(config, cpu);
      RouteRates r = RouteCalibration.measure(cpu, gpu, 0, 1, gpu.discovery().devices().get(0),
          gpu.routeModel(), 2, "host=test", SMALL);
      assertEquals("host=test", r.key());
      assertEquals(3, r.cpuFp32().flops().length, r.cpuFp32().text());
      assertEquals(2.0 * 32 * 32 * 32, r.cpuFp32().flops()[2]);
      for (RouteRates.Curve c : new RouteRates.Curve[] {r.cpuFp32(), r.cpuFp64(), r.gpuFp32(),
          r.gpuFp64()}) {
        double last = 0;
        for (double g : c.gflops()) {
          assertTrue(g > 0 && g >= last, c.text()); // positive, never falling
          last = g;
        }
      }
      assertTrue(r.busGBs() > 0);
      assertTrue(r.overheadMs() >= 0);
      // what it measured is a file that reads back
      assertEquals(r, RouteRates.read(writeTemp(r), "host=test").rates());
    }
  }

  @Test
  void aFailingGpuFailsTheMeasurement() {
    Config config = Config.from(Map.of("gpucore.fault", "oom:alloc"), Map.of());
    try (Backend cpu = new CpuBackendProvider().open(config)) {
      FakeGpu gpu = new FakeGpu().configure(config, cpu);
      assertThrows(GpuCoreException.OutOfMemory.class, () -> RouteCalibration.measure(cpu, gpu,
          0, 1, gpu.discovery().devices().get(0), gpu.routeModel(), 2, "k", SMALL));
    }
  }

  @Test
  void aCpuGemmThatSkipsItsWorkFailsTheMeasurement() {
    Config config = Config.from(Map.of(), Map.of());
    try (Backend real = new CpuBackendProvider().open(config)) {
      FakeGpu gpu = new FakeGpu().configure(config, real);
      // the CPU backend as it is, but its GEMMs return at once, C untouched
      Backend idle = new Backend() {
        @Override
        public String name() {
          return real.name();
        }

        @Override
        public dev.gpucore.device.Discovery discovery() {
          return real.discovery();
        }

        @Override
        public dev.gpucore.memory.HostArray allocateHost(dev.gpucore.DType dtype, long length,
            boolean pinned) {
          return real.allocateHost(dtype, length, pinned);
        }

        @Override
        public dev.gpucore.spi.BlasOps blas() {
          return call -> { };
        }

        @Override
        public dev.gpucore.spi.ReduceOps reductions() {
          return real.reductions();
        }

        @Override
        public void close() {}
      };
      GpuCoreException e = assertThrows(GpuCoreException.class, () -> RouteCalibration.measure(
          idle, gpu, 0, 1, gpu.discovery().devices().get(0), gpu.routeModel(), 2, "k", SMALL));
      assertTrue(e.getMessage().startsWith("calibration: the CPU backend's GEMM (fp32, n = 8)"),
          e.getMessage());
    }
  }

  @Test
  void sizesAreChecked() {
    assertThrows(IllegalArgumentException.class, () -> new RouteCalibration.Sizes(new int[0],
        new int[] {8}, new int[] {8}, new int[] {8}, 1));
    assertThrows(IllegalArgumentException.class, () -> new RouteCalibration.Sizes(new int[] {0},
        new int[] {8}, new int[] {8}, new int[] {8}, 1));
    assertThrows(IllegalArgumentException.class, () -> new RouteCalibration.Sizes(new int[] {8},
        new int[] {8}, new int[] {8}, new int[] {8}, 0));
  }

  static java.nio.file.Path writeTemp(RouteRates r) {
    try {
      java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("routing");
      java.nio.file.Path f = dir.resolve("r.properties");
      r.write(f);
      f.toFile().deleteOnExit();
      dir.toFile().deleteOnExit();
      return f;
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }
}
