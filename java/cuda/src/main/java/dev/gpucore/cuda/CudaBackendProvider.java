package dev.gpucore.cuda;

import dev.gpucore.Config;
import dev.gpucore.GpuCoreException;
import dev.gpucore.cuda.bindings.GpuCoreNative;
import dev.gpucore.device.Discovery;
import dev.gpucore.device.Visibility;
import dev.gpucore.spi.Backend;
import dev.gpucore.spi.BackendProvider;
import dev.gpucore.spi.FaultPlan;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Loader;

/**
 * Opens the CUDA backend: loads the CUDA runtime through bytedeco's preset (which names the
 * missing library when there is no driver), then gpucore's own kernels, then discovers devices.
 * No linkage error escapes: each failure becomes a one-line reason.
 */
public final class CudaBackendProvider implements BackendProvider {
  private static final Object LOCK = new Object();
  private static String loadFailure;
  private static boolean loaded;

  @Override
  public String name() {
    return "cuda";
  }

  @Override
  public int rank() {
    return 100;
  }

  /** The platforms (JavaCPP's names) gpucore's native libraries are built for. */
  static final java.util.List<String> NATIVE_PLATFORMS = java.util.List.of("linux-x86_64");

  /** Loads the native libraries once per process; returns empty or the reason they did not. */
  static String load() {
    synchronized (LOCK) {
      if (!loaded && loadFailure == null) {
        // on a thread of its own: an interrupt must not poison the one-time load
        String failure = dev.gpucore.spi.Uninterruptible.onOwnThread("gpucore-cuda-load", () -> {
          String platform = Loader.getPlatform();
          if (!NATIVE_PLATFORMS.contains(platform)) {
            return "gpucore's GPU libraries are built for " + String.join(", ", NATIVE_PLATFORMS)
                + " only; this is " + platform;
          }
          try {
            Loader.load(cudart.class);
          } catch (Throwable t) {
            return LoadErrors.cudaRuntime(t);
          }
          try {
            GpuCoreNative.load();
          } catch (Throwable t) {
            return "gpucore's native library could not be loaded (" + LoadErrors.describe(t)
                + ")";
          }
          try {
            dev.gpucore.cuda.bindings.EngineNative.load();
          } catch (Throwable t) {
            return "gpucore's GEMM engine (libgpucore_blas.so) could not be loaded ("
                + LoadErrors.describe(t) + ")";
          }
          int version = dev.gpucore.cuda.bindings.EngineNative.gpucore_engine_version();
          if (version != dev.gpucore.cuda.bindings.EngineNative.VERSION) {
            return "gpucore's GEMM engine (libgpucore_blas.so) is version " + version + "; this "
                + "gpucore needs version " + dev.gpucore.cuda.bindings.EngineNative.VERSION
                + " (a libgpucore_blas.so of another gpucore release is first on the library path)";
          }
          return "";
        });
        if (failure.isEmpty()) {
          loaded = true;
        } else {
          loadFailure = failure;
        }
      }
      return loaded ? "" : loadFailure;
    }
  }

  @Override
  public Backend open(Config config) {
    FaultPlan faults = FaultPlan.from(config.settings());
    if (faults.driverMismatch()) {
      throw new GpuCoreException.DeviceUnavailable(
          CudaErrors.explainDiscovery(FaultPlan.INSUFFICIENT_DRIVER) + " [" + faults.describe() + "]");
    }
    String failure = load();
    if (!failure.isEmpty()) {
      throw new GpuCoreException.DeviceUnavailable(failure);
    }
    Discovery d = CudaDiscovery.discover(Visibility.fromEnvironment());
    if (!d.hasGpu()) {
      throw new GpuCoreException.DeviceUnavailable(d.noGpuReason());
    }
    return new CudaBackend(d, config);
  }
}
