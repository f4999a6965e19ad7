package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.testkit.OnCpuBackend;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@OnCpuBackend
class CpuReduceTest {
  private static final long BASE_SEED = System.nanoTime();
  private static GpuCore core;

  @BeforeEach
  void useCore(GpuCore cpu) {
    core = cpu;
  }

  /** Sum in float64, strictly left to right. */
  private static double reference(float[] x) {
    double s = 0;
    for (float v : x) {
      s += v;
    }
    return s;
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 3, 4, 5, 31, 1023, (1 << 20) + 1})
  void matchesFloat64Sum(int n) {
    long seed = BASE_SEED + n;
    Random r = new Random(seed);
    float[] x = new float[n];
    double abs = 0;
    for (int i = 0; i < n; i++) {
      x[i] = (float) (r.nextGaussian() * 100 + 3);
      abs += Math.abs(x[i]);
    }
    float[] x0 = x.clone();
    double got = core.reduce().sum(x);
    double want = reference(x);
    // both accumulate in double: the orders differ, so allow n roundings of the magnitude
    double tol = Math.max(1, n) * Math.ulp(1.0) * abs;
    assertEquals(want, got, tol, "n=" + n + " seed=" + seed);
    assertEquals(got, core.reduce().sum(x), "deterministic, n=" + n + " seed=" + seed);
    assertTrue(Arrays.equals(x0, x), "input modified");
    if (n == 0) {
      assertEquals(0.0, got);
    }
  }

  @Test
  void exactForSmallIntegers() {
    // every partial sum is exactly representable: any summation order must give the exact value
    for (int n : new int[] {1, 2, 3, 4, 5, 7, 8, 9, 31, 1023}) {
      float[] x = new float[n];
      long want = 0;
      for (int i = 0; i < n; i++) {
        x[i] = i + 1;
        want += i + 1;
      }
      assertEquals((double) want, core.reduce().sum(x), "n=" + n);
    }
  }

  @Test
  void tailElementsAreCounted() {
    // a non-zero value only in the last 1..3 positions (the remainder loop) must be summed
    for (int n = 1; n <= 12; n++) {
      for (int pos = 0; pos < n; pos++) {
        float[] x = new float[n];
        x[pos] = 1.5f;
        assertEquals(1.5, core.reduce().sum(x), "n=" + n + " pos=" + pos);
      }
    }
  }

  @Test
  void accumulatesInDouble() {
    // in float, 2^24 + 1 + 1 + ... stays 2^24; in double the ones count
    float[] x = new float[1001];
    x[0] = 16777216f;
    Arrays.fill(x, 1, x.length, 1f);
    assertEquals(16777216.0 + 1000, core.reduce().sum(x));
  }

  @Test
  void specialValues() {
    assertTrue(Double.isNaN(core.reduce().sum(new float[] {1, Float.NaN, 2})));
    assertEquals(Double.POSITIVE_INFINITY,
        core.reduce().sum(new float[] {1, Float.POSITIVE_INFINITY, 2, 3, 4}));
    assertTrue(Double.isNaN(core.reduce().sum(
        new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY})));
    // Float.MAX_VALUE * 4 overflows float but not double
    float[] big = new float[4];
    Arrays.fill(big, Float.MAX_VALUE);
    double s = core.reduce().sum(big);
    assertFalse(Double.isInfinite(s));
    assertEquals(4.0 * Float.MAX_VALUE, s);
  }

  @Test
  void nullRejected() {
    GpuCoreException.InvalidArgument e = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> core.reduce().sum((float[]) null));
    assertTrue(e.getMessage().startsWith("x "), e.getMessage());
  }

  @Test
  void cpuBackendHasNoGpu() {
    assertFalse(core.hasGpu());
    assertFalse(core.noGpuReason().isEmpty());
    assertTrue(core.noGpuReason().contains("cpu") || core.noGpuReason().contains("CPU"),
        core.noGpuReason());
  }
}
