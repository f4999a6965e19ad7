package dev.gpucore.bench;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The settings every benchmark here shares (JMH reads them from the superclass): average time
 * per operation in microseconds (a subclass may state its own {@link OutputTimeUnit}), one fork,
 * three warm-up and five measured iterations of one second, one state per thread. Also the two
 * ways the benchmarks open gpucore.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public abstract class BenchBase {

  /** A GpuCore on the CPU backend, whatever the machine has. */
  protected static GpuCore openCpu() {
    return GpuCore.open(Config.fromEnvironment().withBackend(Config.Backend.CPU));
  }

  /** The default GpuCore, which must see a GPU; else it is closed and the benchmark fails. */
  protected static GpuCore openGpu() {
    GpuCore core = GpuCore.open();
    if (!core.hasGpu()) {
      String why = core.noGpuReason();
      core.close();
      throw new IllegalStateException("No GPU visible: " + why
          + " (run through dev.gpucore.bench.BenchMain, which skips GPU benchmarks)");
    }
    return core;
  }

  /** The inputs of the 8x8x8 SGEMM benchmarks, a and b of 64: fixed values from 0.25 to 2.25. */
  protected static void fill8x8(float[] a, float[] b) {
    for (int i = 0; i < 64; i++) {
      a[i] = (i % 7) * 0.25f + 0.5f;
      b[i] = (i % 5) * 0.5f + 0.25f;
    }
  }
}
