package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.memory.HostArray;
import dev.gpucore.testkit.OnCpuBackend;
import dev.gpucore.testkit.RequiresGpu;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Sample classes that {@link TestKitExtensionTest} runs through the launcher (named so that
 * neither surefire nor the console launcher's scan picks them up on their own).
 */
final class ExtensionSamples {
  private ExtensionSamples() {}

  static final List<GpuCore> SEEN = new ArrayList<>();

  @OnCpuBackend
  static class SharedCore {
    @BeforeEach
    void before(GpuCore core) {
      SEEN.add(core);
    }

    @Test
    void first(GpuCore core) {
      SEEN.add(core);
    }

    @Test
    void second(GpuCore core) {
      SEEN.add(core);
    }
  }

  @OnCpuBackend
  static class Leaks {
    static HostArray kept;

    @Test
    void keepsAHostArray(GpuCore core) {
      kept = core.allocateHost(DType.FLOAT64, 1000, false);
    }
  }

  @RequiresGpu
  static class NeedsGpu {
    @Test
    void onTheGpu(GpuCore core) {
      assertTrue(core.hasGpu());
    }
  }
}
