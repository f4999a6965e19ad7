package dev.gpucore.bench.suites;

import dev.gpucore.GpuCore;
import dev.gpucore.Setting;
import dev.gpucore.blas.Precision;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The gemm suite's alternating rows: host SGEMM C = A·Bᵀ (n×n, from {@code float[]}) on the
 * CPU route and on the GPU route ({@code gpucore.gemm.route=gpu}), each alone (back-to-back
 * calls on one route) and alternately (a CPU call, then a GPU call, and again), in the same
 * rounds. loss = the time of a CPU+GPU pair / (CPU alone + GPU alone): 1 when neither route
 * slows the other, above 1 when, for example, OpenBLAS's worker threads still spin on the cores
 * after a CPU call while the GPU route's staging threads work. Every sample starts after a
 * pause long enough for those threads to sleep at any {@code gpucore.cpu.threadTimeout}, and
 * with an untimed call (pair), so that no sample inherits the previous one's spinning.
 */
final class GemmAlternate {
  static final List<Long> DEFAULT_SIZES = List.of(2048L, 4096L);
  /** Pause before each sample: longer than 2^30 clock ticks at 2.2 GHz and more. */
  static final long QUIET_MS = 500;
  static final String[] MODES = {"cpu", "gpu", "alternating"};

  private GemmAlternate() {}

  /**
   * {@code --alternate-sizes} ({@code none}: none), else the defaults in a run that narrows no
   * other gemm rows (see {@link GemmBatched#cases}).
   */
  static List<Long> sizes(BenchOptions o) {
    BenchOptions.Gemm g = o.gemm();
    List<String> spec = g == null ? null : g.alternateSizes();
    if (spec == null) {
      return GemmSuite.narrowed(o) ? List.of() : DEFAULT_SIZES;
    }
    if (spec.equals(List.of("none"))) {
      return List.of();
    }
    List<Long> out = new ArrayList<>();
    for (String s : spec) {
      long n;
      try {
        n = Long.parseLong(s.trim());
      } catch (NumberFormatException e) {
        n = -1;
      }
      if (n < 1 || n > 46340) {
        throw new IllegalArgumentException("gemm: --alternate-sizes takes n in [1, 46340], or "
            + "none; got " + s);
      }
      if (out.contains(n)) {
        throw new IllegalArgumentException("gemm: --alternate-sizes names " + n + " twice");
      }
      out.add(n);
    }
    return out;
  }

  /** The host case of size n: fp32, square. */
  static GemmSuite.HostCase hostCase(long n) {
    return new GemmSuite.HostCase("fp32", (int) n, (int) n, (int) n, true);
  }

  /**
   * loss = alternating pair time / (cpu alone + gpu alone), from the rows' medians; NaN when
   * one is missing.
   */
  static double loss(Row[] rows) {
    if (rows[0].stats() == null || rows[1].stats() == null || rows[2].stats() == null) {
      return Double.NaN;
    }
    return rows[2].stats().median() / (rows[0].stats().median() + rows[1].stats().median());
  }

