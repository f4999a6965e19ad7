package dev.gpucore.cpu;

import dev.gpucore.Config;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Setting;
import dev.gpucore.spi.Backend;
import dev.gpucore.spi.BackendProvider;
import java.nio.file.Path;

/** Provides the CPU backend; it is always available where OpenBLAS's native library loads. */
public final class CpuBackendProvider implements BackendProvider {
  @Override
  public String name() {
    return "cpu";
  }

  @Override
  public int rank() {
    return 0;
  }

  @Override
  public Backend open(Config config) {
    int threads = CpuThreads.choose(config.cpuThreads(),
        Runtime.getRuntime().availableProcessors(), Path.of("/sys/fs/cgroup"));
    double inPlace = config.settings().get(Setting.CPU_IN_PLACE_MAX_MS);
    int timeout = config.settings().get(Setting.CPU_THREAD_TIMEOUT);
    double repackMax = config.settings().get(Setting.CPU_REPACK_MAX);
    boolean kSlabs = config.settings().get(Setting.CPU_K_SLABS);
    try {
      // on a thread of its own: JavaCPP's loader fails on an interrupted thread, and a class
      // whose static initializer failed stays unusable for the life of the JVM
      return dev.gpucore.spi.Uninterruptible.onOwnThread("gpucore-cpu-load",
          () -> new CpuBackend(threads, inPlace, repackMax, kSlabs, timeout,
              !CpuBackend.openBlasLoaded()));
    } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
      throw new GpuCoreException.DeviceUnavailable(
          "OpenBLAS could not be loaded: " + e.getMessage(), e);
    }
  }
}
