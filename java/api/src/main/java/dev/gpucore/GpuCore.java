package dev.gpucore;

import dev.gpucore.blas.Blas;
import dev.gpucore.device.DeviceHealth;
import dev.gpucore.device.DeviceInfo;
import dev.gpucore.device.Discovery;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.HostArray;
import dev.gpucore.p2p.PeerCopy;
import dev.gpucore.reduce.Reduce;
import dev.gpucore.spi.Backend;
import dev.gpucore.spi.BackendProvider;
import dev.gpucore.spi.Backends;
import dev.gpucore.spi.Cores;
import dev.gpucore.spi.Facades;
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
  static {
    Cores.register(new Cores.Access() {
      @Override
      public GpuCore of(Config config, Backend cpu, GpuBackend gpu, String noGpuReason) {
        Check.notNull(config, "config");
        Check.notNull(cpu, "cpu");
        return new GpuCore(config, cpu, gpu, gpu != null ? ""
            : noGpuReason == null || noGpuReason.isBlank() ? "no GPU backend was given"
                : noGpuReason);
      }

      @Override
      public Backends backends(GpuCore core) {
        return core.backends;
      }
    });
  }

  private final Backends backends;
  private final Blas blas;
  private final Reduce reduce;
  private final PeerCopy peer;

  private GpuCore(Config config, Backend cpu, GpuBackend gpu, String noGpuReason) {
    this.backends = new Backends(config, cpu, gpu, noGpuReason);
    this.blas = Facades.blas(backends);
    this.reduce = Facades.reduce(backends);
    this.peer = Facades.peer(backends);
  }

  /** Opens with the configuration from system properties and the environment. */
  public static GpuCore open() {
    return open(Config.fromEnvironment());
  }

  /**
   * Opens the CPU backend and, unless the configuration says {@code cpu}, the best GPU backend
   * that loads.
   *
   * @throws GpuCoreException.InvalidArgument when a setting is malformed or out of range (every
   *     setting is checked here, whichever backends come up)
   * @throws GpuCoreException.DeviceUnavailable when the configuration requires a GPU and none
   *     is usable, or when no CPU backend is on the class path
   */
  public static GpuCore open(Config config) {
    Check.notNull(config, "config");
    config.settings().validate();
    dev.gpucore.spi.PromptExit.install(config.settings());
    List<BackendProvider> providers = new ArrayList<>();
    ServiceLoader.load(BackendProvider.class, GpuCore.class.getClassLoader())
        .forEach(providers::add);
    // the CPU backend first: it must be the one to load OpenBLAS into the process, before the
    // GPU backend's GEMM engine looks for one (it would take a system libopenblas.so.0), so
    // that the OpenBLAS settings it applies at load (gpucore.cpu.threadTimeout) take effect and
    // one OpenBLAS serves both; then the GPU backends, highest rank first
    providers.sort(Comparator.comparing((BackendProvider p) -> !p.name().equals("cpu"))
        .thenComparing(Comparator.comparingInt(BackendProvider::rank).reversed()));
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
      } catch (RuntimeException | Error e) {
        if (cpu != null) {
          cpu.close(); // opened first: not left behind
        }
        throw e;
      }
    }
    String reason = "";
    if (gpu == null) {
      if (config.backend() == Config.Backend.CPU) {
        reason = "the CPU backend was requested (" + Setting.BACKEND.key() + " / "
            + Setting.BACKEND.envName() + " = cpu)";
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


  /** The configuration in force. */
  public Config config() {
    return backends.config();
  }

  /** Whether a GPU is usable. */
  public boolean hasGpu() {
    return backends.hasGpu();
  }

  /** Why no GPU is usable, in one line; empty when one is. */
  public String noGpuReason() {
    return backends.noGpuReason();
  }

  /** Name of the backend that device work goes to: {@code cuda} or {@code cpu}. */
  public String backendName() {
    GpuBackend g = backends.gpuOrNull();
    return g != null ? g.name() : backends.cpu().name();
  }

  /** The discovery snapshot taken at open (empty device list without a GPU). */
  public Discovery discovery() {
    return backends.discovery();
  }

  /** The usable GPUs. */
  public List<DeviceInfo> devices() {
    return backends.devices();
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
  public PeerCopy peer() {
    return peer;
  }

  /**
   * Why GPU {@code device} is faulted (a sticky error poisoned its context: the router sends it
   * no more work), or null while it is healthy.
   *
   * @throws GpuCoreException.DeviceUnavailable without a GPU
   */
  public String faulted(int device) {
    backends.checkDevice(device);
    return backends.gpu().faulted(device);
  }

  /**
   * NVML's health counters of GPU {@code device} (ECC errors, retired pages, remapped rows and
   * the like), or why they are unknown.
   *
   * @throws GpuCoreException.DeviceUnavailable without a GPU
   */
  public DeviceHealth health(int device) {
    backends.checkDevice(device);
    return backends.gpu().health(device);
  }

  /**
   * Allocates {@code length} elements on GPU {@code device}.
   *
   * @throws GpuCoreException.DeviceUnavailable without a GPU
   * @throws GpuCoreException.OutOfMemory when the device has no room
   */
  public DeviceArray allocate(int device, DType dtype, long length) {
    return backends.allocate(device, dtype, length);
  }

  /**
   * Allocates off-heap host memory. Pinned memory needs a GPU; without one the array is
   * pageable and {@link HostArray#isPinned()} says so.
   */
  public HostArray allocateHost(DType dtype, long length, boolean pinned) {
    backends.ensureOpen();
    Check.notNull(dtype, "dtype");
    HostArray.requireHostType(dtype);
    Check.nonNegative(length, "length");
    Check.multiply(length, dtype.bytes(), "length in bytes");
    GpuBackend g = backends.gpuOrNull();
    return g != null && pinned ? g.allocateHost(dtype, length, true)
        : backends.cpu().allocateHost(dtype, length, false);
  }

  /** Creates a stream on GPU {@code device}. */
  public GpuStream stream(int device) {
    GpuBackend g = backends.gpu();
    backends.checkDevice(device);
    return g.createStream(device);
  }

  /** Closes the backends. */
  @Override
  public void close() {
    if (!backends.markClosed()) {
      return;
    }
    GpuBackend g = backends.gpuOrNull();
    try {
      if (g != null) {
        g.close();
      }
    } finally {
      backends.cpuUnchecked().close();
    }
  }
}
