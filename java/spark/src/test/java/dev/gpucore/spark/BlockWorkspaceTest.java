package dev.gpucore.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Keeping the block step's buffers between calls, without allocating any (a workspace holds
 * nothing until a block step prepares it): which one a call gets back, the idle limit, the
 * staging settings.
 */
class BlockWorkspaceTest {
  private static final String LIMIT = "gpucore.spark.blockCacheMiB";

  @AfterEach
  void clear() {
    System.clearProperty(LIMIT);
    BlockWorkspace.releaseIdle();
  }

  @Test
  void aCallGetsBackTheWorkspaceOfItsCoreDeviceAndType() {
    try (GpuCore core = GpuCore.open(Config.from(Map.of("gpucore.backend", "cpu"), Map.of()))) {
      BlockWorkspace w = BlockWorkspace.take(core, 0, DType.FLOAT64);
      BlockWorkspace.give(w);
      assertEquals(1, BlockWorkspace.idleCount());
      assertNotSame(w, BlockWorkspace.take(core, 0, DType.FLOAT32));
      assertNotSame(w, BlockWorkspace.take(core, 1, DType.FLOAT64));
      assertSame(w, BlockWorkspace.take(core, 0, DType.FLOAT64));
      assertEquals(0, BlockWorkspace.idleCount());
      BlockWorkspace.give(w);
      assertEquals(1, BlockKernel.releaseBuffers());
      assertEquals(0, BlockWorkspace.idleCount());
    }
  }

  @Test
  void aLimitOfZeroKeepsNoneAndAMalformedOneIsRefusedByName() {
    try (GpuCore core = GpuCore.open(Config.from(Map.of("gpucore.backend", "cpu"), Map.of()))) {
      System.setProperty(LIMIT, "0");
      BlockWorkspace.give(BlockWorkspace.take(core, 0, DType.FLOAT64));
      assertEquals(0, BlockWorkspace.idleCount());
      System.setProperty(LIMIT, "lots");
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> BlockWorkspace.take(core, 0, DType.FLOAT64));
      assertTrue(e.getMessage().startsWith(LIMIT), e.getMessage());
      System.setProperty(LIMIT, "-1");
      assertThrows(IllegalArgumentException.class, BlockWorkspace::idleLimitBytes);
      System.setProperty(LIMIT, "3");
      assertEquals(3L << 20, BlockWorkspace.idleLimitBytes());
    }
  }

  @Test
  void lanesAndBuffersFollowTheStagingSettings() {
    Map<String, String> props = Map.of("gpucore.backend", "cpu", "gpucore.staging.threads", "3",
        "gpucore.staging.chunkMiB", "1");
    try (GpuCore core = GpuCore.open(Config.from(props, Map.of()))) {
      BlockWorkspace w = BlockWorkspace.take(core, 0, DType.FLOAT64);
      assertEquals(3, w.lanes());
      assertEquals(1 << 17, w.chunk());
      assertEquals(1 << 18, BlockWorkspace.take(core, 0, DType.FLOAT32).chunk());
    }
    try (GpuCore core = GpuCore.open(Config.from(Map.of("gpucore.backend", "cpu"), Map.of()))) {
      BlockWorkspace w = BlockWorkspace.take(core, 0, DType.FLOAT64);
      // the core count, at most 16, as gpucore's own staged copies
      assertEquals(Math.max(1, Math.min(16, Runtime.getRuntime().availableProcessors())),
          w.lanes());
      assertEquals(1 << 18, w.chunk()); // 2 MiB
    }
  }
}
