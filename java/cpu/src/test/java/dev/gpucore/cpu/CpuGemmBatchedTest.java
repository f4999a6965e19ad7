package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.gpucore.DType;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.spi.Cores;
import dev.gpucore.spi.GemmCall;
import dev.gpucore.testkit.GemmBatchedContract;
import dev.gpucore.testkit.OnCpuBackend;
import org.junit.jupiter.api.Test;

/**
 * The batched GEMM contract on the CPU backend, and the CPU backend's own batched path: the SPI
 * default, which runs the items one by one.
 */
@OnCpuBackend
class CpuGemmBatchedTest extends GemmBatchedContract {
  @Test
  void spiDefaultRunsEveryItem() {
    // BlasOps.gemmBatched's default (the CPU backend keeps it): gemm on each item in order
    double[] a = {1, 2, 3, 4};
    double[] b = {5, 6, 7, 8};
    double[] c0 = new double[4];
    double[] c1 = new double[4];
    GemmCall i0 = new GemmCall(false, false, 2, 2, 2, 1, 0, Precision.FP64, DType.FLOAT64,
        Operand.of(a), 2, Operand.of(b), 2, Operand.of(c0), 2, 1, 0, 0, 0, null,
        GemmCall.OnHost.INSTANCE);
    GemmCall i1 = new GemmCall(false, true, 2, 2, 2, 2, 0, Precision.FP64, DType.FLOAT64,
        Operand.of(b), 2, Operand.of(a), 2, Operand.of(c1), 2, 1, 0, 0, 0, null,
        GemmCall.OnHost.INSTANCE);
    Cores.backends(core).cpu().blas().gemmBatched(new GemmCall[] {i0, i1});
    assertArrayEquals(new double[] {19, 22, 43, 50}, c0);
    assertArrayEquals(new double[] {2 * 17, 2 * 39, 2 * 23, 2 * 53}, c1);
  }
}
