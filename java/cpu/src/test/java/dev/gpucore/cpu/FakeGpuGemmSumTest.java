package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.testkit.FakeGpu;
import dev.gpucore.testkit.GemmSumContract;
import dev.gpucore.testkit.OnCpuBackend;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The sum-of-products GEMM contract on a core whose host GEMMs all go to the test kit's fake GPU
 * (two devices, 1 MiB panels): the GPU route of host sums through the SPI's default (pair by
 * pair through the backend's host GEMM), and device sums. Then the router deciding for the whole
 * sum, and the failures of a sum on the GPU: a fault after earlier pairs wrote C redone on the
 * CPU from C as it was (or thrown, saying C was written), out of memory falling back to the CPU,
 * and {@code gpucore.gemm.cpuRatio} splitting a sum's rows.
 */
@OnCpuBackend
class FakeGpuGemmSumTest extends GemmSumContract {
  private FakeGpu gpu;
  private GpuCore fake;

  @BeforeEach
  void onFakeGpu() {
    gpu = new FakeGpu(2);
    fake = gpu.core(Map.of("gpucore.gemm.route", "gpu", "gpucore.gemm.panelMiB", "1"),
        new CpuBackendProvider());
    core = fake;
  }

  @AfterEach
  void closeFake() {
    fake.close();
  }

  private FakeGpu sim;

  /** A core over the CPU backend and one fake GPU with these settings (route gpu unless set). */
  private GpuCore core(String... settings) {
    Map<String, String> props = new HashMap<>();
    props.put("gpucore.gemm.route", "gpu");
    for (int i = 0; i < settings.length; i += 2) {
      props.put(settings[i], settings[i + 1]);
    }
    Config config = Config.from(props, Map.of());
    var cpu = new CpuBackendProvider().open(config);
    sim = new FakeGpu(1).configure(config, cpu);
    return dev.gpucore.spi.Cores.of(config, cpu, sim, null);
  }

  /** A row-major fp32 sum: pair t is A_t (m×k[t]) times B_t (k[t]×n); C random or NaN. */
  private static final class Sum {
    final int m;
    final int n;
    final int[] k;
    final float[][] a;
    final float[][] b;
    final float[] c;
    final float[] c0;

    Sum(int m, int n, int[] k, boolean poison) {
      this.m = m;
      this.n = n;
      this.k = k;
      SplittableRandom r = new SplittableRandom(System.nanoTime());
      a = new float[k.length][];
      b = new float[k.length][];
      for (int t = 0; t < k.length; t++) {
        a[t] = rand(r, m * k[t]);
        b[t] = rand(r, k[t] * n);
      }
      c = rand(r, m * n);
      if (poison) {
        Arrays.fill(c, Float.NaN);
      }
      c0 = c.clone();
    }

    void run(GpuCore core, double beta) {
      Operand[] oa = new Operand[k.length];
      Operand[] ob = new Operand[k.length];
      int[] lda = new int[k.length];
      int[] ldb = new int[k.length];
      for (int t = 0; t < k.length; t++) {
        oa[t] = Operand.of(a[t]);
        ob[t] = Operand.of(b[t]);
        lda[t] = Math.max(1, k[t]);
        ldb[t] = n;
      }
      core.blas().gemmSum(Gemm.of(m, n, Arrays.stream(k).sum()).scale(1, beta), k, oa, lda, ob,
          ldb, Operand.of(c), n);
    }

