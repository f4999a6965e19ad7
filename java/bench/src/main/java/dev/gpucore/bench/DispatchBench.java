package dev.gpucore.bench;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.spi.BackendProvider;
import dev.gpucore.spi.Cores;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What a call costs before any arithmetic: {@code checksOnly} is a GEMM with m = 0 (every
 * argument checked, nothing computed); {@code explain} adds the router's decision;
 * {@code gpucoreSgemm8} is a whole 8x8x8 SGEMM on Java arrays through the CPU backend and
 * {@code routedSgemm8} the same through the default (routing) GpuCore; {@code routedSgemm8Gpu}
 * the same through a core with a GPU present (a {@link StandInGpu}: one made-up H100 and the
 * engine's routing model, so the router decides as on a GPU host, and the call runs on the CPU);
 * {@code openblasSgemm8} is OpenBLAS's cblas_sgemm called bare on the same arrays. The
 * differences are the Java-side cost of validation, routing and dispatch. Runs anywhere.
 */
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class DispatchBench extends BenchBase {
  private GpuCore cpu;
  private GpuCore routed;
  private GpuCore routedGpu;
  private final float[] a = new float[64];
  private final float[] b = new float[64];
  private final float[] c = new float[64];

  @Setup(Level.Trial)
  public void setup() {
    cpu = openCpu();
    routed = GpuCore.open();
    routedGpu = openStandInGpu();
    fill8x8(a, b);
  }

  /** A core with the CPU backend and a {@link StandInGpu}; no calibration. */
  private static GpuCore openStandInGpu() {
    Config config = Config.from(Map.of("gpucore.gemm.calibrate", "off"), System.getenv());
    for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
      if (p.name().equals("cpu")) {
        return Cores.of(config, p.open(config), new StandInGpu(), null);
      }
    }
    throw new IllegalStateException("no CPU backend on the class path");
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    routedGpu.close();
    routed.close();
    cpu.close();
  }

  @Benchmark
  public float[] checksOnly() {
    cpu.blas().sgemm(false, false, 0, 8, 8, 1f, a, 8, b, 8, 0f, c, 8);
    return c;
  }

  @Benchmark
  public Object explain() {
    return routed.blas().explain(Gemm.of(8, 8, 8), Operand.of(a), 8, Operand.of(b), 8,
        Operand.of(c), 8);
  }

  @Benchmark
  public float[] gpucoreSgemm8() {
    cpu.blas().sgemm(false, false, 8, 8, 8, 1f, a, 8, b, 8, 0f, c, 8);
    return c;
  }

  @Benchmark
  public float[] routedSgemm8() {
    routed.blas().sgemm(false, false, 8, 8, 8, 1f, a, 8, b, 8, 0f, c, 8);
    return c;
  }

  @Benchmark
  public float[] routedSgemm8Gpu() {
    routedGpu.blas().sgemm(false, false, 8, 8, 8, 1f, a, 8, b, 8, 0f, c, 8);
    return c;
  }

  @Benchmark
  public float[] openblasSgemm8() {
    openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
        openblas_nolapack.CblasNoTrans, 8, 8, 8, 1f, a, 8, b, 8, 0f, c, 8);
    return c;
  }
}
