package dev.gpucore.device;

import java.util.List;

/**
 * What device discovery found: the devices gpucore may use, the driver and CUDA versions, and
 * notes explaining anything degraded (NVML missing, devices hidden by visibility variables).
 *
 * @param devices the usable devices, in gpucore's index order
 * @param driverVersion the NVIDIA driver version (e.g. {@code 580.159.04}), empty if unknown
 * @param cudaDriverVersion the CUDA version the driver supports (e.g. 13000), 0 if unknown
 * @param cudaRuntimeVersion the CUDA runtime version loaded (e.g. 13000), 0 if unknown
 * @param nvmlAvailable whether NVML answered; without it only CUDA-runtime fields are filled
 * @param notes human-readable remarks, one line each
 * @param noGpuReason why no GPU is usable, one line; empty when at least one is
 */
public record Discovery(
    List<DeviceInfo> devices,
    String driverVersion,
    int cudaDriverVersion,
    int cudaRuntimeVersion,
    boolean nvmlAvailable,
    List<String> notes,
    String noGpuReason) {

  /** Copies lists, normalises nulls. */
  public Discovery {
    devices = List.copyOf(devices);
    driverVersion = driverVersion == null ? "" : driverVersion;
    notes = List.copyOf(notes);
    noGpuReason = noGpuReason == null ? "" : noGpuReason;
  }

  /** A discovery that found no GPU, for the reason given. */
  public static Discovery none(String reason, List<String> notes) {
    return new Discovery(List.of(), "", 0, 0, false, notes, reason);
  }

  /** Whether at least one GPU is usable. */
  public boolean hasGpu() {
    return !devices.isEmpty();
  }

  /** Formats a CUDA version number such as 13000 as {@code "13.0"}; empty for 0. */
  public static String cudaVersionString(int v) {
    return v <= 0 ? "" : (v / 1000) + "." + (v % 1000) / 10;
  }
}
