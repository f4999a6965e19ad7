package dev.gpucore.cli;

import dev.gpucore.GpuCore;
import dev.gpucore.device.DeviceInfo;
import dev.gpucore.device.Discovery;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gpucore devices}: what nvidia-smi shows, as gpucore sees it. With {@code --query} and
 * no GPU visible, standard output holds only the CSV header (nothing with {@code noheader}), so
 * that a script reads zero rows; the reason goes to standard error.
 */
@Command(name = "devices", mixinStandardHelpOptions = true,
    description = {"List the GPUs gpucore can use (like nvidia-smi).",
        "With no GPU visible prints 'No GPU visible: <reason>' and exits 0 (1 with --require-gpu).",
        "With --query and no GPU visible, standard output has no rows (only the header, unless "
            + "noheader) and the 'No GPU visible' line goes to standard error; the exit status "
            + "is the same."})
final class DevicesCommand implements Callable<Integer>, Validated {
  @Spec CommandSpec spec;

  @Option(names = "--json", description = "Print JSON (not with --query or --format).")
  boolean json;

  @Option(names = "--query", paramLabel = "FIELD,...",
      description = "Print only these fields, one line per GPU (see --list-fields).")
  String query;

  @Option(names = "--format", paramLabel = "csv[,noheader][,nounits]",
      description = "Format for --query: csv (the default), with options noheader and nounits.")
  String format;

  @Option(names = "--list-fields", description = "List the fields --query accepts.")
  boolean listFields;

  @Option(names = "--require-gpu", description = "Exit with 1 when no GPU is visible.")
  boolean requireGpu;

  @Option(names = "--spark-discovery", description = "Print Spark's GPU discovery JSON, "
      + "{\"name\":\"gpu\",\"addresses\":[\"0\",...]}: the visible GPUs' ordinals in PCI bus order "
      + "(an empty list without a GPU; the reason goes to standard error). For "
      + "spark.{executor,worker,driver}.resource.gpu.discoveryScript.")
  boolean sparkDiscovery;

  private List<DeviceFields.Field> fields;
  private boolean noHeader;
  private boolean noUnits;

  /** Options that exclude each other, the --query fields and the --format options. */
  @Override
  public void validate() {
    if (sparkDiscovery && (json || query != null || format != null || listFields)) {
      throw new ArgumentException("--spark-discovery", "takes no --json, --query, --format or "
          + "--list-fields");
    }
    if (listFields && (json || query != null || format != null)) {
      throw new ArgumentException("--list-fields", "takes no --json, --query or --format");
    }
    if (json && query != null) {
      throw new ArgumentException("--json", "and --query exclude each other: --json prints "
          + "every field");
    }
    if (json && format != null) {
      throw new ArgumentException("--json", "and --format exclude each other");
    }
    if (format != null && query == null) {
      throw new ArgumentException("--format", "applies to --query only: name the fields with "
          + "--query=FIELD,...");
    }
    fields = query == null ? null : DeviceFields.parse(query);
    noHeader = false;
    noUnits = false;
    for (String f : (format == null ? "csv" : format).split(",")) {
      switch (f.trim()) {
        case "csv" -> { }
        case "noheader" -> noHeader = true;
        case "nounits" -> noUnits = true;
        default -> throw new ArgumentException("--format",
            "has an unknown option '" + f.trim() + "'; expected csv, noheader, nounits");
      }
    }
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (listFields) {
      for (DeviceFields.Field f : DeviceFields.ALL.values()) {
        out.printf(Locale.ROOT, "%-22s %s%s%n", f.name(), f.help(),
            f.unit().isEmpty() ? "" : " [" + f.unit() + "]");
      }
      out.flush();
      return 0;
    }
    Discovery d;
    String reason;
    try (GpuCore core = GpuCore.open()) {
      d = core.discovery();
      reason = core.noGpuReason();
    }
    if (sparkDiscovery) {
      out.println(sparkDiscovery(d));
      if (!d.hasGpu()) {
        PrintWriter err = spec.commandLine().getErr();
        err.println("No GPU visible: " + reason);
        err.flush();
      }
    } else if (json) {
      out.println(JsonText.write(toJson(d, reason)));
    } else if (fields != null) {
      if (!noHeader) {
        List<String> h = new ArrayList<>();
        for (DeviceFields.Field f : fields) {
          h.add(f.name() + (noUnits || f.unit().isEmpty() ? "" : " [" + f.unit() + "]"));
        }
        out.println(String.join(", ", h));
      }
      for (DeviceInfo g : d.devices()) {
        List<String> row = new ArrayList<>();
        for (DeviceFields.Field f : fields) {
          row.add(DeviceFields.text(f, f.read().apply(d, g), noUnits));
        }
        out.println(String.join(", ", row));
      }
      if (!d.hasGpu()) {
        PrintWriter err = spec.commandLine().getErr();
        err.println("No GPU visible: " + reason);
        err.flush();
      }
    } else if (!d.hasGpu()) {
      out.println("No GPU visible: " + reason);
      for (String n : d.notes()) {
        out.println("  note: " + n);
      }
    } else {
      table(out, d);
    }
    out.flush();
    return !d.hasGpu() && requireGpu ? 1 : 0;
  }

