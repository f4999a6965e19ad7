package dev.gpucore.cuda;

import dev.gpucore.cuda.bindings.GpuCoreNative;
import dev.gpucore.cuda.bindings.PeerNative;
import dev.gpucore.device.DeviceInfo;
import dev.gpucore.device.Discovery;
import dev.gpucore.p2p.PciPath;
import dev.gpucore.p2p.Topology;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bytedeco.cuda.global.nvml;
import org.bytedeco.cuda.nvml.nvmlDevice_st;
import org.bytedeco.cuda.nvml.nvmlPciInfo_t;
import org.bytedeco.javacpp.CLongPointer;

/**
 * Reads the topology: NVLinks per pair ({@code nvmlDeviceGetNvLinkState} over links 0 to
 * {@code NVML_NVLINK_MAX_LINKS - 1}, the far end from {@code nvmlDeviceGetNvLinkRemotePciInfo};
 * links into an NVSwitch count for every pair of GPUs on it), the PCIe path
 * ({@code nvmlDeviceGetTopologyCommonAncestor}), CPU and NUMA affinity (NVML, else sysfs), and
 * CUDA's peer access and performance rank per ordered pair. Like the rest of gpucore's NVML use,
 * best effort: what cannot be read stays unknown, with a note.
 */
final class CudaTopology {
  private static final int NVML_SUCCESS = 0;

  private CudaTopology() {}

  /** PCI location of a device: domain, bus, device. */
  private record Pci(int domain, int bus, int device) {}

  static Topology read(DeviceState[] devices, Discovery discovery) {
    int n = devices.length;
    List<String> notes = new ArrayList<>();
    List<DeviceInfo> infos = discovery.devices();
    Nvml.Snapshot nv = Nvml.read();
    boolean nvmlOk = nv.ok();
    if (!nvmlOk) {
      notes.add(nv.failure() + " (NVLinks and PCIe paths unknown)");
    }
    nvmlDevice_st[] handles = new nvmlDevice_st[n];
    Pci[] pci = new Pci[n];
    if (nvmlOk) {
      for (int i = 0; i < n; i++) {
        int idx = infos.get(i).nvmlIndex();
        if (idx < 0) {
          notes.add("GPU " + i + " has no NVML device: its links are unknown");
          continue;
        }
        nvmlDevice_st h = new nvmlDevice_st();
        if (nvml.nvmlDeviceGetHandleByIndex_v2(idx, h) != NVML_SUCCESS) {
          notes.add("GPU " + i + ": nvmlDeviceGetHandleByIndex failed: its links are unknown");
          continue;
        }
        handles[i] = h;
        try (nvmlPciInfo_t p = new nvmlPciInfo_t()) {
          if (nvml.nvmlDeviceGetPciInfo_v3(h, p) == NVML_SUCCESS) {
            pci[i] = new Pci(p.domain(), p.bus(), p.device());
          }
        }
      }
    }

    // NVLinks: direct links per pair, and links into switches per GPU
    int[][] direct = new int[n][n];
    int[] switchLinks = new int[n];
    boolean[] nvlinkKnown = new boolean[n];
    for (int i = 0; i < n; i++) {
      if (handles[i] == null) {
        continue;
      }
      nvlinkKnown[i] = true;
      int[] v = new int[1];
      for (int link = 0; link < nvml.NVML_NVLINK_MAX_LINKS; link++) {
        if (nvml.nvmlDeviceGetNvLinkState(handles[i], link, v) != NVML_SUCCESS
            || v[0] != nvml.NVML_FEATURE_ENABLED) {
          continue; // no such link, NVLink unsupported, or inactive
        }
        int type = nvml.NVML_NVLINK_DEVICE_TYPE_GPU;
        if (nvml.nvmlDeviceGetNvLinkRemoteDeviceType(handles[i], link, v) == NVML_SUCCESS) {
          type = v[0];
        }
        if (type == nvml.NVML_NVLINK_DEVICE_TYPE_SWITCH) {
          switchLinks[i]++;
          continue;
        }
        try (nvmlPciInfo_t p = new nvmlPciInfo_t()) {
          if (nvml.nvmlDeviceGetNvLinkRemotePciInfo_v2(handles[i], link, p) != NVML_SUCCESS) {
            continue;
          }
          Pci far = new Pci(p.domain(), p.bus(), p.device());
          for (int j = 0; j < n; j++) {
            if (j != i && far.equals(pci[j])) {
              direct[i][j]++;
            }
          }
        }
      }
    }

    List<Topology.Gpu> gpus = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      DeviceInfo d = infos.get(i);
      gpus.add(new Topology.Gpu(i, d.cudaOrdinal(), d.nvmlIndex(), d.name(), d.pciBusId(),
          cpuAffinity(handles[i], d.pciBusId()), numaNode(handles[i], d.pciBusId())));
    }

