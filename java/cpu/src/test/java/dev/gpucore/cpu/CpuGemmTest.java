package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.testkit.GemmContract;
import dev.gpucore.testkit.OnCpuBackend;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The GEMM contract on the CPU backend, and what only the CPU backend promises. */
@OnCpuBackend
class CpuGemmTest extends GemmContract {
  private static GpuCore core;

  @BeforeEach
  void keepCore(GpuCore cpu) {
    core = cpu;
  }

  @Test
  void cpuBackendHasNoGpu() {
    assertFalse(core.hasGpu());
    assertFalse(core.noGpuReason().isBlank(), "noGpuReason must say why");
    assertEquals("cpu", core.backendName());
    assertTrue(core.devices().isEmpty());
    assertFalse(core.discovery().hasGpu());
    assertEquals(Config.Backend.CPU, core.config().backend());
    GpuCoreException.DeviceUnavailable e =
        assertThrows(GpuCoreException.DeviceUnavailable.class, () -> dev.gpucore.spi.Cores.backends(core).gpu());
    assertTrue(e.getMessage().contains(core.noGpuReason()), e.getMessage());
    assertTrue(dev.gpucore.spi.Cores.backends(core).cpu() instanceof CpuBackend);
    assertTrue(((CpuBackend) dev.gpucore.spi.Cores.backends(core).cpu()).cpuThreads() >= 1);
  }

  @Test
  void configuredThreadsReachTheBackend() {
    try (GpuCore two = GpuCore.open(new Config(Config.Backend.CPU, 2))) {
      assertEquals(2, ((CpuBackend) dev.gpucore.spi.Cores.backends(two).cpu()).cpuThreads());
      check(two.blas(), new Problem(false, false, 50, 40, 30, 0, 0, 0, 1f, 0f), BASE_SEED + 17);
    }
  }

  @Test
  void closedCoreRejectsWork() {
    GpuCore c = GpuCore.open(new Config(Config.Backend.CPU, 1));
    c.close();
    c.close();
    float[] x = new float[1];
    assertThrows(GpuCoreException.InvalidArgument.class,
        () -> c.blas().sgemm(false, false, 1, 1, 1, 1f, new float[1], 1, new float[1], 1, 0f,
            x, 1));
    assertThrows(GpuCoreException.InvalidArgument.class, () -> c.reduce().sum(new float[3]));
    assertEquals(0f, x[0]);
  }
}