  /**
   * Spark's discovery JSON on one line: the addresses are ordinals in PCI bus order (the CUDA
   * ordinals under CUDA_DEVICE_ORDER=PCI_BUS_ID), as gpucore's Spark plugin reads them.
   */
  static String sparkDiscovery(Discovery d) {
    List<String> addresses = new ArrayList<>();
    for (int i = 0; i < d.devices().size(); i++) {
      addresses.add("\"" + i + "\"");
    }
    return "{\"name\":\"gpu\",\"addresses\":[" + String.join(",", addresses) + "]}";
  }

  static Map<String, Object> toJson(Discovery d, String reason) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("gpu_visible", d.hasGpu());
    m.put("no_gpu_reason", reason);
    m.put("driver_version", d.driverVersion());
    m.put("cuda_driver_version", Discovery.cudaVersionString(d.cudaDriverVersion()));
    m.put("cuda_runtime_version", Discovery.cudaVersionString(d.cudaRuntimeVersion()));
    m.put("nvml", d.nvmlAvailable());
    m.put("notes", d.notes());
    List<Object> devs = new ArrayList<>();
    for (DeviceInfo g : d.devices()) {
      Map<String, Object> o = new LinkedHashMap<>();
      for (DeviceFields.Field f : DeviceFields.ALL.values()) {
        if (f.name().endsWith("_version")) {
          continue;
        }
        if (f.name().equals("processes")) {
          List<Object> ps = new ArrayList<>();
          for (DeviceInfo.GpuProcess p : g.processes()) {
            Map<String, Object> po = new LinkedHashMap<>();
            po.put("pid", p.pid());
            po.put("name", p.name());
            po.put("used_memory_bytes", p.usedMemory());
            ps.add(po);
          }
          o.put("processes", ps);
          continue;
        }
        Object v = f.read().apply(d, g);
        o.put(f.name() + (f.unit().equals("MiB") ? "_mib" : ""),
            v instanceof Number n && n.longValue() == DeviceInfo.UNKNOWN
                && !f.name().endsWith("index") ? null : v);
      }
      o.put("memory.total_bytes", g.memoryTotal());
      devs.add(o);
    }
    m.put("devices", devs);
    return m;
  }

  private static void table(PrintWriter out, Discovery d) {
    String line = "+" + "-".repeat(96) + "+";
    out.println(line);
    out.printf(Locale.ROOT, "| gpucore devices   Driver Version: %-14s CUDA (driver): %-6s CUDA (runtime): %-6s |%n",
        d.driverVersion().isEmpty() ? "[N/A]" : d.driverVersion(),
        Discovery.cudaVersionString(d.cudaDriverVersion()),
        Discovery.cudaVersionString(d.cudaRuntimeVersion()));
    out.println(line);
    out.printf(Locale.ROOT, "| %-3s %-4s %-4s %-28s %-16s %-4s %-4s %-23s |%n",
        "GPU", "CUDA", "NVML", "Name", "Bus-Id", "CC", "SMs", "Memory-Usage");
    out.printf(Locale.ROOT, "| %-4s %-9s %-18s %-6s %-52s |%n",
        "Temp", "Util", "Power (draw/limit)", "", "UUID");
    out.println(line);
    for (DeviceInfo g : d.devices()) {
      String mem = g.memoryUsed() >= 0
          ? (g.memoryUsed() >> 20) + "MiB / " + (g.memoryTotal() >> 20) + "MiB"
          : "? / " + (g.memoryTotal() >> 20) + "MiB";
      out.printf(Locale.ROOT, "| %-3d %-4s %-4s %-28s %-16s %-4s %-4d %-23s |%n",
          g.index(), g.cudaOrdinal(), g.nvmlIndex() < 0 ? "-" : String.valueOf(g.nvmlIndex()),
          clip(g.name(), 28), g.pciBusId(), g.computeCapability(), g.multiprocessors(), mem);
      String temp = g.temperatureC() < 0 ? "N/A" : g.temperatureC() + "C";
      String util = g.utilizationGpu() < 0 ? "N/A" : g.utilizationGpu() + "%";
      String pw = Double.isNaN(g.powerDrawW()) ? "N/A"
          : String.format(Locale.ROOT, "%.0fW / %.0fW", g.powerDrawW(), g.powerLimitW());
      out.printf(Locale.ROOT, "| %-4s %-9s %-18s %-6s %-52s |%n", temp, util, pw, "", g.uuid());
      out.println(line);
    }
    boolean anyProc = d.devices().stream().anyMatch(g -> !g.processes().isEmpty());
    out.println("| Processes:" + " ".repeat(86) + "|");
    if (!anyProc) {
      out.printf(Locale.ROOT, "|  %-94s|%n", "No running processes found");
    }
    for (DeviceInfo g : d.devices()) {
      for (DeviceInfo.GpuProcess p : g.processes()) {
        out.printf(Locale.ROOT, "|  GPU %-3d PID %-10d %-56s %9s |%n", g.index(), p.pid(),
            clip(p.name().isEmpty() ? "?" : p.name(), 56),
            p.usedMemory() < 0 ? "N/A" : (p.usedMemory() >> 20) + "MiB");
      }
    }
    out.println(line);
    for (String n : d.notes()) {
      out.println("note: " + n);
    }
  }

  private static String clip(String s, int n) {
    return s.length() <= n ? s : s.substring(0, n - 1) + "~";
  }
}