  /** The three rows of size n: CPU alone, GPU alone, alternating pairs. */
  static Row[] measure(BenchContext ctx, SuiteResult res, GpuCore gpuRoute, long nl, int rounds) {
    int n = (int) nl;
    double flops = 2.0 * n * n * (double) n;
    Row[] rows = {
        new Row("gemm", "alternate", "cpu", "alternate SGEMM cpu alone", "gpucore cpu", n,
            "n=" + n, flops, "GFLOP/s"),
        new Row("gemm", "alternate", "gpu", "alternate SGEMM gpu alone (route=gpu)",
            "gpucore cuda", n, "n=" + n, flops, "GFLOP/s"),
        new Row("gemm", "alternate", "alternating", "alternate SGEMM cpu+gpu, alternating", "gpucore cpu+cuda", n, "n=" + n, 2 * flops, "GFLOP/s")};
    for (Row r : rows) {
      r.extra().put("n", n);
    }
    res.rows().addAll(List.of(rows));
    if (gpuRoute == null) {
      rows[1].skip(ctx.noGpu());
      rows[2].skip(ctx.noGpu());
    }
    GemmSuite.HostCase h = hostCase(n);
    Runtime rt = Runtime.getRuntime();
    long have = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    if (h.heapBytes() > have) {
      System.gc();
      have = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    }
    if (h.heapBytes() > have) {
      String why = "needs " + Fmt.bytes(h.heapBytes()) + " of Java heap, " + Fmt.bytes(have)
          + " free (raise the heap: java -Xmx..., or GPUCORE_JAVA_OPTS=-Xmx... for the bundle)";
      for (Row r : rows) {
        if (r.skipped() == null) {
          r.skip(why);
        }
      }
      return rows;
    }
    GemmSuite.HostMats x = new GemmSuite.HostMats(h, ctx.options().seed(), gpuRoute != null);
    GpuCore cc = ctx.cpuCore();
    // checks, C poisoned first: the CPU's against the exact sums, the GPU's against the CPU's
    ctx.progress().detail("check");
    x.poison(x.c[0]);
    x.gemm(cc, x.c[0]);
    double bound = E2eSuite.bound(n, Precision.FP32);
    GemmSuite.Check chk = GemmSuite.verify(x.mat(x.a), x.mat(x.b), x.mat(x.c[0]), n, n, n,
        bound, ctx.options().seed());
    rows[0].check((chk.ok() ? "ok: " : "MISMATCH: ") + chk.text(), chk.ok());
    boolean ok = chk.ok();
    if (ok && gpuRoute != null) {
      x.poison(x.c[1]);
      x.gemm(gpuRoute, x.c[1]);
      double[] d = GemmSuite.diff(x.mat(x.c[0]), x.mat(x.c[1]), n * n);
      boolean good = d[0] <= bound;
      String text = String.format(Locale.ROOT, "C vs CPU: rel. Frobenius %.1e, max rel %.1e",
          d[0], d[1]);
      rows[1].check((good ? "ok: " : "MISMATCH: ") + text, good);
      rows[2].check((good ? "ok: " : "MISMATCH: ") + "cpu and gpu results as in their rows",
          good);
      ok = good;
    }
    if (!ok) {
      for (Row r : rows) {
        if (r.skipped() == null) {
          r.skip("MISMATCH, not timed: a result failed its check");
        }
      }
      return rows;
    }
    Object cCpu = x.c[0];
    Object cGpu = x.c[1];
    Runnable cpu = () -> x.gemm(cc, cCpu);
    Runnable gpu = () -> x.gemm(gpuRoute, cGpu);
    long[] parts = new long[2]; // time in the CPU and the GPU calls of the pairs timed
    Runnable pair = () -> {
      long t0 = System.nanoTime();
      cpu.run();
      long t1 = System.nanoTime();
      gpu.run();
      parts[0] += t1 - t0;
      parts[1] += System.nanoTime() - t1;
    };
    Runnable[] ops = {cpu, gpu, pair};
    int modes = gpuRoute != null ? 3 : 1;
    int[] calls = new int[3];
    for (int r = 0; r < modes; r++) {
      Runnable op = ops[r];
      quiet();
      calls[r] = GemmSuite.calibrate(i -> op.run(), () -> { });
    }
    List<List<Long>> samples = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    List<List<Long>> inPair = List.of(new ArrayList<>(), new ArrayList<>());
    long deadline = System.nanoTime() + GemmSuite.HOST_BUDGET_S * 1_000_000_000L;
    for (int i = 0; i < rounds && (i < 1 || System.nanoTime() < deadline); i++) {
      for (int j = 0; j < modes; j++) {
        int r = (i + j) % modes;
        ctx.progress().detail("round " + (i + 1) + "/" + rounds + ": " + MODES[r]);
        Runnable op = ops[r];
        quiet();
        op.run(); // untimed: the threads of this mode awake, those of the last one asleep
        parts[0] = 0;
        parts[1] = 0;
        long t0 = System.nanoTime();
        for (int c = 0; c < calls[r]; c++) {
          op.run();
        }
        samples.get(r).add(Math.round((System.nanoTime() - t0) / (double) calls[r]));
        if (r == 2) {
          inPair.get(0).add(Math.round(parts[0] / (double) calls[r]));
          inPair.get(1).add(Math.round(parts[1] / (double) calls[r]));
        }
      }
    }
    for (int r = 0; r < modes; r++) {
      long[] s = samples.get(r).stream().mapToLong(Long::longValue).toArray();
      rows[r].measured(Stats.of(s), "host: System.nanoTime around " + calls[r]
          + (r == 2 ? " back-to-back CPU+GPU pairs / " : " back-to-back calls / ") + calls[r]
          + ", after a " + QUIET_MS + " ms pause and an untimed one; rounds rotate the modes");
      rows[r].extra().put("calls_per_sample", calls[r]);
    }
    if (modes == 3) {
      // which half of a pair is slower than alone: the CPU call after a GPU call, or the GPU
      // call after a CPU call (medians over the samples of the pair's CPU and GPU calls)
      rows[2].extra().put("cpu_in_pair_ns", Stats.of(inPair.get(0).stream()
          .mapToLong(Long::longValue).toArray()).median());
      rows[2].extra().put("gpu_in_pair_ns", Stats.of(inPair.get(1).stream()
          .mapToLong(Long::longValue).toArray()).median());
    }
    double loss = loss(rows);
    if (!Double.isNaN(loss)) {
      rows[2].extra().put("loss", loss);
    }
    System.err.println(String.format(Locale.ROOT, "partial: gemm alternate n=%d loss %.3f", n,
        loss));
    return rows;
  }

