package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The in-place CPU GEMM on Java arrays (JNI critical region): the glue loads, this JVM pins
 * arrays rather than copying them, calls within {@code gpucore.cpu.inPlaceMaxMs} take the path
 * (per batch item), longer ones in panels of C and ones too long for panels not, and the
 * setting is checked before anything native
 * runs. Results of both paths are checked by {@link GemmPropertyTest} and
 * {@link CpuGemmSharedArrayTest}.
 */
class CpuInPlaceGemmTest {
  @Test
  void glueLoadsAndTheJvmPinsArrays() {
    assertTrue(CpuBlas.criticalAvailable(),
        "the critical-region glue did not load, or this JVM copies arrays in critical regions");
  }

  /** CPU settings of 2 threads and this in-place limit, without slabs of k (panels only). */
  private static Config config(String maxMs) {
    return Config.from(Map.of("gpucore.backend", "cpu", "gpucore.cpu.threads", "2",
        "gpucore.cpu.inPlaceMaxMs", maxMs, "gpucore.cpu.kSlabs", "false"), Map.of());
  }

  /** A core on a CPU backend with {@code gpucore.cpu.inPlaceMaxMs = maxMs}, and its GEMM. */
  private record Cpu(GpuCore core, CpuBlas blas) implements AutoCloseable {
    @Override
    public void close() {
      core.close();
    }
  }

  private static Cpu open(String maxMs) {
    Config config = config(maxMs);
    CpuBackend cpu = (CpuBackend) new CpuBackendProvider().open(config);
    return new Cpu(dev.gpucore.spi.Cores.of(config, cpu, null, "CPU test"), (CpuBlas) cpu.blas());
  }

