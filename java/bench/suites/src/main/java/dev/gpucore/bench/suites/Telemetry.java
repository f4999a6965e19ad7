package dev.gpucore.bench.suites;

import dev.gpucore.GpuCore;
import dev.gpucore.device.DeviceInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GPU state read around each GPU measurement: clocks, temperature, power, utilisation, and the
 * reasons the clocks are held down. Read fresh through NVML by {@code nvidia-smi} where it is on
 * the PATH (the only way to get clocks: gpucore's API has no clock fields, and its
 * {@link GpuCore#discovery()} is a snapshot taken at open); otherwise the API's snapshot,
 * marked as such.
 */
public final class Telemetry {
  private static final String[] FIELDS = {"temperature.gpu", "power.draw", "power.limit",
      "clocks.sm", "clocks.mem", "clocks.max.sm", "clocks.max.mem", "utilization.gpu", "pstate"};
  private static final String[] REASONS = {"clocks_event_reasons.active",
      "clocks_throttle_reasons.active", ""};

  private final GpuCore core;
  private final String smi;
  private String reasonField;
  private String smiFailure;

  /** Finds nvidia-smi; reads nothing yet. */
  public Telemetry(GpuCore core) {
    this.core = core;
    this.smi = core.hasGpu() ? find() : null;
  }

  private static String find() {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String dir : path.split(":")) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, "nvidia-smi");
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    return null;
  }

  /** Where the readings come from, in words. */
  public String source() {
    if (!core.hasGpu()) {
      return "none (no GPU visible)";
    }
    if (smi != null && smiFailure == null) {
      return "NVML via " + smi + " (read fresh around each GPU measurement)";
    }
    return "gpucore discovery snapshot taken at open (not refreshed, no clocks)"
        + (smi == null ? ": nvidia-smi not on the PATH" : ": nvidia-smi failed: " + smiFailure);
  }

  /** One reading of GPU {@code device}; empty without a GPU. */
  public Map<String, Object> sample(int device) {
    Map<String, Object> m = new LinkedHashMap<>();
    if (!core.hasGpu() || device < 0 || device >= core.devices().size()) {
      return m;
    }
    DeviceInfo g = core.devices().get(device);
    if (smi != null && smiFailure == null) {
      Map<String, Object> r = smi(g);
      if (r != null) {
        return r;
      }
    }
    m.put("source", "gpucore discovery snapshot at open");
    m.put("temperature_c", g.temperatureC() < 0 ? null : g.temperatureC());
    m.put("power_draw_w", Double.isNaN(g.powerDrawW()) ? null : g.powerDrawW());
    m.put("power_limit_w", Double.isNaN(g.powerLimitW()) ? null : g.powerLimitW());
    m.put("utilization_gpu_pct", g.utilizationGpu() < 0 ? null : g.utilizationGpu());
    m.put("memory_used_bytes", g.memoryUsed() < 0 ? null : g.memoryUsed());
    m.put("clocks", "not available through gpucore's API");
    return m;
  }

  private Map<String, Object> smi(DeviceInfo g) {
    String target = g.uuid().isEmpty() ? String.valueOf(Math.max(0, g.nvmlIndex())) : g.uuid();
    int start = reasonField == null ? 0 : List.of(REASONS).indexOf(reasonField);
    for (int i = Math.max(0, start); i < REASONS.length; i++) {
      String q = String.join(",", FIELDS) + (REASONS[i].isEmpty() ? "" : "," + REASONS[i]);
      String out = Machine.run(Path.of("").toAbsolutePath(), smi, "-i", target,
          "--query-gpu=" + q, "--format=csv,noheader,nounits");
      if (out == null || out.isBlank()) {
        continue; // an unknown field fails the whole query: try the older name, then none
      }
      reasonField = REASONS[i];
      String[] v = out.split("\n")[0].split(",\\s*");
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("source", "nvidia-smi");
      m.put("time", Machine.date());
      String[] keys = {"temperature_c", "power_draw_w", "power_limit_w", "clock_sm_mhz",
          "clock_mem_mhz", "clock_sm_max_mhz", "clock_mem_max_mhz", "utilization_gpu_pct",
          "pstate", "clock_event_reasons"};
      for (int k = 0; k < keys.length && k < v.length; k++) {
        m.put(keys[k], value(v[k]));
      }
      return m;
    }
    smiFailure = "the query gave no answer";
    return null;
  }

  private static Object value(String s) {
    s = s.trim();
    if (s.isEmpty() || s.startsWith("[")) {
      return null; // [N/A], [Not Supported]
    }
    if (s.startsWith("0x")) {
      return s;
    }
    try {
      double d = Double.parseDouble(s);
      return d == Math.rint(d) ? (Object) (long) d : (Object) d;
    } catch (NumberFormatException e) {
      return s;
    }
  }
}
