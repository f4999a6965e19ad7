package dev.gpucore.device;

import java.util.List;

/**
 * A snapshot of one GPU as gpucore sees it: identity and capability from the CUDA runtime,
 * state from NVML (what {@code nvidia-smi} shows). Immutable.
 *
 * <p>Numeric fields that could not be read (no NVML in the container, a query the device does
 * not support) hold {@link #UNKNOWN}; strings that could not be read are empty.
 *
 * @param index gpucore's index: position in the list of devices gpucore may use
 * @param cudaOrdinal the CUDA runtime's device ordinal (after {@code CUDA_VISIBLE_DEVICES} and
 *     in {@code CUDA_DEVICE_ORDER}), or {@link #UNKNOWN}
 * @param nvmlIndex NVML's index (PCI order, ignores {@code CUDA_VISIBLE_DEVICES}), or
 *     {@link #UNKNOWN} where NVML is missing
 * @param uuid the GPU's UUID as {@code GPU-xxxxxxxx-...}
 * @param name the product name
 * @param pciBusId PCI bus id as {@code 00000000:65:00.0}
 * @param ccMajor compute capability, major
 * @param ccMinor compute capability, minor
 * @param multiprocessors number of streaming multiprocessors
 * @param memoryTotal device memory in bytes
 * @param memoryUsed device memory in use, bytes
 * @param memoryFree free device memory, bytes
 * @param utilizationGpu GPU utilisation in percent over NVML's last sample period
 * @param utilizationMemory memory controller utilisation in percent
 * @param temperatureC GPU temperature in degrees Celsius
 * @param powerDrawW power draw in watts, or {@code NaN}
 * @param powerLimitW enforced power limit in watts, or {@code NaN}
 * @param processes processes using the GPU (host PIDs inside a container)
 */
public record DeviceInfo(
    int index,
    int cudaOrdinal,
    int nvmlIndex,
    String uuid,
    String name,
    String pciBusId,
    int ccMajor,
    int ccMinor,
    int multiprocessors,
    long memoryTotal,
    long memoryUsed,
    long memoryFree,
    int utilizationGpu,
    int utilizationMemory,
    int temperatureC,
    double powerDrawW,
    double powerLimitW,
    List<GpuProcess> processes) {

  /** Marker for a numeric field that could not be read. */
  public static final int UNKNOWN = -1;

  /** Copies the process list so the record stays immutable. */
  public DeviceInfo {
    uuid = uuid == null ? "" : uuid;
    name = name == null ? "" : name;
    pciBusId = pciBusId == null ? "" : pciBusId;
    processes = processes == null ? List.of() : List.copyOf(processes);
  }

  /** Compute capability as {@code "9.0"}, or empty when unknown. */
  public String computeCapability() {
    return ccMajor < 0 ? "" : ccMajor + "." + ccMinor;
  }

  /** Returns a copy with gpucore's index replaced. */
  public DeviceInfo withIndex(int newIndex) {
    return new DeviceInfo(newIndex, cudaOrdinal, nvmlIndex, uuid, name, pciBusId, ccMajor,
        ccMinor, multiprocessors, memoryTotal, memoryUsed, memoryFree, utilizationGpu,
        utilizationMemory, temperatureC, powerDrawW, powerLimitW, processes);
  }

  /**
   * A process that holds memory on the GPU.
   *
   * @param pid process id (a host PID when read inside a container)
   * @param name process name, empty where it cannot be read
   * @param usedMemory bytes of device memory it holds, or {@link #UNKNOWN}
   */
  public record GpuProcess(long pid, String name, long usedMemory) {
    /** Normalises a null name to empty. */
    public GpuProcess {
      name = name == null ? "" : name;
    }
  }
}
