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
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "C = A*A^T and sum(C) on the CPU and on the GPU if one is visible; "
        + "prints times and agreement.")
final class DemoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--n", description = "Matrix size (default: ${DEFAULT-VALUE}).")
  int n = 2000;

  @Option(names = "--seed", description = "Random seed (default: ${DEFAULT-VALUE}).")
  long seed = 42;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (n < 1 || (long) n * n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("--n must be in [1, 46340], got " + n);
    }
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
      long t0;
      long t1;
      long t2;
      double cpuSum;
      // the CPU row runs on the CPU backend alone (the router might send a host GEMM to the GPU)
      try (GpuCore cpu = GpuCore.open(core.config().withBackend(dev.gpucore.Config.Backend.CPU))) {
        t0 = System.nanoTime();
        cpu.blas().sgemm(false, true, n, n, n, 1f, a, n, a, n, 0f, cpuC, n);
        t1 = System.nanoTime();
        cpuSum = cpu.reduce().sum(cpuC);
        t2 = System.nanoTime();
      }
      out.printf(Locale.ROOT, "cpu : gemm %9.3f ms (%8.1f GFLOP/s)  sum %8.3f ms  sum(C) = %.9e%n",
          ms(t1 - t0), flops / (t1 - t0), ms(t2 - t1), cpuSum);
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
        dc.fill(Double.NaN); // poison: every element must be written again
        long g0 = System.nanoTime();
        da.copyFrom(a);
        long g1 = System.nanoTime();
        core.blas().sgemm(false, true, n, n, n, 1f, da, n, da, n, 0f, dc, n, null);
        long g2 = System.nanoTime();
        double gpuSum = core.reduce().sum(dc);
        long g3 = System.nanoTime();
        float[] gpuC = new float[n * n];
        dc.copyTo(gpuC);
        out.printf(Locale.ROOT,
            "gpu : gemm %9.3f ms (%8.1f GFLOP/s)  sum %8.3f ms  sum(C) = %.9e  (upload of A %.3f ms)%n",
            ms(g2 - g1), flops / (g2 - g1), ms(g3 - g2), gpuSum, ms(g1 - g0));
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
        out.printf(Locale.ROOT, "speedup: gemm %.1fx, gemm+sum %.1fx (GPU times exclude warm-up)%n",
            (double) (t1 - t0) / (g2 - g1), (double) (t2 - t0) / (g3 - g1));
        out.flush();
        return ok ? 0 : 2;
      }
    }
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }
}
