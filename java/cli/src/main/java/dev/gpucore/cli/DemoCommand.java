package dev.gpucore.cli;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.device.DeviceInfo;
import dev.gpucore.memory.DeviceArray;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gpucore demo}: the classic check. C = A·Aᵀ and sum(C) on the CPU and, when one is
 * visible, on the GPU; prints times, speedup and agreement. Exits 2 when the results disagree.
 * Every time is taken after a warm-up call; calls shorter than {@link #MIN_TIMED_NANOS} are
 * repeated and their mean is shown.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "C = A*A^T and sum(C) on the CPU and on the GPU if one is visible; "
        + "prints times (after a warm-up) and agreement.")
final class DemoCommand implements Callable<Integer>, Validated {
  /** Timed calls are repeated until they took this long together (or {@link #MAX_REPS}). */
  static final long MIN_TIMED_NANOS = 50_000_000L;
  static final int MAX_REPS = 1000;

  @Spec CommandSpec spec;

  @Option(names = "--n", description = "Matrix size (default: ${DEFAULT-VALUE}).")
  int n = 2000;

  @Option(names = "--seed", description = "Random seed (default: ${DEFAULT-VALUE}).")
  long seed = 42;

  /** n*n must be an int index, and A and C (n*n floats each) must fit the heap. */
  @Override
  public void validate() {
    if (n < 1) {
      throw new ArgumentException("--n", "must be at least 1, got " + n);
    }
    Arguments.arrayLength("--n", (long) n * n, "A and C (n*n floats each) of");
    Arguments.fitsHeap("--n", 2L * Float.BYTES * n * n, "A and C (n*n floats each, n=" + n + ")");
  }

  /** A timing: mean nanoseconds per call over {@code reps} calls. */
  record Timing(double nanos, int reps) {
    String label() {
      return reps == 1 ? "" : " (mean of " + reps + ")";
    }
  }

