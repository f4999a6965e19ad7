package dev.gpucore.testkit;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.memory.DeviceArray;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Gate for GPU tests, for code that opens its own cores (property tests, which the JUnit
 * Jupiter extension {@link RequiresGpu} does not reach, and tests that need a core with other
 * settings): skips (a JUnit assumption, reported with the reason) where no GPU is visible, and
 * fails instead when {@code -Dgpucore.requireGpu=true} (the GPU bundle's {@code --require-gpu}
 * mode), so a GPU run can never pass by skipping. Also the switches of a run under
 * compute-sanitizer.
 */
public final class GpuTests {
  private GpuTests() {}

  /** Set ({@code -Dgpucore.requireGpu=true}) where a missing GPU must fail the tests. */
  public static final boolean REQUIRE = Boolean.getBoolean("gpucore.requireGpu");

  /**
   * Set ({@code -Dgpucore.test.sanitizer=true}, {@code bin/run-tests --sanitizer}) when the suite
   * runs under compute-sanitizer, whose tools slow kernels 10-1000 times: the largest sizes of
   * a few tests are then skipped, with that reason; every kernel still runs at smaller sizes.
   */
  public static final boolean SANITIZER = Boolean.getBoolean("gpucore.test.sanitizer");

  /**
   * Largest case under compute-sanitizer, in elements ({@code -Dgpucore.test.sanitizerMaxElements},
   * default 2^20 + 1; {@code bin/run-sanitizers} gives racecheck 2^16 + 1).
   */
  public static final long SANITIZER_MAX_ELEMENTS =
      Long.getLong("gpucore.test.sanitizerMaxElements", (1 << 20) + 1);

  /** Property tries that run under compute-sanitizer ({@code -Dgpucore.test.sanitizerTries}). */
  public static final int SANITIZER_TRIES = Integer.getInteger("gpucore.test.sanitizerTries", 25);

  private static final ConcurrentHashMap<String, AtomicInteger> TRIES =
      new ConcurrentHashMap<>();

  /** Whether a case of {@code elements} is too large to run under compute-sanitizer. */
  public static boolean tooLargeForSanitizer(long elements) {
    return SANITIZER && elements > SANITIZER_MAX_ELEMENTS;
  }

  /** Skips a case of more than {@link #SANITIZER_MAX_ELEMENTS} under compute-sanitizer. */
  public static void skipLargeUnderSanitizer(long elements) {
    assumeTrue(!SANITIZER || elements <= SANITIZER_MAX_ELEMENTS,
        elements + " elements: too slow under compute-sanitizer (smaller cases cover the kernel)");
  }

  /**
   * Under compute-sanitizer, true once {@code property} has run {@link #SANITIZER_TRIES} tries:
   * the property then returns at once for its remaining tries (the sanitizer checks the native
   * code each kernel and copy path runs, which the first tries cover; hundreds of cuBLAS calls
   * under memcheck take longer than a GPU test run allows). Always false outside the sanitizer.
   * The count is per JVM, so jqwik's shrinking of a failure found there runs no GPU call: rerun
   * the reported seed without the sanitizer to shrink it.
   */
  public static boolean pastSanitizerTries(String property) {
    return SANITIZER && TRIES.computeIfAbsent(property,
        k -> new AtomicInteger()).incrementAndGet() > SANITIZER_TRIES;
  }

  /**
   * Opens a core with {@code settings} ({@code key=value} each, over the environment) and checks
   * that it has a GPU; where it has none the core is closed and the caller skipped (or failed,
   * see {@link #REQUIRE}). Close the core when done.
   */
  public static GpuCore openGpu(String... settings) {
    GpuCore core = openCore(settings);
    if (!core.hasGpu()) {
      core.close();
    }
    require(core);
    return core;
  }

  /** Opens a core with {@code settings} ({@code key=value} each, over the environment). */
  static GpuCore openCore(String... settings) {
    if (settings.length == 0) {
      return GpuCore.open();
    }
    Map<String, String> p = new HashMap<>();
    for (String kv : settings) {
      int eq = kv.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("settings: expected key=value, got '" + kv + "'");
      }
      p.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
    }
    return GpuCore.open(Config.from(p, System.getenv()));
  }

  /**
   * Skips the calling test (or fails it under {@code -Dgpucore.requireGpu=true}) when
   * {@code core} has no GPU.
   */
  public static void require(GpuCore core) {
    if (!core.hasGpu()) {
      String why = "No GPU visible: " + core.noGpuReason();
      if (REQUIRE) {
        fail(why + " (and -Dgpucore.requireGpu=true)");
      }
      assumeTrue(false, why);
    }
  }

  /**
   * Writes {@code values} into {@code d} from element 0: as they are into a FLOAT64 array,
   * rounded to float into any other.
   */
  public static void upload(DeviceArray d, double[] values) {
    if (d.dtype() == DType.FLOAT64) {
      d.copyFrom(values, 0, 0, values.length);
      return;
    }
    float[] f = new float[values.length];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) values[i];
    }
    d.copyFrom(f, 0, 0, f.length);
  }

  /** The first {@code n} elements of {@code d} as doubles (read as floats unless FLOAT64). */
  public static double[] download(DeviceArray d, int n) {
    double[] x = new double[n];
    if (d.dtype() == DType.FLOAT64) {
      d.copyTo(0, x, 0, n);
      return x;
    }
    float[] f = new float[n];
    d.copyTo(0, f, 0, n);
    for (int i = 0; i < n; i++) {
      x[i] = f[i];
    }
    return x;
  }
}
