package dev.gpucore.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;
import dev.gpucore.Settings;
import dev.gpucore.blas.Precision;
import dev.gpucore.cli.DoctorCheck.Status;
import dev.gpucore.cpu.CpuBackendProvider;
import dev.gpucore.device.DeviceHealth;
import dev.gpucore.device.DeviceHealth.Reading;
import dev.gpucore.device.Discovery;
import dev.gpucore.reduce.ReduceOp;
import dev.gpucore.testkit.FakeGpu;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code gpucore doctor}: on this machine (no GPU: the no-GPU line, the CPU self-test, exit
 * codes, JSON; with a GPU: every GPU check), with results corrupted on purpose (they must fail),
 * and on a stand-in GPU (faults, health counters, the GPU self-test's paths and a GEMM that
 * writes outside C).
 */
class DoctorCommandTest {
  record Result(int code, String out, String err) {
    /** The table row of check {@code name}: its status label and detail. */
    String[] row(String name) {
      for (String line : out.split("\n")) {
        String[] f = line.trim().split("\\s+", 3);
        if (f.length == 3 && f[0].equals(name)) {
          return new String[] {f[1], f[2]};
        }
      }
      throw new AssertionError("no check '" + name + "' in:\n" + out);
    }
  }

  static final List<String> CPU_CHECKS = List.of("cpu.gemm.fp32", "cpu.gemm.tf32",
      "cpu.gemm.bf16", "cpu.gemm.fp16", "cpu.gemm.fp64", "cpu.gemm.host-array",
      "cpu.gemm.fp32-not-tf32", "cpu.sum.fp32", "cpu.max.fp32", "cpu.argmax.fp32",
      "cpu.norm2.fp32", "cpu.dot.fp32", "cpu.sum.fp64", "cpu.max.fp64", "cpu.argmax.fp64",
      "cpu.norm2.fp64", "cpu.dot.fp64");

