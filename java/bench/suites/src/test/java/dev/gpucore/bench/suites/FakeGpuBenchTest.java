package dev.gpucore.bench.suites;

import static dev.gpucore.bench.suites.OutputAssert.says;
import static dev.gpucore.bench.suites.OutputAssert.saysNone;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.cli.JsonText;
import dev.gpucore.testkit.FakeGpuProvider;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
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
    says(r.out(), "gpu : 0: Fake GPU (host memory)", "GPU upload+gemm+sum", "speedup", "): OK",
        "H2D Java float[] (staged)", "vs pinned in this run");
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
    says(r.out(), "e2e: C = A*A^T (fp64, GPU GEMM in fp64)", "): OK");
    Result t = child(dir, Map.of(), "e2e", "--n", "20", "--precision", "tf32", "--reps", "1",
        "--warmup", "0", "--peers", "none", "--progress", "never");
    assertEquals(0, t.code(), t.out());
    assertTrue(t.out().contains("GPU upload+gemm+sum (tf32)"), t.out());
  }

  static List<Map<String, Object>> rows(Path json, String suite) throws IOException {
    Map<String, Object> doc = JsonText.object(JsonText.parse(Files.readString(json)));
    List<Map<String, Object>> out = new ArrayList<>();
    for (Object s : (List<?>) doc.get("suites")) {
      Map<String, Object> m = JsonText.object(s);
      if (m.get("name").equals(suite)) {
        for (Object o : (List<?>) m.get("rows")) {
          out.add(JsonText.object(o));
        }
      }
    }
    return out;
  }

  @Test
  void gemmMeasuresEveryPrecisionAndRouteAndChecksThem(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("g.json");
    Result r = child(dir, Map.of(), "gemm", "--sizes", "8,12", "--reps", "2", "--warmup", "1",
        "--bus-mib", "1", "--peers", "none", "--progress", "never", "--json", json.toString(),
        "--plot", dir.resolve("g.svg").toString());
    assertEquals(0, r.code(), r.out());
    says(r.out(), "device bf16 A*B^T (bf16 arrays)", "host SGEMM float[] gpu (route=gpu)",
        "host fp32 n=12: cpu ", "host DGEMM double[] gpu (route=gpu)", "host fp64 n=12: cpu ",
        "host SGEMM pinned HostArray gpu ", "bus H2D pinned HostArray -> device");
    List<Map<String, Object>> rows = rows(json, "gemm");
    // 5 precisions; cpu, gpu, router and pinned of fp32 and fp64; the bus each way
    assertEquals(2 * 5 + 2 * 2 * 4 + 2, rows.size());
    for (Map<String, Object> row : rows) {
      // every row measured and checked: the fake GPU computes exactly (16-bit inputs rounded)
      assertNotNull(row.get("median_ns"), row.toString());
      assertEquals(true, row.get("ok"), row.toString());
      assertTrue(row.get("check").toString().startsWith("ok: "), row.toString());
      Map<String, Object> extra = JsonText.object(row.get("extra"));
      if (row.get("group").equals("device")) {
        assertTrue(JsonText.num(extra, "calls_per_sample") >= 1, row.toString());
        assertNotNull(row.get("telemetry"), row.toString());
      }
      if (row.get("case").equals("router")) {
        assertTrue(JsonText.num(extra, "r_best") > 0, row.toString());
      }
    }
    assertEquals(Set.of("FLOAT32", "BFLOAT16", "FLOAT16", "FLOAT64"), rows.stream()
        .filter(m -> m.get("group").equals("device"))
        .map(m -> JsonText.object(m.get("extra")).get("storage")).collect(Collectors.toSet()));
  }

  @Test
  void aWrongGpuGemmIsNotTimedAndFailsTheRun(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("w.json");
    Result r = child(dir, Map.of("FAKE_GPU_WRONG", "1"), "gemm", "--sizes", "8", "--reps", "1",
        "--warmup", "0", "--bus-mib", "1", "--peers", "none", "--progress", "never", "--json",
        json.toString());
    assertEquals(2, r.code(), r.out());
    says(r.out(), "MISMATCH, not timed", "RESULT CHECK FAILED");
    for (Map<String, Object> row : rows(json, "gemm")) {
      if (row.get("who").equals("gpucore cuda") && !row.get("group").equals("bus")) {
        assertEquals(false, row.get("ok"), row.toString());
        assertFalse(row.containsKey("median_ns"), "a wrong result gets no figure: " + row);
        assertTrue(row.get("check").toString().startsWith("MISMATCH"), row.toString());
      } else {
        // the CPU, the router (a tiny GEMM stays on the CPU) and the copies are right and
        // measured
        assertEquals(true, row.get("ok"), row.toString());
        assertNotNull(row.get("median_ns"), row.toString());
      }
    }
  }

  /**
   * The batched rows (the three forms) and the alternating rows on the stand-in GPU: checked,
   * measured (host-timed: the stand-in's streams have no GPU events, and the rows say so), the loss in
   * the summary; nothing else runs when only they are asked for.
   */
  @Test
  void gemmBatchedAndAlternatingRowsMeasureAndCheck(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("b.json");
    Result r = child(dir, Map.of(), "gemm", "--no-device", "--no-host", "--batched",
        "3x4,2x3x5x6", "--alternate-sizes", "16", "--reps", "2", "--warmup", "1", "--peers",
        "none", "--progress", "never", "--json", json.toString());
    assertEquals(0, r.code(), r.out());
    says(r.out(), "batched fp32 pointer (gemmBatched)", "batched fp32 strided (Gemm.batch)",
        "batched fp32 prepared (prepareBatched)", "alternate SGEMM cpu+gpu, alternating",
        "loss = pair / (cpu + gpu) ");
    List<Map<String, Object>> rows = rows(json, "gemm");
    assertEquals(2 * 3 + 3, rows.size(), rows.toString());
    for (Map<String, Object> row : rows) {
      assertNotNull(row.get("median_ns"), row.toString());
      assertEquals(true, row.get("ok"), row.toString());
      assertTrue(row.get("check").toString().startsWith("ok: "), row.toString());
      if (row.get("group").equals("batched")) {
        assertTrue(row.get("check").toString().contains("items vs double"), row.toString());
        assertTrue(row.get("timing").toString().startsWith("host-sync"), row.toString());
        assertTrue(row.get("timing").toString().contains("the stream has no GPU events"),
            row.toString());
        Object prepareNs = JsonText.object(row.get("extra")).get("prepare_ns");
        assertEquals(row.get("case").equals("prepared"), prepareNs != null, row.toString());
      } else {
        assertEquals("alternate", row.get("group"), row.toString());
      }
    }
    Map<String, Object> doc = JsonText.object(JsonText.parse(Files.readString(json)));
    Map<String, Object> summary = JsonText.object(JsonText.object(((List<?>) doc.get("suites"))
        .get(0)).get("summary"));
    Map<String, Object> alt = JsonText.object(((List<?>) summary.get("alternate")).get(0));
    assertTrue(JsonText.num(alt, "loss") > 0, alt.toString());
    assertEquals(20.0, JsonText.num(alt, "cpu_thread_timeout"), alt.toString());
    assertEquals(2, ((List<?>) summary.get("batched")).size(), summary.toString());
  }

  @Test
  void aWrongBatchedGemmIsNotTimedAndFailsTheRun(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("bw.json");
    Result r = child(dir, Map.of("FAKE_GPU_WRONG", "1"), "gemm", "--no-device", "--no-host",
        "--batched", "3x4", "--alternate-sizes", "none", "--reps", "1", "--warmup", "0",
        "--peers", "none", "--progress", "never", "--json", json.toString());
    assertEquals(2, r.code(), r.out());
    says(r.out(), "MISMATCH, not timed", "RESULT CHECK FAILED");
    List<Map<String, Object>> rows = rows(json, "gemm");
    assertEquals(GemmBatched.FORMS.length, rows.size(), rows.toString());
    for (Map<String, Object> row : rows) {
      assertEquals(false, row.get("ok"), row.toString());
      assertFalse(row.containsKey("median_ns"), "a wrong result gets no figure: " + row);
    }
  }

  /**
   * The torch peer's bmm lines reach every batched row, through a stand-in for python3: the
   * ratio is torch time / gpucore time, and a peer whose own check failed fails the run.
   */
  @Test
  void gemmBatchedTakesTheTorchPeersFigures(@TempDir Path dir) throws Exception {
    GemmBatched.Case c = GemmBatched.parse("3x4");
    float[] a = new float[(int) c.aLen()];
    float[] b = new float[(int) c.bLen()];
    InputGen.fill(a, 42);
    InputGen.fill(b, 43);
    double exact = GemmBatched.exactSum(a, b, c);
    for (boolean wrong : new boolean[] {false, true}) {
      Path py = dir.resolve("fake-python-" + wrong);
      StringBuilder lines = new StringBuilder();
      for (String form : GemmBatched.FORMS) {
        lines.append("echo '{\"peer\":\"torch\",\"suite\":\"gemm\",\"group\":\"batched\","
            + "\"case\":\"" + form + "\",\"x\":" + c.macs() + ",\"samples_ns\":[3000,2900,3100],"
            + "\"label\":\"fake bmm\",\"sum\":" + exact + ",\"check\":\""
            + (wrong ? "MISMATCH: max error" : "ok: max error") + "\"}'\n");
      }
      Files.writeString(py, "#!/bin/sh\n"
          + "if [ \"$2\" = --probe ]; then\n"
          + "  echo '{\"peer\":\"torch\",\"available\":true,\"version\":\"fake torch\"}'\n"
          + "  echo '{\"peer\":\"numpy\",\"available\":true,\"version\":\"fake numpy\"}'\n"
          + "  exit 0\nfi\n" + lines);
      assertTrue(py.toFile().setExecutable(true));
      Path json = dir.resolve("bt-" + wrong + ".json");
      Result r = child(dir, Map.of(), "gemm", "--no-device", "--no-host", "--batched", "3x4",
          "--alternate-sizes", "none", "--reps", "2", "--warmup", "0", "--peers", "torch",
          "--python", py.toString(), "--progress", "never", "--json", json.toString());
      assertEquals(wrong ? 2 : 0, r.code(), r.out());
      for (Map<String, Object> row : rows(json, "gemm")) {
        Map<String, Object> peer = JsonText.object(((List<?>) row.get("peers")).get(0));
        assertEquals(3000.0, JsonText.num(peer, "median_ns"));
        assertEquals(!wrong, peer.get("ok"), peer.toString());
        double ratio = JsonText.num(JsonText.object(row.get("extra")), "vs_torch");
        assertEquals(3000.0 / JsonText.num(row, "median_ns"), ratio, 1e-9 * ratio);
      }
    }
  }

  /**
   * The torch peer's gemm lines merged into the rows, through a stand-in for python3 that prints
   * what peers_torch.py would: the ratio lands in the row and the summary; a peer sum that
   * disagrees with the exact sum fails the run.
   */
  @Test
  void gemmTakesTheTorchPeersFiguresAndChecksThem(@TempDir Path dir) throws Exception {
    int n = 8;
    long seed = 42;
    float[] a = new float[n * n];
    float[] b = new float[n * n];
    InputGen.fill(a, seed);
    InputGen.fill(b, seed + 1);
    double exact = 0;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        for (int p = 0; p < n; p++) {
          exact += (double) a[i * n + p] * b[j * n + p];
        }
      }
    }
    for (boolean wrong : new boolean[] {false, true}) {
      Path py = dir.resolve("fake-python-" + wrong);
      Files.writeString(py, "#!/bin/sh\n"
          + "if [ \"$2\" = --probe ]; then\n"
          + "  echo '{\"peer\":\"torch\",\"available\":true,\"version\":\"fake torch\"}'\n"
          + "  echo '{\"peer\":\"numpy\",\"available\":true,\"version\":\"fake numpy\"}'\n"
          + "  exit 0\nfi\n"
          + "echo '{\"peer\":\"torch\",\"suite\":\"gemm\",\"group\":\"device\","
          + "\"case\":\"fp32\",\"x\":" + n + ",\"samples_ns\":[2000,1900,2100],"
          + "\"label\":\"fake matmul\",\"sum\":" + (wrong ? exact * 1.01 : exact) + "}'\n");
      assertTrue(py.toFile().setExecutable(true));
      Path json = dir.resolve("t-" + wrong + ".json");
      Result r = child(dir, Map.of(), "gemm", "--sizes", String.valueOf(n), "--precision",
          "fp32", "--reps", "2", "--warmup", "0", "--peers", "torch", "--python", py.toString(),
          "--progress", "never", "--json", json.toString());
      assertEquals(wrong ? 2 : 0, r.code(), r.out());
      assertTrue(r.out().contains("fake matmul"), r.out());
      Map<String, Object> row = rows(json, "gemm").get(0);
      assertEquals("fp32", row.get("case"));
      Map<String, Object> peer = JsonText.object(((List<?>) row.get("peers")).get(0));
      assertEquals("torch", peer.get("peer"));
      assertEquals(2000.0, JsonText.num(peer, "median_ns"));
      assertEquals(!wrong, peer.get("ok"), peer.toString());
      assertTrue(peer.get("check").toString().startsWith(wrong ? "MISMATCH: sum(C)" : "ok: sum(C)"),
          peer.toString());
      double ratio = JsonText.num(JsonText.object(row.get("extra")), "vs_torch");
      assertEquals(2000.0 / JsonText.num(row, "median_ns"), ratio, 1e-9 * ratio);
      Map<String, Object> doc = JsonText.object(JsonText.parse(Files.readString(json)));
      Map<String, Object> summary = JsonText.object(JsonText.object(((List<?>) doc.get("suites"))
          .get(0)).get("summary"));
      Map<String, Object> dev = JsonText.object(((List<?>) summary.get("device")).get(0));
      assertEquals(ratio, JsonText.num(dev, "vs_torch"), 1e-12);
    }
  }

  static Map<String, Object> summary(Path json) throws IOException {
    Map<String, Object> doc = JsonText.object(JsonText.parse(Files.readString(json)));
    return JsonText.object(JsonText.object(((List<?>) doc.get("suites")).get(0)).get("summary"));
  }

  static Map<String, Object> find(List<Map<String, Object>> rows, String group, String id,
      double x) {
    for (Map<String, Object> row : rows) {
      if (row.get("group").equals(group) && row.get("case").equals(id)
          && JsonText.num(row, "x") == x) {
        return row;
      }
    }
    throw new AssertionError("no row " + group + " " + id + " " + x + " in " + rows);
  }

  /**
   * The host rows from pinned HostArrays and at lower precisions from float[], beside the
   * float[] rows: checked and measured; the device rows follow --host-sizes at the precisions
   * the host rows compare with; every ratio (to the device row, to the strict gpu row, to the
   * bus bound from the bus rows of the same run) in the rows, the summary and the footer.
   */
  @Test
  void gemmHostRowsFromPinnedArraysAndAtLowerPrecisionsHaveTheirRatios(@TempDir Path dir)
      throws Exception {
    Path json = dir.resolve("hp.json");
    int n = 16;
    Result r = child(dir, Map.of(), "gemm", "--host-sizes", String.valueOf(n),
        "--host-precisions", "fp32,tf32,bf16", "--bus-mib", "1", "--reps", "2", "--warmup", "1",
        "--peers", "none", "--progress", "never", "--json", json.toString());
    assertEquals(0, r.code(), r.out());
    says(r.out(), "host SGEMM float[] gpu bf16 (route=gpu)", "host SGEMM float[] gpu tf32",
        "host DGEMM pinned HostArray gpu ", "host fp32 n=16 GPU rows: gpu ",
        "of device fp32", "x the fp32 gpu row", "bus bound ", "time/bound ",
        "bus (pinned HostArray <-> device");
    List<Map<String, Object>> rows = rows(json, "gemm");
    // device fp32, tf32, bf16, fp64 at n = 16; fp32 cpu, gpu, router, gpu-tf32, gpu-bf16,
    // pinned; fp64 cpu, gpu, router, pinned; the bus each way
    assertEquals(4 + 6 + 4 + 2, rows.size(), rows.toString());
    for (Map<String, Object> row : rows) {
      assertNotNull(row.get("median_ns"), row.toString());
      assertEquals(true, row.get("ok"), row.toString());
      assertTrue(row.get("check").toString().startsWith("ok: "), row.toString());
    }
    Map<String, Object> bf16 = find(rows, "host", "gpu-bf16", n);
    assertTrue(bf16.get("check").toString().contains("(bound 1.0e-02)"), bf16.toString());
    assertTrue(find(rows, "host", "gpu-tf32", n).get("check").toString()
        .contains("(bound 1.0e-03)"));
    assertEquals("pinned", JsonText.object(find(rows, "host-fp64", "pinned", n).get("extra"))
        .get("memory"));
    Map<String, Object> summary = summary(json);
    Map<String, Object> bus = JsonText.object(summary.get("bus"));
    double h2d = JsonText.num(bus, "h2d_gbps");
    double d2h = JsonText.num(bus, "d2h_gbps");
    assertEquals(JsonText.num(find(rows, "bus", "H2D", 1 << 20), "throughput"), h2d, 1e-9 * h2d);
    assertEquals(JsonText.num(find(rows, "bus", "D2H", 1 << 20), "throughput"), d2h, 1e-9 * d2h);
    List<?> host = (List<?>) summary.get("host");
    assertEquals(2, host.size());
    for (Object o : host) {
      Map<String, Object> c = JsonText.object(o);
      boolean fp64 = c.get("dtype").equals("fp64");
      String group = fp64 ? "host-fp64" : "host";
      int eb = fp64 ? 8 : 4;
      List<String> ids = fp64 ? List.of("cpu", "gpu", "router", "pinned")
          : List.of("cpu", "gpu", "router", "gpu-tf32", "gpu-bf16", "pinned");
      for (String id : ids) {
        String key = id.replace('-', '_');
        double t = JsonText.num(find(rows, group, id, n), "median_ns");
        String prec = id.startsWith("gpu-") ? id.substring(4) : (fp64 ? "fp64" : "fp32");
        double td = JsonText.num(find(rows, "device", prec, n), "median_ns");
        assertEquals(td / t, JsonText.num(c, key + "_vs_device"), 1e-9 * td / t, key + " " + c);
        if (id.equals("cpu") || id.equals("router")) {
          continue;
        }
        // A and B up (16 bits for bf16), C down, the slower at the bus rates of this run
        double up = id.equals("gpu-bf16") ? 2 : eb;
        double bound = Math.max(2.0 * n * n * up / h2d, (double) n * n * eb / d2h);
        assertEquals(bound, JsonText.num(c, key + "_bus_bound_ns"), 1e-9 * bound, key);
        assertEquals(bound / t, JsonText.num(c, key + "_bus_bound_over_time"), 1e-9 * bound / t);
        assertEquals(t / bound, JsonText.num(c, key + "_time_over_bus_bound"), 1e-9 * t / bound);
        Map<String, Object> extra = JsonText.object(find(rows, group, id, n).get("extra"));
        assertEquals(bound, JsonText.num(extra, "bus_bound_ns"), 1e-9 * bound);
        assertEquals(2.0 * n * n * up, JsonText.num(extra, "bus_up_bytes"));
      }
      if (!fp64) {
        double strict = JsonText.num(find(rows, "host", "gpu", n), "median_ns");
        for (String id : List.of("gpu-tf32", "gpu-bf16")) {
          double t = JsonText.num(find(rows, "host", id, n), "median_ns");
          assertEquals(strict / t, JsonText.num(c, id.replace('-', '_') + "_vs_fp32_gpu"),
              1e-9 * strict / t, id);
        }
      }
    }
    Map<String, Object> settings = JsonText.object(JsonText.object(((List<?>) JsonText.object(
        JsonText.parse(Files.readString(json))).get("suites")).get(0)).get("settings"));
    assertEquals(List.of("fp32", "tf32", "bf16"), settings.get("host_precisions"));
    assertEquals(List.of("array", "pinned"), settings.get("host_memory"));
    assertEquals(true, settings.get("device_sizes_from_host"));
  }

  /**
   * A GPU that computes a wrong host GEMM: the pinned and lower-precision rows are caught like
   * the float[] row (not timed, exit 2); only the pinned rows run with --host-memory pinned, and
   * the CPU reference is still computed for their check.
   */
  @Test
  void aWrongPinnedOrLowerPrecisionHostGemmIsNotTimedAndFailsTheRun(@TempDir Path dir)
      throws Exception {
    for (String memory : new String[] {"array,pinned", "pinned"}) {
      Path json = dir.resolve("hw-" + memory + ".json");
      List<String> args = new ArrayList<>(List.of("gemm", "--no-device", "--host-sizes", "8",
          "--host-memory", memory, "--bus-mib", "1", "--reps", "1", "--warmup", "0", "--peers",
          "none", "--progress", "never", "--json", json.toString()));
      if (memory.contains("array")) {
        args.addAll(List.of("--host-precisions", "tf32"));
      }
      Result r = child(dir, Map.of("FAKE_GPU_WRONG", "1"), args.toArray(String[]::new));
      assertEquals(2, r.code(), r.out());
      says(r.out(), "MISMATCH, not timed", "RESULT CHECK FAILED");
      List<Map<String, Object>> rows = rows(json, "gemm");
      Set<String> ids = rows.stream().filter(m -> !m.get("group").equals("bus"))
          .map(m -> m.get("group") + " " + m.get("case")).collect(Collectors.toSet());
      assertEquals(memory.contains("array")
          ? Set.of("host cpu", "host gpu", "host router", "host gpu-tf32", "host pinned",
              "host-fp64 cpu", "host-fp64 gpu", "host-fp64 router", "host-fp64 pinned")
          : Set.of("host pinned", "host-fp64 pinned"), ids);
      for (Map<String, Object> row : rows) {
        String id = row.get("case").toString();
        if (GemmSuite.gpuRow(id)) {
          assertEquals(false, row.get("ok"), row.toString());
          assertFalse(row.containsKey("median_ns"), "a wrong result gets no figure: " + row);
          assertTrue(row.get("check").toString().startsWith("MISMATCH: C vs CPU"),
              row.toString());
        } else {
          assertEquals(true, row.get("ok"), row.toString());
          assertNotNull(row.get("median_ns"), row.toString());
        }
      }
      for (Object o : (List<?>) summary(json).get("host")) {
        Map<String, Object> c = JsonText.object(o);
        assertFalse(c.containsKey("pinned_bus_bound_ns"), "no bound for a row not timed: " + c);
      }
    }
  }

  @Test
  void reduceMeasuresChecksAndComparesWithTheCopy(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("r.json");
    Result r = child(dir, Map.of(), "reduce", "--sizes", "1024,4096", "--reps", "2",
        "--warmup", "1", "--peers", "none", "--progress", "never", "--json", json.toString());
    assertEquals(0, r.code(), r.out());
    for (String op : new String[] {"sum", "max", "argmax", "norm2", "dot", "rowsum", "colsum"}) {
      for (String mode : new String[] {"sync", "queued"}) {
        for (String dt : new String[] {"fp32", "fp64"}) {
          String name = dt + " " + op + " (" + mode + ")";
          assertTrue(r.out().lines().anyMatch(l -> l.contains(name) && l.contains(" ok")),
              name + ": " + r.out());
        }
      }
    }
    says(r.out(), "fp32 device copy", "GB/s as a fraction of the device copy's (queued");
    saysNone(r.out(), "NaN", "MISMATCH");
  }

  @Test
  void p2pWithoutPeerCopiesSaysWhyItSkips(@TempDir Path dir) throws Exception {
    // the stand-in GPU offers no copies between devices: the rows say so, the run goes on
    Result r = child(dir, Map.of(), "p2p", "--mib", "1", "--big-mib", "1", "--reps", "2",
        "--warmup", "1", "--latency-reps", "5", "--peers", "none", "--progress", "never");
    assertEquals(0, r.code(), r.out());
    assertTrue(r.out().contains("skipped: copies between devices are not available: "), r.out());
    saysNone(r.out(), "FAILED", "Exception", "NaN");
  }

  @Test
  void aWrongGpuResultFailsTheRun(@TempDir Path dir) throws Exception {
    Result r = child(dir, Map.of("FAKE_GPU_WRONG", "1"), "e2e", "--n", "16", "--reps", "1",
        "--warmup", "0", "--peers", "none", "--progress", "never");
    assertEquals(2, r.code(), r.out());
    says(r.out(), "MISMATCH", "RESULT CHECK FAILED");
  }
}
