package dev.gpucore.cuda;

import dev.gpucore.device.DeviceHealth;
import dev.gpucore.device.DeviceHealth.Reading;
import dev.gpucore.device.DeviceInfo;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.cuda.global.nvml;
import org.bytedeco.cuda.nvml.nvmlDevice_st;
import org.bytedeco.cuda.nvml.nvmlMemory_t;
import org.bytedeco.cuda.nvml.nvmlPciInfo_t;
import org.bytedeco.cuda.nvml.nvmlProcessInfo_v2_t;
import org.bytedeco.cuda.nvml.nvmlUtilization_t;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;

/**
 * Best-effort NVML reader: every query may fail on its own (unsupported on the device, no
 * permission, NVML gone mid-run as under systemd cgroup changes) and leaves its field unknown;
 * no NVML failure is an exception. Every string is read into a fixed buffer and bounded.
 */
final class Nvml {
  /** One NVML device as read. */
  record Dev(int index, String uuid, String name, String busId, long memTotal, long memUsed,
      long memFree, int utilGpu, int utilMem, int tempC, double powerW, double powerLimitW,
      List<DeviceInfo.GpuProcess> processes) {}

  /** What NVML gave: devices, driver version, or why it could not be used. */
  record Snapshot(List<Dev> devices, String driverVersion, int cudaDriverVersion, String failure) {
    boolean ok() {
      return failure.isEmpty();
    }
  }

  private static final int SUCCESS = nvml.NVML_SUCCESS;
  private static final Object LOCK = new Object();
  private static boolean initialized;

  private Nvml() {}

  /** Loads and initialises NVML (once per process) and reads every device. */
  static Snapshot read() {
    synchronized (LOCK) {
      if (!initialized) {
        try {
          // on a thread of its own: an interrupt must not poison the one-time load
          dev.gpucore.spi.Uninterruptible.onOwnThread("gpucore-nvml-load",
              () -> Loader.load(nvml.class));
        } catch (Throwable t) { // UnsatisfiedLinkError and friends: NVML is simply absent
          return fail("NVML is not available (" + LoadErrors.describe(t) + "); a container "
              + "started without the 'utility' driver capability has no libnvidia-ml.so.1. "
              + "Showing what the CUDA runtime reports");
        }
        int s = nvml.nvmlInit_v2();
        if (s != SUCCESS) {
          return fail("NVML failed to initialize: " + error(s) + " (" + s + "); showing what "
              + "the CUDA runtime reports");
        }
        initialized = true;
      }
      List<Dev> devs = new ArrayList<>();
      int[] count = new int[1];
      int s = nvml.nvmlDeviceGetCount_v2(count);
      if (s != SUCCESS) {
        return fail("NVML could not count devices: " + error(s) + " (" + s + ")");
      }
      for (int i = 0; i < count[0]; i++) {
        devs.add(readDevice(i));
      }
      byte[] drv = new byte[96];
      String driver = nvml.nvmlSystemGetDriverVersion(drv, drv.length) == SUCCESS
          ? Native.cString(drv) : "";
      int[] cuda = new int[1];
      int cudaVersion = nvml.nvmlSystemGetCudaDriverVersion(cuda) == SUCCESS ? cuda[0] : 0;
      return new Snapshot(devs, driver, cudaVersion, "");
    }
  }

  /**
   * The health counters of the device at NVML index {@code nvmlIndex}, each query on its own:
   * one the GPU or driver does not support leaves its part unavailable with the reason.
   */
  static DeviceHealth health(int nvmlIndex) {
    synchronized (LOCK) {
      if (!initialized) {
        return DeviceHealth.unknown("NVML is not available");
      }
      if (nvmlIndex < 0) {
        return DeviceHealth.unknown("this GPU was not matched to an NVML device");
      }
      nvmlDevice_st d = new nvmlDevice_st();
      int s = nvml.nvmlDeviceGetHandleByIndex_v2(nvmlIndex, d);
      if (s != SUCCESS) {
        return DeviceHealth.unknown("NVML has no handle for index " + nvmlIndex + ": " + why(s));
      }
      return new DeviceHealth(guard(() -> ecc(d)), guard(() -> retiredPages(d)),
          guard(() -> remappedRows(d)), guard(() -> clockEvents(d)));
    }
  }

