package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gpucore.GpuCore;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

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

  /**
   * Largest case under compute-sanitizer, in elements ({@code -Dgpucore.test.sanitizerMaxElements},
   * default 2^20 + 1; {@code bin/run-sanitizers} gives racecheck 2^16 + 1).
   */
  static final long SANITIZER_MAX_ELEMENTS =
      Long.getLong("gpucore.test.sanitizerMaxElements", (1 << 20) + 1);

  /** Whether a case of {@code elements} is too large to run under compute-sanitizer. */
  static boolean tooLargeForSanitizer(long elements) {
    return SANITIZER && elements > SANITIZER_MAX_ELEMENTS;
  }

  /** Skips a case of more than {@link #SANITIZER_MAX_ELEMENTS} under compute-sanitizer. */
  static void skipLargeUnderSanitizer(long elements) {
    assumeTrue(!SANITIZER || elements <= SANITIZER_MAX_ELEMENTS,
        elements + " elements: too slow under compute-sanitizer (smaller cases cover the kernel)");
  }

  /** Property tries that run under compute-sanitizer ({@code -Dgpucore.test.sanitizerTries}). */
  static final int SANITIZER_TRIES = Integer.getInteger("gpucore.test.sanitizerTries", 25);

  private static final ConcurrentHashMap<String, AtomicInteger> TRIES =
      new ConcurrentHashMap<>();

  /**
   * Under compute-sanitizer, true once {@code property} has run {@link #SANITIZER_TRIES} tries:
   * the property then returns at once for its remaining tries (the sanitizer checks the native
   * code each kernel and copy path runs, which the first tries cover; hundreds of cuBLAS calls
   * under memcheck would not finish in the tool's time limit). Always false outside the
   * sanitizer. The count is per JVM, so jqwik's shrinking of a failure found there runs no GPU
   * call: rerun the reported seed without the sanitizer to shrink it.
   */
  static boolean pastSanitizerTries(String property) {
    return SANITIZER && TRIES.computeIfAbsent(property,
        k -> new AtomicInteger()).incrementAndGet() > SANITIZER_TRIES;
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
