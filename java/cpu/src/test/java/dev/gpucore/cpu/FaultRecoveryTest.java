package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.blas.Decision;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.spi.FaultPlan;
import dev.gpucore.testkit.FakeGpu;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every recovery path of a host-operand GEMM, driven by the fault-injection seam
 * ({@code gpucore.fault}) against a fake GPU (the test kit's {@link FakeGpu}), so that CI exercises them without one: out of
 * device memory retried with smaller tiles, then the CPU fallback (or a clear error with C
 * untouched when fallback is off); a sticky fault marking the device faulted, the router
 * routing around it, and a half-written C redone from C as it was, never silently. The CUDA
 * backend's Java pipeline honours the same plan; FaultGpuTest repeats these on a real GPU.
 */
class FaultRecoveryTest {
  @TempDir Path tmp;

  private FakeGpu sim;

  private GpuCore core(int devices, String... settings) {
    Map<String, String> props = new HashMap<>();
    props.put("gpucore.gemm.route", "gpu");
    for (int i = 0; i < settings.length; i += 2) {
      props.put(settings[i], settings[i + 1]);
    }
    Config config = Config.from(props, Map.of());
    var cpu = new CpuBackendProvider().open(config);
    sim = new FakeGpu(devices).configure(config, cpu);
    return dev.gpucore.spi.Cores.of(config, cpu, sim, null);
  }

  /** A fresh m×k times k×n problem; C poisoned (beta = 0) or random (beta != 0). */
  private static final class Problem {
    final int m;
    final int n;
    final int k;
    final float[] a;
    final float[] b;
    final float[] c;
    final float[] c0;

    /** C = A·B with A passed stored transposed (k × m): no row panels of A to tile by. */
    void gemmWithATransposed(GpuCore core) {
      float[] at = new float[k * m];
      for (int i = 0; i < m; i++) {
        for (int q = 0; q < k; q++) {
          at[q * m + i] = a[i * k + q];
        }
      }
      core.blas().gemm(Gemm.of(m, n, k).transA(true), Operand.of(at), m, Operand.of(b), n,
          Operand.of(c), n);
    }

    Problem(int m, int n, int k, boolean poison) {
      this.m = m;
      this.n = n;
      this.k = k;
      SplittableRandom r = new SplittableRandom(System.nanoTime());
      a = rand(r, m * k);
      b = rand(r, k * n);
      c = poison ? nan(m * n) : rand(r, m * n);
      c0 = c.clone();
    }

    void run(GpuCore core, double beta) {
      core.blas().gemm(Gemm.of(m, n, k).scale(1.0, beta), Operand.of(a), k, Operand.of(b), n,
          Operand.of(c), n);
    }

    /** Checks C against a float64 reference of alpha = 1 and this beta. */
    void check(double beta) {
      double err = 0;
      double scale = 0;
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          double s = beta == 0 ? 0 : beta * c0[i * n + j];
          double abs = Math.abs(s);
          for (int p = 0; p < k; p++) {
            s += (double) a[i * k + p] * b[p * n + j];
            abs += Math.abs((double) a[i * k + p] * b[p * n + j]);
          }
          err = Math.max(err, Math.abs(c[i * n + j] - s));
          scale = Math.max(scale, abs);
        }
      }
      assertTrue(err <= 4 * k * 0x1p-24 * scale + 1e-30,
          "max error " + err + " exceeds the fp32 bound for k = " + k + " (scale " + scale + ")");
    }

    private static float[] rand(SplittableRandom r, int len) {
      float[] x = new float[len];
      for (int i = 0; i < len; i++) {
        x[i] = (float) (r.nextDouble() * 2 - 1);
      }
      return x;
    }

    private static float[] nan(int len) {
      float[] x = new float[len];
      java.util.Arrays.fill(x, Float.NaN);
      return x;
    }
  }

  @Test
  void outOfMemoryIsRetriedWithSmallerTiles() throws Exception {
    Path log = tmp.resolve("router.log");
    // panels of A: 4 MiB configured; device scratch over 1 MiB fails
    try (GpuCore core = core(1, "gpucore.gemm.panelMiB", "4", "gpucore.fault", "oom:scratch:1",
        "gpucore.log.file", log.toString())) {
      Problem p = new Problem(2048, 256, 256, true); // A is 2 MiB: needs tiles of 1/4
      p.run(core, 0);
      p.check(0);
      assertEquals(java.util.List.of(1, 4), sim.divisors, "tile divisors tried");
      assertTrue(sim.panels[0].get() >= 2, "the GPU did the work in panels");
      assertTrue(Files.readString(log).contains("tiles 1/4"), Files.readString(log));
    }
  }

  @Test
  void outOfMemoryAtEveryTileFallsBackToTheCpu() throws Exception {
    Path log = tmp.resolve("router.log");
    try (GpuCore core = core(1, "gpucore.fault", "oom:scratch", "gpucore.log.file",
        log.toString())) {
      Problem p = new Problem(300, 70, 130, false);
      p.run(core, 0.5);
      p.check(0.5);
      assertEquals(java.util.List.of(1, 4, 16), sim.divisors);
      assertEquals(0, sim.panels[0].get(), "nothing ran on the GPU");
      String text = Files.readString(log);
      assertTrue(text.contains("fell back to the CPU") && text.contains("cudaErrorMemoryAllocation"),
          text);
    }
  }

  @Test
  void aCallThatCannotBeTiledIsNotRetriedWithSmallerTiles() {
    // A transposed: no row panels, so smaller tiles would ask for the same memory again
    try (GpuCore core = core(1, "gpucore.fault", "oom:scratch")) {
      Problem p = new Problem(64, 48, 80, true);
      p.gemmWithATransposed(core);
      p.check(0); // on the CPU
      assertEquals(java.util.List.of(1), sim.divisors, "one try only");
    }
  }

  @Test
  void outOfMemoryWithoutFallbackThrowsAndLeavesCUntouched() {
    try (GpuCore core = core(1, "gpucore.fault", "oom:scratch", "gpucore.gemm.fallback",
        "false")) {
      Problem p = new Problem(200, 50, 40, false);
      GpuCoreException.OutOfMemory e = assertThrows(GpuCoreException.OutOfMemory.class,
          () -> p.run(core, 1.0));
      assertTrue(e.getMessage().contains("1/16") && e.getMessage().contains("cudaMalloc"),
          e.getMessage());
      assertArrayEquals(p.c0, p.c, "C must be untouched");
    }
  }

  @Test
  void stickyFaultMarksTheDeviceAndTheRouterStopsUsingIt() {
    // route auto, with a CPU model so slow that every GEMM goes to the GPU on any machine
    try (GpuCore core = core(1, "gpucore.fault", "sticky:gemm", "gpucore.gemm.route", "auto",
        "gpucore.gemm.cpuGflops", "0.001")) {
      Problem big = new Problem(600, 500, 400, true);
      Decision before = dev.gpucore.spi.Cores.backends(core).router().explain(routerProbe());
      assertTrue(before.gpu(), "a large GEMM goes to the healthy GPU: " + before.reason());
      // the first GPU GEMM faults: the call is rerun on the CPU (C was not read: beta = 0)
      core.blas().gemm(Gemm.of(big.m, big.n, big.k), Operand.of(big.a), big.k,
          Operand.of(big.b), big.n, Operand.of(big.c), big.n);
      big.check(0);
      assertNotNull(sim.faulted(0), "device 0 is marked faulted");
      assertTrue(sim.faulted(0).contains("cudaErrorIllegalAddress (700)"), sim.faulted(0));
      Decision after = dev.gpucore.spi.Cores.backends(core).router().explain(routerProbe());
      assertFalse(after.gpu(), "the router must stop using a faulted GPU");
      assertTrue(after.reason().contains("no healthy GPU") && after.reason().contains("faulted"),
          after.reason());
      int gpuPanels = sim.panels[0].get();
      Problem next = new Problem(64, 64, 64, false);
      next.run(core, 2.0);
      next.check(2.0);
      assertEquals(gpuPanels, sim.panels[0].get(), "no more work reached the faulted GPU");
    }
  }

  private dev.gpucore.spi.GemmCall routerProbe() {
    float[] x = new float[4];
    return new dev.gpucore.spi.GemmCall(false, false, 16384, 16384, 16384, 1, 0,
        dev.gpucore.blas.Precision.FP32, dev.gpucore.DType.FLOAT32, Operand.of(x), 16384,
        Operand.of(x), 16384, Operand.of(x), 16384, 1, 0, 0, 0, null,
        dev.gpucore.spi.GemmCall.OnHost.INSTANCE);
  }

  @Test
  void aFaultOnOneOfTwoGpusLeavesTheOther() {
    try (GpuCore core = core(2, "gpucore.fault", "sticky:gemm", "gpucore.gemm.panelMiB", "1")) {
      Problem p = new Problem(1024, 300, 300, true); // several panels over both devices
      p.run(core, 0);
      p.check(0); // rerun on the CPU
      int faulted = (sim.faulted(0) != null ? 1 : 0) + (sim.faulted(1) != null ? 1 : 0);
      assertEquals(1, faulted, "exactly one device faulted");
      int healthy = sim.faulted(0) == null ? 0 : 1;
      Decision d = dev.gpucore.spi.Cores.backends(core).router().explain(routerProbe());
      assertTrue(d.gpu() && d.devices() == 1, "one healthy GPU remains: " + d);
      int before = sim.panels[healthy].get();
      Problem q = new Problem(1024, 300, 300, true);
      q.run(core, 0);
      q.check(0);
      assertTrue(sim.panels[healthy].get() > before, "the healthy GPU took the next call");
    }
  }

  @Test
  void aHalfWrittenCIsRedoneFromCAsItWasOrNeverSilently() {
    // the second panel faults after the first was written: C as it was comes back and the
    // call runs on the CPU
    try (GpuCore core = core(1, "gpucore.fault", "sticky:gemm:2", "gpucore.gemm.panelMiB", "1")) {
      Problem p = new Problem(1024, 256, 300, false); // A is 1.2 MiB: at least two panels
      p.run(core, 1.5);
      p.check(1.5);
    }
    // without the fallback the failure is the caller's, saying so
    try (GpuCore core = core(1, "gpucore.fault", "sticky:gemm:2", "gpucore.gemm.panelMiB", "1",
        "gpucore.gemm.fallback", "false")) {
      Problem p = new Problem(1024, 256, 300, false);
      GpuCoreException.DeviceFaulted e = assertThrows(GpuCoreException.DeviceFaulted.class,
          () -> p.run(core, 1.5));
      assertTrue(e.outputPartlyWritten(), "the exception says C is partly written");
      assertFalse(java.util.Arrays.equals(p.c0, p.c), "the first panel was written");
    }
    // with beta = 0, C is not read: the call is rerun whole on the CPU
    try (GpuCore core = core(1, "gpucore.fault", "sticky:gemm:2", "gpucore.gemm.panelMiB", "1")) {
      Problem p = new Problem(1024, 256, 300, true);
      p.run(core, 0);
      p.check(0);
    }
  }

  @Test
  void faultPlanRejectsWhatItDoesNotKnow() {
    for (String bad : new String[] {"oom", "oom:disk", "sticky:gemm:0", "sticky:gemm:x",
        "driver:1", "oom:scratch:-1", "oom:scratch:1:2", "sticky:gemm:99999999999"}) {
      GpuCoreException.InvalidArgument e = assertThrows(GpuCoreException.InvalidArgument.class,
          () -> FaultPlan.parse(bad), bad);
      assertTrue(e.getMessage().contains("gpucore.fault"), e.getMessage());
    }
    FaultPlan p = FaultPlan.parse(" driver , oom:scratch:8, sticky:reduce:2 ");
    assertTrue(p.driverMismatch());
    assertFalse(p.failScratch(8L << 20));
    assertTrue(p.failScratch((8L << 20) + 1));
    assertFalse(p.failAlloc(Long.MAX_VALUE));
    assertFalse(p.stickyReduceNow());
    assertTrue(p.stickyReduceNow());
    assertFalse(p.stickyReduceNow());
    assertFalse(p.stickyGemmNow());
    assertNull(null);
    assertFalse(FaultPlan.parse("").any());
  }

  // ------------------------------------------------- gpucore.gemm.cpuRatio (CPU share of a call)

  @Test
  void aCpuRatioSplitsRowsOfCBetweenGpuAndCpu() {
    try (GpuCore core = core(1, "gpucore.gemm.cpuRatio", "0.25")) {
      Problem p = new Problem(400, 70, 90, false);
      p.run(core, 0.75);
      p.check(0.75);
      assertEquals(java.util.List.of(300), sim.rows, "the GPU got the first 3/4 of C's rows");
      Decision d = dev.gpucore.spi.Cores.backends(core).router().explain(routerProbe());
      assertTrue(d.reason().contains("gpucore.gemm.cpuRatio=0.25: 4096 of 16384 rows"),
          d.reason());
    }
  }

  @Test
  void aSplitWithATransposedAIsRight() {
    try (GpuCore core = core(1, "gpucore.gemm.cpuRatio", "0.5")) {
      Problem p = new Problem(37, 11, 23, true);
      p.gemmWithATransposed(core);
      p.check(0);
      assertEquals(java.util.List.of(19), sim.rows);
    }
  }

  @Test
  void theGpuShareOfASplitFallsBackToo() {
    try (GpuCore core = core(1, "gpucore.gemm.cpuRatio", "0.3", "gpucore.fault", "oom:scratch")) {
      Problem p = new Problem(500, 40, 60, false);
      p.run(core, 1.0);
      p.check(1.0);
      assertEquals(0, sim.panels[0].get(), "the GPU share ran on the CPU");
    }
  }

  @Test
  void aBadCpuRatioIsAClearError() {
    for (String bad : new String[] {"1", "-0.1", "half"}) {
      GpuCoreException.InvalidArgument e = assertThrows(GpuCoreException.InvalidArgument.class,
          () -> core(1, "gpucore.gemm.cpuRatio", bad).close(), bad);
      assertTrue(e.getMessage().contains("gpucore.gemm.cpuRatio"), e.getMessage());
    }
  }
}
