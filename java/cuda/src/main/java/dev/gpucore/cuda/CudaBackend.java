package dev.gpucore.cuda;

import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Setting;
import dev.gpucore.cuda.bindings.EngineNative;
import dev.gpucore.cuda.bindings.GpuCoreNative;
import dev.gpucore.device.Discovery;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.HostArray;
import dev.gpucore.spi.BlasOps;
import dev.gpucore.spi.FaultPlan;
import dev.gpucore.spi.GpuBackend;
import dev.gpucore.spi.ReduceOps;
import dev.gpucore.spi.Router;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;

/** The CUDA backend. */
final class CudaBackend implements GpuBackend {
  private final Discovery discovery;
  private final DeviceState[] devices;
  private final ForkJoinPool copyPool;
  private final CudaBlas blas = new CudaBlas(this);
  private final CudaReduce reduce = new CudaReduce(this);

  private final List<Integer> gemmDeviceList;
  private final long gemmPanelBytes;
  private final boolean hostEngineNative;
  private final ExecutorService workers;
  private final String ltMode;
  private final CudaPeer peer;

  CudaBackend(Discovery discovery, Config config) {
    this.discovery = discovery;
    this.gemmDeviceList = Router.gpuList(config.settings(), discovery.devices().size());
    this.gemmPanelBytes = (long) (config.settings().get(Setting.GEMM_PANEL_MIB) * (1 << 20));
    this.ltMode = config.settings().get(Setting.GEMM_LT);
    this.hostEngineNative = config.settings().get(Setting.GEMM_HOST_ENGINE).equals("native");
    configureEngine(config.settings());
    this.workers = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "gpucore-gemm-worker");
      t.setDaemon(true);
      return t;
    });
    StagingConfig staging = StagingConfig.from(config.settings());
    FaultPlan faults = FaultPlan.from(config.settings());
    this.devices = new DeviceState[discovery.devices().size()];
    for (int i = 0; i < devices.length; i++) {
      devices[i] = new DeviceState(i, discovery.devices().get(i).cudaOrdinal(), staging,
          faults, config.settings().get(Setting.SCRATCH_CACHE_MIB) << 20);
    }
    this.peer = new CudaPeer(this, devices, config.settings());
    // room for an upload and a download staging at once (host GEMM pipelines)
    this.copyPool = staging.threads() > 1 ? new ForkJoinPool(2 * staging.threads() - 1,
        pool -> {
          var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
          t.setDaemon(true);
          t.setName("gpucore-staging-" + t.getPoolIndex());
          return t;
        }, null, false) : null;
  }

  ForkJoinPool copyPool() {
    return copyPool;
  }

  /** Which GEMMs go through cuBLASLt ({@code gpucore.gemm.lt}). */
  String ltMode() {
    return ltMode;
  }

  /** Threads for host-GEMM pipelines. */
  ExecutorService workers() {
    return workers;
  }

  /** Healthy devices {@code gpucore.gpu.list} names for host GEMMs. */
  List<DeviceState> gemmDevices() {
    List<DeviceState> out = new ArrayList<>();
    for (int i : gemmDeviceList) {
      if (devices[i].faulted() == null) {
        out.add(devices[i]);
      }
    }
    return out;
  }

  /** Bytes of A per row panel of a host GEMM ({@code gpucore.gemm.panelMiB}). */
  /**
   * Hands the engine's own settings to it before it first reads them (the environment and
   * GPUCORE_CONFIG's file reach it anyway; system properties only this way). When another core
   * of this process already used the engine, its settings stay, and a different value is a
   * warning.
   */
  private static void configureEngine(dev.gpucore.Settings settings) {
    for (Setting<?> key : List.of(Setting.BLAS_STAGE_MIB, Setting.BLAS_COPY_THREADS,
        Setting.BLAS_RESIDENT, Setting.BLAS_TILE_DIM, Setting.BLAS_PROFILE,
        Setting.BLAS_PROFILE_FILE, Setting.SCRATCH_CACHE_MIB)) {
      dev.gpucore.Settings.Value v = settings.value(key);
      if (v.source() != dev.gpucore.Settings.Source.PROPERTY
          && v.source() != dev.gpucore.Settings.Source.FILE) {
        continue; // the default, or the environment, which the engine reads itself
      }
      int rc = EngineNative.gpucore_engine_configure(key.key(), String.valueOf(settings.get(key)));
      if (rc != 0 && v.source() == dev.gpucore.Settings.Source.PROPERTY) {
        settings.warn(v.where() + " is not used: the GEMM engine of this process already read its"
            + " settings");
      }
    }
  }

  /** Whether fp32/fp64 host GEMMs run on the native engine (gpucore.gemm.hostEngine=native). */
  boolean hostEngineNative() {
    return hostEngineNative;
  }

  long gemmPanelBytes() {
    return gemmPanelBytes;
  }

  @Override
  public String faulted(int device) {
    return devices[checked(device)].faulted();
  }

  /**
   * Fault drill: provokes a real sticky fault (a kernel storing through a bad address) on
   * {@code device} and returns the exception it became; the device is then marked faulted and
   * this process's context on it is lost. For drills in a throw-away process only.
   */
  GpuCoreException drillIllegalAddress(int device) {
    DeviceState d = devices[device];
    d.enter();
    int st = GpuCoreNative.gc_drill_illegal_address();
    if (st == 0) {
      return new GpuCoreException("the fault drill on device " + device + " raised no error");
    }
    return CudaErrors.error(st, "fault drill (kernel storing through a bad address)", d);
  }

  @Override
  public dev.gpucore.device.DeviceHealth health(int device) {
    return Nvml.health(discovery.devices().get(checked(device)).nvmlIndex());
  }

  private int checked(int device) {
    if (device < 0 || device >= devices.length) {
      throw new GpuCoreException.InvalidArgument(
          "device must be in [0, " + devices.length + "), got " + device);
    }
    return device;
  }

  DeviceState device(int index) {
    return devices[index];
  }

  @Override
  public String name() {
    return "cuda";
  }

  @Override
  public Discovery discovery() {
    return discovery;
  }

  @Override
  public HostArray allocateHost(DType dtype, long length, boolean pinned) {
    if (!pinned) {
      return HostArray.allocatePageable(dtype, length);
    }
    long bytes = length * dtype.bytes();
    long[] out = new long[1];
    int s = GpuCoreNative.gc_malloc_host(out, bytes);
    if (s == CudaErrors.MEMORY_ALLOCATION) {
      throw new GpuCoreException.OutOfMemory("cudaMallocHost of " + bytes
          + " bytes failed: cudaErrorMemoryAllocation (" + s + ")", false, s,
          "cudaErrorMemoryAllocation");
    }
    CudaErrors.check(s, "cudaMallocHost(" + bytes + " bytes)", null);
    long addr = out[0];
    // zero it like the pageable kind, so no host array ever exposes stale memory
    org.bytedeco.javacpp.Pointer.memset(Native.at(addr), 0, Math.max(1, bytes));
    return dev.gpucore.spi.HostMemory.wrap(dtype, length, addr, true, () -> GpuCoreNative.gc_free_host(addr));
  }

  @Override
  public DeviceArray allocate(int device, DType dtype, long length) {
    return CudaDeviceArray.allocate(this, devices[device], dtype, length);
  }

  @Override
  public dev.gpucore.spi.RouteModel routeModel() {
    return MODEL;
  }

  private static final EngineModel MODEL = new EngineModel();

  @Override
  public boolean timesAreReal() {
    return true;
  }

  @Override
  public GpuStream createStream(int device) {
    return CudaStream.create(devices[device], devices[device].staging());
  }

  @Override
  public BlasOps blas() {
    return blas;
  }

  @Override
  public ReduceOps reductions() {
    return reduce;
  }

  @Override
  public dev.gpucore.spi.PeerOps peer() {
    return peer;
  }

  @Override
  public void close() {
    peer.close();
    for (DeviceState d : devices) {
      d.close();
    }
    if (copyPool != null) {
      copyPool.shutdown();
    }
    workers.shutdown();
  }
}
