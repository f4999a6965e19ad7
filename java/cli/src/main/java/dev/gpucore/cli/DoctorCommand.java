package dev.gpucore.cli;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.cli.DoctorCheck.Status;
import dev.gpucore.cli.bench.JsonText;
import dev.gpucore.device.DeviceHealth;
import dev.gpucore.device.DeviceInfo;
import dev.gpucore.device.Discovery;
import dev.gpucore.device.Visibility;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gpucore doctor}: is this machine fit to compute? Driver and CUDA versions, the
 * visibility variables, the container, NVML health per GPU (ECC, retired pages, remapped rows,
 * clock-event reasons), faulted devices, and a numeric self-test on every GPU and on the CPU
 * ({@link SelfTest}). Each finding is a check with status ok, warn, fail or skip; exit 1 when any
 * failed.
 */
@Command(name = "doctor", mixinStandardHelpOptions = true,
    description = {"Check drivers, visibility, GPU health and numerics (a self-test against a "
        + "float64 reference on every GPU and the CPU).",
        "Exit 0 when every check passed (warnings allowed), 1 when one failed. Without a GPU it "
            + "says why, tests the CPU and exits 0 (1 with --require-gpu)."})
final class DoctorCommand implements Callable<Integer> {
  static final String SCHEMA = "gpucore-doctor/1";

  @Spec CommandSpec spec;

  @Option(names = "--json", description = "Print JSON (schema " + SCHEMA + ").")
  boolean json;

  @Option(names = "--require-gpu", description = "Fail when no GPU is visible.")
  boolean requireGpu;

  @Option(names = "--skip-selftest", description = "Skip the numeric self-test.")
  boolean skipSelftest;

  @Option(names = "--seed", paramLabel = "SEED",
      description = "Seed of the self-test's random data (default: from the clock; printed).")
  Long seed;

  /** Opens the core under examination (tests hand in cores with stand-in GPUs). */
  Supplier<GpuCore> opener = GpuCore::open;

  /** Changes self-test results before they are checked (tests only). */
  SelfTest.Tamper tamper = SelfTest.Tamper.NONE;

