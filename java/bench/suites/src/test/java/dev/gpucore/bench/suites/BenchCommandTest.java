package dev.gpucore.bench.suites;

import static dev.gpucore.bench.suites.OutputAssert.says;
import static dev.gpucore.bench.suites.OutputAssert.saysNone;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.GpuCore;
import dev.gpucore.cli.JsonText;
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
 * is one), valid JSON and SVG, and every argument checked before any work.
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

  /** A run without peers or progress lines that must exit with 0. */
  static Result quietRun(String... args) {
    List<String> all = new java.util.ArrayList<>(List.of(args));
    all.addAll(List.of("--peers", "none", "--progress", "never"));
    Result r = run(all.toArray(String[]::new));
    assertEquals(0, r.code(), r.out() + r.err());
    return r;
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
    Result r = quietRun("bench", "e2e", "--n", "48,64", "--reps", "3", "--warmup", "1", "--json",
        json.toString(), "--plot", svg.toString());
    says(r.out(), "CPU gemm+sum", "reference: sum(C) = ");
    if (gpu) {
      says(r.out(), "speedup", "OK");
    } else {
      says(r.out(), "GPU rows skipped: No GPU visible: ", "GPU skipped (no GPU visible)");
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
    SvgPlotTest.assertChart(svg, "gpucore CPU gemm+sum");
  }

  @Test
  void transferRunsTheHostRowsAndSkipsOrRunsTheGpuRows() {
    Result r = quietRun("bench", "transfer", "--mib", "1", "--reps", "2", "--warmup", "0");
    says(r.out(), "HostArray.put", "ok: round trip bit-exact");
    if (gpu) {
      says(r.out(), "H2D Java float[] (staged)", "vs pinned in this run");
    } else {
      says(r.out(), "skipped (No GPU visible: ", "H2D pinned HostArray");
    }
  }

  @Test
  void e2eInDoublePrecisionOnTheCpu() {
    Result r = quietRun("bench", "e2e", "--n", "32", "--dtype", "fp64", "--reps", "1", "--warmup",
        "0");
    says(r.out(), "(fp64, GPU GEMM in fp64)", "reference: sum(C) = ");
  }

  @Test
  void transferInDoublePrecision() {
    Result r = quietRun("bench", "transfer", "--sizes", "1", "--dtype", "fp64", "--reps", "1",
        "--warmup", "0");
    assertTrue(r.out().contains("Java double[] -> off-heap"), r.out());
  }

  @Test
  void gemmRunsTheCpuRowsAndSkipsOrRunsTheGpuRows(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("gemm.json");
    Path svg = dir.resolve("gemm.svg");
    Result r = quietRun("bench", "gemm", "--sizes", "8,20", "--reps", "2", "--warmup", "1",
        "--json", json.toString(), "--plot", svg.toString());
    says(r.out(), "host SGEMM float[] cpu", "host DGEMM double[] cpu", "host fp32 n=20: cpu ",
        "host fp64 n=20: cpu ", "r/best");
    Map<String, Object> doc = JsonText.object(JsonText.parse(Files.readString(json)));
    Map<String, Object> gemm = JsonText.object(((List<?>) doc.get("suites")).get(0));
    assertEquals("gemm", gemm.get("name"));
    List<?> rows = (List<?>) gemm.get("rows");
    // 5 precisions, and 3 routes of fp32 and fp64 (no shapes: --sizes replaces the defaults);
    // with a GPU also the pinned rows and the bus rows
    assertEquals(2 * 5 + 2 * 2 * (gpu ? 4 : 3) + (gpu ? 2 : 0), rows.size());
    int cpuRows = 0;
    int deviceRows = 0;
    for (Object o : rows) {
      Map<String, Object> row = JsonText.object(o);
      Map<String, Object> extra = JsonText.object(row.get("extra"));
      if (row.get("group").equals("device")) {
        deviceRows++;
        if (gpu) {
          assertEquals(true, row.get("ok"), row.toString());
        } else {
          assertTrue(row.get("skipped").toString().startsWith("No GPU visible: "), row.toString());
          assertFalse(row.containsKey("median_ns"), "a skipped row has no figure");
        }
      } else if (row.get("case").equals("cpu")) {
        cpuRows++;
        assertEquals(true, row.get("ok"), row.toString());
        assertTrue(row.get("check").toString().startsWith("ok: row/col sums vs exact"),
            row.toString());
        assertEquals(2, ((List<?>) row.get("samples_ns")).size(), row.toString());
        assertTrue(JsonText.num(extra, "calls_per_sample") >= 1, row.toString());
      } else if (row.get("case").equals("router")) {
        assertEquals(true, row.get("ok"), row.toString());
        assertTrue(JsonText.num(extra, "r_best") > 0, row.toString());
        assertEquals("cpu", extra.get("route"), "a tiny GEMM stays on the CPU: " + row);
      } else if (!gpu) {
        assertTrue(row.get("skipped").toString().startsWith("No GPU visible: "), row.toString());
      }
    }
    assertEquals(4, cpuRows);
    assertEquals(10, deviceRows);
    List<?> host = (List<?>) JsonText.object(gemm.get("summary")).get("host");
    assertEquals(4, host.size());
    assertTrue(JsonText.num(JsonText.object(host.get(1)), "r_best") > 0, host.toString());
    assertEquals(0L, doc.get("exit_code"));
    SvgPlotTest.assertChart(svg, "host SGEMM float[] cpu");
  }

  @Test
  void gemmRunsSkinnyShapesInDoublePrecisionOnTheCpu(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("skinny.json");
    // Java arrays only and no bus rows: the same rows with and without a GPU
    Result r = quietRun("bench", "gemm", "--no-device", "--host-sizes", "8", "--host-shapes",
        "300x7x5", "--host-dtypes", "FP64", "--host-memory", "array", "--bus-mib", "0", "--reps",
        "2", "--warmup", "1", "--json", json.toString());
    says(r.out(), "host DGEMM double[] cpu", "host fp64 n=8: cpu ", "host fp64 300x7x5: cpu ");
    saysNone(r.out(), "host SGEMM");
    Map<String, Object> doc = JsonText.object(JsonText.parse(Files.readString(json)));
    Map<String, Object> gemm = JsonText.object(((List<?>) doc.get("suites")).get(0));
    Map<String, Object> settings = JsonText.object(gemm.get("settings"));
    assertEquals(List.of("fp64"), settings.get("host_dtypes"));
    assertEquals(List.of("300x7x5"), settings.get("host_shapes"));
    List<?> rows = (List<?>) gemm.get("rows");
    assertEquals(2 * 3, rows.size(), "3 routes of n=8 and of 300x7x5, fp64 only");
    int skinny = 0;
    for (Object o : rows) {
      Map<String, Object> row = JsonText.object(o);
      Map<String, Object> extra = JsonText.object(row.get("extra"));
      assertEquals("fp64", extra.get("dtype"), row.toString());
      boolean square = row.get("group").equals("host-fp64");
      if (!square) {
        skinny++;
        assertEquals("host-fp64-7x5", row.get("group"), row.toString());
        assertEquals(300.0, JsonText.num(row, "x"), row.toString());
        assertEquals("300x7x5", row.get("size"), row.toString());
        assertEquals(List.of(300.0, 7.0, 5.0), List.of(JsonText.num(extra, "m"),
            JsonText.num(extra, "n"), JsonText.num(extra, "k")), row.toString());
      }
      if (row.get("case").equals("cpu")) {
        assertEquals(true, row.get("ok"), row.toString());
        assertTrue(row.get("check").toString().startsWith("ok: row/col sums vs exact"),
            row.toString());
        // fp64 bound 1e-13*sqrt(k): an fp32 product would miss it by orders of magnitude
        assertTrue(JsonText.num(extra, "check_rows_max_rel") < 1e-13, row.toString());
        assertEquals(2, ((List<?>) row.get("samples_ns")).size(), row.toString());
        double gflops = JsonText.num(row, "throughput");
        double median = JsonText.num(row, "median_ns");
        double flops = square ? 2.0 * 8 * 8 * 8 : 2.0 * 300 * 7 * 5;
        assertEquals(flops / median, gflops, gflops * 1e-6, row.toString());
      } else if (row.get("case").equals("gpu") && !gpu) {
        assertTrue(row.get("skipped").toString().startsWith("No GPU visible: "), row.toString());
      } else if (row.get("case").equals("router")) {
        assertEquals(true, row.get("ok"), row.toString());
      }
    }
    assertEquals(3, skinny);
    List<?> host = (List<?>) JsonText.object(gemm.get("summary")).get("host");
    Map<String, Object> last = JsonText.object(host.get(1));
    assertEquals(List.of("fp64", 300.0, 7.0, 5.0), List.of(last.get("dtype"),
        JsonText.num(last, "m"), JsonText.num(last, "n"), JsonText.num(last, "k")));
  }

  @Test
  void gemmBatchedAndAlternatingRowsRunTheirCpuPartsAndSayWhatTheySkip(@TempDir Path dir)
      throws Exception {
    Path json = dir.resolve("ba.json");
    Result r = quietRun("bench", "gemm", "--no-device", "--no-host", "--batched", "2x3",
        "--alternate-sizes", "8", "--reps", "2", "--warmup", "1", "--json", json.toString());
    says(r.out(), "batched fp32 pointer (gemmBatched)", "batched fp32 prepared (prepareBatched)",
        "alternate SGEMM cpu alone", "alternate n=8: cpu alone ");
    Map<String, Object> doc = JsonText.object(JsonText.parse(Files.readString(json)));
    Map<String, Object> gemm = JsonText.object(((List<?>) doc.get("suites")).get(0));
    Map<String, Object> settings = JsonText.object(gemm.get("settings"));
    assertEquals(List.of("2x3x3x3"), settings.get("batched"));
    List<?> rows = (List<?>) gemm.get("rows");
    assertEquals(GemmBatched.FORMS.length + 3, rows.size(),
        "the batched forms, three alternating modes: " + rows);
    for (Object o : rows) {
      Map<String, Object> row = JsonText.object(o);
      boolean cpuOnly = row.get("group").equals("alternate") && row.get("case").equals("cpu");
      if (gpu || cpuOnly) {
        assertEquals(true, row.get("ok"), row.toString());
        assertNotNull(row.get("median_ns"), row.toString());
        assertEquals(2, ((List<?>) row.get("samples_ns")).size(), row.toString());
      } else {
        assertTrue(row.get("skipped").toString().startsWith("No GPU visible: "), row.toString());
      }
    }
    Map<String, Object> alt = JsonText.object(((List<?>) JsonText.object(gemm.get("summary"))
        .get("alternate")).get(0));
    assertEquals(8.0, JsonText.num(alt, "n"));
    assertTrue(JsonText.num(alt, "cpu_ns") > 0, alt.toString());
    assertEquals(!gpu, Double.isNaN(JsonText.num(alt, "loss")), alt.toString());
  }

  @Test
  void gemmRejectsAnUnknownPrecision() {
    Result r = run("bench", "gemm", "--precision", "int8", "--peers", "none");
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("gemm: --precision must be one or more of fp32, tf32, bf16, fp16, fp64"),
        r.err());
    assertTrue(r.out().isEmpty(), r.out());
  }

  @Test
  void reduceAndP2pRunAndSayWhatTheySkip(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("r.json");
    Result r = quietRun("bench", "reduce", "p2p", "--sizes", "1024", "--reps", "2", "--warmup", "1",
        "--big-mib", "1", "--latency-reps", "10", "--json", json.toString());
    says(r.out(), "== reduce: ", "== p2p: ");
    saysNone(r.out(), "NaN", "not implemented");
    assertFalse(r.err().contains("as measured"), r.err());
    if (!gpu) {
      assertTrue(r.out().contains("GPU rows skipped: No GPU visible: "), r.out());
      assertTrue(r.out().contains("fp32 sum (sync)") && r.out().contains("fp64 colsum (queued)"),
          r.out());
    }
    Map<String, Object> doc = JsonText.object(JsonText.parse(Files.readString(json)));
    assertEquals(2, ((List<?>) doc.get("suites")).size());
    Result list = run("bench", "--list");
    assertEquals(0, list.code());
    assertEquals(List.of("transfer", "e2e", "gemm", "reduce", "p2p", "blas"),
        list.out().lines().map(l -> l.split(" ")[0]).toList(), list.out());
  }

  @Test
  void argumentsAreCheckedBeforeAnyWork(@TempDir Path dir) throws Exception {
    // a size past this JVM's heap (e2e holds about 12 n^2 bytes), or past an int index where the
    // heap is large enough for any array (a GPU host's JVM takes a quarter of 128 GiB)
    long heapN = (long) Math.ceil(Math.sqrt(Runtime.getRuntime().maxMemory() / 12.0) * 1.5);
    String tooBig = String.valueOf(Math.min(heapN, 46341));
    String[][] cases = {
        {"e2e", "--n", tooBig},
        {"gemm", "--host-sizes", "50000"},
        {"gemm", "--sizes", "50000"},
        {"gemm", "--device-sizes", "46340", "--no-host"},
        {"transfer", "--python", dir.resolve("no/such/python3").toString()},
        {"gemm", "--plot", "/proc/x.svg"},
        {"gemm", "--json", dir.toString()},
        {"reduce", "--sizes", "0"},
        {"reduce", "--ops", "sum,median"},
        {"reduce", "--modes", "later"},
        {"p2p", "--big-mib", "-1"},
        {"p2p", "--mib", "1,2"},
        {"blas", "--sizes", "0"},
        {"blas", "--sizes", "50000"},
        {"gemm", "--host-dtypes", "fp32,fp16"},
        {"gemm", "--host-shapes", "64x64"},
        {"gemm", "--host-shapes", "262144x64x0"},
        {"gemm", "--host-shapes", "100000x100000x8"},
        {"gemm", "--host-sizes", "8", "--host-shapes", "4000000x500x500"},
        {"gemm", "--batched", "64x0"},
        {"gemm", "--batched", "2000000000x1"},
        {"gemm", "--alternate-sizes", "0"},
        {"gemm", "--alternate-sizes", "46000"},
        {"gemm", "--host-memory", "heap"},
        {"gemm", "--host-precisions", "fp32,fp64"},
        {"gemm", "--host-precisions", "bf16", "--host-dtypes", "fp64"},
        {"gemm", "--bus-mib", "-1"},
    };
    String[] names = {"--n", "--host-sizes", "--sizes", "--device-sizes", "--python", "--plot",
        "--json", "--sizes", "--ops", "--modes", "--big-mib", "--mib", "--sizes", "--sizes",
        "--host-dtypes", "--host-shapes", "--host-shapes", "--host-shapes", "--host-shapes",
        "--batched", "--batched", "--alternate-sizes", "--alternate-sizes", "--host-memory",
        "--host-precisions", "--host-precisions", "--bus-mib"};
    for (int i = 0; i < cases.length; i++) {
      String[] c = cases[i];
      String[] args = new String[c.length + 3];
      args[0] = "bench";
      System.arraycopy(c, 0, args, 1, c.length);
      args[c.length + 1] = "--peers";
      args[c.length + 2] = "none";
      long t0 = System.nanoTime();
      Result r = run(args);
      String what = String.join(" ", args) + ": " + r.out() + r.err();
      assertEquals(2, r.code(), what);
      assertEquals(1, r.err().strip().lines().count(), "one line: " + what);
      assertTrue(r.err().startsWith("gpucore: ") && r.err().contains(names[i]), what);
      assertFalse(r.err().contains("Exception"), "no stack trace: " + what);
      assertTrue(r.out().isEmpty(), "nothing ran: " + what);
      assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "checked before any work: " + what);
    }
    assertFalse(Files.exists(Path.of("/proc/x.svg")));
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
