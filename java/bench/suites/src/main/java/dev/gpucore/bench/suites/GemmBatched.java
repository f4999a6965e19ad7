package dev.gpucore.bench.suites;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.blas.BatchedGemm;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The gemm suite's batched rows: fp32 (strict, no TF32) batches of C_i = A_i·B_i on device
 * arrays, row-major and contiguous (A batch×m×k, B batch×k×n, C batch×m×n), in gpucore's
 * forms: the pointer arrays of {@code Blas.gemmBatched} (one {@link Operand} per matrix, views
 * into one array each), the same batch prepared once with {@code Blas.prepareBatched} and run
 * (the preparation untimed: its host time in {@code extra.prepare_ns}), and the strided batch
 * of {@link Gemm#batch}, beside
 * PyTorch's {@code torch.bmm} on the same GPU and inputs. Each form is checked first (C
 * poisoned with NaN) against a double-precision product of the inputs on the host, then timed
 * with CUDA events around loops of calls queued on one stream, as the peer is.
 */
final class GemmBatched {
  /** batch×n (m = n = k) by default. */
  static final List<String> DEFAULT_CASES = List.of("1000x32", "10000x16", "64x256");
  /** Items whose every element is checked; larger batches are checked on a sample of items. */
  static final long FULL_CHECK_MACS = 1L << 31;
  static final String[] FORMS = {"pointer", "prepared", "strided"};

  private GemmBatched() {}

  /** One batched case: {@code batch} products of m×k by k×n. */
  record Case(int batch, int m, int n, int k) {
    String label() {
      return m == n && n == k ? batch + "x" + n + "^3" : batch + "x" + m + "x" + n + "x" + k;
    }

    /** Multiply-adds of one call: the row's x, so that a chart orders the cases by work. */
    long macs() {
      return (long) batch * m * n * k;
    }

    long aLen() {
      return (long) batch * m * k;
    }

    long bLen() {
      return (long) batch * k * n;
    }

    long cLen() {
      return (long) batch * m * n;
    }

    /** Host A, B and C as float[] and the reference C as double[]. */
    long heapBytes() {
      return 4 * (aLen() + bLen() + cLen()) + 8 * cLen();
    }
  }

  /**
   * {@code --batched} ({@code none}: no cases), else the defaults in a run that narrows no other
   * gemm rows (no {@code --sizes}, {@code --precision}, {@code --device-sizes},
   * {@code --host-sizes}, {@code --host-shapes}, {@code --host-dtypes}, {@code --no-device},
   * {@code --no-host}).
   */
  static List<Case> cases(BenchOptions o) {
    BenchOptions.Gemm g = o.gemm();
    List<String> spec = g == null ? null : g.batched();
    if (spec == null) {
      spec = GemmSuite.narrowed(o) ? List.of() : DEFAULT_CASES;
    } else if (spec.equals(List.of("none"))) {
      spec = List.of();
    }
    List<Case> out = new ArrayList<>();
    for (String s : spec) {
      Case c = parse(s);
      for (Case d : out) {
        if (d.macs() == c.macs()) {
          throw new IllegalArgumentException("gemm: --batched " + d.label() + " and " + c.label()
              + " have the same work (batch*m*n*k), which keys their rows: keep one");
        }
      }
      out.add(c);
    }
    return out;
  }

  /** {@code BATCHxN} (m = n = k) or {@code BATCHxMxNxK}, each at least 1. */
  static Case parse(String s) {
    String[] p = s.trim().split("x", -1);
    long[] v = new long[p.length];
    boolean ok = p.length == 2 || p.length == 4;
    for (int i = 0; ok && i < p.length; i++) {
      try {
        v[i] = Long.parseLong(p[i].trim());
        ok = v[i] >= 1 && v[i] <= Integer.MAX_VALUE;
      } catch (NumberFormatException e) {
        ok = false;
      }
    }
    if (!ok) {
      throw new IllegalArgumentException("gemm: --batched takes BATCHxN (m = n = k) or "
          + "BATCHxMxNxK with every number >= 1 (e.g. 1000x32), or none; got " + s);
    }
    Case c = p.length == 2 ? new Case((int) v[0], (int) v[1], (int) v[1], (int) v[1])
        : new Case((int) v[0], (int) v[1], (int) v[2], (int) v[3]);
    if (c.aLen() > Integer.MAX_VALUE - 16 || c.bLen() > Integer.MAX_VALUE - 16
        || c.cLen() > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException("gemm: --batched " + s + ": batch*m*k, batch*k*n and "
          + "batch*m*n must each be below " + Integer.MAX_VALUE + " (one Java array each)");
    }
    return c;
  }

