package dev.gpucore.cli;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.cli.DoctorCheck.Status;
import dev.gpucore.device.DeviceHealth;
import dev.gpucore.device.DeviceInfo;
import dev.gpucore.device.Discovery;
import dev.gpucore.device.Visibility;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
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
 * ({@link SelfTest}), and the warnings about the configuration. Each finding is a check with status
 * ok, warn, fail or skip; exit 1 when any failed.
 */
@Command(name = "doctor", mixinStandardHelpOptions = true,
    description = {"Check drivers, visibility, GPU health and numerics (a self-test against a "
        + "float64 reference on every GPU and the CPU).",
        "Exit 0 when every check passed (warnings allowed), 1 when one failed. Without a GPU it "
            + "says why, tests the CPU and exits 0 (1 with --require-gpu)."})
final class DoctorCommand implements Callable<Integer>, Validated {
  static final String SCHEMA = "gpucore-doctor/1";

  @Spec CommandSpec spec;

  @Option(names = "--json", description = "Print JSON (schema " + SCHEMA + ").")
  boolean json;

  @Option(names = "--require-gpu", description = "Fail when no GPU is visible.")
  boolean requireGpu;

  @Option(names = "--skip-selftest", description = "Skip the numeric self-test.")
  boolean skipSelftest;

  @Option(names = "--settings", description = "List every setting's value and where it came "
      + "from (default, file and line, environment, system property), then exit: 1 when one is "
      + "invalid.")
  boolean settings;

  /** The settings {@code --settings} lists (tests hand in their own). */
  Supplier<dev.gpucore.Settings> settingsSource = dev.gpucore.Settings::fromEnvironment;

  @Option(names = "--seed", paramLabel = "SEED",
      description = "Seed of the self-test's random data (default: from the clock; printed).")
  Long seed;

  /** The environment whose visibility variables are checked (tests hand in their own). */
  Map<String, String> env = System.getenv();

  /** Opens the core under examination (tests hand in cores with stand-in GPUs). */
  Supplier<GpuCore> opener = GpuCore::open;

  /** Changes self-test results before they are checked (tests only). */
  SelfTest.Tamper tamper = SelfTest.Tamper.NONE;

  /** Opens the core whose router sends host GEMMs to GPU {@code i} (tests may replace it). */
  Function<Integer, GpuCore> routedOpener = DoctorCommand::openRouted;

