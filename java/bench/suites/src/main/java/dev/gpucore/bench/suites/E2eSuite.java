package dev.gpucore.bench.suites;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.cli.JsonText;
import dev.gpucore.memory.DeviceArray;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code e2e}: the classic check, end to end from a Java array: C = A·Aᵀ (n×n), then sum(C). On
 * the CPU (gpucore's OpenBLAS backend, a GpuCore pinned to the CPU so no router can send it
 * elsewhere; always strict fp32 or fp64: the reference) and on the GPU (upload A from the Java
 * array, cuBLAS GEMM in the precision asked for, gpucore's sum kernel; C never leaves the device).
 * Prints times, the speedup and the relative difference of the two sums. Beside it: PyTorch on
 * the CPU and the GPU, OpenBLAS from C (CPU), nvBLAS from C (GPU, host arrays; C comes back and
 * is summed on the CPU, as nvBLAS works).
 */
final class E2eSuite extends NamedSuite {
  static final int DEFAULT_REPS = 5;
  static final int DEFAULT_WARMUP = 1;
  /** n up to which the whole of C is also brought back and compared element by element. */
  static final int FULL_CHECK_MAX_N = 4096;

  E2eSuite() {
    super("e2e",
        "C = A*A^T then sum(C) from a Java array, CPU vs GPU: time, speedup, agreement",
        List.of(10000L));
  }

  /** The GPU GEMM's precision for these options. */
  static Precision precision(BenchOptions o) {
    boolean fp64 = o.dtype().equals("fp64");
    String p = o.precision() == null ? (fp64 ? "fp64" : "fp32") : o.precision();
    Precision pr;
    try {
      pr = Precision.valueOf(p.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("e2e: --precision must be one of fp32, tf32, bf16, fp16 "
          + "(with --dtype fp32) or fp64 (with --dtype fp64); got " + p);
    }
    if (pr == Precision.DEFAULT || fp64 != (pr == Precision.FP64)) {
      throw new IllegalArgumentException("e2e: --precision " + p + " does not apply to --dtype "
          + o.dtype() + " (fp32: fp32, tf32, bf16, fp16; fp64: fp64)");
    }
    return pr;
  }

  /**
   * The agreement bound for sums and C (relative), per precision: gpucore's test bounds
   * (fp32 1e-5·√n as in {@code gpucore demo}, tf32 1e-3, bf16/fp16 1e-2, fp64 1e-13·√n).
   */
  static double bound(int n, Precision p) {
    return switch (p) {
      case TF32 -> 1e-3;
      case BF16, FP16 -> 1e-2;
      case FP64 -> 1e-13 * Math.sqrt(n);
      default -> 1e-5 * Math.sqrt(n);
    };
  }

  @Override
  public void validate(BenchOptions o) {
    if (!o.dtype().equals("fp32") && !o.dtype().equals("fp64")) {
      throw new IllegalArgumentException("e2e: --dtype must be fp32 or fp64, got " + o.dtype());
    }
    precision(o);
    for (long n : o.sizesFor(this, o.n())) {
      if (n < 1 || n * n > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("e2e: --n (or --sizes): n must be in [1, 46340], "
            + "got " + n);
      }
      // A (at least one buffer), C, and C's copy for the GPU check
      Checks.heap("e2e: --n (or --sizes) " + n, 3 * n * n * (o.dtype().equals("fp64") ? 8L : 4L));
    }
  }

  @Override
  public int steps(BenchOptions o, boolean gpu) {
    return o.sizesFor(this, o.n()).size() * (gpu ? 2 : 1) + 1;
  }

  @Override
  SuiteResult run(BenchContext ctx, BenchOptions o) throws Exception {
    Precision prec = precision(o);
    boolean fp64 = o.dtype().equals("fp64");
    String pname = prec.name().toLowerCase(Locale.ROOT);
    List<Long> ns = o.sizesFor(this, o.n());
    int reps = o.repsOr(DEFAULT_REPS);
    int warmup = o.warmupOr(DEFAULT_WARMUP);
    SuiteResult res = new SuiteResult(name(), String.format(Locale.ROOT,
        "e2e: C = A*A^T (%s, GPU GEMM in %s), then sum(C), from a Java array; CPU: %d threads; "
            + "%s; median of %d after a check run and %d warm-up%s", o.dtype(), pname,
        ctx.cpuThreads(), ctx.gpu() ? "GPU " + o.device() + " (" + ctx.deviceName() + ")"
            : "no GPU", reps, warmup, warmup == 1 ? "" : "s"));
    res.settings().put("n", ns);
    res.settings().put("dtype", o.dtype());
    res.settings().put("precision", pname);
    res.settings().put("reps", reps);
    res.settings().put("warmup", warmup);
    res.settings().put("seed", o.seed());
    res.settings().put("cpu_threads", ctx.cpuThreads());
    res.notes().add("A: seeded splitmix64 values in (0, 1), identical in every peer; GFLOP/s = "
        + "2n^3 per end-to-end time; timing: host-sync = System.nanoTime() around synchronous "
        + "calls (upload, gemm, sum; gpucore's API has no CUDA events yet)");
    res.notes().add("the CPU computes strict " + o.dtype() + " (the reference); agreement bound "
        + "for sums and C in " + pname + ": " + (prec == Precision.FP32 ? "1e-5*sqrt(n), as in "
        + "gpucore demo" : prec == Precision.FP64 ? "1e-13*sqrt(n)" : String.format(Locale.ROOT,
            "%.0e", bound(1, prec)))
        + (fp64 ? "; the CPU sum of double[] is gpucore-cli's own loop (the API sums float[] only)"
            : ""));
    if (!ctx.gpu()) {
      res.notes().add("GPU rows skipped: " + ctx.noGpu());
    }
    List<Map<String, Object>> peerSizes = new ArrayList<>();
    Map<Long, Double> cpuSums = new LinkedHashMap<>();
    List<Map<String, Object>> summaries = new ArrayList<>();
    String suffix = prec == Precision.FP32 || prec == Precision.FP64 ? "" : " (" + pname + ")";
    for (long nl : ns) {
      int n = (int) nl;
      long elems = (long) n * n;
      double flops = 2.0 * n * (double) n * n;
      int k = Timer.rotation(elems * (fp64 ? 8 : 4), ctx.cacheBytes());
      Map<String, Object> ps = new LinkedHashMap<>();
      ps.put("x", n);
      ps.put("buffers", k);
      peerSizes.add(ps);
      String label = "n=" + n;
      Object[] a = new Object[k];
      for (int j = 0; j < k; j++) {
        a[j] = fp64 ? new double[(int) elems] : new float[(int) elems];
        if (fp64) {
          InputGen.fill((double[]) a[j], o.seed() + j);
        } else {
          InputGen.fill((float[]) a[j], o.seed() + j);
        }
      }
      Map<String, Object> summary = new LinkedHashMap<>();
      summary.put("n", n);
      // CPU: a check run on buffer 0 (the reference), warm-ups, then timed runs
      Row cpu = new Row(name(), "e2e", "cpu", "CPU gemm+sum", "gpucore cpu", n, label, flops,
          "GFLOP/s");
      cpu.extra().put("buffers", k);
      GpuCore cc = ctx.cpuCore();
      Object c = fp64 ? new double[(int) elems] : new float[(int) elems];
      ctx.progress().step("e2e CPU " + label);
      ctx.progress().detail("check run");
      cpuGemm(cc, n, a[0], c);
      double ref = hostSum(cc, c);
      Object refC = n <= FULL_CHECK_MAX_N && ctx.gpu() ? copy(c) : null;
      double[] sums = new double[k];
      sums[0] = ref;
      Laps cpuLaps = new Laps();
      for (int i = -warmup; i < reps; i++) {
        int j = Math.floorMod(i, k);
        ctx.progress().detail(i < 0 ? "warm-up" : "rep " + (i + 1) + "/" + reps);
        if (i >= 0) {
          cpuLaps.start();
        }
        cpuGemm(cc, n, a[j], c);
        if (i >= 0) {
          cpuLaps.lap("gemm");
        }
        double s = hostSum(cc, c);
        if (i >= 0) {
          cpuLaps.lap("sum");
          cpuLaps.end();
        }
        sums[j] = s;
      }
      ctx.progress().stepDone();
      cpu.measured(cpuLaps.total(), "host (System.nanoTime around synchronous gemm and sum)");
      cpu.extra().put("stages", stages(cpuLaps, flops));
      cpu.extra().put("sum", ref);
      cpu.check("reference: sum(C) = " + String.format(Locale.ROOT, "%.9e", ref), true);
      cpuSums.put(nl, ref);
      res.rows().add(cpu);
      summary.put("cpu_sum", ref);
      summary.put("cpu_median_ns", cpu.stats().median());
      c = null; // let the GPU run have the memory

      Row gpu = new Row(name(), "e2e", "gpu", "GPU upload+gemm+sum" + suffix, "gpucore cuda", n,
          label, flops, "GFLOP/s");
      gpu.extra().put("buffers", k);
      gpu.extra().put("precision", pname);
      res.rows().add(gpu);
      if (!ctx.gpu()) {
        gpu.skip(ctx.noGpu());
        summary.put("gpu", "skipped: " + ctx.noGpu());
        res.footer().add(label + ": CPU " + Fmt.time(cpu.stats().median())
            + "; GPU skipped (no GPU visible), so no speedup and no comparison of the sums");
        summaries.add(summary);
        continue;
      }
      measureGpu(ctx, gpu, n, k, a, refC, sums, reps, warmup, flops, label, summary, prec);
      double speedup = cpu.stats().median() / gpu.stats().median();
      double rel = (double) summary.get("sum_rel_diff");
      summary.put("speedup", speedup);
      summaries.add(summary);
      res.footer().add(String.format(Locale.ROOT,
          "%s: CPU %s, GPU %s (upload %s, gemm %s, sum %s): speedup %.1fx; sums %.9e (CPU) vs "
              + "%.9e (GPU), relative difference %.2e (bound %.1e): %s",
          label, Fmt.time(cpu.stats().median()), Fmt.time(gpu.stats().median()),
          stageTime(gpu, "upload"), stageTime(gpu, "gemm"), stageTime(gpu, "sum"), speedup, ref,
          (double) summary.get("gpu_sum"), rel, bound(n, prec), gpu.failed() ? "MISMATCH" : "OK"));
    }
    res.summary().put("per_n", summaries);
    if (ctx.peers() != null) {
      Map<String, Object> req = ctx.peerRequest(peerSizes, reps, warmup);
      req.put("dtype", o.dtype());
      req.put("precision", pname);
      ctx.runPeers(res, req, (row, line) -> {
        double ps = JsonText.num(line, "sum");
        Double ours = cpuSums.get((long) row.x());
        if (Double.isNaN(ps) || ours == null) {
          return new PeerMerge.Verdict("no sum reported", true);
        }
        double rel = Math.abs(ps - ours) / Math.abs(ours);
        // a peer's GPU case runs in the precision asked for; its CPU case in strict precision
        Precision pp = row.caseId().equals("gpu") ? prec : fp64 ? Precision.FP64 : Precision.FP32;
        boolean ok = rel <= bound((int) row.x(), pp);
        return new PeerMerge.Verdict(String.format(Locale.ROOT, "%s: sum rel. diff %.1e vs "
            + "gpucore CPU", ok ? "ok" : "MISMATCH", rel), ok);
      });
    }
    return res;
  }

  private static void cpuGemm(GpuCore cc, int n, Object a, Object c) {
    if (a instanceof float[] f) {
      cc.blas().sgemm(false, true, n, n, n, 1f, f, n, f, n, 0f, (float[]) c, n);
    } else {
      double[] d = (double[]) a;
      cc.blas().dgemm(false, true, n, n, n, 1.0, d, n, d, n, 0.0, (double[]) c, n);
    }
  }

  /** gpucore's host sum for float[]; for double[] (no API yet) the same four-accumulator loop. */
  private static double hostSum(GpuCore cc, Object c) {
    if (c instanceof float[] f) {
      return cc.reduce().sum(f);
    }
    double[] x = (double[]) c;
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int i = 0;
    for (; i + 3 < x.length; i += 4) {
      s0 += x[i];
      s1 += x[i + 1];
      s2 += x[i + 2];
      s3 += x[i + 3];
    }
    for (; i < x.length; i++) {
      s0 += x[i];
    }
    return (s0 + s1) + (s2 + s3);
  }

  private static Object copy(Object c) {
    return c instanceof float[] f ? f.clone() : ((double[]) c).clone();
  }

  private void measureGpu(BenchContext ctx, Row gpu, int n, int k, Object[] a, Object refC,
      double[] sums, int reps, int warmup, double flops, String label, Map<String, Object> summary,
      Precision prec) {
    GpuCore core = ctx.core();
    int dev = ctx.options().device();
    long elems = (long) n * n;
    DType t = a[0] instanceof float[] ? DType.FLOAT32 : DType.FLOAT64;
    Gemm g = Gemm.of(n, n, n).transB(true).precision(prec);
    double bound = bound(n, prec);
    try (DeviceArray da = core.allocate(dev, t, elems);
        DeviceArray dc = core.allocate(dev, t, elems)) {
      Operand oa = Operand.of(da);
      Operand oc = Operand.of(dc);
      // check run on buffer 0, C poisoned first so every element must be written
      ctx.progress().step("e2e GPU " + label);
      ctx.progress().detail("check run");
      dc.fill(Double.NaN);
      upload(da, a[0]);
      core.blas().gemm(g, oa, n, oa, n, oc, n);
      double gsum = core.reduce().sum(dc);
      double rel = Math.abs(gsum - sums[0]) / Math.abs(sums[0]);
      boolean ok = rel <= bound && !Double.isNaN(gsum);
      String check = String.format(Locale.ROOT, "sum rel. diff %.1e", rel);
      if (refC != null) {
        double maxErr = 0;
        double maxRef = 0;
        if (refC instanceof float[] rf) {
          float[] gc = new float[(int) elems];
          dc.copyTo(gc);
          for (int i = 0; i < gc.length; i++) {
            maxErr = Math.max(maxErr, Float.isNaN(gc[i]) ? Double.POSITIVE_INFINITY
                : Math.abs((double) gc[i] - rf[i]));
            maxRef = Math.max(maxRef, Math.abs(rf[i]));
          }
        } else {
          double[] rd = (double[]) refC;
          double[] gc = new double[(int) elems];
          dc.copyTo(gc);
          for (int i = 0; i < gc.length; i++) {
            maxErr = Math.max(maxErr, Double.isNaN(gc[i]) ? Double.POSITIVE_INFINITY
                : Math.abs(gc[i] - rd[i]));
            maxRef = Math.max(maxRef, Math.abs(rd[i]));
          }
        }
        double cRel = maxErr / maxRef;
        ok &= cRel <= bound;
        check += String.format(Locale.ROOT, ", max|C_gpu - C_cpu|/max|C| %.1e", cRel);
        summary.put("c_max_rel_diff", cRel);
      }
      summary.put("gpu_sum", gsum);
      summary.put("sum_rel_diff", rel);
      // warm-ups and timed runs, each sum compared with the CPU's for the same buffer
      Laps laps = new Laps();
      double worst = 0;
      Map<String, Object> before = ctx.telemetry().sample(dev);
      for (int i = -warmup; i < reps; i++) {
        int j = Math.floorMod(i, k);
        ctx.progress().detail(i < 0 ? "warm-up" : "rep " + (i + 1) + "/" + reps);
        if (i >= 0) {
          laps.start();
        }
        upload(da, a[j]);
        if (i >= 0) {
          laps.lap("upload");
        }
        core.blas().gemm(g, oa, n, oa, n, oc, n);
        if (i >= 0) {
          laps.lap("gemm");
        }
        double s = core.reduce().sum(dc);
        if (i >= 0) {
          laps.lap("sum");
          laps.end();
        }
        worst = Math.max(worst, Math.abs(s - sums[j]) / Math.abs(sums[j]));
      }
      Map<String, Object> after = ctx.telemetry().sample(dev);
      ctx.progress().stepDone();
      ok &= worst <= bound;
      check += String.format(Locale.ROOT, ", timed runs' sums within %.1e", worst);
      gpu.measured(laps.total(), "host-sync (System.nanoTime around synchronous upload, gemm, sum)");
      gpu.telemetry(before, after);
      gpu.extra().put("stages", stages(laps, flops));
      gpu.extra().put("sum", gsum);
      gpu.check((ok ? "ok: " : "MISMATCH: ") + check, ok);
      summary.put("gpu_median_ns", gpu.stats().median());
    }
  }

  private static void upload(DeviceArray d, Object a) {
    if (a instanceof float[] f) {
      d.copyFrom(f);
    } else {
      d.copyFrom((double[]) a);
    }
  }

  private static Map<String, Object> stages(Laps laps, double flops) {
    Map<String, Object> m = new LinkedHashMap<>();
    laps.stages().forEach((k, s) -> {
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("median_ns", s.median());
      o.put("min_ns", s.min());
      o.put("max_ns", s.max());
      o.put("samples_ns", s.samples());
      if (k.equals("gemm")) {
        o.put("gflops", flops / s.median());
      }
      m.put(k, o);
    });
    return m;
  }

  @SuppressWarnings("unchecked")
  private static String stageTime(Row r, String stage) {
    Object st = r.extra().get("stages");
    if (st instanceof Map<?, ?> m && m.get(stage) instanceof Map<?, ?> s) {
      return Fmt.time(((Number) ((Map<String, Object>) s).get("median_ns")).doubleValue());
    }
    return "-";
  }
}
