package dev.gpucore.bench;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.spi.Backend;
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
 * {@code 64} variants do the same at 64x64x64, the router given figures (CPU 25 GFLOP/s, GPU
 * fixed cost 0.5 ms) under which its model decides the call and the call is timed for learning
 * (the path of an n = 64 call on a GPU host whose CPU is that slow);
 * {@code routedSgemm8GpuModel} takes that path at 8x8x8 (no fixed GPU cost, so no short way). The differences are the
 * Java-side cost of validation, routing and dispatch. Runs anywhere.
 */
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class DispatchBench extends BenchBase {
  private GpuCore cpu;
  private GpuCore routed;
  private GpuCore routedGpu;
  private final float[] a = new float[64];
  private final float[] b = new float[64];
  private final float[] c = new float[64];
  private GpuCore routedGpuModel;
  private GpuCore routedGpuModel8;
  private final float[] a64 = new float[64 * 64];
  private final float[] b64 = new float[64 * 64];
  private final float[] c64 = new float[64 * 64];

  @Setup(Level.Trial)
  public void setup() {
    cpu = openCpu();
    routed = GpuCore.open();
    routedGpu = openStandInGpu(Map.of());
    // the CPU at 25 GFLOP/s (0.021 ms for the call) and a GPU fixed cost of 0.5 ms: the call is
    // not small enough for the short way (under 1/64 of it), and the GPU is never within 2x of
    // the CPU (tried only once the CPU's calls have taken 32 times six of its estimate, then
    // run by the stand-in on the CPU)
    routedGpuModel = openStandInGpu(Map.of("gpucore.gemm.cpuGflops", "25",
        "gpucore.gemm.overheadMs", "0.5"));
    // no fixed cost (no short way) and a GPU at 0.001 GFLOP/s (never within 2x; tried as above):
    // even an 8x8 call takes the model's path and is timed
    routedGpuModel8 = openStandInGpu(Map.of("gpucore.gemm.overheadMs", "0",
        "gpucore.gemm.gpuGflops", "0.001"));
    fill8x8(a, b);
    java.util.Random r = new java.util.Random(1);
    for (int i = 0; i < a64.length; i++) {
      a64[i] = r.nextFloat();
      b64[i] = r.nextFloat();
    }
  }

  /** A core with the CPU backend and a {@link StandInGpu}; no calibration. */
  static GpuCore openStandInGpu(Map<String, String> settings) {
    Map<String, String> all = new java.util.HashMap<>(settings);
    all.put("gpucore.gemm.calibrate", "off");
    Config config = Config.from(all, System.getenv());
    for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
      if (p.name().equals("cpu")) {
        Backend cpu = p.open(config);
        return Cores.of(config, cpu, new StandInGpu(cpu), null);
      }
    }
    throw new IllegalStateException("no CPU backend on the class path");
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    routedGpuModel8.close();
    routedGpuModel.close();
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
  public float[] routedSgemm8GpuModel() {
    routedGpuModel8.blas().sgemm(false, false, 8, 8, 8, 1f, a, 8, b, 8, 0f, c, 8);
    return c;
  }

  @Benchmark
  public float[] gpucoreSgemm64() {
    cpu.blas().sgemm(false, false, 64, 64, 64, 1f, a64, 64, b64, 64, 0f, c64, 64);
    return c64;
  }

  @Benchmark
  public float[] routedSgemm64Gpu() {
    routedGpuModel.blas().sgemm(false, false, 64, 64, 64, 1f, a64, 64, b64, 64, 0f, c64, 64);
    return c64;
  }

  @Benchmark
  public float[] openblasSgemm64() {
    openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
        openblas_nolapack.CblasNoTrans, 64, 64, 64, 1f, a64, 64, b64, 64, 0f, c64, 64);
    return c64;
  }

  @Benchmark
  public float[] openblasSgemm8() {
    openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
        openblas_nolapack.CblasNoTrans, 8, 8, 8, 1f, a, 8, b, 8, 0f, c, 8);
    return c;
  }
}
