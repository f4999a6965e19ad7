package dev.gpucore.cuda;

import dev.gpucore.cuda.bindings.EngineNative;
import dev.gpucore.spi.RouteModel;

/**
 * The routing model of libgpucore_blas.so's engine, the one its sgemm_/dgemm_ route by. Asked
 * for every routed host GEMM, so the call is cheap: per-thread arrays, read in a critical region.
 * Public (in a package the module does not export) so that the benchmarks' stand-in GPU routes
 * by the same model.
 */
public final class EngineModel implements RouteModel {
  private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

  private static final class Buffers {
    final int[] ints = new int[6];
    final double[] doubles = new double[8];
    final double[] out = new double[9];
  }

  @Override
  public Estimate estimate(Input in) {
    int precision = switch (in.precision()) {
      case TF32 -> 1;
      case BF16, FP16 -> 2;
      case FP64 -> 3;
      default -> 0;
    };
    Buffers b = BUFFERS.get();
    int[] ints = b.ints;
    ints[0] = precision;
    ints[1] = in.betaNonZero() ? 1 : 0;
    ints[2] = in.gpus();
    ints[3] = in.ccMajor();
    ints[4] = in.sms();
    ints[5] = in.cpuThreads();
    double[] doubles = b.doubles;
    doubles[0] = in.flops();
    doubles[1] = in.bytesA();
    doubles[2] = in.bytesB();
    doubles[3] = in.bytesC();
    doubles[4] = in.cpuGflops();
    doubles[5] = in.gpuGflops();
    doubles[6] = in.busGBs();
    doubles[7] = in.overheadMs();
    double[] out = b.out;
    EngineNative.gc_engine_model(ints, doubles, out);
    return new Estimate(out[0] != 0, out[1], out[2], out[3], out[4], out[5], out[6], out[7],
        out[8]);
  }
}
