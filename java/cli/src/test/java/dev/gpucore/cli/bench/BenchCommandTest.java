package dev.gpucore.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.GpuCore;
import dev.gpucore.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gpucore bench} end to end with small sizes and no peers (peers depend on the machine):
 * exit codes, the GPU rows skipped with the reason where there is no GPU (measured where there
 * is one), valid JSON and SVG, and the placeholders that must not pretend.
 */
class BenchCommandTest {
  record Result(int code, String out, String err) {}

  static boolean gpu;

  @BeforeAll
  static void probe() {
    try (GpuCore core = GpuCore.open()) {
      gpu = core.hasGpu();
    }
  }

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void e2eRunsOnTheCpuAndWritesJsonAndSvg(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("out/e2e.json");
    Path svg = dir.resolve("e2e.svg");
    Result r = run("bench", "e2e", "--n", "48,64", "--reps", "3", "--warmup", "1", "--peers",
        "none", "--progress", "never", "--json", json.toString(), "--plot", svg.toString());
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("CPU gemm+sum"), r.out());
    assertTrue(r.out().contains("reference: sum(C) = "), r.out());
    if (gpu) {
      assertTrue(r.out().contains("speedup"), r.out());
      assertTrue(r.out().contains("OK"), r.out());
    } else {
      assertTrue(r.out().contains("GPU rows skipped: No GPU visible: "), r.out());
      assertTrue(r.out().contains("GPU skipped (no GPU visible)"), r.out());
    }
    Map<String, Object> doc = JsonText.object(JsonText.parse(Files.readString(json)));
    assertEquals(Report.SCHEMA, doc.get("schema"));
    assertNotNull(JsonText.object(doc.get("commit")).get("id"));
    assertTrue(doc.get("date").toString().matches("\\d{4}-\\d\\d-\\d\\dT.*Z"), doc.get("date").toString());
    Map<String, Object> machine = JsonText.object(doc.get("machine"));
    assertEquals(gpu, machine.get("gpu_visible"));
    assertNotNull(machine.get("cpu_model"));
    List<?> suites = (List<?>) doc.get("suites");
    Map<String, Object> e2e = JsonText.object(suites.get(0));
    List<?> rows = (List<?>) e2e.get("rows");
    assertEquals(4, rows.size()); // cpu and gpu at two sizes
    Map<String, Object> cpu = JsonText.object(rows.get(0));
    assertEquals("cpu", cpu.get("case"));
    assertEquals(3, ((List<?>) cpu.get("samples_ns")).size());
    double median = JsonText.num(cpu, "median_ns");
    assertTrue(JsonText.num(cpu, "min_ns") <= median && median <= JsonText.num(cpu, "max_ns"));
    Map<String, Object> g = JsonText.object(rows.get(1));
    assertEquals("gpu", g.get("case"));
    if (gpu) {
      assertEquals(true, g.get("ok"), g.toString());
      assertNotNull(g.get("telemetry"));
    } else {
      assertTrue(g.get("skipped").toString().startsWith("No GPU visible: "), g.toString());
      assertFalse(g.containsKey("median_ns"), "a skipped row has no figure");
    }
    assertEquals(0L, doc.get("exit_code"));
    String s = Files.readString(svg);
    assertEquals("svg", SvgPlotTest.parse(s).getDocumentElement().getLocalName());
    assertTrue(s.contains("gpucore CPU gemm+sum"), s);
  }

  @Test
  void transferRunsTheHostRowsAndSkipsOrRunsTheGpuRows() {
    Result r = run("bench", "transfer", "--mib", "1", "--reps", "2", "--warmup", "0",
        "--peers", "none", "--progress", "never");
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("HostArray.put"), r.out());
    assertTrue(r.out().contains("ok: round trip bit-exact"), r.out());
    if (gpu) {
      assertTrue(r.out().contains("H2D Java float[] (staged)"), r.out());
      assertTrue(r.out().contains("vs pinned in this run"), r.out());
    } else {
      assertTrue(r.out().contains("skipped (No GPU visible: "), r.out());
      assertTrue(r.out().contains("H2D pinned HostArray"), r.out());
    }
  }

  @Test
  void e2eInDoublePrecisionOnTheCpu() {
    Result r = run("bench", "e2e", "--n", "32", "--dtype", "fp64", "--reps", "1", "--warmup", "0",
        "--peers", "none", "--progress", "never");
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("(fp64, GPU GEMM in fp64)"), r.out());
    assertTrue(r.out().contains("reference: sum(C) = "), r.out());
  }

  @Test
  void transferInDoublePrecision() {
    Result r = run("bench", "transfer", "--sizes", "1", "--dtype", "fp64", "--reps", "1",
        "--warmup", "0", "--peers", "none", "--progress", "never");
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("Java double[] -> off-heap"), r.out());
  }

  @Test
  void placeholdersSayTheyAreNotImplemented() {
    for (String s : new String[] {"gemm", "reduce", "p2p"}) {
      Result r = run("bench", s);
      assertEquals(2, r.code(), s);
      assertTrue(r.err().contains("suite '" + s + "' is not implemented yet"), r.err());
      assertTrue(r.out().isEmpty(), "no figure printed: " + r.out());
    }
    // checked before anything runs: a placeholder after a real suite also stops the run
    Result mixed = run("bench", "e2e", "gemm", "--n", "8", "--peers", "none");
    assertEquals(2, mixed.code());
    assertTrue(mixed.out().isEmpty(), mixed.out());
    Result list = run("bench", "--list");
    assertEquals(0, list.code());
    assertTrue(list.out().contains("gemm") && list.out().contains("[not implemented yet]"), list.out());
  }

  @Test
  void badArgumentsAreOneLineErrors() {
    String[][] cases = {
        {"bench"}, {"bench", "nosuch"}, {"bench", "e2e", "--dtype", "fp16"},
        {"bench", "e2e", "--precision", "tf32", "--dtype", "fp64"},
        {"bench", "e2e", "--precision", "int8"}, {"bench", "e2e", "--n", "0"},
        {"bench", "transfer", "--mib", "0"}, {"bench", "transfer", "--peers", "torch,bogus"},
        {"bench", "transfer", "--reps", "0"}, {"bench", "transfer", "--progress", "sometimes"},
    };
    for (String[] c : cases) {
      Result r = run(c);
      assertEquals(2, r.code(), String.join(" ", c) + ": " + r.out() + r.err());
      assertTrue(r.err().startsWith("gpucore: "), r.err());
      assertFalse(r.err().contains("Exception"), "no stack trace: " + r.err());
    }
  }
}
