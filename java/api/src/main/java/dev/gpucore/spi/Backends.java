package dev.gpucore.spi;

import dev.gpucore.Check;
import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import dev.gpucore.device.DeviceInfo;
import dev.gpucore.device.Discovery;
import dev.gpucore.memory.DeviceArray;
import java.util.List;

/**
 * The backends of one open core as the API's facades ({@code Blas}, {@code Reduce},
 * {@code PeerCopy}) reach them: the CPU backend, the GPU backend if there is one, and whether
 * the core is still open. The core owns them and closes them.
 */
public final class Backends {
  private final Config config;
  private final Backend cpu;
  private final GpuBackend gpu;
  private final String noGpuReason;
  private final Router router;
  private volatile boolean closed;

  /**
   * The backends of a core.
   *
   * @param gpu the GPU backend, or null
   * @param noGpuReason why there is no GPU (empty when there is one)
   */
  public Backends(Config config, Backend cpu, GpuBackend gpu, String noGpuReason) {
    this.config = Check.notNull(config, "config");
    this.cpu = Check.notNull(cpu, "cpu");
    this.gpu = gpu;
    this.noGpuReason = noGpuReason;
    // checked on every machine: a GPU index that is not there is a warning even without a GPU
    List<Integer> gpus = Router.gpuList(config.settings(),
        gpu == null || gpu.discovery().devices().isEmpty() ? 0
            : gpu.discovery().devices().size());
    List<DeviceInfo> infos = gpus.stream().map(i -> gpu.discovery().devices().get(i)).toList();
    RouteModel model = gpus.isEmpty() ? null : gpu.routeModel();
    int threads = cpu.cpuThreads();
    Router.Calibrator calibrator = gpus.isEmpty() || !gpu.timesAreReal() ? null
        : key -> RouteCalibration.measure(cpu, gpu, gpus.get(0), gpus.size(), infos.get(0), model,
            threads, key);
    this.router = new Router(config.settings(), gpus, i -> gpu.faulted(i), infos, model, threads,
        calibrator);
  }

  /** The router deciding where GEMMs on host operands run. */
  public Router router() {
    return router;
  }

  /** The configuration in force. */
  public Config config() {
    return config;
  }

  /** The CPU backend; throws when the core is closed. */
  public Backend cpu() {
    ensureOpen();
    return cpu;
  }

  /** The GPU backend; throws when there is none or the core is closed. */
  public GpuBackend gpu() {
    ensureOpen();
    if (gpu == null) {
      throw new GpuCoreException.DeviceUnavailable("No GPU visible: " + noGpuReason);
    }
    return gpu;
  }

  /** The CPU backend, whether or not the core is open (for closing). */
  public Backend cpuUnchecked() {
    return cpu;
  }

  /** Whether there is a GPU backend. */
  public boolean hasGpu() {
    return gpu != null;
  }

  /** The GPU backend or null, whether or not the core is open (for closing and naming). */
  public GpuBackend gpuOrNull() {
    return gpu;
  }

  /** Why no GPU is usable; empty when one is. */
  public String noGpuReason() {
    return noGpuReason;
  }

  /** The discovery snapshot taken at open (empty device list without a GPU). */
  public Discovery discovery() {
    return gpu != null ? gpu.discovery() : Discovery.none(noGpuReason, List.of());
  }

  /** The usable GPUs. */
  public List<DeviceInfo> devices() {
    return discovery().devices();
  }

  /** Checks {@code device} against the usable GPUs. */
  public void checkDevice(int device) {
    int n = gpu().discovery().devices().size();
    if (device < 0 || device >= n) {
      throw new GpuCoreException.InvalidArgument(
          "device must be in [0, " + n + "), got " + device);
    }
  }

  /** Checks the arguments and allocates {@code length} elements on GPU {@code device}. */
  public DeviceArray allocate(int device, DType dtype, long length) {
    GpuBackend g = gpu();
    Check.notNull(dtype, "dtype");
    checkDevice(device);
    Check.nonNegative(length, "length");
    Check.multiply(length, dtype.bytes(), "length in bytes");
    return g.allocate(device, dtype, length);
  }

  /** Throws when the core is closed. */
  public void ensureOpen() {
    if (closed) {
      throw new GpuCoreException.InvalidArgument("this GpuCore is closed");
    }
  }

  /** Whether the core is closed. */
  public boolean isClosed() {
    return closed;
  }

  /** Marks the core closed (the core then closes the backends); false if it already was. */
  public synchronized boolean markClosed() {
    if (closed) {
      return false;
    }
    closed = true;
    return true;
  }
}
