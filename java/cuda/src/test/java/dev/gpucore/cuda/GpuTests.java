package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gpucore.GpuCore;

/**
 * Gate for GPU tests: skips (a JUnit assumption, reported with the reason) where no GPU is
 * visible, and fails instead when {@code -Dgpucore.requireGpu=true} (the GPU bundle's
 * {@code --require-gpu} mode), so a GPU run can never pass by skipping.
 */
final class GpuTests {
  private GpuTests() {}

  static final boolean REQUIRE = Boolean.getBoolean("gpucore.requireGpu");

  /**
   * Set ({@code -Dgpucore.test.sanitizer=true}, {@code bin/run-tests --sanitizer}) when the suite
   * runs under compute-sanitizer, whose tools slow kernels 10-1000 times: the largest sizes of
   * a few tests are then skipped, with that reason; every kernel still runs at smaller sizes.
   */
  static final boolean SANITIZER = Boolean.getBoolean("gpucore.test.sanitizer");

  /** Skips a case of more than 2^20 + 1 elements under compute-sanitizer. */
  static void skipLargeUnderSanitizer(long elements) {
    assumeTrue(!SANITIZER || elements <= (1 << 20) + 1,
        elements + " elements: too slow under compute-sanitizer (smaller cases cover the kernel)");
  }

  /** Opens a core and checks that it has a GPU. Close the core when done. */
  static GpuCore openGpu() {
    GpuCore core = GpuCore.open();
    if (!core.hasGpu()) {
      core.close();
    }
    require(core);
    return core;
  }

  /**
   * Skips the calling test (or fails it under {@code -Dgpucore.requireGpu=true}) when
   * {@code core} has no GPU. Call it from {@code @BeforeEach} so every test reports the skip.
   */
  static void require(GpuCore core) {
    if (!core.hasGpu()) {
      String why = "No GPU visible: " + core.noGpuReason();
      if (REQUIRE) {
        fail(why + " (and -Dgpucore.requireGpu=true)");
      }
      assumeTrue(false, why);
    }
  }
}
