package dev.gpucore.bench;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What {@code gpucore.log.file} costs an 8x8x8 SGEMM on the CPU backend: {@code noLog} without
 * it, {@code unwritableLog} with a file that cannot be created (reported once on stderr, then
 * dropped: should be within a few percent of {@code noLog}), {@code writableLog} with every
 * decision appended to a file opened once; {@code writableLogRouted} the same through a core with
 * a stand-in GPU whose figures send the call along the router's model path (its reason: the
 * estimates, the learnt factors and where the figures came from), against
 * {@code DispatchBench.routedSgemm8GpuModel} without the log. Runs anywhere.
 */
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class LogOverheadBench extends BenchBase {
  private GpuCore plain;
  private GpuCore unwritable;
  private GpuCore writable;
  private GpuCore writableRouted;
  private java.nio.file.Path dir;
  private final float[] a = new float[64];
  private final float[] b = new float[64];
  private final float[] c = new float[64];

  private static GpuCore cpu(String logFile) {
    return GpuCore.open(logFile == null
        ? Config.from(Map.of("gpucore.backend", "cpu"), Map.of())
        : Config.from(Map.of("gpucore.backend", "cpu", "gpucore.log.file", logFile), Map.of()));
  }

  @Setup(Level.Trial)
  public void setup() throws java.io.IOException {
    dir = java.nio.file.Files.createTempDirectory("gpucore-logbench");
    plain = cpu(null);
    unwritable = cpu(dir.resolve("missing").resolve("route.log").toString());
    writable = cpu(dir.resolve("route.log").toString());
    writableRouted = DispatchBench.openStandInGpu(Map.of("gpucore.gemm.overheadMs", "0",
        "gpucore.gemm.gpuGflops", "0.001", "gpucore.log.file",
        dir.resolve("routed.log").toString()));
    fill8x8(a, b);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws java.io.IOException {
    plain.close();
    unwritable.close();
    writable.close();
    writableRouted.close();
    java.nio.file.Files.deleteIfExists(dir.resolve("route.log"));
    java.nio.file.Files.deleteIfExists(dir.resolve("routed.log"));
    java.nio.file.Files.deleteIfExists(dir);
  }

  @Benchmark
  public float[] noLog() {
    plain.blas().sgemm(false, false, 8, 8, 8, 1f, a, 8, b, 8, 0f, c, 8);
    return c;
  }

  @Benchmark
  public float[] unwritableLog() {
    unwritable.blas().sgemm(false, false, 8, 8, 8, 1f, a, 8, b, 8, 0f, c, 8);
    return c;
  }

  @Benchmark
  public float[] writableLog() {
    writable.blas().sgemm(false, false, 8, 8, 8, 1f, a, 8, b, 8, 0f, c, 8);
    return c;
  }

  @Benchmark
  public float[] writableLogRouted() {
    writableRouted.blas().sgemm(false, false, 8, 8, 8, 1f, a, 8, b, 8, 0f, c, 8);
    return c;
  }
}