  private static <T> Reading<T> guard(java.util.function.Supplier<Reading<T>> query) {
    try {
      return query.get();
    } catch (RuntimeException | LinkageError e) { // a symbol an old driver lacks, say
      return Reading.unavailable("query failed: " + LoadErrors.describe(e));
    }
  }

  /** NVML's status as words for a health reading. */
  static String why(int status) {
    if (status == nvml.NVML_ERROR_NOT_SUPPORTED) {
      return "not supported";
    }
    if (status == nvml.NVML_ERROR_NO_PERMISSION) {
      return "no permission";
    }
    return error(status) + " (" + status + ")";
  }

  private static Reading<DeviceHealth.Ecc> ecc(nvmlDevice_st d) {
    int[] current = new int[1];
    int[] pending = new int[1];
    int s = nvml.nvmlDeviceGetEccMode(d, current, pending);
    if (s != SUCCESS) {
      return Reading.unavailable(why(s));
    }
    boolean on = current[0] == nvml.NVML_FEATURE_ENABLED;
    // nvmlMemoryErrorType_t: 0 corrected, 1 uncorrected;
    // nvmlEccCounterType_t: 0 volatile, 1 aggregate
    return Reading.of(new DeviceHealth.Ecc(on, eccCount(d, 0, 0), eccCount(d, 1, 0),
        eccCount(d, 0, 1), eccCount(d, 1, 1)));
  }

  private static long eccCount(nvmlDevice_st d, int errorType, int counterType) {
    long[] v = new long[1];
    return nvml.nvmlDeviceGetTotalEccErrors(d, errorType, counterType, v) == SUCCESS
        ? v[0] : DeviceHealth.Ecc.UNKNOWN;
  }

  private static Reading<DeviceHealth.RetiredPages> retiredPages(nvmlDevice_st d) {
    long[] counts = new long[2];
    // nvmlPageRetirementCause_t: 0 multiple single-bit errors, 1 double-bit error
    for (int cause = 0; cause < 2; cause++) {
      int cap = 64;
      int[] count = {cap};
      long[] addresses = new long[cap];
      int s = nvml.nvmlDeviceGetRetiredPages(d, cause, count, addresses);
      if (s != SUCCESS && s != nvml.NVML_ERROR_INSUFFICIENT_SIZE) { // it still sets the count
        return Reading.unavailable(why(s));
      }
      counts[cause] = count[0];
    }
    int[] pending = new int[1];
    int s = nvml.nvmlDeviceGetRetiredPagesPendingStatus(d, pending);
    if (s != SUCCESS) {
      return Reading.unavailable("pending status: " + why(s));
    }
    return Reading.of(new DeviceHealth.RetiredPages(counts[0], counts[1], pending[0] == 1));
  }

  private static Reading<DeviceHealth.RemappedRows> remappedRows(nvmlDevice_st d) {
    int[] corr = new int[1];
    int[] unc = new int[1];
    int[] pending = new int[1];
    int[] failed = new int[1];
    int s = nvml.nvmlDeviceGetRemappedRows(d, corr, unc, pending, failed);
    if (s != SUCCESS) {
      return Reading.unavailable(why(s));
    }
    return Reading.of(new DeviceHealth.RemappedRows(corr[0], unc[0], pending[0] != 0,
        failed[0] != 0));
  }

  private static Reading<DeviceHealth.ClockEvents> clockEvents(nvmlDevice_st d) {
    long[] mask = new long[1];
    // the older name of nvmlDeviceGetCurrentClocksEventReasons (same bits), exported by every
    // driver, also the older ones under CUDA forward compatibility
    int s = nvml.nvmlDeviceGetCurrentClocksThrottleReasons(d, mask);
    if (s != SUCCESS) {
      return Reading.unavailable(why(s));
    }
    return Reading.of(new DeviceHealth.ClockEvents(mask[0]));
  }

