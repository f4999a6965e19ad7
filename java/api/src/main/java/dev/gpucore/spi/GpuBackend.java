package dev.gpucore.spi;

import dev.gpucore.DType;
import dev.gpucore.device.DeviceHealth;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;

/** A backend with GPUs: device memory, streams and device-resident math. */
public interface GpuBackend extends Backend {
  /** Allocates {@code length} elements on device {@code device} (gpucore index). */
  DeviceArray allocate(int device, DType dtype, long length);

  /** Creates a stream on device {@code device}. */
  GpuStream createStream(int device);

  /** The routing model the router decides host GEMMs by. */
  RouteModel routeModel();

  /**
   * Whether the router may measure its figures by timing this backend's GEMMs and copies
   * ({@link RouteCalibration}) and learn from the times of the calls it routes. A stand-in
   * backend, whose times mean nothing, says no (the default).
   */
  default boolean timesAreReal() {
    return false;
  }

  /**
   * Why device {@code device} is unusable (a sticky error poisoned its context), or null while
   * it is healthy. The router stops sending work to a faulted device; {@code gpucore doctor}
   * reports it.
   */
  default String faulted(int device) {
    return null;
  }

  /**
   * NVML's health counters of device {@code device}: ECC errors, retired pages, remapped rows and
   * clock-event reasons, read now. Best effort: a query the device or driver does not support is
   * reported in its {@link DeviceHealth.Reading}, never thrown. The default reads nothing.
   */
  default DeviceHealth health(int device) {
    return DeviceHealth.unknown("the " + name() + " backend does not report device health");
  }

  /** Copies between GPUs and their topology; backends without them throw. */
  default PeerOps peer() {
    throw new dev.gpucore.GpuCoreException.DeviceUnavailable(
        "the " + name() + " backend has no peer-to-peer copies");
  }

}