  /**
   * {@code --settings} lists the settings and exits: the options of the examination
   * ({@code --seed}, {@code --skip-selftest}, {@code --require-gpu}) mean nothing with it; the
   * seed is the self-test's, so {@code --seed} with {@code --skip-selftest} means nothing either.
   * Any long is a seed.
   */
  @Override
  public void validate() {
    if (settings) {
      if (seed != null) {
        throw new ArgumentException("--seed", "cannot be used with --settings (which lists the "
            + "settings and runs no self-test)");
      }
      if (skipSelftest) {
        throw new ArgumentException("--skip-selftest", "cannot be used with --settings (which "
            + "lists the settings and runs no self-test)");
      }
      if (requireGpu) {
        throw new ArgumentException("--require-gpu", "cannot be used with --settings (which "
            + "lists the settings and checks no GPU)");
      }
    }
    if (skipSelftest && seed != null) {
      throw new ArgumentException("--seed", "cannot be used with --skip-selftest (the seed is "
          + "the self-test's)");
    }
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (settings) {
      return SettingsReport.print(settingsSource, out, json);
    }
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
    Visibility vis = Visibility.of(env, Visibility.detectContainer(env));
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
      checks.add(visibility(vis, visibilityProblems(env), d, gpu, noGpu));
      checks.add(container(vis, env, gpu));
      checks.add(settings(c.config().settings()));
      checks.add(javaArrays(c.blas().javaArrayPath()));
      checks.add(cpuBlas(c.blas().cpuLibrary()));
      checks.add(router(c.blas().routing()));
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
    props.put(dev.gpucore.Setting.GEMM_ROUTE.key(), "gpu");
    props.put(dev.gpucore.Setting.GPU_LIST.key(), Integer.toString(device));
    props.put(dev.gpucore.Setting.GEMM_FALLBACK.key(), "false");
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

  /**
   * The visibility variables as CUDA and the container toolkit apply them: ok; warn when a value
   * is malformed (see {@link #visibilityProblems}); {@code noGpu} when no GPU came up and a
   * variable hides every GPU on purpose ({@code none}, {@code void}, empty).
   */
  static DoctorCheck visibility(Visibility vis, List<String> problems, Discovery d, boolean gpu,
      Status noGpu) {
    String desc = vis.describe();
    String cvd = vis.cudaVisibleDevices();
    if (!gpu && (vis.nvidiaMode() == Visibility.Mode.NONE || (cvd != null && cvd.isBlank()))) {
      return new DoctorCheck("visibility", noGpu, vis.explainNoDevice(null) + " (" + desc + ")");
    }
    if (!problems.isEmpty()) { // a warning: the gpus check fails where a GPU was required
      return DoctorCheck.warn("visibility", String.join("; ", problems) + " (" + desc + ")");
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

  /**
   * Values of the visibility variables that do not say what their user meant, one line each:
   * a {@code CUDA_VISIBLE_DEVICES} entry that is not an index or a GPU/MIG UUID (prefix), or
   * repeats one (CUDA hides it and every entry after it); a {@code CUDA_DEVICE_ORDER} other
   * than {@code FASTEST_FIRST} or {@code PCI_BUS_ID}; an {@code NVIDIA_VISIBLE_DEVICES} (or
   * {@code NV_GPU}) entry that is none of an index, {@code GPU:MIG} indices or a UUID (it
   * matches no GPU).
   */
  static List<String> visibilityProblems(Map<String, String> env) {
    List<String> out = new ArrayList<>();
    String cvd = env.get("CUDA_VISIBLE_DEVICES");
    if (cvd != null && !cvd.isBlank()) {
      String[] entries = cvd.split(",", -1);
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < entries.length; i++) {
        String e = entries[i].trim();
        String why = null;
        if (e.isEmpty()) {
          why = i == entries.length - 1 ? null : "is empty";
        } else if (!digits(e) && !uuid(e)) {
          why = "is neither a GPU index nor a GPU or MIG UUID";
        } else if (!seen.add(digits(e) ? e.replaceFirst("^0+(?=.)", "")
            : e.toUpperCase(Locale.ROOT))) {
          why = "repeats an earlier entry";
        }
        if (why != null) {
          out.add("CUDA_VISIBLE_DEVICES=\"" + cvd + "\": entry " + (i + 1) + " (\"" + e + "\") "
              + why + ", and CUDA hides it and every entry after it"
              + (i == 0 ? ": no GPU is visible to CUDA" : ""));
          break;
        }
      }
    }
    String order = env.get("CUDA_DEVICE_ORDER");
    if (order != null && !order.isBlank() && !order.trim().equals("FASTEST_FIRST")
        && !order.trim().equals("PCI_BUS_ID")) {
      out.add("CUDA_DEVICE_ORDER=\"" + order + "\" is neither FASTEST_FIRST nor PCI_BUS_ID, the "
          + "values CUDA documents: the GPU numbering may not be the one intended (CUDA's "
          + "default is FASTEST_FIRST)");
    }
    String var = env.get("NVIDIA_VISIBLE_DEVICES") != null ? "NVIDIA_VISIBLE_DEVICES"
        : env.get("NV_GPU") != null ? "NV_GPU" : null;
    if (var != null) {
      String raw = env.get(var);
      String mode = raw.trim().toLowerCase(Locale.ROOT);
      if (!mode.isEmpty() && !mode.equals("all") && !mode.equals("none")
          && !mode.equals("void")) {
        List<String> bad = new ArrayList<>();
        for (String e : raw.split(",")) {
          String t = e.trim();
          if (!t.isEmpty() && !digits(t) && !t.matches("[0-9]+:[0-9]+") && !uuid(t)) {
            bad.add("\"" + t + "\"");
          }
        }
        if (!bad.isEmpty()) {
          out.add(var + "=\"" + raw + "\": " + (bad.size() == 1 ? "entry " : "entries ")
              + String.join(", ", bad) + (bad.size() == 1 ? " is" : " are") + " neither a GPU "
              + "index nor a UUID (nor all, none or void), and match" + (bad.size() == 1 ? "es" : "")
              + " no GPU");
        }
      }
    }
    return out;
  }

  private static boolean digits(String s) {
    return !s.isEmpty() && s.chars().allMatch(c -> c >= '0' && c <= '9');
  }

  private static boolean uuid(String s) {
    return s.length() > 4 && (s.regionMatches(true, 0, "GPU-", 0, 4)
        || s.regionMatches(true, 0, "MIG-", 0, 4));
  }

  static DoctorCheck container(Visibility vis, Map<String, String> env, boolean gpu) {
    if (!vis.inContainer()) {
      return DoctorCheck.ok("container", "not in a container");
    }
    String caps = env.get("NVIDIA_DRIVER_CAPABILITIES");
    String hint = !gpu && vis.nvidiaMode() == Visibility.Mode.ALL
        && env.get("NVIDIA_VISIBLE_DEVICES") == null && env.get("NV_GPU") == null
        ? "; NVIDIA_VISIBLE_DEVICES is unset: was the container started with the NVIDIA "
            + "runtime (e.g. --gpus all)?" : "";
    return DoctorCheck.ok("container", "in a container (NVIDIA_DRIVER_CAPABILITIES="
        + (caps == null ? "(unset)" : caps) + ")" + hint);
  }

  /**
   * The configuration of the core under examination: warn when its settings reported warnings
   * (an unknown key or a malformed line in the configuration file, more CPU threads than
   * processors, a setting naming hardware that is not there), ok otherwise. The values are valid:
   * the core would not have opened otherwise.
   */
  static DoctorCheck settings(dev.gpucore.Settings s) {
    s.check(); // records the warnings found only when every value is read
    List<String> w = s.warnings();
    String file = "configuration file " + (s.fileName() == null ? "none" : s.fileName());
    if (w.isEmpty()) {
      return DoctorCheck.ok("settings", "no warnings (" + file + ")");
    }
    return DoctorCheck.warn("settings", w.size() + (w.size() == 1 ? " warning: " : " warnings: ")
        + String.join("; ", w) + " (" + file + "; doctor --settings lists every value and "
        + "where it came from)");
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

  /** The CPU's BLAS as it runs here (build, the kernels it picked, threads): skip when unsaid. */
  static DoctorCheck cpuBlas(String library) {
    return library == null || library.isBlank()
        ? DoctorCheck.skip("cpu.blas", "the CPU backend does not say")
        : DoctorCheck.ok("cpu.blas", library);
  }

  /**
   * Where the router's figures come from: skip without a GPU; ok with the calibration's state
   * and each figure's source (setting, calibration file and date, built-in model).
   */
  static DoctorCheck router(dev.gpucore.blas.Routing r) {
    if (r.figures().isEmpty()) {
      return DoctorCheck.skip("router.figures", r.calibration());
    }
    return DoctorCheck.ok("router.figures", "calibration " + r.calibration() + "; "
        + String.join("; ", r.lines())
        + (r.learntCalls() > 0 ? "; corrected by " + r.learntCalls() + " timed calls" : ""));
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