  private static Snapshot fail(String why) {
    return new Snapshot(List.of(), "", 0, why);
  }

  static String error(int status) {
    try {
      return nvml.nvmlErrorString(status).getString();
    } catch (RuntimeException | Error e) {
      return "NVML error";
    }
  }

  private static Dev readDevice(int i) {
    nvmlDevice_st d = new nvmlDevice_st();
    int u = DeviceInfo.UNKNOWN;
    if (nvml.nvmlDeviceGetHandleByIndex_v2(i, d) != SUCCESS) {
      return new Dev(i, "", "", "", u, u, u, u, u, u, Double.NaN, Double.NaN, List.of());
    }
    byte[] buf = new byte[256];
    String uuid = nvml.nvmlDeviceGetUUID(d, buf, buf.length) == SUCCESS ? Native.cString(buf) : "";
    buf = new byte[256];
    String name = nvml.nvmlDeviceGetName(d, buf, buf.length) == SUCCESS ? Native.cString(buf) : "";
    String bus = "";
    try (nvmlPciInfo_t pci = new nvmlPciInfo_t()) {
      if (nvml.nvmlDeviceGetPciInfo_v3(d, pci) == SUCCESS) {
        byte[] b = new byte[32]; // NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE
        for (int k = 0; k < b.length; k++) {
          b[k] = pci.busId(k);
        }
        bus = Native.cString(b);
      }
    }
    long total = u;
    long used = u;
    long free = u;
    try (nvmlMemory_t m = new nvmlMemory_t()) {
      if (nvml.nvmlDeviceGetMemoryInfo(d, m) == SUCCESS) {
        total = m.total();
        used = m.used();
        free = m._free();
      }
    }
    int utilGpu = u;
    int utilMem = u;
    try (nvmlUtilization_t ut = new nvmlUtilization_t()) {
      if (nvml.nvmlDeviceGetUtilizationRates(d, ut) == SUCCESS) {
        utilGpu = ut.gpu();
        utilMem = ut.memory();
      }
    }
    int[] v = new int[1];
    int temp = nvml.nvmlDeviceGetTemperature(d, nvml.NVML_TEMPERATURE_GPU, v) == SUCCESS
        ? v[0] : u;
    double power = nvml.nvmlDeviceGetPowerUsage(d, v) == SUCCESS ? v[0] / 1000.0 : Double.NaN;
    double limit = nvml.nvmlDeviceGetEnforcedPowerLimit(d, v) == SUCCESS ? v[0] / 1000.0
        : Double.NaN;
    return new Dev(i, uuid, name, bus, total, used, free, utilGpu, utilMem, temp, power, limit,
        processes(d));
  }

  private static List<DeviceInfo.GpuProcess> processes(nvmlDevice_st d) {
    List<DeviceInfo.GpuProcess> out = new ArrayList<>();
    int cap = 64;
    try (IntPointer count = new IntPointer(1);
        nvmlProcessInfo_v2_t infos = new nvmlProcessInfo_v2_t(cap)) {
      count.put(cap);
      if (nvml.nvmlDeviceGetComputeRunningProcesses_v3(d, count, infos) != SUCCESS) {
        return out;
      }
      int n = Math.min(cap, count.get());
      for (int k = 0; k < n; k++) {
        nvmlProcessInfo_v2_t p = new nvmlProcessInfo_v2_t(infos).position(k);
        int pid = p.pid();
        byte[] nb = new byte[256];
        String pname = nvml.nvmlSystemGetProcessName(pid, nb, nb.length) == SUCCESS
            ? Native.cString(nb) : "";
        long mem = p.usedGpuMemory();
        // NVML_VALUE_NOT_AVAILABLE is ULLONG_MAX, i.e. -1 here
        out.add(new DeviceInfo.GpuProcess(pid & 0xffffffffL, pname, mem < 0 ? DeviceInfo.UNKNOWN : mem));
      }
    }
    return out;
  }
}
