package dev.gpucore.spi;

import dev.gpucore.Config;
import dev.gpucore.GpuCoreException;

/**
 * Finds and opens a backend. Registered with {@link java.util.ServiceLoader}. A provider must
 * not let a linkage error escape: a backend that cannot load (no driver, no native library)
 * throws {@link GpuCoreException.DeviceUnavailable} with a one-line reason.
 */
public interface BackendProvider {
  /** Short name of the backend it opens. */
  String name();

  /** Preference: the highest-ranked backend that opens is used for device work. */
  int rank();

  /** Opens the backend, or says in one line why it cannot. */
  Backend open(Config config) throws GpuCoreException.DeviceUnavailable;
}