  static final List<String> GPU_SELFTEST = List.of("gemm.fp32", "gemm.tf32", "gemm.bf16",
      "gemm.fp16", "gemm.fp64", "gemm.bf16-storage", "gemm.fp16-storage", "gemm.host-array",
      "gemm.java-array", "gemm.fp32-not-tf32", "sum.fp32", "max.fp32", "argmax.fp32",
      "norm2.fp32", "dot.fp32", "sum.fp64", "max.fp64", "argmax.fp64", "norm2.fp64",
      "dot.fp64");

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
    return new Result(code, out.toString(), err.toString());
  }

  static Result run(DoctorCommand cmd, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(cmd);
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  static String noGpuReason() {
    try (GpuCore core = GpuCore.open()) {
      return core.hasGpu() ? null : core.noGpuReason();
    }
  }

  /** The gpus of this machine, or a visible skip (a failure under -Dgpucore.requireGpu). */
  static void requireGpu() {
    String why = noGpuReason();
    if (why != null) {
      if (Boolean.getBoolean("gpucore.requireGpu")) {
        fail("No GPU visible: " + why + " (and -Dgpucore.requireGpu=true)");
      }
      assumeTrue(false, "No GPU visible: " + why);
    }
  }

  // ------------------------------------------------------------------ this machine

  @Test
  void doctorOnThisMachine() {
    String reason = noGpuReason();
    Result r = run("doctor");
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("passed (exit 0)"), r.out());
    if (reason != null) {
      assertTrue(r.out().contains("\nNo GPU visible: " + reason + "\n"), r.out());
      assertEquals("warn", r.row("gpus")[0]);
      assertFalse(r.out().contains("gpu0."), r.out());
    } else {
      assertEquals("ok", r.row("gpus")[0]);
      for (String c : GPU_SELFTEST) {
        assertEquals("ok", r.row("gpu0." + c)[0], c);
      }
      assertEquals("ok", r.row("gpu0.faulted")[0]);
    }
    for (String c : CPU_CHECKS) {
      assertEquals("ok", r.row(c)[0], c + " in\n" + r.out());
    }
    // this JVM pins arrays (CpuInPlaceGemmTest): CPU GEMMs on Java arrays run in place
    assertEquals("ok", r.row("cpu.java-arrays")[0], r.out());
    assertTrue(r.row("cpu.java-arrays")[1].startsWith("in place"), r.out());
  }

  // ------------------------------------------------------------------ settings

  @Test
  void settingsWarningsBecomeACheck(@TempDir Path dir) throws Exception {
    DoctorCheck clean = DoctorCommand.settings(Settings.from(Map.of(), Map.of()));
    assertEquals(Status.OK, clean.status(), clean.detail());
    assertEquals("no warnings (configuration file none)", clean.detail());
    int cores = Runtime.getRuntime().availableProcessors();
    DoctorCheck threads = DoctorCommand.settings(Settings.from(Map.of(),
        Map.of("GPUCORE_CPU_THREADS", Integer.toString(cores + 1))));
    assertEquals(Status.WARN, threads.status(), threads.detail());
    assertTrue(threads.detail().startsWith("1 warning: GPUCORE_CPU_THREADS (environment) is "
        + (cores + 1) + ", more than the " + cores + " processors available"), threads.detail());
    Path conf = dir.resolve("gpucore.conf");
    Files.writeString(conf, "gpucore.gemm.rout = gpu\n");
    DoctorCheck file = DoctorCommand.settings(Settings.from(Map.of(),
        Map.of("GPUCORE_CONFIG", conf.toString())));
    assertEquals(Status.WARN, file.status(), file.detail());
    assertTrue(file.detail().contains(conf + " line 1: unknown setting \"gpucore.gemm.rout\""),
        file.detail());
    assertTrue(file.detail().endsWith("(configuration file " + conf + "; doctor --settings lists "
        + "every value and where it came from)"), file.detail());
  }

  /** The check reads the settings of the core doctor opened: what is in force. */
  @Test
  void doctorShowsTheWarningsOfTheCoreItOpened(@TempDir Path dir) throws Exception {
    Path conf = dir.resolve("gpucore.conf");
    Files.writeString(conf, "gpucore.backend = cpu\ngpucore.cpu.thread = 2\n");
    DoctorCommand warned = new DoctorCommand();
    warned.opener = () -> GpuCore.open(Config.from(Map.of(),
        Map.of("GPUCORE_CONFIG", conf.toString())));
    Result r = run(warned, "--skip-selftest");
    assertEquals(0, r.code(), r.out() + r.err()); // a warning does not fail doctor
    assertEquals("warn", r.row("settings")[0], r.out());
    assertTrue(r.row("settings")[1].contains("unknown setting \"gpucore.cpu.thread\""), r.out());
    DoctorCommand clean = new DoctorCommand();
    clean.opener = () -> GpuCore.open(Config.from(Map.of(), Map.of("GPUCORE_BACKEND", "cpu")));
    Result ok = run(clean, "--skip-selftest");
    assertEquals(0, ok.code(), ok.out() + ok.err());
    assertEquals("ok", ok.row("settings")[0], ok.out());
  }

  @Test
  void javaArrayPathBecomesACheck() {
    assertEquals(DoctorCheck.Status.WARN, DoctorCommand.javaArrays(
        new dev.gpucore.blas.JavaArrayPath(false, true, "copied: glue")).status());
    assertEquals(DoctorCheck.Status.OK, DoctorCommand.javaArrays(
        new dev.gpucore.blas.JavaArrayPath(false, false, "copied: setting 0")).status());
    assertEquals(DoctorCheck.Status.SKIP, DoctorCommand.javaArrays(null).status());
  }

  @Test
  void theCpuBlasBecomesACheck() {
    DoctorCheck ok = DoctorCommand.cpuBlas("OpenBLAS 0.3.31 DYNAMIC_ARCH Haswell; 16 threads");
    assertEquals(DoctorCheck.Status.OK, ok.status());
    assertEquals("OpenBLAS 0.3.31 DYNAMIC_ARCH Haswell; 16 threads", ok.detail());
    assertEquals(DoctorCheck.Status.SKIP, DoctorCommand.cpuBlas(null).status());
  }

  @Test
  void requireGpuFailsWithoutOne() {
    Result r = run("doctor", "--require-gpu", "--skip-selftest");
    if (noGpuReason() == null) {
      assertEquals(0, r.code(), r.out());
    } else {
      assertEquals(1, r.code(), r.out());
      assertEquals("fail", r.row("gpus")[0]);
      assertTrue(r.out().contains("FAILED (exit 1)"), r.out());
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void jsonHasItsStructure() {
    Result r = run("doctor", "--json", "--seed", "12345");
    assertEquals(0, r.code(), r.err());
    Map<String, Object> m = JsonText.object(JsonText.parse(r.out()));
    assertEquals(DoctorCommand.SCHEMA, m.get("schema"));
    assertEquals(12345L, m.get("seed"));
    boolean gpu = noGpuReason() == null;
    assertEquals(gpu, m.get("gpu_visible"));
    assertEquals(gpu ? "" : noGpuReason(), m.get("no_gpu_reason"));
    assertTrue(m.get("notes") instanceof List, "notes");
    List<Object> checks = (List<Object>) m.get("checks");
    Set<String> names = new java.util.HashSet<>();
    Map<String, Long> counted = new LinkedHashMap<>();
    for (Object o : checks) {
      Map<String, Object> c = JsonText.object(o);
      assertEquals(Set.of("name", "status", "detail"), c.keySet());
      assertTrue(Set.of("ok", "warn", "fail", "skip").contains(c.get("status")), c.toString());
      assertFalse(((String) c.get("detail")).isBlank(), c.toString());
      assertTrue(names.add((String) c.get("name")), "duplicate " + c.get("name"));
      counted.merge((String) c.get("status"), 1L, Long::sum);
    }
    assertTrue(names.containsAll(CPU_CHECKS), names.toString());
    assertTrue(names.containsAll(List.of("gpus", "cuda.versions", "visibility", "container")));
    Map<String, Object> summary = JsonText.object(m.get("summary"));
    for (String st : List.of("ok", "warn", "fail", "skip")) {
      assertEquals(counted.getOrDefault(st, 0L), summary.get(st), st);
    }
    assertEquals(Boolean.TRUE, m.get("passed"));
    List<Object> devices = (List<Object>) m.get("devices");
    assertEquals(gpu ? gpuCount() : 0, devices.size());
  }

  static int gpuCount() {
    try (GpuCore core = GpuCore.open()) {
      return core.devices().size();
    }
  }

  @Test
  void theSeedRepeatsTheData() {
    Result a = run("doctor", "--seed", "777");
    Result b = run("doctor", "--seed", "777");
    Result c = run("doctor", "--seed", "778");
    assertTrue(a.out().contains("seed 777"), a.out());
    for (String check : List.of("cpu.gemm.fp32", "cpu.sum.fp32", "cpu.argmax.fp64")) {
      assertEquals(a.row(check)[1], b.row(check)[1], check);
    }
    assertFalse(a.row("cpu.gemm.fp32")[1].equals(c.row("cpu.gemm.fp32")[1])
        && a.row("cpu.argmax.fp64")[1].equals(c.row("cpu.argmax.fp64")[1]),
        "another seed, other data");
  }

  // ------------------------------------------------------------------ broken results fail

  @Test
  void aCorruptedResultFailsTheDoctor() {
    DoctorCommand cmd = new DoctorCommand();
    cmd.tamper = (check, result) -> {
      if (check.equals("cpu.gemm.fp32")) {
        result[3] *= 1.01; // one element of C off by 1%
      } else if (check.equals("cpu.gemm.fp64")) {
        result[5] = Double.NaN; // one element of C not written
      } else if (check.equals("cpu.argmax.fp32")) {
        result[1] += 1; // the second of the tied maxima
      } else if (check.equals("cpu.sum.fp64")) {
        result[2] = 0; // written outside the output element
      } else if (check.equals("cpu.gemm.fp32-not-tf32")) {
        java.util.Arrays.fill(result, 1024.0); // what TF32 computes
      }
    };
    Result r = run(cmd, "--seed", "99");
    assertEquals(1, r.code(), r.out());
    assertTrue(r.out().contains("FAILED (exit 1)"), r.out());
    String[] gemm = r.row("cpu.gemm.fp32");
    assertEquals("fail", gemm[0]);
    assertTrue(gemm[1].contains("C(0,3) = ") && gemm[1].contains("seed 99"), gemm[1]);
    assertEquals("fail", r.row("cpu.gemm.fp64")[0]);
    assertTrue(r.row("cpu.gemm.fp64")[1].contains("C(0,5) was not written"), r.out());
    assertEquals("fail", r.row("cpu.argmax.fp32")[0]);
    assertEquals("fail", r.row("cpu.sum.fp64")[0]);
    assertTrue(r.row("cpu.sum.fp64")[1].contains("outside"), r.out());
    assertEquals("fail", r.row("cpu.gemm.fp32-not-tf32")[0]);
    assertTrue(r.row("cpu.gemm.fp32-not-tf32")[1].contains("rounded to TF32"), r.out());
    assertEquals("ok", r.row("cpu.gemm.tf32")[0], "the untouched checks still pass");
  }

  @Test
  void gemmComparisonCatchesWrongAnswers() {
    int m = 3;
    int n = 4;
    int k = 5;
    double[] a = new double[m * k];
    double[] b = new double[n * k];
    for (int i = 0; i < a.length; i++) {
      a[i] = i + 1;
    }
    for (int i = 0; i < b.length; i++) {
      b[i] = 2 - i;
    }
    double[][] ref = SelfTest.reference(a, b, m, n, k);
    assertEquals(1 * 2 + 2 * 1 + 3 * 0 + 4 * -1 + 5 * -2, ref[0][0], "A(0,:)·B(0,:)");
    assertEquals(1 * 2 + 2 * 1 + 3 * 0 + 4 * 1 + 5 * 2, ref[1][0], "|A(0,:)|·|B(0,:)|");
    double[] good = SelfTest.poisoned(m, n);
    for (int i = 0; i < m; i++) {
      System.arraycopy(ref[0], i * n, good, i * (n + 1), n);
    }
    assertTrue(SelfTest.compareGemm(good, ref, m, n, k, Precision.FP32).ok());
    double[] off = good.clone();
    off[(n + 1) + 2] *= 1 + 1e-4; // C(1,2) = -410: 0.04 off
    SelfTest.Verdict v = SelfTest.compareGemm(off, ref, m, n, k, Precision.FP32);
    assertFalse(v.ok());
    assertTrue(v.detail().startsWith("C(1,2) = -410.041, reference -410: error"), v.detail());
    assertTrue(SelfTest.compareGemm(off, ref, m, n, k, Precision.TF32).ok(), "within TF32's");
    double[] pad = good.clone();
    pad[n] = 0;
    v = SelfTest.compareGemm(pad, ref, m, n, k, Precision.FP32);
    assertFalse(v.ok());
    assertTrue(v.detail().contains("padding"), v.detail());
    double[] inf = good.clone();
    inf[0] = Double.POSITIVE_INFINITY;
    assertFalse(SelfTest.compareGemm(inf, ref, m, n, k, Precision.FP64).ok());
    double[] nan = good.clone();
    nan[1] = Double.NaN;
    assertTrue(SelfTest.compareGemm(nan, ref, m, n, k, Precision.BF16).detail()
        .contains("C(0,1) was not written"));
    assertTrue(SelfTest.gemmBound(Precision.TF32, 100) > SelfTest.gemmBound(Precision.FP32, 100));
    assertTrue(SelfTest.gemmBound(Precision.FP64, 100) < SelfTest.gemmBound(Precision.FP32, 100));
    assertTrue(SelfTest.elementFactor(Precision.BF16, 100)
        > SelfTest.elementFactor(Precision.FP16, 100));
  }

  @Test
  void scalarComparisonCatchesWrongAnswers() {
    double[] x = {0.5, -2, 3, 3, 1};
    double[] y = {1, 1, 1, 1, 1};
    double nan = Double.NaN;
    assertTrue(SelfTest.compareScalar(ReduceOp.SUM, new double[] {nan, 5.5, nan}, x, null).ok());
    assertFalse(SelfTest.compareScalar(ReduceOp.SUM, new double[] {nan, 5.5 + 1e-9, nan}, x,
        null).ok());
    assertTrue(SelfTest.compareScalar(ReduceOp.ARGMAX, new double[] {nan, 2, nan}, x, null).ok());
    assertFalse(SelfTest.compareScalar(ReduceOp.ARGMAX, new double[] {nan, 3, nan}, x, null).ok(),
        "ties go to the first index");
    assertTrue(SelfTest.compareScalar(ReduceOp.MAX, new double[] {nan, 3, nan}, x, null).ok());
    assertTrue(SelfTest.compareScalar(ReduceOp.DOT, new double[] {nan, 5.5, nan}, x, y).ok());
    double norm = Math.sqrt(0.25 + 4 + 9 + 9 + 1);
    assertTrue(SelfTest.compareScalar(ReduceOp.NORM2, new double[] {nan, norm, nan}, x, null)
        .ok());
    assertFalse(SelfTest.compareScalar(ReduceOp.NORM2, new double[] {nan, norm * (1 + 1e-12),
        nan}, x, null).ok());
    assertFalse(SelfTest.compareScalar(ReduceOp.SUM, new double[] {nan, nan, nan}, x, null).ok(),
        "not written");
    assertFalse(SelfTest.compareScalar(ReduceOp.SUM, new double[] {0, 5.5, nan}, x, null).ok(),
        "written outside");
  }

  // ------------------------------------------------------------------ a stand-in GPU

  static DoctorCommand on(FakeGpu gpu) {
    DoctorCommand cmd = new DoctorCommand();
    cmd.opener = () -> gpu.core(Map.of(), new CpuBackendProvider());
    cmd.routedOpener = i -> gpu.core(Map.of("gpucore.gemm.route", "gpu", "gpucore.gpu.list",
        Integer.toString(i), "gpucore.gemm.fallback", "false"), new CpuBackendProvider());
    return cmd;
  }

  @Test
  void theGpuSelfTestRunsEveryPathOnAStandInGpu() {
    FakeGpu gpu = new FakeGpu();
    Result r = run(on(gpu), "--seed", "5");
    assertEquals(0, r.code(), r.out());
    assertFalse(r.out().contains("No GPU visible"), r.out());
    assertEquals("ok", r.row("gpus")[0]);
    assertTrue(r.row("gpus")[1].contains("Fake GPU"), r.out());
    assertEquals("ok", r.row("cuda.versions")[0]);
    assertTrue(r.row("cuda.versions")[1].contains("driver 580.00.00 supports CUDA 13.0"), r.out());
    for (String c : GPU_SELFTEST) {
      assertEquals("ok", r.row("gpu0." + c)[0], c + " in\n" + r.out());
    }
    assertTrue(r.row("gpu0.gemm.host-array")[1].contains("pinned HostArrays"), r.out());
    assertEquals("ok", r.row("gpu0.faulted")[0]);
    assertEquals("skip", r.row("gpu0.ecc")[0]);
    assertTrue(r.row("gpu0.ecc")[1].contains("fake GPU"), r.out());
  }

  @Test
  void aGpuGemmWritingOutsideCFails() {
    FakeGpu gpu = new FakeGpu();
    gpu.writesPadding = true;
    Result r = run(on(gpu));
    assertEquals(1, r.code(), r.out());
    for (String c : List.of("gpu0.gemm.fp32", "gpu0.gemm.bf16-storage", "gpu0.gemm.host-array",
        "gpu0.gemm.java-array")) {
      assertEquals("fail", r.row(c)[0], c);
      assertTrue(r.row(c)[1].contains("padding"), r.row(c)[1]);
    }
    assertEquals("ok", r.row("gpu0.sum.fp32")[0]);
  }

  @Test
  void aFaultedGpuFailsAndIsNotSelfTested() {
    FakeGpu gpu = new FakeGpu();
    gpu.fault(0, "cudaErrorIllegalAddress (700) in a test");
    Result r = run(on(gpu));
    assertEquals(1, r.code(), r.out());
    assertEquals("fail", r.row("gpu0.faulted")[0]);
    assertTrue(r.row("gpu0.faulted")[1].startsWith("cudaErrorIllegalAddress (700) in a test"),
        r.out());
    assertFalse(r.out().contains("gpu0.gemm"), "no self-test on a faulted device");
    assertEquals("ok", r.row("cpu.gemm.fp32")[0]);
  }

  @Test
  @SuppressWarnings("unchecked")
  void healthCountersBecomeChecks() {
    FakeGpu gpu = new FakeGpu();
    gpu.health = new DeviceHealth(Reading.unavailable("not supported"),
        Reading.unavailable("not supported"),
        Reading.of(new DeviceHealth.RemappedRows(2, 1, true, false)),
        Reading.of(new DeviceHealth.ClockEvents(0x4L | 0x40L)));
    Result r = run(on(gpu), "--skip-selftest");
    assertEquals(1, r.code(), r.out());
    assertEquals("skip", r.row("gpu0.ecc")[0]);
    assertEquals("not supported", r.row("gpu0.ecc")[1]);
    assertTrue(r.row("gpu0.retired-pages")[1].startsWith("not supported (GPUs since the A100"));
    assertEquals("fail", r.row("gpu0.remapped-rows")[0]);
    assertTrue(r.row("gpu0.remapped-rows")[1].contains("pending"), r.out());
    assertEquals("warn", r.row("gpu0.clocks")[0]);
    assertTrue(r.row("gpu0.clocks")[1].contains("sw_power_cap, hw_thermal_slowdown"), r.out());
    assertFalse(r.out().contains("cpu.gemm"), "--skip-selftest");

    Result j = run(on(gpu), "--skip-selftest", "--json");
    Map<String, Object> m = JsonText.object(JsonText.parse(j.out()));
    Map<String, Object> dev = JsonText.object(((List<Object>) m.get("devices")).get(0));
    assertEquals("GPU-00000000-fake", dev.get("uuid"));
    assertEquals(null, dev.get("faulted"));
    Map<String, Object> h = JsonText.object(dev.get("health"));
    assertEquals(Map.of("unavailable", "not supported"), h.get("ecc"));
    Map<String, Object> rows = JsonText.object(h.get("remapped_rows"));
    assertEquals(Boolean.TRUE, rows.get("pending"));
    assertEquals(2L, rows.get("correctable"));
    Map<String, Object> clocks = JsonText.object(h.get("clock_events"));
    assertEquals(0x44L, clocks.get("mask"));
    assertEquals(List.of("sw_power_cap", "hw_thermal_slowdown"), clocks.get("reasons"));
    assertEquals(Boolean.FALSE, m.get("passed"));
  }

  @Test
  void healthRules() {
    List<DoctorCheck> fine = DoctorCommand.health("g.", new DeviceHealth(
        Reading.of(new DeviceHealth.Ecc(true, 3, 0, 10, 1)),
        Reading.of(new DeviceHealth.RetiredPages(1, 0, false)),
        Reading.of(new DeviceHealth.RemappedRows(0, 0, false, false)),
        Reading.of(new DeviceHealth.ClockEvents(0x1))));
    for (DoctorCheck c : fine) {
      assertEquals(Status.OK, c.status(), c.toString());
    }
    assertTrue(fine.get(0).detail().contains("volatile corrected 3"), fine.get(0).detail());
    assertTrue(fine.get(3).detail().contains("gpu_idle"), fine.get(3).detail());
    List<DoctorCheck> bad = DoctorCommand.health("g.", new DeviceHealth(
        Reading.of(new DeviceHealth.Ecc(true, 0, 2, 0, 2)),
        Reading.of(new DeviceHealth.RetiredPages(0, 1, true)),
        Reading.of(new DeviceHealth.RemappedRows(0, 1, false, true)),
        Reading.of(new DeviceHealth.ClockEvents(0x8 | (1L << 40)))));
    assertEquals(List.of(Status.WARN, Status.FAIL, Status.FAIL, Status.WARN),
        bad.stream().map(DoctorCheck::status).toList());
    assertTrue(bad.get(2).detail().contains("FAILED"), bad.get(2).detail());
    assertTrue(bad.get(3).detail().contains("hw_slowdown, bit_40"), bad.get(3).detail());
  }

  @Test
  void versionRules() {
    Discovery same = new Discovery(List.of(), "580.1", 13000, 13000, true, List.of(), "");
    Discovery minor = new Discovery(List.of(), "580.1", 13000, 13010, true, List.of(), "");
    Discovery major = new Discovery(List.of(), "570.1", 12080, 13000, true, List.of(), "");
    Discovery unknown = new Discovery(List.of(), "", 0, 13000, false, List.of(), "");
    assertEquals(Status.OK, DoctorCommand.versions(same, true, "").status());
    assertEquals(Status.WARN, DoctorCommand.versions(minor, true, "").status());
    DoctorCheck old = DoctorCommand.versions(major, true, "");
    assertEquals(Status.FAIL, old.status());
    assertTrue(old.detail().contains("driver 570.1 supports CUDA 12.8, CUDA runtime 13.0"),
        old.detail());
    assertEquals(Status.WARN, DoctorCommand.versions(unknown, true, "").status());
    String why = "the NVIDIA driver is older than this CUDA 13 runtime needs "
        + "(cudaErrorInsufficientDriver, 35): install driver 580 or newer";
    Discovery none = Discovery.none(why, List.of());
    // a driver that is there but too old fails even where no GPU is required
    assertEquals(Status.FAIL, DoctorCommand.versions(none, false, why).status());
    assertEquals(why, DoctorCommand.versions(none, false, why).detail());
    assertEquals(Status.SKIP, DoctorCommand.versions(none, false, "no driver")
        .status());
    FakeGpu gpu = new FakeGpu();
    gpu.driverCuda = 12080;
    Result r = run(on(gpu), "--skip-selftest");
    assertEquals(1, r.code(), r.out());
    assertEquals("fail", r.row("cuda.versions")[0]);
  }

  @Test
  void aDriverTooOldForTheRuntimeIsExplainedAndFails() {
    // the fault-injection seam fails discovery as error 35 would, GPU or not
    System.setProperty("gpucore.fault", "driver");
    try {
      Result r = run("doctor", "--skip-selftest");
      assertEquals(1, r.code(), r.out());
      assertEquals("fail", r.row("cuda.versions")[0]);
      assertTrue(r.row("cuda.versions")[1].contains("older than this CUDA 13 runtime")
          && r.row("cuda.versions")[1].contains("install driver 580"), r.out());
    } finally {
      System.clearProperty("gpucore.fault");
    }
  }

  // ------------------------------------------------------------------ a real GPU

  @Test
  void everyGpuCheckPassesOnARealGpu() {
    requireGpu();
    Result r = run("doctor", "--require-gpu", "--json");
    Map<String, Object> m = JsonText.object(JsonText.parse(r.out()));
    List<String> failed = new ArrayList<>();
    for (Object o : (List<?>) m.get("checks")) {
      Map<String, Object> c = JsonText.object(o);
      if ("fail".equals(c.get("status"))) {
        failed.add(c.get("name") + ": " + c.get("detail"));
      }
    }
    assertEquals(List.of(), failed, "seed " + m.get("seed"));
    assertEquals(0, r.code());
  }

  // ------------------------------------------------------------------ visibility variables

  @Test
  void malformedVisibilityVariablesWarn() {
    for (Map<String, String> env : List.of(Map.of("CUDA_VISIBLE_DEVICES", "garbage"),
        Map.of("CUDA_DEVICE_ORDER", "bogus"), Map.of("NV_GPU", "x"),
        Map.of("NVIDIA_VISIBLE_DEVICES", "0,gpu"), Map.of("CUDA_VISIBLE_DEVICES", "0,0,1"))) {
      Result r = run(withEnv(env), "--skip-selftest");
      assertEquals(0, r.code(), r.out() + r.err());
      String[] row = r.row("visibility");
      assertEquals("warn", row[0], env + ": " + r.out());
      String name = env.keySet().iterator().next();
      assertTrue(row[1].startsWith(name + "=\"" + env.get(name) + "\""), row[1]);
      Result strict = run(withEnv(env), "--skip-selftest", "--require-gpu");
      assertEquals("warn", strict.row("visibility")[0], strict.out());
      assertEquals(noGpuReason() == null ? 0 : 1, strict.code(), strict.out()); // gpus fails
    }
  }

  static DoctorCommand withEnv(Map<String, String> env) {
    DoctorCommand cmd = new DoctorCommand();
    cmd.env = env;
    return cmd;
  }

  @Test
  void visibilityProblemsSayWhatCudaAndTheToolkitDo() {
    List<String> p = DoctorCommand.visibilityProblems(Map.of("CUDA_VISIBLE_DEVICES", "garbage"));
    assertEquals(1, p.size(), p.toString());
    assertTrue(p.get(0).contains("entry 1 (\"garbage\") is neither a GPU index nor a GPU or MIG "
        + "UUID") && p.get(0).contains("no GPU is visible to CUDA"), p.get(0));
    p = DoctorCommand.visibilityProblems(Map.of("CUDA_VISIBLE_DEVICES", "1, 01"));
    assertTrue(p.get(0).contains("entry 2 (\"01\") repeats an earlier entry"), p.toString());
    p = DoctorCommand.visibilityProblems(Map.of("CUDA_VISIBLE_DEVICES", "0,,1"));
    assertTrue(p.get(0).contains("entry 2 (\"\") is empty"), p.toString());
    p = DoctorCommand.visibilityProblems(Map.of("CUDA_DEVICE_ORDER", "bogus"));
    assertTrue(p.get(0).startsWith("CUDA_DEVICE_ORDER=\"bogus\" is neither FASTEST_FIRST nor "
        + "PCI_BUS_ID"), p.toString());
    p = DoctorCommand.visibilityProblems(Map.of("NV_GPU", "x"));
    assertEquals(List.of("NV_GPU=\"x\": entry \"x\" is neither a GPU index nor a UUID (nor all, "
        + "none or void), and matches no GPU"), p);
    p = DoctorCommand.visibilityProblems(Map.of("NVIDIA_VISIBLE_DEVICES", "a, b"));
    assertTrue(p.get(0).contains("entries \"a\", \"b\" are neither"), p.toString());
    // NV_GPU is read only when NVIDIA_VISIBLE_DEVICES is unset
    assertEquals(List.of(), DoctorCommand.visibilityProblems(
        Map.of("NVIDIA_VISIBLE_DEVICES", "all", "NV_GPU", "x")));
    // well-formed values, including the ones that hide every GPU on purpose
    for (Map<String, String> ok : List.of(Map.<String, String>of(),
        Map.of("CUDA_VISIBLE_DEVICES", "0,1"), Map.of("CUDA_VISIBLE_DEVICES", "GPU-8f3a, MIG-1"),
        Map.of("CUDA_VISIBLE_DEVICES", "0,"), Map.of("CUDA_VISIBLE_DEVICES", ""),
        Map.of("CUDA_DEVICE_ORDER", "PCI_BUS_ID"), Map.of("CUDA_DEVICE_ORDER", " FASTEST_FIRST"),
        Map.of("NVIDIA_VISIBLE_DEVICES", "all"), Map.of("NVIDIA_VISIBLE_DEVICES", "none"),
        Map.of("NVIDIA_VISIBLE_DEVICES", "void"), Map.of("NV_GPU", ""),
        Map.of("NVIDIA_VISIBLE_DEVICES", "0:1, GPU-8f3a,2"))) {
      assertEquals(List.of(), DoctorCommand.visibilityProblems(ok), ok.toString());
    }
  }

  @Test
  void wellFormedVisibilityStaysOk() {
    Result r = run(withEnv(Map.of("CUDA_DEVICE_ORDER", "PCI_BUS_ID")), "--skip-selftest");
    assertEquals("ok", r.row("visibility")[0], r.out());
    assertTrue(r.row("visibility")[1].contains("CUDA_DEVICE_ORDER=PCI_BUS_ID"), r.out());
  }
}
