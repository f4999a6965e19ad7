package dev.gpucore.bench.suites;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The terminal table: per suite a title and notes, then one line per gpucore row (size, case,
 * who, median/min/max time, throughput, check) with its peers' lines indented below it (their
 * times, throughput and ratio = peer time / gpucore time), then the footer. Rows skipped for
 * the same reason as stated in the notes (no GPU) and with no peer figure are listed on one line.
 */
public final class Table {
  private static final String FMT = "%-9s %-40s %-13s %10s %10s %10s %9s %6s  %s%n";

  private Table() {}

  /** Prints the machine and the peers, once before the suites. */
  public static void header(PrintWriter out, java.util.Map<String, Object> machine,
      java.util.Map<String, Object> commit, String date, List<Peers.Status> peers,
      String telemetrySource) {
    out.printf(Locale.ROOT, "gpucore bench  %s  commit %s%s%n", date, commit.get("id"),
        Boolean.TRUE.equals(commit.get("dirty")) ? " (with uncommitted changes)" : "");
    out.printf(Locale.ROOT, "cpu : %s, %s logical CPUs, gpucore CPU threads %s%n",
        machine.get("cpu_model"), machine.get("cpu_logical"), machine.get("gpucore_cpu_threads"));
    if (machine.get("gpucore_cpu_blas") != null) {
      out.printf(Locale.ROOT, "      gpucore's CPU BLAS: %s%n", machine.get("gpucore_cpu_blas"));
    }
    if (Boolean.TRUE.equals(machine.get("gpu_visible"))) {
      for (Object g : (List<?>) machine.get("gpus")) {
        java.util.Map<?, ?> m = (java.util.Map<?, ?>) g;
        out.printf(Locale.ROOT, "gpu : %s: %s (%s, cc %s, %d MiB)%n", m.get("index"), m.get("name"),
            m.get("pci_bus_id"), m.get("compute_capability"),
            ((Number) m.get("memory_total_bytes")).longValue() >> 20);
      }
      out.printf(Locale.ROOT, "      driver %s, CUDA %s (driver) / %s (runtime); telemetry: %s%n",
          machine.get("driver_version"), machine.get("cuda_driver_version"),
          machine.get("cuda_runtime_version"), telemetrySource);
    } else {
      out.println("gpu : No GPU visible: " + machine.get("no_gpu_reason"));
    }
    if (peers.isEmpty()) {
      out.println("peers: none (--peers none, or none that the suites named use; blas runs its own)");
    }
    for (Peers.Status p : peers) {
      out.printf(Locale.ROOT, "peer %-9s %s%n", p.name() + ":",
          (p.available() ? "" : "MISSING - ") + p.detail());
    }
  }

  /** Prints one suite. */
  public static void suite(PrintWriter out, SuiteResult r, Peers peers) {
    out.println();
    out.println("== " + r.title());
    for (String n : r.notes()) {
      out.println("   " + n);
    }
    if (peers != null) {
      List<String> used = new ArrayList<>();
      List<String> missing = new ArrayList<>();
      for (String p : Peers.usedBy(r.name())) {
        Peers.Status s = peers.status(p);
        if (s != null) {
          (s.available() ? used : missing).add(p);
        }
      }
      out.println("   peers: " + (used.isEmpty() ? "none" : String.join(", ", used))
          + (missing.isEmpty() ? "" : "; missing: " + String.join(", ", missing) + " (reasons above)")
          + "; ratio = peer time / gpucore time (above 1: gpucore is faster)");
    }
    String unit = r.rows().isEmpty() ? "" : r.rows().get(0).unit();
    out.printf(Locale.ROOT, FMT, "size", "case", "who", "median", "min", "max", unit, "ratio",
        "check / timing");
    String commonSkip = null;
    for (String n : r.notes()) {
      if (n.startsWith("GPU rows skipped: ")) {
        commonSkip = n.substring("GPU rows skipped: ".length());
      }
    }
    Set<String> compactNames = new LinkedHashSet<>();
    Set<String> compactSizes = new LinkedHashSet<>();
    String lastSize = "";
    for (Row row : r.rows()) {
      boolean anyPeer = row.peers().stream().anyMatch(p -> p.stats() != null);
      if (row.skipped() != null && row.skipped().equals(commonSkip) && !anyPeer) {
        compactNames.add(row.name());
        compactSizes.add(row.sizeLabel());
        continue;
      }
      String size = row.sizeLabel().equals(lastSize) ? "" : row.sizeLabel();
      lastSize = row.sizeLabel();
      if (row.stats() == null) {
        out.printf(Locale.ROOT, "%-9s %-40s %-13s %s%n", size, clip(row.name(), 40), row.who(),
            "skipped: " + row.skipped());
      } else {
        Stats s = row.stats();
        out.printf(Locale.ROOT, FMT, size, clip(row.name(), 40), row.who(), Fmt.time(s.median()),
            Fmt.time(s.min()), Fmt.time(s.max()), Fmt.sig(row.throughput()), "",
            row.check().isEmpty() ? row.timing() : row.check());
      }
      for (PeerFigure p : row.peers()) {
        String label = "  " + (p.label().isEmpty() ? p.peer() : p.label());
        if (p.stats() == null) {
          out.printf(Locale.ROOT, "%-9s %-40s %-13s %s%n", "", clip(label, 40), p.peer(),
              "skipped: " + p.skipped());
          continue;
        }
        double ratio = p.ratio(row);
        out.printf(Locale.ROOT, FMT, "", clip(label, 40), p.peer(), Fmt.time(p.stats().median()),
            Fmt.time(p.stats().min()), Fmt.time(p.stats().max()), Fmt.sig(row.throughput(p)),
            Double.isNaN(ratio) ? "-" : String.format(Locale.ROOT, "%.2f", ratio),
            p.check().isEmpty() ? p.timing() : p.check());
      }
    }
    if (!compactNames.isEmpty()) {
      out.println("skipped (" + commonSkip + "): " + String.join(", ", compactNames) + "; at "
          + String.join(", ", compactSizes));
    }
    for (String f : r.footer()) {
      out.println(f);
    }
  }

  private static String clip(String s, int n) {
    return s.length() <= n ? s : s.substring(0, n - 1) + "~";
  }
}