  /** C_i = A_i·B_i of every item in double (each product of two floats is exact in double). */
  static double[] reference(float[] a, float[] b, Case c) {
    double[] out = new double[(int) c.cLen()];
    for (int item = 0; item < c.batch(); item++) {
      product(a, b, c, item, out);
    }
    return out;
  }

  /** Item {@code item} of {@link #reference} into {@code out}. */
  static void product(float[] a, float[] b, Case c, int item, double[] out) {
    int m = c.m();
    int n = c.n();
    int k = c.k();
    long oa = (long) item * m * k;
    long ob = (long) item * k * n;
    long oc = (long) item * m * n;
    double[] row = new double[n];
    for (int i = 0; i < m; i++) {
      java.util.Arrays.fill(row, 0);
      for (int p = 0; p < k; p++) {
        double x = a[(int) (oa + (long) i * k + p)];
        int bo = (int) (ob + (long) p * n);
        for (int j = 0; j < n; j++) {
          row[j] += x * b[bo + j];
        }
      }
      System.arraycopy(row, 0, out, (int) (oc + (long) i * n), n);
    }
  }

  /**
   * The items checked element by element: every one when the batch has at most
   * {@value #FULL_CHECK_MACS} multiply-adds, else the first, the last, the middle and five seeded
   * others.
   */
  static int[] checkedItems(Case c, long seed) {
    if (c.macs() <= FULL_CHECK_MACS) {
      int[] all = new int[c.batch()];
      for (int i = 0; i < all.length; i++) {
        all[i] = i;
      }
      return all;
    }
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed ^ c.batch());
    int[] some = {0, c.batch() - 1, c.batch() / 2, 0, 0, 0, 0, 0};
    for (int i = 3; i < some.length; i++) {
      some[i] = r.nextInt(c.batch());
    }
    return some;
  }

  /** A check's outcome: the largest |C - ref| over the largest |ref|, NaN anywhere failing. */
  record Check(boolean ok, String text, double maxRel) {}

  /**
   * {@code got} (all of C, as float) against {@code ref} (double) over {@code items}: fails
   * when any element differs by more than {@code bound} times the largest reference element of
   * those items, or is NaN (never written after the poisoning).
   */
  static Check check(double[] ref, float[] got, Case c, int[] items, double bound) {
    long per = (long) c.m() * c.n();
    double maxErr = 0;
    double maxRef = 0;
    long bad = 0;
    for (int item : items) {
      long o = item * per;
      for (long e = 0; e < per; e++) {
        double r = ref[(int) (o + e)];
        double g = got[(int) (o + e)];
        double d = Math.abs(g - r);
        if (Double.isNaN(d)) {
          d = Double.POSITIVE_INFINITY;
          bad++;
        }
        maxErr = Math.max(maxErr, d);
        maxRef = Math.max(maxRef, Math.abs(r));
      }
    }
    double rel = maxRef == 0 ? maxErr : maxErr / maxRef;
    boolean ok = rel <= bound;
    String what = items.length == c.batch() ? "all " + c.batch() + " items"
        : items.length + " of " + c.batch() + " items";
    return new Check(ok, String.format(Locale.ROOT, "%s vs double: max error / max |C| %.1e "
        + "(bound %.1e)%s", what, rel, bound, bad > 0 ? ", " + bad + " NaN" : ""), rel);
  }

  /**
   * The rows of one case ({@link #FORMS}), measured when there is a GPU: pointer arrays,
   * prepared pointer arrays and strided. Puts the exact sum of C (from the reference) in
   * {@code exactSums} under {@code batched X}.
   */
  static Row[] measure(BenchContext ctx, SuiteResult res, Case c, int reps, int warmup,
      Map<String, Double> exactSums) {
    Row[] rows = new Row[FORMS.length];
    String[] what = {"pointer (gemmBatched)", "prepared (prepareBatched)",
        "strided (Gemm.batch)"};
    for (int f = 0; f < FORMS.length; f++) {
      rows[f] = new Row("gemm", "batched", FORMS[f], "batched fp32 " + what[f], "gpucore cuda",
          c.macs(), c.label(), 2.0 * c.macs(), "GFLOP/s");
      rows[f].extra().put("batch", c.batch());
      rows[f].extra().put("m", c.m());
      rows[f].extra().put("n", c.n());
      rows[f].extra().put("k", c.k());
      rows[f].extra().put("precision", "fp32");
      res.rows().add(rows[f]);
    }
    if (!ctx.gpuOrSkip(rows)) {
      return rows;
    }
    GpuCore core = ctx.core();
    int dev = ctx.options().device();
    long seed = ctx.options().seed();
    float[] a = new float[(int) c.aLen()];
    float[] b = new float[(int) c.bLen()];
    InputGen.fill(a, seed);
    InputGen.fill(b, seed + 1);
    ctx.progress().detail("reference");
    int[] items = checkedItems(c, seed);
    double[] ref = new double[(int) c.cLen()];
    if (items.length == c.batch()) {
      ref = reference(a, b, c);
    } else {
      for (int item : items) {
        product(a, b, c, item, ref);
      }
    }
    exactSums.put("batched " + c.macs(), exactSum(a, b, c));
    double bound = E2eSuite.bound(c.k(), Precision.FP32);
    int m = c.m();
    int n = c.n();
    int k = c.k();
    Gemm single = Gemm.of(m, n, k).precision(Precision.FP32);
    Gemm strided = single.batch(c.batch(), (long) m * k, (long) k * n, (long) m * n);
    try (DeviceArray da = core.allocate(dev, DType.FLOAT32, c.aLen());
        DeviceArray db = core.allocate(dev, DType.FLOAT32, c.bLen());
        DeviceArray dc = core.allocate(dev, DType.FLOAT32, c.cLen());
        GpuStream s = core.stream(dev);
        BatchedGemm prepared = prepare(core, rows[1], single, views(da, c.batch(), m * k), k,
            views(db, c.batch(), k * n), n, views(dc, c.batch(), m * n), n)) {
      da.copyFrom(a);
      db.copyFrom(b);
      Operand[] oa = views(da, c.batch(), m * k);
      Operand[] ob = views(db, c.batch(), k * n);
      Operand[] oc = views(dc, c.batch(), m * n);
      Operand a0 = Operand.of(da);
      Operand b0 = Operand.of(db);
      Operand c0 = Operand.of(dc);
      Runnable[] call = {
          () -> core.blas().gemmBatched(single, oa, k, ob, n, oc, n, s),
          () -> prepared.run(s),
          () -> core.blas().gemm(strided, a0, k, b0, n, c0, n, s)};
      float[] got = new float[(int) c.cLen()];
      for (int f = 0; f < FORMS.length; f++) {
        Row row = rows[f];
        Runnable op = call[f];
        ctx.progress().detail(FORMS[f] + ": check");
        dc.fill(Double.NaN);
        op.run();
        s.synchronize();
        dc.copyTo(got);
        Check chk = check(ref, got, c, items, bound);
        row.extra().put("check_max_rel", chk.maxRel());
        row.check((chk.ok() ? "ok: " : "MISMATCH: ") + chk.text(), chk.ok());
        if (!chk.ok()) {
          row.skip("MISMATCH, not timed: " + chk.text());
          continue;
        }
        time(ctx, row, s, op, reps, warmup);
      }
    } catch (GpuCoreException.OutOfMemory e) {
      for (Row r : rows) {
        if (r.stats() == null && r.skipped() == null) {
          r.skip("out of device memory: " + e.getMessage());
        }
      }
    }
    return rows;
  }

  /** {@code count} views into {@code d}, {@code stride} elements apart. */
  private static Operand[] views(DeviceArray d, int count, long stride) {
    Operand[] o = new Operand[count];
    for (int i = 0; i < count; i++) {
      o[i] = Operand.of(d, i * stride);
    }
    return o;
  }

  /** {@code Blas.prepareBatched}, its host time in {@code row}'s {@code extra.prepare_ns}. */
  private static BatchedGemm prepare(GpuCore core, Row row, Gemm g, Operand[] a, int lda,
      Operand[] b, int ldb, Operand[] c, int ldc) {
    long t0 = System.nanoTime();
    BatchedGemm p = core.blas().prepareBatched(g, a, lda, b, ldb, c, ldc);
    row.extra().put("prepare_ns", System.nanoTime() - t0);
    return p;
  }

  /** sum(C) from the inputs alone: Σ_i Σ_p (Σ_r A_i[r,p])·(Σ_j B_i[p,j]), in double. */
  static double exactSum(float[] a, float[] b, Case c) {
    double sum = 0;
    double[] sa = new double[c.k()];
    for (int item = 0; item < c.batch(); item++) {
      java.util.Arrays.fill(sa, 0);
      long oa = (long) item * c.m() * c.k();
      for (int r = 0; r < c.m(); r++) {
        for (int p = 0; p < c.k(); p++) {
          sa[p] += a[(int) (oa + (long) r * c.k() + p)];
        }
      }
      long ob = (long) item * c.k() * c.n();
      for (int p = 0; p < c.k(); p++) {
        double sb = 0;
        for (int j = 0; j < c.n(); j++) {
          sb += b[(int) (ob + (long) p * c.n() + j)];
        }
        sum += sa[p] * sb;
      }
    }
    return sum;
  }

  /**
   * Warm-up calls, R calls per sample for at least the suite's sample time, then {@code reps}
   * samples: the stream's GPU events around R calls queued on it (host time around the same
   * loop and its synchronisation beside), per call; where the stream has no GPU events, the host
   * time alone.
   */
  private static void time(BenchContext ctx, Row row, GpuStream s, Runnable op, int reps,
      int warmup) {
    boolean events = s.timesOnGpu();
    for (int i = 0; i < warmup; i++) {
      op.run();
    }
    s.synchronize();
    int calls = GemmSuite.calibrate(i -> op.run(), s::synchronize);
    Runnable loop = () -> {
      for (int i = 0; i < calls; i++) {
        op.run();
      }
    };
    int dev = ctx.options().device();
    Map<String, Object> before = ctx.telemetry().sample(dev);
    long[] ev = new long[reps];
    long[] host = new long[reps];
    for (int r = 0; r < reps; r++) {
      ctx.progress().detail(row.caseId() + ": sample " + (r + 1) + "/" + reps + " (" + calls
          + " calls)");
      long t0 = System.nanoTime();
      if (events) {
        ev[r] = Math.round(s.time(loop) / (double) calls);
      } else {
        loop.run();
        s.synchronize();
      }
      host[r] = Math.round((System.nanoTime() - t0) / (double) calls);
    }
    row.telemetry(before, ctx.telemetry().sample(dev));
    row.extra().put("calls_per_sample", calls);
    List<Long> hostList = new ArrayList<>();
    for (long h : host) {
      hostList.add(h);
    }
    if (events) {
      row.extra().put("host_samples_ns", hostList);
      row.measured(Stats.of(ev), "CUDA events around " + calls + " calls queued on a stream, "
          + "per call (host time of the same loop + synchronize in host_samples_ns)");
    } else {
      row.measured(Stats.of(host), "host-sync: System.nanoTime around " + calls + " calls "
          + "queued on a stream + synchronize, per call (the stream has no GPU events)");
    }
    long[] sorted = (events ? ev : host).clone();
    java.util.Arrays.sort(sorted);
    // as it goes, on stderr: a run cut short (a time limit) still leaves these figures
    System.err.println("partial: gemm batched " + row.caseId() + " " + row.sizeLabel()
        + " median " + Fmt.time(sorted[sorted.length / 2]));
  }
}