  /** Times {@code call}, which has run once already (the warm-up). */
  static Timing time(Runnable call) {
    int reps = 0;
    long t0 = System.nanoTime();
    long t;
    do {
      call.run();
      reps++;
      t = System.nanoTime() - t0;
    } while (t < MIN_TIMED_NANOS && reps < MAX_REPS);
    return new Timing((double) t / reps, reps);
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    float[] a = new float[n * n];
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) r.nextDouble(); // uniform [0, 1): never zeros, sums well conditioned
    }
    double flops = 2.0 * n * (double) n * n;
    try (GpuCore core = GpuCore.open()) {
      out.printf(Locale.ROOT, "gpucore demo: C = A*A^T (n=%d, fp32, seed %d), then sum(C)%n", n, seed);
      if (core.hasGpu()) {
        for (DeviceInfo g : core.devices()) {
          out.printf(Locale.ROOT, "GPU %d: %s (%s, cc %s, %d MiB)%n", g.index(), g.name(),
              g.pciBusId(), g.computeCapability(), g.memoryTotal() >> 20);
        }
      } else {
        out.println("No GPU visible: " + core.noGpuReason());
      }
      float[] cpuC = new float[n * n];
      Timing gemm;
      Timing sum;
      double cpuSum;
      // the CPU row runs on the CPU backend alone (the router might send a host GEMM to the GPU)
      try (GpuCore cpu = GpuCore.open(core.config().withBackend(dev.gpucore.Config.Backend.CPU))) {
        Runnable g = () -> cpu.blas().sgemm(false, true, n, n, n, 1f, a, n, a, n, 0f, cpuC, n);
        g.run(); // warm-up: native libraries, BLAS threads, JIT
        gemm = time(g);
        cpuSum = cpu.reduce().sum(cpuC);
        sum = time(() -> cpu.reduce().sum(cpuC));
      }
      out.printf(Locale.ROOT, "cpu : gemm %s ms (%s)%s  sum %s ms%s  sum(C) = %.9e%n",
          time(gemm.nanos(), 9), rate(flops, gemm.nanos()), gemm.label(),
          time(sum.nanos(), 8), sum.label(), cpuSum);
      if (!core.hasGpu()) {
        out.println("gpu : skipped (" + core.noGpuReason() + ")");
        out.flush();
        return 0;
      }
      try (DeviceArray da = core.allocate(0, DType.FLOAT32, (long) n * n);
          DeviceArray dc = core.allocate(0, DType.FLOAT32, (long) n * n)) {
        // warm-up: module load, cuBLAS handle and workspace, staging buffers
        da.copyFrom(a);
        core.blas().sgemm(false, true, n, n, n, 1f, da, n, da, n, 0f, dc, n, null);
        core.reduce().sum(dc);
        Timing upload = time(() -> da.copyFrom(a));
        Timing gpuGemm = time(() -> core.blas().sgemm(false, true, n, n, n, 1f, da, n, da, n,
            0f, dc, n, null));
        Timing gpuSumTime = time(() -> core.reduce().sum(dc));
        dc.fill(Double.NaN); // poison: every element must be written again
        core.blas().sgemm(false, true, n, n, n, 1f, da, n, da, n, 0f, dc, n, null);
        double gpuSum = core.reduce().sum(dc);
        float[] gpuC = a; // A is on the GPU now: its array takes C back (one n*n array less)
        dc.copyTo(gpuC);
        out.printf(Locale.ROOT,
            "gpu : gemm %s ms (%s)%s  sum %s ms%s  sum(C) = %.9e  (upload of A %.3f ms)%n",
            time(gpuGemm.nanos(), 9), rate(flops, gpuGemm.nanos()), gpuGemm.label(),
            time(gpuSumTime.nanos(), 8), gpuSumTime.label(), gpuSum, ms(upload.nanos()));
        double maxErr = 0;
        double maxRef = 0;
        for (int i = 0; i < cpuC.length; i++) {
          maxErr = Math.max(maxErr, Math.abs((double) gpuC[i] - cpuC[i]));
          maxRef = Math.max(maxRef, Math.abs(cpuC[i]));
          if (Float.isNaN(gpuC[i])) {
            maxErr = Double.POSITIVE_INFINITY;
          }
        }
        double sumRel = Math.abs(gpuSum - cpuSum) / Math.abs(cpuSum);
        double cRel = maxErr / maxRef;
        double bound = 1e-5 * Math.sqrt(n);
        boolean ok = sumRel <= bound && cRel <= bound;
        out.printf(Locale.ROOT, "agreement: sum rel. diff %.2e, max |C_gpu - C_cpu| / max|C| %.2e "
            + "(bound %.1e): %s%n", sumRel, cRel, bound, ok ? "OK" : "MISMATCH");
        out.printf(Locale.ROOT, "speedup: gemm %.1fx, gemm+sum %.1fx (all times after a "
            + "warm-up)%n", gemm.nanos() / gpuGemm.nanos(),
            (gemm.nanos() + sum.nanos()) / (gpuGemm.nanos() + gpuSumTime.nanos()));
        out.flush();
        return ok ? 0 : 2;
      }
    }
  }

  /**
   * A time in milliseconds, {@code width} wide: three decimals, more below 0.1 ms (a call of
   * under half a microsecond is not "0.000").
   */
  static String time(double nanos, int width) {
    double ms = ms(nanos);
    return String.format(Locale.ROOT, "%" + width + (ms >= 0.1 || ms == 0 ? ".3f" : ".6f"), ms);
  }

  /** A rate in a unit that suits it, with at least two significant figures: never "0.0". */
  static String rate(double flops, double nanos) {
    double gflops = flops / Math.max(nanos, 1);
    if (gflops >= 1) {
      return String.format(Locale.ROOT, "%8.1f GFLOP/s", gflops);
    }
    double mflops = gflops * 1e3;
    return String.format(Locale.ROOT, mflops >= 1 ? "%8.1f MFLOP/s" : "%8.3g MFLOP/s", mflops);
  }

  private static double ms(double nanos) {
    return nanos / 1e6;
  }
}
