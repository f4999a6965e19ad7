package dev.gpucore.testkit;

import dev.gpucore.Config;
import dev.gpucore.spi.Backend;
import dev.gpucore.spi.BackendProvider;

/**
 * {@link FakeGpu} as a backend provider, ranked above the real GPU backend, for a child JVM
 * whose class path names it in a {@code META-INF/services/dev.gpucore.spi.BackendProvider} file
 * (never registered by the test kit itself). With {@code FAKE_GPU_WRONG=1} in the environment
 * its GEMM is 1% off, to see checks fail. Host work goes to the fake's own loops.
 */
public final class FakeGpuProvider implements BackendProvider {
  @Override
  public String name() {
    return "fake-gpu";
  }

  @Override
  public int rank() {
    return 1000;
  }

  @Override
  public Backend open(Config config) {
    FakeGpu gpu = new FakeGpu().configure(config, null);
    gpu.offByOnePercent = "1".equals(System.getenv("FAKE_GPU_WRONG"));
    return gpu;
  }
}