  /** Opens the core whose router sends host GEMMs to GPU {@code i} (tests may replace it). */
  Function<Integer, GpuCore> routedOpener = DoctorCommand::openRouted;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    long s = seed != null ? seed
        : Math.floorMod(System.currentTimeMillis() * 1_000_003L ^ System.nanoTime(),
            1_000_000_000_000L);
    Report r = examine(s);
    if (json) {
      out.println(JsonText.write(r.toJson()));
    } else {
      r.print(out);
    }
    out.flush();
    return r.failed() ? 1 : 0;
  }

  /** Everything the doctor found. */
  record Report(long seed, boolean selfTested, boolean gpuVisible, String noGpuReason,
      Discovery discovery, List<DoctorCheck> checks, List<Map<String, Object>> devices) {
    boolean failed() {
      return checks.stream().anyMatch(c -> c.status() == Status.FAIL);
    }

    Map<Status, Integer> counts() {
      Map<Status, Integer> m = new EnumMap<>(Status.class);
      for (Status st : Status.values()) {
        m.put(st, 0);
      }
      for (DoctorCheck c : checks) {
        m.merge(c.status(), 1, Integer::sum);
      }
      return m;
    }

    String summary() {
      Map<Status, Integer> n = counts();
      List<String> parts = new ArrayList<>();
      for (Status st : Status.values()) {
        parts.add(n.get(st) + " " + st.label());
      }
      return String.join(", ", parts) + ": " + (failed() ? "FAILED (exit 1)" : "passed (exit 0)");
    }

    void print(PrintWriter out) {
      out.println(selfTested ? "gpucore doctor: self-test seed " + seed + " (--seed " + seed
          + " repeats its data)" : "gpucore doctor: self-test skipped");
      if (!gpuVisible) {
        out.println("No GPU visible: " + noGpuReason);
      }
      out.println();
      int w = "check".length();
      for (DoctorCheck c : checks) {
        w = Math.max(w, c.name().length());
      }
      String fmt = "%-" + w + "s  %-6s  %s%n";
      out.printf(Locale.ROOT, fmt, "check", "status", "detail");
      for (DoctorCheck c : checks) {
        out.printf(Locale.ROOT, fmt, c.name(), c.status().label(), c.detail());
      }
      for (String n : discovery.notes()) {
        out.println("note: " + n);
      }
      out.println(summary());
    }

    Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("schema", SCHEMA);
      m.put("seed", selfTested ? seed : null);
      m.put("gpu_visible", gpuVisible);
      m.put("no_gpu_reason", noGpuReason);
      m.put("driver_version", discovery.driverVersion());
      m.put("cuda_driver_version", Discovery.cudaVersionString(discovery.cudaDriverVersion()));
      m.put("cuda_runtime_version", Discovery.cudaVersionString(discovery.cudaRuntimeVersion()));
      m.put("notes", discovery.notes());
      List<Object> cs = new ArrayList<>();
      for (DoctorCheck c : checks) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("name", c.name());
        o.put("status", c.status().label());
        o.put("detail", c.detail());
        cs.add(o);
      }
      m.put("checks", cs);
      m.put("devices", devices);
      Map<String, Object> sum = new LinkedHashMap<>();
      counts().forEach((k, v) -> sum.put(k.label(), v));
      m.put("summary", sum);
      m.put("passed", !failed());
      return m;
    }
  }

  Report examine(long s) {
    Visibility vis = Visibility.fromEnvironment();
    List<DoctorCheck> checks = new ArrayList<>();
    List<Map<String, Object>> devices = new ArrayList<>();
    GpuCore core;
    String required = null; // set when the configuration demanded a GPU and none opened
    try {
      core = opener.get();
    } catch (GpuCoreException.DeviceUnavailable e) {
      required = e.getMessage();
      core = GpuCore.open(Config.fromEnvironment().withBackend(Config.Backend.CPU));
    }
    try (GpuCore c = core) {
      boolean gpu = c.hasGpu();
      String reason = required != null ? required : c.noGpuReason();
      Status noGpu = requireGpu || required != null ? Status.FAIL : Status.WARN;
      Discovery d = c.discovery();
      checks.add(gpus(d, gpu, reason, noGpu));
      checks.add(versions(d, gpu, reason));
      checks.add(visibility(vis, d, gpu, noGpu));
      checks.add(container(vis, gpu));
      checks.add(javaArrays(c.blas().javaArrayPath()));
      SelfTest st = new SelfTest(s, tamper);
      if (gpu) {
        checks.add(d.nvmlAvailable() ? DoctorCheck.ok("nvml", "answered")
            : DoctorCheck.warn("nvml", "not available: no driver version and no health counters"
                + (vis.inContainer() ? " (in a container: add 'utility' to "
                    + "NVIDIA_DRIVER_CAPABILITIES)" : "")));
        for (DeviceInfo g : d.devices()) {
          int i = g.index();
          String pre = "gpu" + i + ".";
          DeviceHealth h;
          try {
            h = c.health(i);
          } catch (RuntimeException e) {
            h = DeviceHealth.unknown("health query failed: " + SelfTest.threw(e));
          }
          checks.addAll(health(pre, h));
          String before = c.faulted(i);
          if (!skipSelftest && before == null) {
            checks.addAll(gpuSelfTest(st, c, i));
          }
          String f = c.faulted(i);
          checks.add(f == null ? DoctorCheck.ok(pre + "faulted", "no sticky CUDA error in this "
                  + "process" + (skipSelftest ? "" : ", also after the self-test"))
              : DoctorCheck.fail(pre + "faulted", f + (before == null ? " (during the self-test)"
                  : "") + "; the device is unusable until the process ends"));
          devices.add(deviceJson(g, f, h));
        }
      }
      if (!skipSelftest) {
        try (GpuCore cpu = GpuCore.open(c.config().withBackend(Config.Backend.CPU))) {
          checks.addAll(st.cpu(cpu));
        }
      }
      return new Report(s, !skipSelftest, gpu, reason, d, checks, devices);
    }
  }

  private List<DoctorCheck> gpuSelfTest(SelfTest st, GpuCore core, int device) {
    try (GpuCore routed = routedOpener.apply(device)) {
      List<DoctorCheck> out = new ArrayList<>(st.gpu(core, routed, device));
      // the routed core is a second backend on the same GPU: a fault it met is reported here
      String f = routed.hasGpu() ? routed.faulted(device) : null;
      if (f != null) {
        out.add(DoctorCheck.fail("gpu" + device + ".faulted-routed", f
            + " (in the self-test's routed core); the device is unusable until the process ends"));
      }
      return out;
    } catch (RuntimeException e) {
      return List.of(DoctorCheck.fail("gpu" + device + ".selftest",
          "could not run: " + SelfTest.threw(e)));
    }
  }

  /** A core whose router sends host GEMMs to GPU {@code device}, with no CPU fallback. */
  static GpuCore openRouted(int device) {
    Map<Object, Object> props = new HashMap<>(System.getProperties());
    props.put("gpucore.gemm.route", "gpu");
    props.put("gpucore.gpu.list", Integer.toString(device));
    props.put("gpucore.gemm.fallback", "false");
    return GpuCore.open(Config.from(props, System.getenv()));
  }

  // ------------------------------------------------------------------ environment checks

  static DoctorCheck gpus(Discovery d, boolean gpu, String reason, Status noGpu) {
    if (!gpu) {
      return new DoctorCheck("gpus", noGpu, "none visible"
          + (noGpu == Status.WARN ? "; only the CPU is checked (--require-gpu makes this fail)"
              : ""));
    }
    List<String> names = new ArrayList<>();
    for (DeviceInfo g : d.devices()) {
      names.add(g.index() + ": " + g.name() + " (cc " + g.computeCapability() + ", "
          + (g.memoryTotal() >> 20) + " MiB, " + g.pciBusId() + ", " + g.uuid() + ")");
    }
    return DoctorCheck.ok("gpus", d.devices().size() + " visible: " + String.join("; ", names));
  }

  static DoctorCheck versions(Discovery d, boolean gpu, String reason) {
    String name = "cuda.versions";
    if (!gpu) {
      // CudaDiscovery words the driver/runtime mismatches (errors 35 and 804) in the reason:
      // a driver is there but cannot run this runtime, a failure with or without --require-gpu
      if (reason.contains("cudaErrorInsufficientDriver")
          || reason.contains("cudaErrorCompatNotSupportedOnDevice")) {
        return new DoctorCheck(name, Status.FAIL, reason);
      }
      return DoctorCheck.skip(name,
          "not read: no CUDA backend came up (see the No GPU visible line)");
    }
    int dv = d.cudaDriverVersion();
    int rv = d.cudaRuntimeVersion();
    String line = (d.driverVersion().isEmpty() ? "driver version unknown (no NVML)"
        : "driver " + d.driverVersion()) + " supports CUDA " + ver(dv) + ", CUDA runtime "
        + ver(rv) + " loaded";
    if (dv <= 0 || rv <= 0) {
      return DoctorCheck.warn(name, line + ": compatibility not known");
    }
    if (dv >= rv) {
      return DoctorCheck.ok(name, line + ": the driver is new enough");
    }
    if (dv / 1000 == rv / 1000) {
      return DoctorCheck.warn(name, line + ": runs through CUDA minor-version compatibility "
          + "(features and PTX of the newer minor version need a newer driver)");
    }
    return DoctorCheck.fail(name, line + ": the driver is older than this runtime needs "
        + "(cudaErrorInsufficientDriver): install a driver for CUDA " + ver(rv) + " or newer");
  }

  private static String ver(int v) {
    return v <= 0 ? "?" : Discovery.cudaVersionString(v);
  }

  static DoctorCheck visibility(Visibility vis, Discovery d, boolean gpu, Status noGpu) {
    String desc = vis.describe();
    String cvd = vis.cudaVisibleDevices();
    if (!gpu && (vis.nvidiaMode() == Visibility.Mode.NONE || (cvd != null && cvd.isBlank()))) {
      return new DoctorCheck("visibility", noGpu, vis.explainNoDevice(null) + " (" + desc + ")");
    }
    if (!gpu) {
      return DoctorCheck.ok("visibility", desc);
    }
    List<String> map = new ArrayList<>();
    for (DeviceInfo g : d.devices()) {
      map.add("GPU " + g.index() + " = CUDA ordinal " + g.cudaOrdinal() + " = NVML index "
          + (g.nvmlIndex() < 0 ? "?" : Integer.toString(g.nvmlIndex())));
    }
    return DoctorCheck.ok("visibility", desc + "; " + String.join(", ", map));
  }

  static DoctorCheck container(Visibility vis, boolean gpu) {
    if (!vis.inContainer()) {
      return DoctorCheck.ok("container", "not in a container");
    }
    String caps = System.getenv("NVIDIA_DRIVER_CAPABILITIES");
    String hint = !gpu && vis.nvidiaMode() == Visibility.Mode.ALL
        && System.getenv("NVIDIA_VISIBLE_DEVICES") == null && System.getenv("NV_GPU") == null
        ? "; NVIDIA_VISIBLE_DEVICES is unset: was the container started with the NVIDIA "
            + "runtime (e.g. --gpus all)?" : "";
    return DoctorCheck.ok("container", "in a container (NVIDIA_DRIVER_CAPABILITIES="
        + (caps == null ? "(unset)" : caps) + ")" + hint);
  }

  /**
   * How CPU GEMMs reach Java arrays: in place, or copied by setting (ok), or copied although
   * configured in place (warn: slower, and only the speed would show it).
   */
  static DoctorCheck javaArrays(dev.gpucore.blas.JavaArrayPath p) {
    if (p == null) {
      return DoctorCheck.skip("cpu.java-arrays", "the CPU backend does not say");
    }
    return p.degraded() ? DoctorCheck.warn("cpu.java-arrays", p.detail())
        : DoctorCheck.ok("cpu.java-arrays", p.detail());
  }

  // ------------------------------------------------------------------ health

  /** The health checks of one GPU: what each counter means for trusting its results. */
  static List<DoctorCheck> health(String pre, DeviceHealth h) {
    List<DoctorCheck> out = new ArrayList<>();
    var ecc = h.ecc();
    if (!ecc.available()) {
      out.add(DoctorCheck.skip(pre + "ecc", ecc.unavailable()));
    } else if (!ecc.value().enabled()) {
      out.add(DoctorCheck.ok(pre + "ecc", "ECC is disabled"));
    } else {
      DeviceHealth.Ecc e = ecc.value();
      String counts = "volatile corrected " + count(e.volatileCorrected()) + ", uncorrected "
          + count(e.volatileUncorrected()) + "; aggregate corrected "
          + count(e.aggregateCorrected()) + ", uncorrected " + count(e.aggregateUncorrected());
      out.add(e.volatileUncorrected() > 0
          ? DoctorCheck.warn(pre + "ecc", counts + ": uncorrectable errors since the driver "
              + "loaded (a pending page retirement or row remapping needs a GPU reset)")
          : DoctorCheck.ok(pre + "ecc", "enabled; " + counts));
    }
    var pages = h.retiredPages();
    if (!pages.available()) {
      out.add(DoctorCheck.skip(pre + "retired-pages", pages.unavailable()
          + ("not supported".equals(pages.unavailable())
              ? " (GPUs since the A100 remap rows instead)" : "")));
    } else {
      DeviceHealth.RetiredPages p = pages.value();
      String counts = "multiple single-bit " + p.multipleSingleBit() + ", double-bit "
          + p.doubleBit();
      out.add(p.pending()
          ? DoctorCheck.fail(pre + "retired-pages", counts + "; a retirement is pending: reset "
              + "the GPU (nvidia-smi -r, or reboot) before trusting its results")
          : DoctorCheck.ok(pre + "retired-pages", counts + ", none pending"));
    }
    var rows = h.remappedRows();
    if (!rows.available()) {
      out.add(DoctorCheck.skip(pre + "remapped-rows", rows.unavailable()));
    } else {
      DeviceHealth.RemappedRows r = rows.value();
      String counts = "correctable " + r.correctable() + ", uncorrectable " + r.uncorrectable();
      if (r.failed()) {
        out.add(DoctorCheck.fail(pre + "remapped-rows", counts + "; a remapping FAILED (no "
            + "spare rows left): the GPU needs service"));
      } else if (r.pending()) {
        out.add(DoctorCheck.fail(pre + "remapped-rows", counts + "; a remapping is pending: "
            + "reset the GPU (nvidia-smi -r, or reboot) before trusting its results"));
      } else {
        out.add(DoctorCheck.ok(pre + "remapped-rows", counts + ", none pending"));
      }
    }
    var clocks = h.clockEvents();
    if (!clocks.available()) {
      out.add(DoctorCheck.skip(pre + "clocks", clocks.unavailable()));
    } else {
      List<String> names = clocks.value().names();
      String list = names.isEmpty() ? "none" : String.join(", ", names);
      out.add(clocks.value().slowdown()
          ? DoctorCheck.warn(pre + "clocks", "held down by " + list + ": heat or power slows "
              + "the GPU (results stay right, timings do not)")
          : DoctorCheck.ok(pre + "clocks", "clock-event reasons: " + list));
    }
    return out;
  }

  private static String count(long v) {
    return v < 0 ? "n/a" : Long.toString(v);
  }

  static Map<String, Object> deviceJson(DeviceInfo g, String faulted, DeviceHealth h) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("index", g.index());
    m.put("name", g.name());
    m.put("uuid", g.uuid());
    m.put("pci_bus_id", g.pciBusId());
    m.put("cuda_ordinal", g.cudaOrdinal());
    m.put("nvml_index", g.nvmlIndex());
    m.put("faulted", faulted);
    Map<String, Object> hm = new LinkedHashMap<>();
    hm.put("ecc", reading(h.ecc(), e -> {
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("enabled", e.enabled());
      o.put("volatile_corrected", e.volatileCorrected());
      o.put("volatile_uncorrected", e.volatileUncorrected());
      o.put("aggregate_corrected", e.aggregateCorrected());
      o.put("aggregate_uncorrected", e.aggregateUncorrected());
      return o;
    }));
    hm.put("retired_pages", reading(h.retiredPages(), p -> {
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("multiple_single_bit", p.multipleSingleBit());
      o.put("double_bit", p.doubleBit());
      o.put("pending", p.pending());
      return o;
    }));
    hm.put("remapped_rows", reading(h.remappedRows(), r -> {
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("correctable", r.correctable());
      o.put("uncorrectable", r.uncorrectable());
      o.put("pending", r.pending());
      o.put("failed", r.failed());
      return o;
    }));
    hm.put("clock_events", reading(h.clockEvents(), c -> {
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("mask", c.mask());
      o.put("reasons", c.names());
      return o;
    }));
    m.put("health", hm);
    return m;
  }

  private static <T> Map<String, Object> reading(DeviceHealth.Reading<T> r,
      Function<T, Map<String, Object>> f) {
    if (r.available()) {
      return f.apply(r.value());
    }
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("unavailable", r.unavailable());
    return o;
  }
}
