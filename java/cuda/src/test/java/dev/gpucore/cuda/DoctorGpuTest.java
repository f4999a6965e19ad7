package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.GpuCore;
import dev.gpucore.device.DeviceHealth;
import dev.gpucore.device.DeviceInfo;
import dev.gpucore.device.Discovery;
import dev.gpucore.testkit.RequiresGpu;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What {@code gpucore doctor} reads from the CUDA backend on a real GPU: NVML's health counters
 * (each read, or unavailable with a reason), versions, no faulted device. The doctor's numeric
 * self-test on the GPU runs in the CLI module's {@code DoctorCommandTest}.
 */
@RequiresGpu
class DoctorGpuTest {
  static GpuCore core;

  @BeforeEach
  void useGpu(GpuCore gpu) {
    core = gpu;
  }

  static void readOrSaysWhy(DeviceHealth.Reading<?> r, String what) {
    assertTrue(r.available() != !r.unavailable().isEmpty(), what + ": " + r);
  }

  @Test
  void healthIsReadOrSaysWhyNot() {
    Discovery d = core.discovery();
    for (DeviceInfo g : d.devices()) {
      DeviceHealth h = core.health(g.index());
      String dev = "GPU " + g.index() + " (" + g.name() + ")";
      readOrSaysWhy(h.ecc(), dev + " ecc");
      readOrSaysWhy(h.retiredPages(), dev + " retired pages");
      readOrSaysWhy(h.remappedRows(), dev + " remapped rows");
      readOrSaysWhy(h.clockEvents(), dev + " clock events");
      if (!d.nvmlAvailable()) {
        assertEquals("NVML is not available", h.ecc().unavailable(), dev);
        continue;
      }
      // every GPU NVML manages reports why its clocks are where they are
      assertTrue(h.clockEvents().available(), dev + ": " + h.clockEvents());
      if (h.ecc().available() && h.ecc().value().enabled()) {
        DeviceHealth.Ecc e = h.ecc().value();
        assertTrue(e.volatileCorrected() >= 0 && e.volatileUncorrected() >= 0, dev + ": " + e);
        if (g.ccMajor() >= 8) { // the A100 and later remap rows
          assertTrue(h.remappedRows().available(), dev + ": " + h.remappedRows());
        }
      }
      // a GPU the suite runs on must not wait for a reset
      if (h.remappedRows().available()) {
        assertFalse(h.remappedRows().value().pending(), dev + ": " + h.remappedRows());
        assertFalse(h.remappedRows().value().failed(), dev + ": " + h.remappedRows());
      }
      if (h.retiredPages().available()) {
        assertFalse(h.retiredPages().value().pending(), dev + ": " + h.retiredPages());
      }
      System.out.println(dev + ": " + h);
    }
  }

  @Test
  void versionsAndFaultsAsTheDoctorReadsThem() {
    Discovery d = core.discovery();
    assertTrue(d.cudaRuntimeVersion() >= 13000, "runtime " + d.cudaRuntimeVersion());
    assertTrue(d.cudaDriverVersion() >= 13000, "driver's CUDA " + d.cudaDriverVersion());
    if (d.nvmlAvailable()) {
      assertTrue(d.driverVersion().matches("\\d+\\.\\d+(\\.\\d+)?"), d.driverVersion());
    }
    for (DeviceInfo g : d.devices()) {
      assertNull(core.faulted(g.index()));
    }
  }

  @Test
  void aDeviceWithoutAnNvmlMatchSaysSo() {
    DeviceHealth h = Nvml.health(-1);
    for (DeviceHealth.Reading<?> r : List.of(h.ecc(), h.retiredPages(), h.remappedRows(),
        h.clockEvents())) {
      assertFalse(r.available());
      assertTrue(r.unavailable().equals("this GPU was not matched to an NVML device")
          || r.unavailable().equals("NVML is not available"), r.unavailable());
    }
  }
}
