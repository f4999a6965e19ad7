package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The in-place CPU GEMM on Java arrays (JNI critical region): the glue loads and this JVM pins
 * arrays rather than copying them, and its setting is checked before anything native runs.
 * Results of both paths are checked by {@link GemmPropertyTest} and
 * {@link CpuGemmSharedArrayTest}.
 */
class CpuInPlaceGemmTest {
  @Test
  void glueLoadsAndTheJvmPinsArrays() {
    assertTrue(CpuBlas.criticalAvailable(),
        "the critical-region glue did not load, or this JVM copies arrays in critical regions");
    CpuBlas blas = new CpuBlas(1, CpuBlas.IN_PLACE_MAX_GFLOP);
    try {
      assertEquals(CpuBlas.IN_PLACE_MAX_GFLOP * 1e9, blas.inPlaceMaxFlops());
    } finally {
      blas.close();
    }
    CpuBlas off = new CpuBlas(1, 0);
    try {
      assertEquals(0, off.inPlaceMaxFlops());
    } finally {
      off.close();
    }
  }

  @Test
  void badSettingNamesItself() {
    for (String v : new String[] {"-1", "lots", "NaN"}) {
      GpuCoreException e = assertThrows(GpuCoreException.InvalidArgument.class,
          () -> GpuCore.open(Config.from(Map.of("gpucore.backend", "cpu",
              "gpucore.cpu.inPlaceMaxGflop", v), Map.of())).close());
      assertTrue(e.getMessage().contains("gpucore.cpu.inPlaceMaxGflop"), e.getMessage());
    }
  }
}
