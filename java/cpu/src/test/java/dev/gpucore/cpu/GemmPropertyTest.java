package dev.gpucore.cpu;

import static dev.gpucore.testkit.GemmProperties.cases;
import static dev.gpucore.testkit.GemmProperties.check;
import static dev.gpucore.testkit.GemmProperties.checkRejected;

import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Layout;
import dev.gpucore.blas.Precision;
import dev.gpucore.testkit.GemmProperties.Breakage;
import dev.gpucore.testkit.GemmProperties.Case;
import dev.gpucore.testkit.GemmProperties.HostStore;
import dev.gpucore.testkit.GemmProperties.JavaStore;
import dev.gpucore.testkit.GemmProperties.Store;
import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * GEMM properties on the CPU backend: random shapes (0 to 70, primes included), both layouts,
 * all transpose pairs, padded leading dimensions, offsets and sub-matrix views, alpha and beta
 * (0 included: beta = 0 must ignore the NaN C is poisoned with; alpha = 0 or k = 0 must not read
 * A and B, poisoned too), strided batches, fp32 and fp64, Java and host arrays, against a
 * float64 reference with an error bound per element on the |alpha|·|A|·|B| + |beta·C| scale.
 * Everything outside the C matrices must stay bit-for-bit as it was. Rejected arguments throw
 * {@link GpuCoreException.InvalidArgument} naming the parameter and leave C untouched.
 *
 * <p>The case generator, the reference and the checks are the test kit's
 * {@link dev.gpucore.testkit.GemmProperties}, which the GPU module's property test runs on
 * device arrays too.
 * jqwik reports the seed of a failing run; rerun it with {@code @Property(seed = "...")}.
 */
public class GemmPropertyTest {
  static GpuCore core;
  /** Java arrays always copied off-heap (gpucore.cpu.inPlaceMaxMs = 0). */
  static GpuCore copying;
  /**
   * Java arrays in place, every native call at most about 5000 flops: most cases are split into
   * panels of C's rows or columns, down to one (the panel offsets of every layout, transpose,
   * view and batch).
   */
  static GpuCore panels;

  @BeforeContainer
  static void open() {
    core = GpuCore.open(new Config(Config.Backend.CPU, 0));
    copying = GpuCore.open(Config.from(java.util.Map.of("gpucore.backend", "cpu",
        "gpucore.cpu.inPlaceMaxMs", "0"), java.util.Map.of()));
    // 2 threads x 50 GFLOP/s x 5e-5 ms = 5000 flops per native call
    panels = dev.gpucore.spi.Cores.of(Config.from(java.util.Map.of("gpucore.backend", "cpu",
        "gpucore.cpu.threads", "2"), java.util.Map.of()), new CpuBackend(2, 5e-5, 1, Double.MAX_VALUE), null,
        "CPU test");
  }

  @AfterContainer
  static void close() {
    if (core != null) {
      core.close();
    }
    if (copying != null) {
      copying.close();
    }
    if (panels != null) {
      panels.close();
    }
  }


  // ------------------------------------------------------------------ the properties (CPU)

  @Provide
  Arbitrary<Case> cpuCases() {
    return cases(List.of(DType.FLOAT32, DType.FLOAT64),
        List.of(Precision.FP32, Precision.DEFAULT, Precision.TF32, Precision.BF16,
            Precision.FP16));
  }

  /**
   * Regression (found by {@link #javaArraysMatchFloat64Reference}): A at an offset (an off-heap
   * copy) with B and C whole small Java arrays (passed directly) threw a NullPointerException
   * in the CPU backend, which called OpenBLAS with a mix of arrays and pointers.
   */
  @Example
  void someOperandsDirectOthersCopied() {
    for (DType t : List.of(DType.FLOAT32, DType.FLOAT64)) {
      Precision p = t == DType.FLOAT64 ? Precision.FP64 : Precision.FP32;
      try (Store s = new JavaStore()) {
        check(core, s, new Case(t, p, Layout.ROW_MAJOR, false, false, 1, 1, 1, 0, 0, 0, 1, 0, 0,
            false, 1, 0, false, 1, 0, 0), p, 2);
        check(core, s, new Case(t, p, Layout.COLUMN_MAJOR, false, true, 19, 2, 18, 0, 1, 0, 0, 0,
            2, false, 1, 0, false, 1, 0.5, 46), p, 2);
      }
    }
  }

  // the CPU computes every fp32 precision in strict fp32: the strict bound applies to all

  @Property(tries = 200)
  void javaArraysMatchFloat64Reference(@ForAll("cpuCases") Case c) {
    try (Store s = new JavaStore()) {
      check(core, s, c, Precision.FP32, 2);
    }
  }

  @Property(tries = 200)
  void javaArraysCopiedOffHeapMatchFloat64Reference(@ForAll("cpuCases") Case c) {
    try (Store s = new JavaStore()) {
      check(copying, s, c, Precision.FP32, 2);
    }
  }

  @Property(tries = 200)
  void javaArraysInThinPanelsMatchFloat64Reference(@ForAll("cpuCases") Case c) {
    try (Store s = new JavaStore()) {
      check(panels, s, c, Precision.FP32, 2);
    }
  }

  @Property(tries = 100)
  void hostArraysMatchFloat64Reference(@ForAll("cpuCases") Case c, @ForAll boolean pinned) {
    try (Store s = new HostStore(core, pinned)) {
      check(core, s, c, Precision.FP32, 2);
    }
  }

  @Property(tries = 200, maxDiscardRatio = 10)
  void invalidArgumentsNameTheParameterAndLeaveCUntouched(@ForAll("cpuCases") Case c,
      @ForAll Breakage how, @ForAll @IntRange(min = 1, max = 1000) int amount) {
    try (Store s = new JavaStore()) {
      Assume.that(checkRejected(core, s, c, how, amount));
    }
  }

}
