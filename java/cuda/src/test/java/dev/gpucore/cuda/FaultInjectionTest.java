package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The driver-mismatch path through the fault-injection seam: runs everywhere, GPU or not, since
 * the injected failure comes before the CUDA libraries load.
 */
class FaultInjectionTest {
  @Test
  void aDriverTooOldForTheRuntimeLeavesTheCpuAndSaysWhy() {
    try (GpuCore core = GpuCore.open(Config.from(Map.of("gpucore.fault", "driver"), Map.of()))) {
      assertFalse(core.hasGpu());
      String why = core.noGpuReason();
      assertTrue(why.contains("older than this CUDA 13 runtime") && why.contains("driver 580"),
          why);
      assertTrue(why.contains("injected by gpucore.fault=driver"), why);
      // and the CPU serves
      float[] c = new float[4];
      core.blas().sgemm(false, false, 2, 2, 1, 1f, new float[] {1, 2}, 1, new float[] {3, 4}, 2,
          0f, c, 2);
      assertTrue(c[0] == 3 && c[1] == 4 && c[2] == 6 && c[3] == 8, java.util.Arrays.toString(c));
    }
  }

  @Test
  void requiringAGpuWithATooOldDriverFailsInWords() {
    GpuCoreException.DeviceUnavailable e = assertThrows(GpuCoreException.DeviceUnavailable.class,
        () -> GpuCore.open(Config.from(Map.of("gpucore.fault", "driver", "gpucore.backend",
            "cuda"), Map.of())).close());
    assertTrue(e.getMessage().contains("a GPU was required")
        && e.getMessage().contains("cudaErrorInsufficientDriver, 35"), e.getMessage());
  }

  @Test
  void aMistypedFaultPlanIsAClearError() {
    GpuCoreException.InvalidArgument e = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> GpuCore.open(Config.from(Map.of("gpucore.fault", "sticky:gem"), Map.of())).close());
    assertTrue(e.getMessage().contains("gpucore.fault") && e.getMessage().contains("sticky:gem"),
        e.getMessage());
  }
}
