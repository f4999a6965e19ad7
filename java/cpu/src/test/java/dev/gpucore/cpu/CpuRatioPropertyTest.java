package dev.gpucore.cpu;

import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.blas.Precision;
import dev.gpucore.testkit.FakeGpu;
import dev.gpucore.testkit.GemmProperties;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.DoubleRange;

/**
 * {@code gpucore.gemm.cpuRatio}: host GEMMs routed to a (fake) GPU with a share of C's rows
 * computed on the CPU at the same time give the results of the unsplit call, for every case of
 * {@link GemmProperties} (layouts, transposes, views, offsets, alpha and beta, batches), and
 * leave everything outside C untouched.
 */
class CpuRatioPropertyTest {
  @Provide
  Arbitrary<GemmProperties.Case> cases() {
    return GemmProperties.cases(List.of(DType.FLOAT32, DType.FLOAT64),
        List.of(Precision.FP32, Precision.DEFAULT));
  }

  @Property(tries = 150)
  void splitCallsMatchFloat64Reference(@ForAll("cases") GemmProperties.Case c,
      @ForAll @DoubleRange(min = 0.01, max = 0.99) double ratio) {
    Config config = Config.from(Map.of("gpucore.gemm.route", "gpu", "gpucore.gemm.cpuRatio",
        String.format(Locale.ROOT, "%.3f", ratio), "gpucore.gemm.panelMiB", "1"), Map.of());
    var cpu = new CpuBackendProvider().open(config);
    try (GpuCore core = dev.gpucore.spi.Cores.of(config, cpu, new FakeGpu(2).configure(config, cpu), null);
        GemmProperties.Store s = new GemmProperties.JavaStore()) {
      GemmProperties.check(core, s, c, Precision.FP32, 2);
    }
  }
}
