package dev.gpucore.cuda;

import dev.gpucore.cuda.bindings.GpuCoreNative;
import dev.gpucore.device.DeviceInfo;
import dev.gpucore.device.Discovery;
import dev.gpucore.device.Visibility;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Builds the device list: CUDA ordinals (after {@code CUDA_VISIBLE_DEVICES}, in
 * {@code CUDA_DEVICE_ORDER}) matched to NVML devices by UUID, else by PCI bus id, then filtered
 * by {@code NVIDIA_VISIBLE_DEVICES} / {@code NV_GPU} where gpucore applies them.
 */
final class CudaDiscovery {
  private CudaDiscovery() {}

  static Discovery discover(Visibility vis) {
    List<String> notes = new ArrayList<>();
    int[] drv = new int[1];
    int[] rt = new int[1];
    GpuCoreNative.gc_versions(drv, rt);
    Nvml.Snapshot nv = Nvml.read();
    if (!nv.ok()) {
      notes.add(nv.failure());
    }
    int[] count = new int[1];
    int s = GpuCoreNative.gc_device_count(count);
    if (s != 0 || count[0] == 0) {
      String why = vis.explainNoDevice(nv.ok()
          ? nv.devices().stream().map(Nvml.Dev::uuid).toList() : null);
      if (why.isEmpty()) {
        why = s != 0 ? CudaErrors.explainDiscovery(s) : "the CUDA runtime reports no device";
      }
      return new Discovery(List.of(), nv.driverVersion(), drv[0], rt[0], nv.ok(), notes, why);
    }
    List<DeviceInfo> out = new ArrayList<>();
    int hidden = 0;
    for (int ord = 0; ord < count[0]; ord++) {
      int[] ints = new int[6];
      long[] mem = new long[1];
      byte[] name = new byte[256];
      byte[] uuid = new byte[64];
      byte[] bus = new byte[64];
      int st = GpuCoreNative.gc_device_info(ord, ints, mem, name, name.length, uuid, uuid.length,
          bus, bus.length);
      if (st != 0) {
        notes.add("CUDA device " + ord + " could not be queried: "
            + GpuCoreNative.gc_status_name(st) + " " + GpuCoreNative.gc_last_error());
        continue;
      }
      String cudaUuid = Native.cString(uuid);
      String cudaBus = Native.cString(bus);
      Nvml.Dev n = match(nv.devices(), cudaUuid, ints[3], ints[4], ints[5]);
      if (!vis.nvidiaAllows(n == null ? -1 : n.index(), cudaUuid)) {
        hidden++;
        continue;
      }
      long total = mem[0];
      long used = DeviceInfo.UNKNOWN;
      long free = DeviceInfo.UNKNOWN;
      if (n != null) {
        total = n.memTotal() > 0 ? n.memTotal() : total;
        used = n.memUsed();
        free = n.memFree();
      }
      int u = DeviceInfo.UNKNOWN;
      out.add(new DeviceInfo(out.size(), ord, n == null ? u : n.index(), cudaUuid,
          n != null && !n.name().isEmpty() ? n.name() : Native.cString(name),
          n != null && !n.busId().isEmpty() ? n.busId() : normalizeBusId(cudaBus),
          ints[0], ints[1], ints[2], total, used, free,
          n == null ? u : n.utilGpu(), n == null ? u : n.utilMem(), n == null ? u : n.tempC(),
          n == null ? Double.NaN : n.powerW(), n == null ? Double.NaN : n.powerLimitW(),
          n == null ? List.of() : n.processes()));
      if (n != null && n.index() != ord) {
        notes.add("CUDA ordinal " + ord + " is NVML index " + n.index() + " ("
            + vis.cudaDeviceOrder() + " order; set CUDA_DEVICE_ORDER=PCI_BUS_ID for NVML's)");
      }
    }
    if (hidden > 0) {
      notes.add(hidden + " GPU(s) hidden by " + vis.describe());
    }
    if (nv.ok() && vis.cudaVisibleDevices() != null) {
      notes.add("NVML sees " + nv.devices().size() + " GPU(s); CUDA_VISIBLE_DEVICES leaves "
          + count[0]);
    }
    if (vis.inContainer() && nv.ok()) {
      notes.add("in a container: NVML's process ids are host PIDs");
    }
    String why = out.isEmpty() ? vis.explainAllHidden(count[0]) : "";
    return new Discovery(out, nv.driverVersion(), drv[0], rt[0], nv.ok(), notes, why);
  }

  private static Nvml.Dev match(List<Nvml.Dev> devs, String uuid, int domain, int bus, int dev) {
    for (Nvml.Dev d : devs) {
      if (!uuid.isEmpty() && uuid.equalsIgnoreCase(d.uuid())) {
        return d;
      }
    }
    String want = String.format(Locale.ROOT, "%08X:%02X:%02X.0", domain, bus, dev);
    for (Nvml.Dev d : devs) {
      if (normalizeBusId(d.busId()).equalsIgnoreCase(want)) {
        return d;
      }
    }
    return null;
  }

  /** {@code 0000:65:00.0} or {@code 00000000:65:00.0} to NVML's {@code 00000000:65:00.0}. */
  static String normalizeBusId(String s) {
    String[] p = s.trim().split("[:.]");
    if (p.length != 4) {
      return s.trim();
    }
    try {
      return String.format(Locale.ROOT, "%08X:%02X:%02X.%X", Long.parseLong(p[0], 16),
          Integer.parseInt(p[1], 16), Integer.parseInt(p[2], 16), Integer.parseInt(p[3], 16));
    } catch (NumberFormatException e) {
      return s.trim();
    }
  }
}