  /** Summary entry and footer line of one size. */
  static Map<String, Object> summarize(SuiteResult res, Row[] rows, int threadTimeout) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("n", rows[0].extra().get("n"));
    double[] t = new double[3];
    for (int r = 0; r < 3; r++) {
      t[r] = rows[r].stats() == null ? Double.NaN : rows[r].stats().median();
      s.put(MODES[r] + "_ns", t[r]);
    }
    double loss = loss(rows);
    s.put("loss", loss);
    s.put("cpu_thread_timeout", threadTimeout);
    Object cpuIn = rows[2].extra().get("cpu_in_pair_ns");
    Object gpuIn = rows[2].extra().get("gpu_in_pair_ns");
    if (cpuIn instanceof Number c && gpuIn instanceof Number g) {
      s.put("cpu_in_pair_ns", c.doubleValue());
      s.put("gpu_in_pair_ns", g.doubleValue());
    }
    if (!Double.isNaN(t[0])) {
      String split = cpuIn instanceof Number c && gpuIn instanceof Number g
          ? String.format(Locale.ROOT, "; in the pair: cpu %s (%.2fx alone), gpu %s (%.2fx alone)",
              Fmt.time(c.doubleValue()), c.doubleValue() / t[0], Fmt.time(g.doubleValue()),
              g.doubleValue() / t[1])
          : "";
      res.footer().add(String.format(Locale.ROOT, "alternate %s: cpu alone %s, gpu alone %s, "
          + "cpu+gpu pair %s: loss = pair / (cpu + gpu) %s (gpucore.cpu.threadTimeout=%d)%s",
          rows[0].sizeLabel(), Fmt.time(t[0]), Double.isNaN(t[1]) ? "-" : Fmt.time(t[1]),
          Double.isNaN(t[2]) ? "-" : Fmt.time(t[2]),
          Double.isNaN(loss) ? "-" : String.format(Locale.ROOT, "%.3f", loss), threadTimeout,
          split));
    }
    return s;
  }

  /** The configured gpucore.cpu.threadTimeout of {@code core}. */
  static int threadTimeout(GpuCore core) {
    return core.config().settings().get(Setting.CPU_THREAD_TIMEOUT);
  }

  private static void quiet() {
    try {
      Thread.sleep(QUIET_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
