package dev.gpucore.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU rows of every suite, driven here without a GPU: a child JVM whose class path adds a
 * services file naming {@link FakeGpuProvider} (host memory posing as a GPU, ranked above
 * CUDA). Checks that the GPU paths measure, check their results, read telemetry, compute the
 * speedup and ratios, and fail with exit 2 when the "GPU" computes a wrong result.
 */
class FakeGpuBenchTest {
  record Result(int code, String out) {}

  static Result child(Path dir, Map<String, String> env, String... args)
      throws IOException, InterruptedException {
    Path services = dir.resolve("services/META-INF/services");
    Files.createDirectories(services);
    Files.writeString(services.resolve("dev.gpucore.spi.BackendProvider"),
        FakeGpuProvider.class.getName() + "\n");
    String cp = dir.resolve("services") + File.pathSeparator
        + System.getProperty("gpucore.testClassPath", System.getProperty("java.class.path"));
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", cp,
        "dev.gpucore.cli.Main", "bench"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(env);
    pb.environment().remove("GPUCORE_BACKEND");
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child timed out");
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  @Test
  void gpuRowsMeasureCheckAndCompare(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("r.json");
    Result r = child(dir, Map.of(), "e2e", "transfer", "--n", "24", "--mib", "1", "--reps", "2",
        "--warmup", "1", "--peers", "none", "--progress", "never", "--json", json.toString(),
        "--plot", dir.resolve("r.svg").toString());
    assertEquals(0, r.code(), r.out());
    assertTrue(r.out().contains("gpu : 0: Fake GPU (host memory)"), r.out());
    assertTrue(r.out().contains("GPU upload+gemm+sum"), r.out());
    assertTrue(r.out().contains("speedup"), r.out());
    assertTrue(r.out().contains("): OK"), r.out());
    assertTrue(r.out().contains("H2D Java float[] (staged)"), r.out());
    assertTrue(r.out().contains("vs pinned in this run"), r.out());
    Map<String, Object> doc = JsonText.object(JsonText.parse(Files.readString(json)));
    assertTrue(doc.get("telemetry_source").toString().startsWith("gpucore discovery snapshot"),
        doc.get("telemetry_source").toString());
    int gpuRows = 0;
    for (Object s : (List<?>) doc.get("suites")) {
      for (Object o : (List<?>) JsonText.object(s).get("rows")) {
        Map<String, Object> row = JsonText.object(o);
        if (row.get("who").equals("gpucore cuda")) {
          gpuRows++;
          assertNotNull(row.get("median_ns"), row.toString());
          assertEquals(true, row.get("ok"), row.toString());
          Map<String, Object> t = JsonText.object(row.get("telemetry"));
          assertEquals(40L, JsonText.object(t.get("before")).get("temperature_c"));
        }
      }
    }
    assertEquals(1 + 6, gpuRows);
    Map<String, Object> e2e = JsonText.object(((List<?>) doc.get("suites")).get(0));
    Map<String, Object> perN = JsonText.object(((List<?>) JsonText.object(e2e.get("summary"))
        .get("per_n")).get(0));
    assertTrue(JsonText.num(perN, "sum_rel_diff") < 1e-6, perN.toString());
    assertTrue(JsonText.num(perN, "speedup") > 0, perN.toString());
    assertTrue(JsonText.num(perN, "c_max_rel_diff") < 1e-6, perN.toString());
  }

  @Test
  void doublePrecisionAndLowerPrecisionRun(@TempDir Path dir) throws Exception {
    Result r = child(dir, Map.of(), "e2e", "--n", "20", "--dtype", "fp64", "--reps", "1",
        "--warmup", "0", "--peers", "none", "--progress", "never");
    assertEquals(0, r.code(), r.out());
    assertTrue(r.out().contains("e2e: C = A*A^T (fp64, GPU GEMM in fp64)"), r.out());
    assertTrue(r.out().contains("): OK"), r.out());
    Result t = child(dir, Map.of(), "e2e", "--n", "20", "--precision", "tf32", "--reps", "1",
        "--warmup", "0", "--peers", "none", "--progress", "never");
    assertEquals(0, t.code(), t.out());
    assertTrue(t.out().contains("GPU upload+gemm+sum (tf32)"), t.out());
  }

  @Test
  void aWrongGpuResultFailsTheRun(@TempDir Path dir) throws Exception {
    Result r = child(dir, Map.of("FAKE_GPU_WRONG", "1"), "e2e", "--n", "16", "--reps", "1",
        "--warmup", "0", "--peers", "none", "--progress", "never");
    assertEquals(2, r.code(), r.out());
    assertTrue(r.out().contains("MISMATCH"), r.out());
    assertTrue(r.out().contains("RESULT CHECK FAILED"), r.out());
  }
}
