package dev.gpucore;

import dev.gpucore.blas.Blas;
import dev.gpucore.device.DeviceInfo;
import dev.gpucore.device.Discovery;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.HostArray;
import dev.gpucore.reduce.Reduce;
import dev.gpucore.spi.Backend;
import dev.gpucore.spi.BackendProvider;
import dev.gpucore.spi.GpuBackend;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/**
 * The entry point: opens the backends and owns what they hold.
 *
 * <pre>{@code
 * try (GpuCore core = GpuCore.open()) {
 *   if (!core.hasGpu()) System.out.println("CPU only: " + core.noGpuReason());
 *   ...
 * }
 * }</pre>
 *
 * <p>{@link #open()} works on every machine: with no GPU, no driver or no native library it
 * comes up on the CPU backend and {@link #noGpuReason()} says why in one line. Closing the core
 * closes the backends; arrays and streams should be closed before it.
 */
public final class GpuCore implements AutoCloseable {
  private final Config config;
  private final Backend cpu;
  private final GpuBackend gpu;
  private final String noGpuReason;
  private final Blas blas;
  private final Reduce reduce;
  private final dev.gpucore.p2p.PeerCopy peer = new dev.gpucore.p2p.PeerCopy(this);
  private volatile boolean closed;

  private GpuCore(Config config, Backend cpu, GpuBackend gpu, String noGpuReason) {
    this.config = config;
    this.cpu = cpu;
    this.gpu = gpu;
    this.noGpuReason = noGpuReason;
    List<Integer> gpus = gpu == null || !hasUsable(gpu) ? List.of()
        : dev.gpucore.blas.Router.gpuList(config.settings(), gpu.discovery().devices().size());
    this.blas = new Blas(this, new dev.gpucore.blas.Router(config.settings(), gpus,
        i -> gpu.faulted(i), gpu == null ? null : gpu.discovery().devices().get(0),
        cpu.cpuThreads()));
    this.reduce = new Reduce(this);
  }

  private static boolean hasUsable(GpuBackend g) {
    return !g.discovery().devices().isEmpty();
  }

  /** Opens with the configuration from system properties and the environment. */
  public static GpuCore open() {
    return open(Config.fromEnvironment());
  }

  /**
   * Opens the CPU backend and, unless the configuration says {@code cpu}, the best GPU backend
   * that loads.
   *
   * @throws GpuCoreException.DeviceUnavailable when the configuration requires a GPU and none
   *     is usable, or when no CPU backend is on the class path
   */
  public static GpuCore open(Config config) {
    Check.notNull(config, "config");
    dev.gpucore.spi.PromptExit.install(config.settings());
    List<BackendProvider> providers = new ArrayList<>();
    ServiceLoader.load(BackendProvider.class, GpuCore.class.getClassLoader())
        .forEach(providers::add);
    providers.sort(Comparator.comparingInt(BackendProvider::rank).reversed());
    Backend cpu = null;
    GpuBackend gpu = null;
    List<String> reasons = new ArrayList<>();
    for (BackendProvider p : providers) {
      if (p.name().equals("cpu")) {
        if (cpu == null) {
          try {
            cpu = p.open(config);
          } catch (RuntimeException e) {
            if (gpu != null) {
              gpu.close();
            }
            throw e;
          }
        }
        continue;
      }
      if (config.backend() == Config.Backend.CPU || gpu != null) {
        continue;
      }
      try {
        Backend b = p.open(config);
        if (b instanceof GpuBackend g && g.discovery().hasGpu()) {
          gpu = g;
        } else {
          reasons.add(b.discovery().noGpuReason());
          b.close();
        }
      } catch (GpuCoreException.DeviceUnavailable e) {
        reasons.add(e.getMessage());
      }
    }
    String reason = "";
    if (gpu == null) {
      if (config.backend() == Config.Backend.CPU) {
        reason = "the CPU backend was requested (gpucore.backend / GPUCORE_BACKEND = cpu)";
      } else if (reasons.isEmpty()) {
        reason = "no GPU backend on the class path (add gpucore-cuda)";
      } else {
        reason = String.join("; ", reasons);
      }
    }
    if (cpu == null) {
      if (gpu != null) {
        gpu.close();
      }
      throw new GpuCoreException.DeviceUnavailable(
          "no CPU backend on the class path (add gpucore-cpu)");
    }
    if (gpu == null && config.backend() == Config.Backend.CUDA) {
      cpu.close();
      throw new GpuCoreException.DeviceUnavailable("a GPU was required but " + reason);
    }
    return new GpuCore(config, cpu, gpu, reason);
  }

