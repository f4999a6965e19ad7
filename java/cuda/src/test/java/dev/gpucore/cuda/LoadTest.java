package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.device.DeviceInfo;
import dev.gpucore.device.Discovery;
import dev.gpucore.testkit.GpuTests;
import org.junit.jupiter.api.Test;

/** Loading and discovery: must behave on every machine, with or without a GPU. */
class LoadTest {
  @Test
  void openNeverThrowsAndExplainsInOneLine() {
    try (GpuCore core = GpuCore.open()) {
      if (core.hasGpu()) {
        assertEquals("cuda", core.backendName());
        assertEquals("", core.noGpuReason());
      } else {
        assertEquals("cpu", core.backendName());
        String why = core.noGpuReason();
        assertFalse(why.isBlank(), "a reason must be given");
        assertFalse(why.contains("\n"), "one line: " + why);
        assertFalse(why.contains("UnsatisfiedLinkError"), why);
        assertThrows(GpuCoreException.DeviceUnavailable.class,
            () -> core.allocate(0, DType.FLOAT32, 10));
      }
    }
  }

  @Test
  void requiringCudaWithoutGpuFailsClearly() {
    try (GpuCore probe = GpuCore.open()) {
      if (probe.hasGpu()) {
        try (GpuCore core = GpuCore.open(new Config(Config.Backend.CUDA, 0))) {
          assertTrue(core.hasGpu());
        }
        return;
      }
    }
    GpuCoreException.DeviceUnavailable e = assertThrows(GpuCoreException.DeviceUnavailable.class,
        () -> GpuCore.open(new Config(Config.Backend.CUDA, 0)));
    assertTrue(e.getMessage().startsWith("a GPU was required but"), e.getMessage());
  }

  @Test
  void cpuBackendRequestedLoadsNoGpu() {
    try (GpuCore core = GpuCore.open(new Config(Config.Backend.CPU, 0))) {
      assertFalse(core.hasGpu());
      assertTrue(core.noGpuReason().contains("CPU backend was requested"), core.noGpuReason());
    }
  }

  @Test
  void discoveryFieldsAreSane() {
    try (GpuCore core = GpuTests.openGpu()) {
      Discovery d = core.discovery();
      assertTrue(d.cudaRuntimeVersion() >= 13000, "runtime " + d.cudaRuntimeVersion());
      assertTrue(d.cudaDriverVersion() >= d.cudaRuntimeVersion(),
          "driver CUDA " + d.cudaDriverVersion() + " < runtime " + d.cudaRuntimeVersion());
      for (DeviceInfo g : d.devices()) {
        assertTrue(g.uuid().matches("GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
            g.uuid());
        assertTrue(g.pciBusId().matches("[0-9A-Fa-f]{8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\\.[0-9A-Fa-f]"),
            g.pciBusId());
        assertTrue(g.ccMajor() >= 7, "cc " + g.computeCapability());
        assertTrue(g.multiprocessors() > 0);
        assertTrue(g.memoryTotal() > (1L << 30), "memory " + g.memoryTotal());
        assertFalse(g.name().isBlank());
        assertFalse(g.name().chars().anyMatch(c -> c < 0x20), "bounded string: " + g.name());
        if (d.nvmlAvailable()) {
          assertTrue(g.nvmlIndex() >= 0);
          assertTrue(g.memoryUsed() >= 0 && g.memoryFree() >= 0);
          assertTrue(g.memoryUsed() + g.memoryFree() <= g.memoryTotal() + (1L << 20));
          assertTrue(d.driverVersion().matches("\\d+\\.\\d+(\\.\\d+)?"), d.driverVersion());
        }
      }
    }
  }
}
