package dev.gpucore.cli;

import dev.gpucore.device.DeviceInfo;
import dev.gpucore.device.Discovery;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * The fields {@code gpucore devices --query} knows, named after {@code nvidia-smi --query-gpu}
 * where nvidia-smi has them. Values are raw numbers (bytes, watts, percent) or strings; units are
 * applied when printing.
 */
final class DeviceFields {
  /** A field: its unit for CSV headers (empty for none) and how to read it. */
  record Field(String name, String unit, String help, BiFunction<Discovery, DeviceInfo, Object> read) {}

  static final Map<String, Field> ALL = new LinkedHashMap<>();

  private static void add(String name, String unit, String help,
      BiFunction<Discovery, DeviceInfo, Object> read) {
    ALL.put(name, new Field(name, unit, help, read));
  }

  static {
    add("index", "", "gpucore's device index", (d, g) -> g.index());
    add("cuda_index", "", "CUDA runtime ordinal", (d, g) -> g.cudaOrdinal());
    add("nvml_index", "", "NVML index (PCI order), -1 without NVML", (d, g) -> g.nvmlIndex());
    add("uuid", "", "GPU UUID", (d, g) -> g.uuid());
    add("name", "", "product name", (d, g) -> g.name());
    add("pci.bus_id", "", "PCI bus id", (d, g) -> g.pciBusId());
    add("compute_cap", "", "compute capability", (d, g) -> g.computeCapability());
    add("multiprocessors", "", "streaming multiprocessors", (d, g) -> g.multiprocessors());
    add("memory.total", "MiB", "device memory", (d, g) -> mib(g.memoryTotal()));
    add("memory.used", "MiB", "memory in use", (d, g) -> mib(g.memoryUsed()));
    add("memory.free", "MiB", "free memory", (d, g) -> mib(g.memoryFree()));
    add("utilization.gpu", "%", "GPU utilisation", (d, g) -> g.utilizationGpu());
    add("utilization.memory", "%", "memory controller utilisation",
        (d, g) -> g.utilizationMemory());
    add("temperature.gpu", "", "temperature, degrees C", (d, g) -> g.temperatureC());
    add("power.draw", "W", "power draw", (d, g) -> g.powerDrawW());
    add("power.limit", "W", "enforced power limit", (d, g) -> g.powerLimitW());
    add("processes", "", "processes using the GPU (pid:name:MiB)", (d, g) -> processes(g));
    add("driver_version", "", "NVIDIA driver version", (d, g) -> d.driverVersion());
    add("cuda_driver_version", "", "CUDA version the driver supports",
        (d, g) -> Discovery.cudaVersionString(d.cudaDriverVersion()));
    add("cuda_runtime_version", "", "CUDA runtime version",
        (d, g) -> Discovery.cudaVersionString(d.cudaRuntimeVersion()));
  }

  private DeviceFields() {}

  private static long mib(long bytes) {
    return bytes < 0 ? DeviceInfo.UNKNOWN : bytes / (1024 * 1024);
  }

  private static String processes(DeviceInfo g) {
    StringBuilder sb = new StringBuilder();
    for (DeviceInfo.GpuProcess p : g.processes()) {
      if (sb.length() > 0) {
        sb.append(' ');
      }
      sb.append(p.pid()).append(':').append(p.name().isEmpty() ? "?" : p.name()).append(':')
          .append(mib(p.usedMemory()));
    }
    return sb.toString();
  }

  /** The value as text, "[N/A]" for unknown numbers, with the unit unless {@code noUnits}. */
  static String text(Field f, Object v, boolean noUnits) {
    if (v instanceof Double d) {
      if (d.isNaN()) {
        return "[N/A]";
      }
      return String.format(Locale.ROOT, "%.2f", d) + (noUnits || f.unit().isEmpty() ? "" : " " + f.unit());
    }
    if (v instanceof Number n && n.longValue() == DeviceInfo.UNKNOWN
        && !f.name().endsWith("index")) {
      return "[N/A]";
    }
    String s = String.valueOf(v);
    if (s.isEmpty()) {
      return "[N/A]";
    }
    return s + (noUnits || f.unit().isEmpty() || !(v instanceof Number) ? "" : " " + f.unit());
  }

  /** Parses a comma-separated field list; throws naming the first unknown field. */
  static List<Field> parse(String spec) {
    java.util.ArrayList<Field> out = new java.util.ArrayList<>();
    for (String raw : spec.split(",")) {
      String n = raw.trim();
      if (n.isEmpty()) {
        continue;
      }
      Field f = ALL.get(n);
      if (f == null) {
        throw new ArgumentException("--query", "has an unknown field '" + n
            + "'; known fields: " + String.join(", ", ALL.keySet()));
      }
      out.add(f);
    }
    if (out.isEmpty()) {
      throw new ArgumentException("--query", "needs at least one field");
    }
    return out;
  }
}
