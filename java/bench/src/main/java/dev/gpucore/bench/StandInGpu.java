package dev.gpucore.bench;

import dev.gpucore.DType;
import dev.gpucore.cuda.EngineModel;
import dev.gpucore.device.DeviceInfo;
import dev.gpucore.device.Discovery;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.HostArray;
import dev.gpucore.spi.Backend;
import dev.gpucore.spi.BlasOps;
import dev.gpucore.spi.GemmCall;
import dev.gpucore.spi.GpuBackend;
import dev.gpucore.spi.ReduceOps;
import dev.gpucore.spi.RouteModel;
import java.util.List;

/**
 * A GPU backend that only routes: one made-up H100 and the engine's routing model
 * (libgpucore_blas.so, asked through JNI by the CUDA backend's {@link EngineModel}), so that
 * the router's per-call cost with a GPU present can be measured on a machine without one. Small
 * host calls never reach it; a host GEMM that does (the router's occasional try of a route it
 * has not learnt) runs on the CPU backend it is given; anything else is refused.
 */
final class StandInGpu implements GpuBackend {
  private static final DeviceInfo H100 = new DeviceInfo(0, 0, 0, "GPU-00000000-stand-in",
      "H100 (stand-in)", "00000000:01:00.0", 9, 0, 132, 80L << 30, 0, 80L << 30, 0, 0, 40, 100,
      700, List.of());
  private static final RouteModel MODEL = new EngineModel();
  private final Backend cpu;

  /** A stand-in whose host GEMMs run on {@code cpu}. */
  StandInGpu(Backend cpu) {
    this.cpu = cpu;
  }

  @Override
  public String name() {
    return "stand-in-gpu";
  }

  @Override
  public Discovery discovery() {
    return new Discovery(List.of(H100), "580.00.00", 13000, 13000, true,
        List.of("stand-in GPU for benchmarks"), "");
  }

  @Override
  public boolean timesAreReal() {
    return true; // as the CUDA backend: the router learns (calibration is turned off)
  }

  @Override
  public RouteModel routeModel() {
    return MODEL;
  }

  @Override
  public HostArray allocateHost(DType dtype, long length, boolean pinned) {
    return HostArray.allocatePageable(dtype, length);
  }

  @Override
  public DeviceArray allocate(int device, DType dtype, long length) {
    throw new UnsupportedOperationException("the stand-in GPU has no memory");
  }

  @Override
  public GpuStream createStream(int device) {
    throw new UnsupportedOperationException("the stand-in GPU has no streams");
  }

  @Override
  public BlasOps blas() {
    return new BlasOps() {
      @Override
      public void gemm(GemmCall call) {
        if (!(call.place() instanceof GemmCall.OnHost)) {
          throw new UnsupportedOperationException("the stand-in GPU has no memory");
        }
        cpu.blas().gemm(call);
      }
    };
  }

  @Override
  public ReduceOps reductions() {
    throw new UnsupportedOperationException("the stand-in GPU computes nothing");
  }

  @Override
  public void close() {}
}