    List<Topology.Link> out = new ArrayList<>();
    int[] can = new int[1];
    int[] attrs = new int[PeerNative.GC_P2P_ATTR_COUNT];
    boolean cudaFailed = false;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        if (i == j) {
          out.add(new Topology.Link(i, j, 0, false, PciPath.SELF, true, 0, true));
          continue;
        }
        int links = Topology.UNKNOWN;
        boolean viaSwitch = false;
        if (nvlinkKnown[i] && nvlinkKnown[j]) {
          links = direct[i][j];
          if (links == 0 && switchLinks[i] > 0 && switchLinks[j] > 0) {
            links = Math.min(switchLinks[i], switchLinks[j]);
            viaSwitch = true;
          }
        }
        PciPath path = PciPath.UNKNOWN;
        if (handles[i] != null && handles[j] != null) {
          int[] level = new int[1];
          if (nvml.nvmlDeviceGetTopologyCommonAncestor(handles[i], handles[j], level)
              == NVML_SUCCESS) {
            path = PciPath.fromNvmlLevel(level[0]);
          }
        }
        int st = PeerNative.gc_p2p_can_access(devices[i].ordinal, devices[j].ordinal, can);
        boolean peer = st == 0 && can[0] == 1;
        int st2 = PeerNative.gc_p2p_attributes(devices[i].ordinal, devices[j].ordinal, attrs);
        if ((st != 0 || st2 != 0) && !cudaFailed) {
          cudaFailed = true;
          int bad = st != 0 ? st : st2;
          notes.add("CUDA's peer queries failed for GPU " + i + " -> " + j + ": "
              + GpuCoreNative.gc_status_name(bad) + " (" + bad + ")");
        }
        out.add(new Topology.Link(i, j, links, viaSwitch, path, peer,
            attrs[PeerNative.GC_P2P_ATTR_PERFORMANCE_RANK],
            attrs[PeerNative.GC_P2P_ATTR_NATIVE_ATOMICS] == 1));
      }
    }
    boolean anySwitch = false;
    for (int s : switchLinks) {
      anySwitch |= s > 0;
    }
    if (anySwitch) {
      notes.add("NVLinks go through NVSwitches: NV# counts each GPU's links into the switch "
          + "fabric");
    }
    return new Topology(gpus, out, nvmlOk, notes);
  }

  private static String cpuAffinity(nvmlDevice_st h, String busId) {
    if (h != null) {
      int words = 64; // 4096 CPUs
      try (CLongPointer set = new CLongPointer(words)) {
        if (nvml.nvmlDeviceGetCpuAffinity(h, words, set) == NVML_SUCCESS) {
          long[] bits = new long[words];
          for (int k = 0; k < words; k++) {
            bits[k] = set.get(k);
          }
          String s = cpuList(bits);
          if (!s.isEmpty()) {
            return s;
          }
        }
      }
    }
    return sysfs(busId, "local_cpulist");
  }

  private static int numaNode(nvmlDevice_st h, String busId) {
    if (h != null) {
      int[] v = new int[1];
      if (nvml.nvmlDeviceGetNumaNodeId(h, v) == NVML_SUCCESS && v[0] >= 0) {
        return v[0];
      }
    }
    String s = sysfs(busId, "numa_node");
    try {
      int v = Integer.parseInt(s.trim());
      return v >= 0 ? v : Topology.UNKNOWN;
    } catch (NumberFormatException e) {
      return Topology.UNKNOWN;
    }
  }

  /** A CPU bit mask as a list: {@code 0-47,96-143}. */
  static String cpuList(long[] bits) {
    StringBuilder sb = new StringBuilder();
    int total = bits.length * 64;
    int i = 0;
    while (i < total) {
      if ((bits[i >>> 6] >>> (i & 63) & 1) == 0) {
        i++;
        continue;
      }
      int start = i;
      while (i < total && (bits[i >>> 6] >>> (i & 63) & 1) != 0) {
        i++;
      }
      if (sb.length() > 0) {
        sb.append(',');
      }
      sb.append(start);
      if (i - 1 > start) {
        sb.append('-').append(i - 1);
      }
    }
    return sb.toString();
  }

  /** A file of the GPU's PCI device in sysfs, or empty. */
  private static String sysfs(String busId, String file) {
    String id = sysfsName(busId);
    if (id.isEmpty()) {
      return "";
    }
    try {
      return Files.readString(Path.of("/sys/bus/pci/devices", id, file)).trim();
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  /** {@code 00000000:65:00.0} to sysfs's {@code 0000:65:00.0}. */
  static String sysfsName(String busId) {
    String[] p = busId.trim().split("[:.]");
    if (p.length != 4) {
      return "";
    }
    try {
      return String.format(Locale.ROOT, "%04x:%02x:%02x.%x", Long.parseLong(p[0], 16),
          Integer.parseInt(p[1], 16), Integer.parseInt(p[2], 16), Integer.parseInt(p[3], 16));
    } catch (NumberFormatException e) {
      return "";
    }
  }
}
