package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every setting is checked when the core opens, on a machine without a GPU too: settings that
 * only a GPU backend reads fail here as well, naming the setting as the user wrote it.
 */
class OpenValidatesSettingsTest {
  @ParameterizedTest(name = "{0}={1}")
  @CsvSource({
      "GPUCORE_GEMM_PANELMIB, -3, must be from 1 to 65536",
      "GPUCORE_GEMM_LT, bogus, 'must be one of fp64, all, none'",
      "GPUCORE_P2P, sideways, must be auto or off",
      "GPUCORE_CPU_THREADS, 32768, must be from 0 to 1024",
      "GPUCORE_STAGING_THREADS, 65, must be from 0 to 64",
      "GPUCORE_SCRATCH_CACHEMIB, -1, must be from 0 to 1048576",
      "GPUCORE_P2P_STAGEDBUFFERS, 1, must be from 2 to 64"})
  void aSettingOnlyAGpuReadsFailsOnTheCpuToo(String env, String value, String cause) {
    for (String backend : new String[] {"cpu", "auto"}) {
      GpuCoreException e = assertThrows(GpuCoreException.InvalidArgument.class,
          () -> GpuCore.open(Config.from(Map.of("gpucore.backend", backend),
              Map.of(env, value))).close());
      assertEquals(env + " (environment) is \"" + value + "\": " + cause, e.getMessage());
    }
  }

  @Test
  void aGpuIndexWithoutThatGpuIsAWarningNotAnError() {
    Config c = Config.from(Map.of("gpucore.backend", "cpu"), Map.of("GPUCORE_GPU_LIST", "7"));
    try (GpuCore core = GpuCore.open(c)) {
      assertFalse(core.hasGpu());
      assertEquals(List.of("GPUCORE_GPU_LIST (environment) names GPU 7 but no GPU is usable; "
          + "ignored"), c.settings().warnings());
    }
  }

  @Test
  void wellFormedSettingsOpen() {
    try (GpuCore core = GpuCore.open(Config.from(Map.of("gpucore.backend", "cpu"),
        Map.of("GPUCORE_GEMM_PANELMIB", "64", "GPUCORE_GEMM_LT", "all", "GPUCORE_P2P", "off",
            "GPUCORE_CPU_THREADS", "2")))) {
      assertEquals(2, core.config().cpuThreads());
      assertTrue(core.config().settings().warnings().isEmpty(),
          core.config().settings().warnings().toString());
    }
  }
}
