package dev.gpucore.cuda;

import dev.gpucore.cuda.bindings.EngineNative;
import dev.gpucore.spi.RouteModel;

/** The routing model of libgpucore_blas.so's engine, the one its sgemm_/dgemm_ route by. */
final class EngineModel implements RouteModel {
  @Override
  public Estimate estimate(Input in) {
    int precision = switch (in.precision()) {
      case TF32 -> 1;
      case BF16, FP16 -> 2;
      case FP64 -> 3;
      default -> 0;
    };
    int[] ints = {precision, in.betaNonZero() ? 1 : 0, in.gpus(), in.ccMajor(), in.sms(),
        in.cpuThreads()};
    double[] doubles = {in.flops(), in.bytesA(), in.bytesB(), in.bytesC(), in.cpuGflops(),
        in.gpuGflops(), in.busGBs(), in.overheadMs()};
    double[] out = new double[9];
    EngineNative.gc_engine_model(ints, doubles, out);
    return new Estimate(out[0] != 0, out[1], out[2], out[3], out[4], out[5], out[6], out[7],
        out[8]);
  }
}