  /**
   * A core over backends the caller built: for backend implementations, fault drills and
   * tests that stand in a simulated GPU. {@link #open()} is the way for applications.
   *
   * @param gpu the GPU backend, or null for a CPU-only core
   * @param noGpuReason why there is no GPU (used when {@code gpu} is null)
   */
  public static GpuCore of(Config config, Backend cpu, GpuBackend gpu, String noGpuReason) {
    Check.notNull(config, "config");
    Check.notNull(cpu, "cpu");
    return new GpuCore(config, cpu, gpu, gpu != null ? ""
        : noGpuReason == null || noGpuReason.isBlank() ? "no GPU backend was given" : noGpuReason);
  }

  /** The configuration in force. */
  public Config config() {
    return config;
  }

  /** Whether a GPU is usable. */
  public boolean hasGpu() {
    return gpu != null;
  }

  /** Why no GPU is usable, in one line; empty when one is. */
  public String noGpuReason() {
    return noGpuReason;
  }

  /** Name of the backend that device work goes to: {@code cuda} or {@code cpu}. */
  public String backendName() {
    return gpu != null ? gpu.name() : cpu.name();
  }

  /** The discovery snapshot taken at open (empty device list without a GPU). */
  public Discovery discovery() {
    return gpu != null ? gpu.discovery() : Discovery.none(noGpuReason, List.of());
  }

  /** The usable GPUs. */
  public List<DeviceInfo> devices() {
    return discovery().devices();
  }

  /** GEMM on host and device data. */
  public Blas blas() {
    return blas;
  }

  /** Reductions on host and device data. */
  public Reduce reduce() {
    return reduce;
  }

  /** Copies between GPUs, broadcast, gather and the GPU topology. */
  public dev.gpucore.p2p.PeerCopy peer() {
    return peer;
  }

  /**
   * Allocates {@code length} elements on GPU {@code device}.
   *
   * @throws GpuCoreException.DeviceUnavailable without a GPU
   * @throws GpuCoreException.OutOfMemory when the device has no room
   */
  public DeviceArray allocate(int device, DType dtype, long length) {
    GpuBackend g = gpu();
    Check.notNull(dtype, "dtype");
    checkDevice(device);
    Check.nonNegative(length, "length");
    Check.multiply(length, dtype.bytes(), "length in bytes");
    return g.allocate(device, dtype, length);
  }

  /**
   * Allocates off-heap host memory. Pinned memory needs a GPU; without one the array is
   * pageable and {@link HostArray#isPinned()} says so.
   */
  public HostArray allocateHost(DType dtype, long length, boolean pinned) {
    ensureOpen();
    Check.notNull(dtype, "dtype");
    HostArray.requireHostType(dtype);
    Check.nonNegative(length, "length");
    Check.multiply(length, dtype.bytes(), "length in bytes");
    return gpu != null && pinned ? gpu.allocateHost(dtype, length, true)
        : cpu.allocateHost(dtype, length, false);
  }

  /** Creates a stream on GPU {@code device}. */
  public GpuStream stream(int device) {
    GpuBackend g = gpu();
    checkDevice(device);
    return g.createStream(device);
  }

  /** The GPU backend, for the API's own classes; throws when there is none. */
  public GpuBackend gpu() {
    ensureOpen();
    if (gpu == null) {
      throw new GpuCoreException.DeviceUnavailable("No GPU visible: " + noGpuReason);
    }
    return gpu;
  }

  /** The CPU backend, for the API's own classes. */
  public Backend cpu() {
    ensureOpen();
    return cpu;
  }

  private void checkDevice(int device) {
    int n = gpu.discovery().devices().size();
    if (device < 0 || device >= n) {
      throw new GpuCoreException.InvalidArgument(
          "device must be in [0, " + n + "), got " + device);
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new GpuCoreException.InvalidArgument("this GpuCore is closed");
    }
  }

  /** Closes the backends. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (gpu != null) {
        gpu.close();
      }
    } finally {
      cpu.close();
    }
  }
}
