package dev.gpucore.p2p;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How the GPUs gpucore uses are connected, like {@code nvidia-smi topo -m}: NVLinks and the PCIe
 * path per pair (from NVML), and what the CUDA runtime says about peer access between them.
 * Immutable; {@link PeerCopy#topology()} takes a fresh snapshot each call.
 *
 * @param gpus the devices, in gpucore's order
 * @param links one entry per ordered pair, {@code from} and {@code to} included (the diagonal
 *     too), row by row: the entry for {@code (from, to)} is at {@code from * n + to}
 * @param nvml whether NVML could be read (without it NVLink counts and PCIe paths are unknown)
 * @param notes remarks, e.g. why NVML is missing
 */
public record Topology(List<Gpu> gpus, List<Link> links, boolean nvml, List<String> notes) {

  /** Value of a number that could not be read. */
  public static final int UNKNOWN = -1;

  /** Copies the lists and checks that there is one link per ordered pair. */
  public Topology {
    gpus = List.copyOf(gpus);
    links = List.copyOf(links);
    notes = notes == null ? List.of() : List.copyOf(notes);
    if (links.size() != gpus.size() * gpus.size()) {
      throw new IllegalArgumentException("need " + gpus.size() * gpus.size()
          + " links (every ordered pair), got " + links.size());
    }
    for (int k = 0; k < links.size(); k++) {
      Link l = links.get(k);
      if (l.from() != k / gpus.size() || l.to() != k % gpus.size()) {
        throw new IllegalArgumentException("link " + k + " must be (" + k / gpus.size() + ", "
            + k % gpus.size() + "), got (" + l.from() + ", " + l.to() + ")");
      }
    }
  }

  /**
   * One GPU.
   *
   * @param index gpucore's index
   * @param cudaOrdinal CUDA's ordinal
   * @param nvmlIndex NVML's index, or {@link #UNKNOWN}
   * @param name product name
   * @param pciBusId PCI bus id
   * @param cpuAffinity CPUs close to the GPU as a list ({@code 0-47,96-143}), or empty
   * @param numaNode the NUMA node closest to the GPU, or {@link #UNKNOWN}
   */
  public record Gpu(int index, int cudaOrdinal, int nvmlIndex, String name, String pciBusId,
      String cpuAffinity, int numaNode) {
    /** Replaces null strings with empty ones. */
    public Gpu {
      name = name == null ? "" : name;
      pciBusId = pciBusId == null ? "" : pciBusId;
      cpuAffinity = cpuAffinity == null ? "" : cpuAffinity;
    }
  }

  /**
   * The connection from one GPU to another.
   *
   * @param from gpucore index of the GPU that accesses
   * @param to gpucore index of the GPU accessed
   * @param nvlinks active NVLinks joining the two (through an NVSwitch: the smaller of the two
   *     GPUs' switch link counts), 0 for none, {@link #UNKNOWN} without NVML
   * @param viaSwitch whether the NVLinks go through an NVSwitch
   * @param pciPath the PCIe path
   * @param peerAccess whether CUDA allows {@code from} to access {@code to}'s memory
   *     ({@code cudaDeviceCanAccessPeer}); true on the diagonal
   * @param performanceRank CUDA's relative performance rank of the pair
   *     ({@code cudaDevP2PAttrPerformanceRank}, lower is faster), or {@link #UNKNOWN}
   * @param nativeAtomics whether atomics over the link are native
   */
  public record Link(int from, int to, int nvlinks, boolean viaSwitch, PciPath pciPath,
      boolean peerAccess, int performanceRank, boolean nativeAtomics) {
    /** Replaces a null path with {@link PciPath#UNKNOWN}. */
    public Link {
      pciPath = pciPath == null ? PciPath.UNKNOWN : pciPath;
    }

    /**
     * What {@code nvidia-smi topo -m} prints for the pair: {@code X} for the GPU itself,
     * {@code NV#} for # bonded NVLinks, else the PCIe path ({@code ?} when unknown).
     */
    public String connection() {
      if (from == to) {
        return "X";
      }
      if (nvlinks > 0) {
        return "NV" + nvlinks;
      }
      return pciPath.label();
    }

    /**
     * CUDA's answer for the pair: {@code X}, {@code OK} with the rank ({@code OK r0}), or
     * {@code NS} (not supported).
     */
    public String cudaPeer() {
      if (from == to) {
        return "X";
      }
      if (!peerAccess) {
        return "NS";
      }
      return performanceRank >= 0 ? "OK r" + performanceRank : "OK";
    }
  }

  /** Number of GPUs. */
  public int size() {
    return gpus.size();
  }

  /** The link from {@code from} to {@code to}. */
  public Link link(int from, int to) {
    int n = gpus.size();
    if (from < 0 || from >= n || to < 0 || to >= n) {
      throw new IndexOutOfBoundsException("GPU indices must be in [0, " + n + "), got " + from
          + ", " + to);
    }
    return links.get(from * n + to);
  }

  /** The legend printed under {@link #matrix()}, as {@code nvidia-smi topo -m} prints it. */
  public static String legend() {
    StringBuilder sb = new StringBuilder("Legend:\n\n");
    for (PciPath p : PciPath.values()) {
      if (p == PciPath.UNKNOWN) {
        continue;
      }
      sb.append(String.format(Locale.ROOT, "  %-4s = %s%n", p.label(), p.meaning()));
    }
    sb.append(String.format(Locale.ROOT, "  %-4s = %s%n", "NV#",
        "Connection traversing a bonded set of # NVLinks"));
    sb.append(String.format(Locale.ROOT, "  %-4s = %s%n", "?",
        "Unknown (NVML not available or the query failed)"));
    return sb.toString();
  }

  /**
   * The connection matrix with each GPU's CPU and NUMA affinity, in the manner of
   * {@code nvidia-smi topo -m}.
   */
  public String matrix() {
    List<String> extra = new ArrayList<>();
    for (Gpu g : gpus) {
      extra.add(String.format(Locale.ROOT, "%-16s %s",
          g.cpuAffinity().isEmpty() ? "N/A" : g.cpuAffinity(),
          g.numaNode() < 0 ? "N/A" : String.valueOf(g.numaNode())));
    }
    return grid(String.format(Locale.ROOT, "%-16s %s", "CPU Affinity", "NUMA Affinity"), extra,
        Link::connection);
  }

  /**
   * CUDA's peer-access matrix: {@code OK r<rank>} where {@code cudaDeviceCanAccessPeer} allows
   * the row GPU to access the column GPU's memory ({@code cudaDevP2PAttrPerformanceRank}, lower
   * is faster), {@code NS} where it does not.
   */
  public String cudaMatrix() {
    return grid("", null, Link::cudaPeer);
  }

  /** A matrix of {@code cell} per link, rows are {@code from}, columns {@code to}. */
  public String grid(String extraHeader, List<String> extra,
      java.util.function.Function<Link, String> cell) {
    int n = gpus.size();
    int w = 7;
    for (Link l : links) {
      w = Math.max(w, cell.apply(l).length() + 2);
    }
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%-7s", ""));
    for (int j = 0; j < n; j++) {
      sb.append(String.format(Locale.ROOT, "%-" + w + "s", "GPU" + j));
    }
    if (extra != null) {
      sb.append(extraHeader);
    }
    sb.append(System.lineSeparator());
    for (int i = 0; i < n; i++) {
      sb.append(String.format(Locale.ROOT, "%-7s", "GPU" + i));
      for (int j = 0; j < n; j++) {
        sb.append(String.format(Locale.ROOT, "%-" + w + "s", cell.apply(link(i, j))));
      }
      if (extra != null) {
        sb.append(extra.get(i));
      }
      sb.append(System.lineSeparator());
    }
    return sb.toString().replaceAll("[ ]+(\\R)", "$1");
  }
}
