package dev.gpucore.cli;

import dev.gpucore.GpuCore;
import dev.gpucore.p2p.PeerLink;
import dev.gpucore.p2p.Topology;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gpucore topo}: the GPU topology matrix, CUDA's peer access, and gpucore's copy paths. */
@Command(name = "topo", mixinStandardHelpOptions = true,
    description = {"GPU topology (like nvidia-smi topo -m): NVLinks and PCIe path per pair, "
        + "whether CUDA allows peer access and its performance rank, and how gpucore copies "
        + "between the GPUs (peer after a write-then-checksum probe, or staged).",
        "With no GPU visible prints 'No GPU visible: <reason>' and exits 0."})
final class TopoCommand implements Callable<Integer>, Validated {
  @Spec CommandSpec spec;

  @Option(names = "--json", description = "Print JSON.")
  boolean json;

  @Option(names = "--no-probe",
      description = "Do not enable and probe peer access; show only what NVML and CUDA report.")
  boolean noProbe;

  /**
   * Nothing to refuse: {@code --json} and {@code --no-probe} combine freely and take no value.
   * Topo takes part in the validation phase so that an option added later is checked there.
   */
  @Override
  public void validate() {}

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (GpuCore core = GpuCore.open()) {
      if (!core.hasGpu()) {
        NoGpu.print(out, core, json);
        return 0;
      }
      Topology t = core.peer().topology();
      int n = t.size();
      PeerLink[][] paths = null;
      if (!noProbe) {
        paths = new PeerLink[n][n];
        for (int i = 0; i < n; i++) {
          for (int j = 0; j < n; j++) {
            paths[i][j] = core.peer().link(i, j);
          }
        }
      }
      if (json) {
        out.println(JsonText.write(toJson(t, paths, core.peer().config().enabled())));
      } else {
        text(out, t, paths);
      }
    }
    out.flush();
    return 0;
  }

  static Map<String, Object> toJson(Topology t, PeerLink[][] paths, boolean p2pEnabled) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("gpu_visible", true);
    m.put("nvml", t.nvml());
    m.put("p2p_setting", p2pEnabled ? "auto" : "off");
    List<Object> gpus = new ArrayList<>();
    for (Topology.Gpu g : t.gpus()) {
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("index", g.index());
      o.put("cuda_ordinal", g.cudaOrdinal());
      o.put("nvml_index", g.nvmlIndex() < 0 ? null : g.nvmlIndex());
      o.put("name", g.name());
      o.put("pci_bus_id", g.pciBusId());
      o.put("cpu_affinity", g.cpuAffinity().isEmpty() ? null : g.cpuAffinity());
      o.put("numa_node", g.numaNode() < 0 ? null : g.numaNode());
      gpus.add(o);
    }
    m.put("gpus", gpus);
    List<Object> links = new ArrayList<>();
    for (Topology.Link l : t.links()) {
      if (l.from() == l.to()) {
        continue;
      }
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("from", l.from());
      o.put("to", l.to());
      o.put("connection", l.connection());
      o.put("nvlinks", l.nvlinks() < 0 ? null : l.nvlinks());
      o.put("nvlink_via_switch", l.viaSwitch());
      o.put("pci_path", l.pciPath().label());
      o.put("cuda_peer_access", l.peerAccess());
      o.put("performance_rank", l.performanceRank() < 0 ? null : l.performanceRank());
      o.put("native_atomics", l.nativeAtomics());
      if (paths != null) {
        PeerLink p = paths[l.from()][l.to()];
        o.put("copy_path", p.path().name().toLowerCase(java.util.Locale.ROOT));
        o.put("copy_reason", p.reason());
      }
      links.add(o);
    }
    m.put("links", links);
    m.put("notes", t.notes());
    return m;
  }

  private static void text(PrintWriter out, Topology t, PeerLink[][] paths) {
    for (Topology.Gpu g : t.gpus()) {
      out.printf(java.util.Locale.ROOT, "GPU%d: %s (bus %s, CUDA %d, NVML %s)%n", g.index(),
          g.name(), g.pciBusId(), g.cudaOrdinal(),
          g.nvmlIndex() < 0 ? "-" : String.valueOf(g.nvmlIndex()));
    }
    out.println();
    out.print(t.matrix());
    out.println();
    out.print(Topology.legend());
    out.println();
    out.println("CUDA peer access (cudaDeviceCanAccessPeer, row GPU reads/writes column GPU; "
        + "rN = cudaDevP2PAttrPerformanceRank, lower is faster; NS = not supported):");
    out.println();
    out.print(t.cudaMatrix());
    if (paths != null) {
      out.println();
      out.println("gpucore copy path (PEER: peer access enabled and a write-then-checksum probe "
          + "passed; STAGED: through pinned host memory):");
      out.println();
      out.print(t.grid("", null, l -> l.from() == l.to() ? "X"
          : paths[l.from()][l.to()].path().name()));
      out.println();
      for (int i = 0; i < t.size(); i++) {
        for (int j = i + 1; j < t.size(); j++) {
          out.printf(java.util.Locale.ROOT, "  GPU%d <-> GPU%d: %s%n", i, j,
              paths[i][j].reason());
        }
      }
    }
    for (String note : t.notes()) {
      out.println("note: " + note);
    }
  }
}
