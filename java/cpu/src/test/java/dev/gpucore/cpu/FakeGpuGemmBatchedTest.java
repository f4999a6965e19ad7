package dev.gpucore.cpu;

import dev.gpucore.GpuCore;
import dev.gpucore.testkit.FakeGpu;
import dev.gpucore.testkit.GemmBatchedContract;
import dev.gpucore.testkit.OnCpuBackend;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * The batched GEMM contract on a core whose host GEMMs all go to the test kit's fake GPU (two
 * devices, 1 MiB panels): the router's path for host batches, as on a GPU host, on every
 * machine.
 */
@OnCpuBackend
class FakeGpuGemmBatchedTest extends GemmBatchedContract {
  private FakeGpu gpu;
  private GpuCore fake;

  @BeforeEach
  void onFakeGpu() {
    gpu = new FakeGpu(2);
    fake = gpu.core(Map.of("gpucore.gemm.route", "gpu", "gpucore.gemm.panelMiB", "1"),
        new CpuBackendProvider());
    core = fake;
  }

  @AfterEach
  void closeFake() {
    fake.close();
  }
}
