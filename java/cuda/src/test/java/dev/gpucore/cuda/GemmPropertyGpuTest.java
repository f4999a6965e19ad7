package dev.gpucore.cuda;

import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.testkit.GemmProperties;
import dev.gpucore.testkit.GemmProperties.Breakage;
import dev.gpucore.testkit.GemmProperties.Case;
import dev.gpucore.testkit.GemmProperties.Store;
import dev.gpucore.testkit.GpuTests;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.lifecycle.LifecycleContext;
import net.jqwik.api.lifecycle.PropagationMode;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;
import net.jqwik.api.lifecycle.SkipExecutionHook;

/**
 * The GEMM properties of {@link GemmProperties} (the CPU module runs them too) on the GPU:
 * device arrays in
 * strict FP32, in TF32, BF16 and FP16 on fp32 data (bounds from their input rounding) and in
 * FP64, host arrays routed to the GPU's tiled pipeline (1 MiB panels, so several tiles), the
 * same split with the CPU by {@code gpucore.gemm.cpuRatio}, and
 * invalid arguments on device arrays. Without a GPU each property is reported as skipped with
 * the reason; under {@code -Dgpucore.requireGpu=true} it fails instead (see {@link GpuTests}).
 */
@AddLifecycleHook(value = GemmPropertyGpuTest.NeedsGpu.class,
    propagateTo = PropagationMode.DIRECT_DESCENDANTS)
class GemmPropertyGpuTest {
  static GpuCore core;
  /** Host operands forced to the GPU pipeline with 1 MiB panels. */
  static GpuCore forced;
  /** The same with gpucore.gemm.cpuRatio = 0.3: the CPU computes C's last rows meanwhile. */
  static GpuCore split;

  @BeforeContainer
  static void open() {
    gpuCore();
    if (core.hasGpu()) {
      Map<String, String> p = new HashMap<>();
      p.put("gpucore.gemm.route", "gpu");
      p.put("gpucore.gemm.panelMiB", "1");
      forced = GpuCore.open(Config.from(p, System.getenv()));
      p.put("gpucore.gemm.cpuRatio", "0.3");
      split = GpuCore.open(Config.from(p, System.getenv()));
    }
  }

  @AfterContainer
  static void close() {
    if (forced != null) {
      forced.close();
      forced = null;
    }
    if (split != null) {
      split.close();
      split = null;
    }
    if (core != null) {
      core.close();
      core = null;
    }
  }

  static synchronized GpuCore gpuCore() {
    if (core == null) {
      core = GpuCore.open();
    }
    return core;
  }

  /**
   * Skips every property, with the reason, where no GPU is visible, unless
   * {@code gpucore.requireGpu} is set: then the property runs and {@link GpuTests#require}
   * fails it.
   */
  public static final class NeedsGpu implements SkipExecutionHook {
    @Override
    public SkipResult shouldBeSkipped(LifecycleContext context) {
      if (!(context instanceof PropertyLifecycleContext)) {
        return SkipResult.doNotSkip();
      }
      GpuCore c = gpuCore();
      if (c.hasGpu() || GpuTests.REQUIRE) {
        return SkipResult.doNotSkip();
      }
      return SkipResult.skip("No GPU visible: " + c.noGpuReason());
    }
  }

  /** Device arrays on GPU 0. */
  static final class DeviceStore implements Store {
    private final List<DeviceArray> open = new ArrayList<>();

    @Override
    public Operand put(DType t, double[] values, int offset, Case c, String role) {
      DeviceArray d = core.allocate(0, t, Math.max(1, values.length));
      open.add(d);
      GpuTests.upload(d, values);
      return Operand.of(d, offset);
    }

    @Override
    public double[] get(Operand o) {
      DeviceArray d = (DeviceArray) o.storage();
      int n = (int) d.length();
      double[] out = new double[n];
      if (d.dtype() == DType.FLOAT64) {
        d.copyTo(0, out, 0, n);
      } else {
        float[] f = new float[n];
        d.copyTo(0, f, 0, n);
        for (int i = 0; i < n; i++) {
          out[i] = f[i];
        }
      }
      return out;
    }

    @Override
    public void close() {
      open.forEach(DeviceArray::close);
      open.clear();
    }
  }

  @Provide
  Arbitrary<Case> fp32Strict() {
    return GemmProperties.cases(List.of(DType.FLOAT32), List.of(Precision.FP32));
  }

  @Provide
  Arbitrary<Case> fp32Reduced() {
    return GemmProperties.cases(List.of(DType.FLOAT32),
        List.of(Precision.TF32, Precision.BF16, Precision.FP16));
  }

  @Provide
  Arbitrary<Case> fp64() {
    return GemmProperties.cases(List.of(DType.FLOAT64), List.of(Precision.FP64));
  }

  @Provide
  Arbitrary<Case> any() {
    return GemmProperties.cases(List.of(DType.FLOAT32, DType.FLOAT64),
        List.of(Precision.FP32, Precision.TF32, Precision.BF16, Precision.FP16));
  }

  @Property(tries = 200)
  void deviceArraysStrictFp32(@ForAll("fp32Strict") Case c) {
    deviceArrays("deviceArraysStrictFp32", c, Precision.FP32);
  }

  @Property(tries = 200)
  void deviceArraysTf32Bf16Fp16(@ForAll("fp32Reduced") Case c) {
    deviceArrays("deviceArraysTf32Bf16Fp16", c, c.precision());
  }

  @Property(tries = 200)
  void deviceArraysFp64(@ForAll("fp64") Case c) {
    deviceArrays("deviceArraysFp64", c, Precision.FP64);
  }

  /** One case on device arrays, bounded as {@code boundAs}. */
  private static void deviceArrays(String property, Case c, Precision boundAs) {
    if (runs(property)) {
      try (Store s = new DeviceStore()) {
        GemmProperties.check(core, s, c, boundAs, 4);
      }
    }
  }

  /** Fails without a GPU where one is required; false past the sanitizer's tries. */
  private static boolean runs(String property) {
    GpuTests.require(core);
    return !GpuTests.pastSanitizerTries(property);
  }

  @Property(tries = 100)
  void hostArraysRoutedToTheGpu(@ForAll("any") Case c, @ForAll boolean javaArrays,
      @ForAll boolean pinned) {
    hostArrays("hostArraysRoutedToTheGpu", forced, c, javaArrays, pinned);
  }

  @Property(tries = 100)
  void hostArraysSplitBetweenCpuAndGpu(@ForAll("any") Case c, @ForAll boolean javaArrays,
      @ForAll boolean pinned) {
    hostArrays("hostArraysSplitBetweenCpuAndGpu", split, c, javaArrays, pinned);
  }

  /** One case on host operands (Java arrays, or pinned/pageable host arrays) through {@code on}. */
  private static void hostArrays(String property, GpuCore on, Case c, boolean javaArrays,
      boolean pinned) {
    if (!runs(property)) {
      return;
    }
    try (Store s = javaArrays ? new GemmProperties.JavaStore()
        : new GemmProperties.HostStore(on, pinned)) {
      GemmProperties.check(on, s, c, c.precision(), 4);
    }
  }

  @Property(tries = 200, maxDiscardRatio = 10)
  void invalidArgumentsOnDeviceArrays(@ForAll("any") Case c, @ForAll Breakage how,
      @ForAll @IntRange(min = 1, max = 1000) int amount) {
    if (!runs("invalidArgumentsOnDeviceArrays")) {
      return;
    }
    try (Store s = new DeviceStore()) {
      Assume.that(GemmProperties.checkRejected(core, s, c, how, amount));
    }
  }
}
