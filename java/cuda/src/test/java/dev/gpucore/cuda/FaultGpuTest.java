package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.testkit.GpuTests;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The recovery paths on a real GPU: the fault-injection seam ({@code gpucore.fault}) at the
 * points where the CUDA backend meets real errors, and a real illegal-address fault provoked in
 * a child process. The seam sits in the Java side of the backend, so host GEMMs here take the
 * Java pipeline ({@code gpucore.gemm.hostEngine=java}); the native engine's failures are driven
 * by a stand-in CUDA runtime (EngineFakeGpuTest, and the BLAS library's FakeGpuTest).
 */
class FaultGpuTest {
  @TempDir Path tmp;

  @BeforeEach
  void gpu() {
    GpuTests.openGpu().close();
  }

  private static GpuCore open(String... kv) {
    Map<String, String> props = new HashMap<>();
    props.put("gpucore.gemm.hostEngine", "java");
    for (int i = 0; i < kv.length; i += 2) {
      props.put(kv[i], kv[i + 1]);
    }
    return GpuCore.open(Config.from(props, Map.of()));
  }

  private static float[] rand(int len, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[len];
    for (int i = 0; i < len; i++) {
      x[i] = (float) r.nextDouble(-1, 1);
    }
    return x;
  }

  /** Checks every 7th row of C = A·B (+ beta·C0) against float64. */
  private static void check(float[] a, float[] b, float[] c0, double beta, float[] c, int m,
      int n, int k) {
    for (int i = 0; i < m; i += 7) {
      for (int j = 0; j < n; j++) {
        double s = beta == 0 ? 0 : beta * c0[i * n + j];
        double abs = Math.abs(s);
        for (int p = 0; p < k; p++) {
          double t = (double) a[i * k + p] * b[p * n + j];
          s += t;
          abs += Math.abs(t);
        }
        double err = Math.abs(c[i * n + j] - s);
        assertTrue(err <= 4 * k * 0x1p-24 * abs + 1e-30,
            "C[" + i + "," + j + "] = " + c[i * n + j] + ", expected " + s);
      }
    }
  }

  @Test
  void deviceOutOfMemoryIsRetriedWithSmallerTiles() throws Exception {
    Path log = tmp.resolve("router.log");
    int m = 4096;
    int k = 1024;
    int n = 256;
    long seed = System.nanoTime();
    float[] a = rand(m * k, seed);
    float[] b = rand(k * n, seed + 1);
    float[] c = new float[m * n];
    java.util.Arrays.fill(c, Float.NaN);
    // 16 MiB panels of A configured; device scratch above 8 MiB fails
    try (GpuCore core = open("gpucore.gemm.route", "gpu", "gpucore.gemm.panelMiB", "16",
        "gpucore.fault", "oom:scratch:8", "gpucore.log.file", log.toString())) {
      core.blas().gemm(Gemm.of(m, n, k), Operand.of(a), k, Operand.of(b), n, Operand.of(c), n);
      check(a, b, null, 0, c, m, n, k);
      String text = Files.readString(log);
      assertTrue(text.contains("ran on the GPU with tiles 1/4"), text);
      assertNull(core.faulted(0));
    }
  }

  @Test
  void outOfMemoryEverywhereFallsBackToTheCpuOrThrowsWithCUntouched() throws Exception {
    Path log = tmp.resolve("router.log");
    int m = 512;
    int k = 300;
    int n = 200;
    long seed = System.nanoTime();
    float[] a = rand(m * k, seed);
    float[] b = rand(k * n, seed + 1);
    float[] c0 = rand(m * n, seed + 2);
    float[] c = c0.clone();
    try (GpuCore core = open("gpucore.gemm.route", "gpu", "gpucore.fault", "oom:scratch",
        "gpucore.log.file", log.toString())) {
      core.blas().gemm(Gemm.of(m, n, k).scale(1, 0.5), Operand.of(a), k, Operand.of(b), n,
          Operand.of(c), n);
      check(a, b, c0, 0.5, c, m, n, k);
      assertTrue(Files.readString(log).contains("fell back to the CPU"), Files.readString(log));
    }
    float[] d = c0.clone();
    try (GpuCore core = open("gpucore.gemm.route", "gpu", "gpucore.fault", "oom:scratch",
        "gpucore.gemm.fallback", "false")) {
      GpuCoreException.OutOfMemory e = assertThrows(GpuCoreException.OutOfMemory.class,
          () -> core.blas().gemm(Gemm.of(m, n, k).scale(1, 0.5), Operand.of(a), k,
              Operand.of(b), n, Operand.of(d), n));
      assertTrue(e.getMessage().contains("cudaErrorMemoryAllocation") && e.getMessage()
          .contains("1/16"), e.getMessage());
      assertEquals(org.bytedeco.cuda.global.cudart.cudaErrorMemoryAllocation, e.code());
      assertEquals("cudaErrorMemoryAllocation", e.codeName());
      assertArrayEquals(c0, d, "C untouched");
    }
  }

  @Test
  void deviceArrayOutOfMemoryIsTyped() {
    try (GpuCore core = open("gpucore.fault", "oom:alloc:64")) {
      core.allocate(0, DType.FLOAT32, 1 << 20).close(); // 4 MiB: fine
      GpuCoreException.OutOfMemory e = assertThrows(GpuCoreException.OutOfMemory.class,
          () -> core.allocate(0, DType.FLOAT32, 1L << 25));
      assertTrue(e.getMessage().contains("device 0") && e.getMessage().contains("bytes free"),
          e.getMessage());
    }
  }

  @Test
  void stickyGemmFaultMovesHostWorkToTheCpuAndDeviceWorkFailsLoudly() {
    int n = 512;
    long seed = System.nanoTime();
    float[] a = rand(n * n, seed);
    float[] b = rand(n * n, seed + 1);
    float[] c = new float[n * n];
    java.util.Arrays.fill(c, Float.NaN);
    try (GpuCore core = open("gpucore.gemm.route", "auto", "gpucore.fault", "sticky:gemm",
        "gpucore.gemm.cpuGflops", "1")) { // the model sends every host GEMM to the GPU
      DeviceArray x = core.allocate(0, DType.FLOAT32, 1024);
      core.blas().gemm(Gemm.of(n, n, n), Operand.of(a), n, Operand.of(b), n, Operand.of(c), n);
      check(a, b, null, 0, c, n, n, n);
      String f = core.faulted(0);
      assertNotNull(f, "device 0 marked faulted");
      assertTrue(f.contains("cudaErrorIllegalAddress (700)"), f);
      var d = core.blas().explain(Gemm.of(n, n, n), Operand.of(a), n, Operand.of(b), n,
          Operand.of(c), n);
      assertFalse(d.gpu(), d.reason());
      assertTrue(d.reason().contains("no healthy GPU"), d.reason());
      GpuCoreException.DeviceFaulted e = assertThrows(GpuCoreException.DeviceFaulted.class,
          () -> core.reduce().sum(x));
      assertTrue(e.getMessage().contains("device 0") && e.getMessage().contains("earlier fault"),
          e.getMessage());
      x.close();
    }
  }

  @Test
  void stickyReduceFaultMarksTheDevice() {
    try (GpuCore core = open("gpucore.fault", "sticky:reduce:2")) {
      try (DeviceArray x = core.allocate(0, DType.FLOAT64, 1000)) {
        x.copyFrom(new double[1000]);
        assertEquals(0.0, core.reduce().sum(x));
        GpuCoreException.DeviceFaulted e = assertThrows(GpuCoreException.DeviceFaulted.class,
            () -> core.reduce().sum(x));
        assertTrue(e.getMessage().contains("cudaErrorIllegalAddress"), e.getMessage());
        assertEquals(org.bytedeco.cuda.global.cudart.cudaErrorIllegalAddress, e.code());
        assertEquals("cudaErrorIllegalAddress", e.codeName());
        assertNotNull(core.faulted(0));
      }
    }
  }

  @Test
  @org.junit.jupiter.api.Tag("provokes-cuda-errors")
  void aRealIllegalAddressInAChildIsSurvived() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeFalse(GpuTests.SANITIZER,
        "the drill's fault is deliberate: compute-sanitizer would rightly report it");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("gpucore.testClassPath",
        System.getProperty("java.class.path")), FaultDrillProbe.class.getName());
    pb.redirectErrorStream(true);
    Process p = pb.start();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Thread pump = new Thread(() -> {
      try {
        p.getInputStream().transferTo(out);
      } catch (java.io.IOException ignored) {
        // the process ended
      }
    });
    pump.start();
    assertTrue(p.waitFor(180, TimeUnit.SECONDS), "the drill timed out");
    pump.join();
    String s = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), s);
    assertTrue(s.contains("DRILL DeviceFaulted") && s.contains("cudaErrorIllegalAddress"), s);
    assertTrue(s.contains("CODE " + org.bytedeco.cuda.global.cudart.cudaErrorIllegalAddress
        + " cudaErrorIllegalAddress"), s);
    assertTrue(s.contains("ROUTE gpu=false no healthy GPU"), s);
    assertTrue(s.contains(" ok") && s.contains("DEVICE DeviceFaulted") && s.contains("CLOSED"), s);
    System.out.println("[fault drill, child process]\n" + s.strip());
    // this process's own context is untouched: GPU work goes on
    try (GpuCore core = GpuCore.open(); DeviceArray x = core.allocate(0, DType.FLOAT32, 4096)) {
      float[] v = rand(4096, System.nanoTime());
      x.copyFrom(v);
      double expect = 0;
      for (float f : v) {
        expect += f;
      }
      assertEquals(expect, core.reduce().sum(x), 1e-9 * 4096);
      assertNull(core.faulted(0));
    }
  }
}