    /** Checks C against a float64 reference of alpha = 1 and this beta. */
    void check(double beta) {
      int kk = Arrays.stream(k).sum();
      double err = 0;
      double scale = 0;
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          double s = beta == 0 ? 0 : beta * c0[i * n + j];
          double abs = Math.abs(s);
          for (int t = 0; t < k.length; t++) {
            for (int p = 0; p < k[t]; p++) {
              double x = (double) a[t][i * k[t] + p] * b[t][p * n + j];
              s += x;
              abs += Math.abs(x);
            }
          }
          err = Math.max(err, Math.abs(c[i * n + j] - s));
          scale = Math.max(scale, abs);
        }
      }
      assertTrue(err <= 4 * kk * 0x1p-24 * scale + 1e-30,
          "max error " + err + " exceeds the fp32 bound for k = " + kk + " (scale " + scale + ")");
    }

    private static float[] rand(SplittableRandom r, int len) {
      float[] x = new float[len];
      for (int i = 0; i < len; i++) {
        x[i] = (float) (r.nextDouble() * 2 - 1);
      }
      return x;
    }
  }

  @Test
  void theGpuRouteRunsEveryNonEmptyPairOnTheGpu() {
    try (GpuCore core = core()) {
      Sum s = new Sum(40, 24, new int[] {30, 0, 17, 5}, true);
      s.run(core, 0);
      s.check(0);
      assertEquals(List.of(40, 40, 40), sim.rows, "three host GEMMs of 40 rows on the GPU");
    }
  }

  @Test
  void theRouterDecidesForTheWholeSum() {
    // the fake's model with these figures: a 128×128×64 GEMM (2.1 MFLOP: 0.2 ms on the CPU)
    // stays on the CPU beside the GPU's 1 ms overhead, 16 of them in one sum (3.4 ms) do not
    try (GpuCore core = core("gpucore.gemm.route", "auto", "gpucore.gemm.cpuGflops", "10",
        "gpucore.gemm.gpuGflops", "1000", "gpucore.gemm.busGBs", "35",
        "gpucore.gemm.overheadMs", "1", "gpucore.gemm.calibrate", "off",
        "gpucore.gemm.learn", "false")) {
      int[] one = {64};
      Sum single = new Sum(128, 128, one, false);
      single.run(core, 1);
      single.check(1);
      assertEquals(List.of(), sim.rows, "one pair: on the CPU");
      int[] k = new int[16];
      Arrays.fill(k, 64);
      Sum s = new Sum(128, 128, k, false);
      s.run(core, 1);
      s.check(1);
      assertEquals(16, sim.rows.size(), "the sum of 16 pairs: on the GPU, " + sim.rows);
    }
  }

  @Test
  void aFaultAfterEarlierPairsWroteCIsRedoneFromCAsItWasOrThrown() {
    // the second pair's GEMM faults after the first wrote C: C as it was comes back, the whole
    // sum runs on the CPU
    try (GpuCore core = core("gpucore.fault", "sticky:gemm:2")) {
      Sum s = new Sum(50, 30, new int[] {20, 25, 10}, false);
      s.run(core, 1.5);
      s.check(1.5);
      assertNotNull(sim.faulted(0), "the device is marked faulted");
    }
    // without the fallback the failure is the caller's, saying C was written
    try (GpuCore core = core("gpucore.fault", "sticky:gemm:2", "gpucore.gemm.fallback",
        "false")) {
      Sum s = new Sum(50, 30, new int[] {20, 25, 10}, false);
      GpuCoreException.DeviceFaulted e = assertThrows(GpuCoreException.DeviceFaulted.class,
          () -> s.run(core, 1.5));
      assertTrue(e.outputPartlyWritten(), "the exception says C is partly written");
      assertTrue(e.getMessage().contains("pair 1 of a sum"), e.getMessage());
      assertFalse(Arrays.equals(s.c0, s.c), "the first pair was written");
    }
    // with beta = 0 C is not read: the sum is rerun whole on the CPU
    try (GpuCore core = core("gpucore.fault", "sticky:gemm:3")) {
      Sum s = new Sum(50, 30, new int[] {20, 25, 10}, true);
      s.run(core, 0);
      s.check(0);
    }
  }

  @Test
  void outOfMemoryFallsBackToTheCpuOrIsThrownWithCUntouched() {
    try (GpuCore core = core("gpucore.fault", "oom:scratch")) {
      Sum s = new Sum(50, 30, new int[] {20, 25, 10}, false);
      s.run(core, -0.5);
      s.check(-0.5);
    }
    try (GpuCore core = core("gpucore.fault", "oom:scratch", "gpucore.gemm.fallback", "false")) {
      Sum s = new Sum(50, 30, new int[] {20, 25, 10}, false);
      GpuCoreException.OutOfMemory e = assertThrows(GpuCoreException.OutOfMemory.class,
          () -> s.run(core, -0.5));
      assertFalse(e.outputPartlyWritten(), e.getMessage());
      assertArrayEquals(s.c0, s.c, "C must be untouched");
    }
  }

  @Test
  void aCpuRatioSplitsTheSumsRows() {
    try (GpuCore core = core("gpucore.gemm.cpuRatio", "0.25")) {
      Sum s = new Sum(40, 24, new int[] {30, 17}, false);
      s.run(core, 0.75);
      s.check(0.75);
      assertEquals(List.of(30, 30), sim.rows, "the GPU got the first 3/4 of C's rows, per pair");
    }
  }
}
