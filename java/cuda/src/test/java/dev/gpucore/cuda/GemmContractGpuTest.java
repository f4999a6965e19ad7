package dev.gpucore.cuda;

import dev.gpucore.GpuCore;
import dev.gpucore.blas.Blas;
import dev.gpucore.testkit.GemmContract;
import dev.gpucore.testkit.GpuTests;
import dev.gpucore.testkit.RequiresGpu;
import org.junit.jupiter.api.AfterAll;

/**
 * The GEMM contract on a core with a GPU, every call forced through the GPU's host-operand
 * pipeline with 1 MiB panels (so the larger shapes take several tiles); device operands and
 * the reduced precisions are {@link GemmGpuTest}'s.
 */
@RequiresGpu
class GemmContractGpuTest extends GemmContract {
  private static GpuCore forced;

  @Override
  protected Blas blasUnderTest(GpuCore given) {
    if (forced == null) {
      forced = GpuTests.openGpu("gpucore.gemm.route=gpu", "gpucore.gemm.panelMiB=1");
    }
    return forced.blas();
  }

  @AfterAll
  static void close() {
    if (forced != null) {
      forced.close();
      forced = null;
    }
  }
}