  private static float[] random(SplittableRandom r, int n) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) r.nextDouble(-1, 1);
    }
    return x;
  }

  @Test
  void callsWithinTheLimitRunInPlaceEachItemOnItsOwn() {
    SplittableRandom r = new SplittableRandom(7);
    // 2 threads x 50 GFLOP/s x 1 ms = 1e8 flops per item: 2*64^3 (5.2e5) is in, 2*400^3 is not
    try (Cpu cpu = open("1")) {
      GpuCore core = cpu.core();
      CpuBlas blas = cpu.blas();
      assertEquals(1e8, blas.inPlaceMaxFlops(), 1);
      int n = 64;
      int batch = 3;
      float[] a = random(r, n * n * batch);
      float[] b = random(r, n * n * batch);
      float[] c = new float[n * n * batch];
      java.util.Arrays.fill(c, Float.NaN);
      core.blas().gemm(Gemm.of(n, n, n).batch(batch, (long) n * n, (long) n * n, (long) n * n),
          Operand.of(a), n, Operand.of(b), n, Operand.of(c), n);
      assertEquals(batch, blas.inPlaceItems.sum(), "every item in place, one call each");
      for (int t = 0; t < batch; t++) {
        int o = t * n * n;
        for (int i = 0; i < n; i += 7) {
          for (int j = 0; j < n; j += 5) {
            double s = 0;
            for (int p = 0; p < n; p++) {
              s += (double) a[o + i * n + p] * b[o + p * n + j];
            }
            assertEquals(s, c[o + i * n + j], 1e-5 * n, "item " + t + " C[" + i + "][" + j + "]");
          }
        }
      }
      // 2*700^3 flops: panels of at most 102 rows (1e8 / (2*700^2)), under PANEL_MIN: copied
      int big = 700;
      float[] ab = random(r, big * big);
      float[] cb = new float[big * big];
      core.blas().gemm(Gemm.of(big, big, big), Operand.of(ab), big, Operand.of(ab.clone()), big,
          Operand.of(cb), big);
      assertEquals(batch, blas.inPlaceItems.sum(), "an item too long for panels is copied");
      assertEquals(batch, blas.inPlaceCalls.sum());
    }
  }

  /**
   * Runs C = op(A)·op(B) + beta·C (m×n×k, row-major; leading dimensions padded when asked, C's
   * padding NaN, and all of C when beta = 0) on {@code cpu}; checks that it ran in place in
   * {@code calls} native calls (0:
   * copied), a sample of C (with its last row and column, the last panel's edge) against
   * float64, and C's padding untouched.
   */
  private static void panelCase(Cpu cpu, SplittableRandom r, int m, int n, int k, boolean ta,
      boolean tb, boolean padded, double beta, int calls) {
    String what = m + "x" + n + "x" + k + (ta ? " A^T" : "") + (tb ? " B^T" : "")
        + (padded ? " padded" : "") + " beta " + beta;
    int pad = padded ? 1 : 0;
    int lda = (ta ? m : k) + 3 * pad; // a panel must step by lda, not by the row length
    int ldb = (tb ? k : n) + pad;
    int ldc = n + 2 * pad;
    float[] a = random(r, (ta ? k : m) * lda);
    float[] b = random(r, (tb ? n : k) * ldb);
    float[] c = random(r, m * ldc);
    for (int i = 0; i < m; i++) { // C's padding, and all of C when beta = 0 (never read)
      java.util.Arrays.fill(c, i * ldc + (beta == 0 ? 0 : n), (i + 1) * ldc, Float.NaN);
    }
    float[] c0 = c.clone();
    long items = cpu.blas().inPlaceItems.sum();
    long made = cpu.blas().inPlaceCalls.sum();
    cpu.core().blas().gemm(Gemm.of(m, n, k).transA(ta).transB(tb).scale(1, beta), Operand.of(a),
        lda, Operand.of(b), ldb, Operand.of(c), ldc);
    assertEquals(calls == 0 ? 0 : 1, cpu.blas().inPlaceItems.sum() - items, "in place: " + what);
    assertEquals(calls, cpu.blas().inPlaceCalls.sum() - made, "native calls: " + what);
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < ldc; j++) {
        if (j >= n) {
          assertTrue(Float.isNaN(c[i * ldc + j]), "padding of C written at " + i + "," + j);
        } else if ((i * 31 + j) % 17 == 0 || i == m - 1 || j == n - 1) {
          double want = ref(a, lda, ta, b, ldb, tb, k, i, j)
              + (beta == 0 ? 0 : beta * c0[i * ldc + j]);
          assertEquals(want, c[i * ldc + j], 2e-6 * k, "C[" + i + "][" + j + "] of " + what);
        }
      }
    }
  }

  @Test
  void panelsOnlyWhereTheyBeatCopies() {
    SplittableRandom r = new SplittableRandom(13);
    try (Cpu cpu = open("1")) { // 1e8 flops per native call
      // square: repacking B (n^2 per extra panel) at most half of the copies' 3n^2 (4n^2 with
      // beta != 0): 2 panels (3 with beta != 0) in place, more copied
      panelCase(cpu, r, 400, 400, 400, false, false, false, 0, 2); // 312 rows allowed: 2 panels
      panelCase(cpu, r, 500, 500, 500, false, false, false, 0, 0); // 200 rows: 3 panels, 2n^2 > 1.5n^2
      panelCase(cpu, r, 500, 500, 500, false, false, false, 0.5, 3); // 2n^2 <= 2n^2
      panelCase(cpu, r, 560, 560, 560, false, false, false, 0.5, 0); // 159 rows: 4 panels, 3n^2 > 2n^2
    }
    try (Cpu cpu = open("0.1")) { // 1e7 flops per native call
      // tall and thin (B small, cheap to repack): only PANEL_MIN decides
      panelCase(cpu, r, 1000, 16, 2400, false, false, false, 0, 8); // 130 rows allowed: 8 even panels of 125
      panelCase(cpu, r, 1000, 16, 2500, false, false, false, 0, 0); // 125 rows allowed: under PANEL_MIN
    }
  }

  /** C[i][j] of a row-major GEMM with these transposes, in float64. */
  private static double ref(float[] a, int lda, boolean ta, float[] b, int ldb, boolean tb,
      int k, int i, int j) {
    double s = 0;
    for (int p = 0; p < k; p++) {
      s += (double) (ta ? a[p * lda + i] : a[i * lda + p])
          * (tb ? b[j * ldb + p] : b[p * ldb + j]);
    }
    return s;
  }

  @Test
  void longerItemsRunInPlaceInPanelsOfRowsOrColumns() {
    SplittableRandom r = new SplittableRandom(11);
    try (Cpu cpu = open("1")) { // 1e8 flops per native call
      // {m, n, k, transA, transB, native calls}: even panels along the longer of m and n, each
      // at most 1e8 / (2 * (the other one) * k) lines
      int[][] shapes = {
          {500, 400, 400, 0, 0, 2}, // 312 rows allowed: 2 panels of 250
          {400, 700, 300, 1, 1, 2}, // 416 columns allowed: 2 of 350
          {900, 300, 400, 1, 0, 3}, // 416 rows allowed: 3 of 300
          {300, 900, 400, 0, 1, 3}, // 416 columns allowed: 3 of 300
      };
      for (int[] sh : shapes) {
        panelCase(cpu, r, sh[0], sh[1], sh[2], sh[3] == 1, sh[4] == 1, true, 0, sh[5]);
      }
    }
  }

  @Test
  void zeroTurnsThePathOff() {
    try (Cpu cpu = open("0")) {
      GpuCore core = cpu.core();
      CpuBlas blas = cpu.blas();
      assertEquals(0, blas.inPlaceMaxFlops());
      float[] a = new float[16];
      float[] c = new float[16];
      core.blas().gemm(Gemm.of(4, 4, 4), Operand.of(a), 4, Operand.of(a.clone()), 4,
          Operand.of(c), 4);
      assertEquals(0, blas.inPlaceItems.sum());
    }
  }

  @Test
  void badSettingNamesItself() {
    for (String v : new String[] {"-1", "lots", "NaN"}) {
      GpuCoreException e = assertThrows(GpuCoreException.InvalidArgument.class,
          () -> GpuCore.open(Config.from(Map.of("gpucore.backend", "cpu",
              "gpucore.cpu.inPlaceMaxMs", v), Map.of())).close());
      assertTrue(e.getMessage().contains("gpucore.cpu.inPlaceMaxMs"), e.getMessage());
    }
  }
}
