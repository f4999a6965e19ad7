package dev.gpucore.p2p;

/**
 * The PCIe path between two GPUs, as {@code nvidia-smi topo -m} names it (NVML's
 * {@code nvmlDeviceGetTopologyCommonAncestor}).
 */
public enum PciPath {
  /** The same GPU. */
  SELF("X", "Self"),
  /** At most a single PCIe bridge (NVML_TOPOLOGY_SINGLE, and INTERNAL: one board). */
  PIX("PIX", "Connection traversing at most a single PCIe bridge"),
  /** Several PCIe bridges, without the host bridge (NVML_TOPOLOGY_MULTIPLE). */
  PXB("PXB", "Connection traversing multiple PCIe bridges (without traversing the PCIe Host Bridge)"),
  /** A PCIe host bridge, typically the CPU (NVML_TOPOLOGY_HOSTBRIDGE). */
  PHB("PHB", "Connection traversing PCIe as well as a PCIe Host Bridge (typically the CPU)"),
  /** Host bridges within a NUMA node (NVML_TOPOLOGY_NODE). */
  NODE("NODE", "Connection traversing PCIe as well as the interconnect between PCIe Host Bridges "
      + "within a NUMA node"),
  /** The interconnect between NUMA nodes, e.g. QPI/UPI (NVML_TOPOLOGY_SYSTEM). */
  SYS("SYS", "Connection traversing PCIe as well as the SMP interconnect between NUMA nodes "
      + "(e.g., QPI/UPI)"),
  /** Not known (no NVML, or the query failed). */
  UNKNOWN("?", "Unknown (NVML not available or the query failed)");

  private final String label;
  private final String meaning;

  PciPath(String label, String meaning) {
    this.label = label;
    this.meaning = meaning;
  }

  /** The short name {@code nvidia-smi topo -m} prints ({@code X}, {@code PIX}, ...). */
  public String label() {
    return label;
  }

  /** The legend line's meaning. */
  public String meaning() {
    return meaning;
  }

  /** From NVML's {@code nvmlGpuTopologyLevel_t} value (0, 10, 20, 30, 40, 50). */
  public static PciPath fromNvmlLevel(int level) {
    switch (level) {
      case 0: // NVML_TOPOLOGY_INTERNAL: devices on one board
      case 10:
        return PIX;
      case 20:
        return PXB;
      case 30:
        return PHB;
      case 40:
        return NODE;
      case 50:
        return SYS;
      default:
        return UNKNOWN;
    }
  }
}
