package dev.gpucore.bench.suites;

import dev.gpucore.GpuCore;
import dev.gpucore.cpu.CpuThreads;
import dev.gpucore.device.DeviceInfo;
import dev.gpucore.device.Discovery;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/** What the run ran on: CPU, memory, GPUs and versions; the commit and the date. */
public final class Machine {
  private Machine() {}

  /** The CPU model from /proc/cpuinfo, or the architecture. */
  public static String cpuModel() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (l.startsWith("model name")) {
          return l.substring(l.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      // fall through
    }
    return System.getProperty("os.arch");
  }

  /** Size of the CPU's last-level cache in bytes (32 MiB when it cannot be read). */
  public static long lastLevelCacheBytes() {
    long best = 0;
    for (int i = 0; i < 8; i++) {
      Path p = Path.of("/sys/devices/system/cpu/cpu0/cache/index" + i + "/size");
      try {
        String s = Files.readString(p).trim().toUpperCase(java.util.Locale.ROOT);
        long mult = s.endsWith("K") ? 1024 : s.endsWith("M") ? 1024 * 1024 : 1;
        long v = Long.parseLong(s.replaceAll("[^0-9]", "")) * mult;
        best = Math.max(best, v);
      } catch (IOException | RuntimeException e) {
        // no such level
      }
    }
    return best > 0 ? best : 32L << 20;
  }

  private static long memTotal() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (l.startsWith("MemTotal:")) {
          return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // unknown
    }
    return -1;
  }

  private static int logicalCpus() {
    int n = 0;
    try {
      for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (l.startsWith("processor")) {
          n++;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return n;
  }

  /** The thread count gpucore's CPU backend uses under this configuration. */
  public static int gpucoreCpuThreads(GpuCore core) {
    return CpuThreads.choose(core.config().cpuThreads(), Runtime.getRuntime().availableProcessors(),
        Path.of("/sys/fs/cgroup"));
  }

  /** The machine as a JSON-ready map. */
  public static Map<String, Object> describe(GpuCore core) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("hostname", hostname());
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    m.put("arch", System.getProperty("os.arch"));
    m.put("cpu_model", cpuModel());
    m.put("cpu_logical", logicalCpus());
    m.put("cpu_available", Runtime.getRuntime().availableProcessors());
    double quota = CpuThreads.quota(Path.of("/sys/fs/cgroup"));
    m.put("cgroup_cpu_quota", quota > 0 ? quota : null);
    m.put("gpucore_cpu_threads", gpucoreCpuThreads(core));
    m.put("gpucore_cpu_blas", core.blas().cpuLibrary());
    m.put("llc_bytes", lastLevelCacheBytes());
    m.put("memory_total_bytes", memTotal());
    m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    Discovery d = core.discovery();
    m.put("gpu_visible", core.hasGpu());
    m.put("no_gpu_reason", core.noGpuReason());
    m.put("driver_version", d.driverVersion());
    m.put("cuda_driver_version", Discovery.cudaVersionString(d.cudaDriverVersion()));
    m.put("cuda_runtime_version", Discovery.cudaVersionString(d.cudaRuntimeVersion()));
    m.put("nvml", d.nvmlAvailable());
    List<Object> gpus = new ArrayList<>();
    for (DeviceInfo g : d.devices()) {
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("index", g.index());
      o.put("cuda_ordinal", g.cudaOrdinal());
      o.put("nvml_index", g.nvmlIndex());
      o.put("name", g.name());
      o.put("uuid", g.uuid());
      o.put("pci_bus_id", g.pciBusId());
      o.put("compute_capability", g.computeCapability());
      o.put("multiprocessors", g.multiprocessors());
      o.put("memory_total_bytes", g.memoryTotal());
      o.put("power_limit_w", g.powerLimitW());
      gpus.add(o);
    }
    m.put("gpus", gpus);
    m.put("notes", d.notes());
    return m;
  }

  private static String hostname() {
    String h = System.getenv("HOSTNAME");
    if (h != null && !h.isBlank()) {
      return h;
    }
    try {
      return Files.readString(Path.of("/etc/hostname")).trim();
    } catch (IOException e) {
      return "";
    }
  }

  /** The date and time now, UTC, ISO-8601 to the second. */
  public static String date() {
    return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
  }

  /**
   * The commit of the code that runs: {@code git rev-parse HEAD} in the working directory or
   * above the jar (with {@code dirty} when the tree has changes); else the system property
   * {@code gpucore.commit} or the environment variable {@code GPUCORE_COMMIT}; else a
   * {@code commit=} line in the class-path resource {@code gpucore-build.properties}; else
   * {@code unknown}.
   */
  public static Map<String, Object> commit() {
    Map<String, Object> m = new LinkedHashMap<>();
    List<Path> dirs = new ArrayList<>();
    dirs.add(Path.of("").toAbsolutePath());
    try {
      Path jar = Path.of(Machine.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      dirs.add(jar.getParent());
    } catch (Exception e) {
      // no code source
    }
    for (Path dir : dirs) {
      String id = run(dir, "git", "rev-parse", "HEAD");
      if (id != null && id.matches("[0-9a-f]{40}")) {
        String status = run(dir, "git", "status", "--porcelain", "--untracked-files=no");
        m.put("id", id);
        m.put("source", "git (" + dir + ")");
        m.put("dirty", status != null && !status.isBlank());
        return m;
      }
    }
    String prop = System.getProperty("gpucore.commit", System.getenv("GPUCORE_COMMIT"));
    if (prop != null && !prop.isBlank()) {
      m.put("id", prop.trim());
      m.put("source", System.getProperty("gpucore.commit") != null
          ? "system property gpucore.commit" : "environment GPUCORE_COMMIT");
      return m;
    }
    try (var in = Machine.class.getClassLoader().getResourceAsStream("gpucore-build.properties")) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        String c = p.getProperty("commit", "");
        if (!c.isBlank() && !c.contains("${")) {
          m.put("id", c.trim());
          m.put("source", "build property (gpucore-build.properties)");
          return m;
        }
      }
    } catch (IOException e) {
      // fall through
    }
    m.put("id", "unknown");
    m.put("source", "no git checkout, no gpucore.commit / GPUCORE_COMMIT, no build property");
    return m;
  }

  /** Runs a short command in {@code dir}; its trimmed stdout, or null on any failure. */
  static String run(Path dir, String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).directory(dir.toFile())
          .redirectError(ProcessBuilder.Redirect.DISCARD).start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return null;
      }
      return p.exitValue() == 0 ? new String(out, StandardCharsets.UTF_8).trim() : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }
}
