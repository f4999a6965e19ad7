package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java API's way into the native engine ({@code gpucore.gemm.hostEngine=native}) without a
 * GPU: {@link EngineProbe} in a child JVM whose loader finds the stand-in CUDA runtime and
 * cuBLAS of the BLAS library's tests (host memory as device memory, plain loops as GEMMs), with
 * 128 KiB of staging so that every operand moves in many chunks through the JNI glue; single
 * GEMMs, and sums of products in one engine call ({@code Blas.gemmSum}'s path). Timing and
 * the real CUDA runtime need a GPU: the GPU suite's GEMM tests run the same path there.
 */
class EngineFakeGpuTest {
  @TempDir Path work;

  @Test
  void javaArraysReachTheEngineThroughTheGlueAndComeBackRight() throws Exception {
    buildStandIn();
    String out = run(probe("gemms"), work);
    assertTrue(out.contains("engine probe: 18 passed, 0 failed"), out);
    // failures come back as results with C untouched, and a fault turns the GPU off
    out = run(probe("fault"), work, "FAKE_CUBLAS_FAIL_AT", "1");
    assertTrue(out.contains("engine probe: 2 passed, 0 failed"), out);
    out = run(probe("memory"), work, "FAKE_CUDA_MEM", "1000");
    assertTrue(out.contains("engine probe: 1 passed, 0 failed"), out);
  }

  @Test
  void sumsOfProductsReachTheEngineInOneCallAndComeBackRight() throws Exception {
    buildStandIn();
    String out = run(probe("sums"), work);
    assertTrue(out.contains("engine probe: 33 passed, 0 failed"), out);
    out = run(probe("fault-sum"), work, "FAKE_CUBLAS_FAIL_AT", "1");
    assertTrue(out.contains("engine probe: 1 passed, 0 failed"), out);
    out = run(probe("memory-sum"), work, "FAKE_CUDA_MEM", "1000");
    assertTrue(out.contains("engine probe: 1 passed, 0 failed"), out);
  }

  private void buildStandIn() throws IOException, InterruptedException {
    buildStandIn(work);
  }

  /** Builds the stand-in CUDA runtime and cuBLAS into {@code work} (skips outside the tree). */
  static void buildStandIn(Path work) throws IOException, InterruptedException {
    Path src = Path.of(System.getProperty("gpucore.fakeCuda",
        "../blas/src/test/c/fake_cuda.c"));
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(src),
        "the stand-in CUDA runtime's source is not here (" + src.toAbsolutePath()
            + "): this test runs in the source tree");
    for (String so : List.of("libcudart.so.13", "libcublas.so.13")) {
      run(List.of("gcc", "-shared", "-fPIC", "-O2", "-Wl,-soname," + so, "-o",
          work.resolve(so).toString(), src.toString()), null);
    }
  }

  private static List<String> probe(String mode) {
    return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
        "-cp", System.getProperty("java.class.path"), EngineProbe.class.getName(), mode);
  }

  private static String run(List<String> cmd, Path fakeLibs, String... env) throws IOException,
      InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    if (fakeLibs != null) {
      pb.environment().put("LD_LIBRARY_PATH", fakeLibs.toString());
      pb.environment().put("GPUCORE_BLAS_STAGEMIB", "0.125");
    }
    for (int i = 0; i < env.length; i += 2) {
      pb.environment().put(env[i], env[i + 1]);
    }
    Process p = pb.start();
    byte[] all = p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "still running: " + cmd);
    String out = new String(all, StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), String.join(" ", cmd) + "\n" + out);
    return out;
  }
}
