package dev.gpucore.cli;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.blas.Decision;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.HostArray;
import dev.gpucore.reduce.Accumulation;
import dev.gpucore.reduce.ReduceOp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The doctor's known-answer self-test, through the public API only: GEMM in every precision and
 * the reductions, each against a float64 reference computed here in plain Java, on fresh random
 * data (one seed per run, a stream per check), with every output poisoned (NaN) first.
 *
 * <p>GEMM: C (m×n, row-major, a padding column) = A·Bᵀ, odd sizes so no tile fits exactly; the
 * relative Frobenius error against the reference must stay within the bound gpucore's GPU tests
 * use for the precision (see {@link dev.gpucore.blas.Precision}): FP32 1e-5·√k (fp32's unit
 * roundoff 6e-8 times √k times a margin), TF32 1e-3 (10-bit mantissa inputs), BF16 and FP16
 * 1e-2 (8- and 11-bit inputs), FP64 1e-13·√k. Each element must also be within its own
 * componentwise bound ({@link #elementFactor}), so one wrong element cannot hide in the norm.
 * Every element of C must be written and the padding column left alone. 16-bit storage is
 * checked against the rounded values read back, so its products are exact and its bounds are
 * FP32's. A separate guard catches strict FP32 silently computed in TF32 (1.0001² summed 1024
 * times is 1024.2 in fp32, 1024.0 in TF32).
 *
 * <p>Reductions (sum, max, argmax, L2 norm, dot; fp32 and fp64 data): the bounds stated on
 * {@link dev.gpucore.reduce.Reduce}, doubled for the reference's own rounding: sums and dots
 * within {@code 2·(n+1)·2^-53·Σ|terms|}, the norm within a relative
 * {@code 2·(n+2)·2^-53}, max
 * and argmax exact (with a planted tie, which argmax must resolve to the first index). On a GPU
 * the result goes to element 1 of a 3-element device array poisoned with NaN; elements 0 and 2
 * must stay NaN.
 */
final class SelfTest {
  /** Changes a result before it is checked: lets tests see a corrupted result fail. */
  interface Tamper {
    /** No change. */
    Tamper NONE = (check, result) -> { };

    /** Called with the check's name and its raw result (C with padding, or 3 scalars). */
    void apply(String check, double[] result);
  }

  static final int M = 67;
  static final int N = 53;
  static final int K = 129;
  static final int LEN = 100_003;
  static final double U = 0x1p-53;

  private final long seed;
  private final Tamper tamper;

  SelfTest(long seed, Tamper tamper) {
    this.seed = seed;
    this.tamper = tamper;
  }

  // ------------------------------------------------------------------------------ targets

  /** The self-test on the CPU backend; {@code cpu} is a core opened with the CPU backend. */
  List<DoctorCheck> cpu(GpuCore cpu) {
    List<DoctorCheck> out = new ArrayList<>();
    GemmRun java = (g, a, b, c, f64) -> javaArrays(cpu, g, a, b, c, f64);
    for (Precision p : List.of(Precision.FP32, Precision.TF32, Precision.BF16, Precision.FP16,
        Precision.FP64)) {
      out.add(gemm("cpu.gemm." + name(p), "Java arrays", p, M, N, K, java));
    }
    out.add(gemm("cpu.gemm.host-array", "pageable HostArrays, fp32", Precision.FP32, M, N, K,
        (g, a, b, c, f64) -> hostArrays(cpu, g, a, b, c, false)));
    out.add(tf32Guard("cpu.gemm.fp32-not-tf32", "Java arrays", java));
    for (DType t : List.of(DType.FLOAT32, DType.FLOAT64)) {
      for (ReduceOp op : List.of(ReduceOp.SUM, ReduceOp.MAX, ReduceOp.ARGMAX, ReduceOp.NORM2,
          ReduceOp.DOT)) {
        out.add(reduction("cpu", op, t, "Java arrays", (o, x, y) -> cpuReduce(cpu, o, x, y, t)));
      }
    }
    return out;
  }

  /**
   * The self-test on GPU {@code device} of {@code core}; {@code hostRouted} is a core whose
   * router sends host GEMMs to that GPU ({@code gpucore.gemm.route=gpu}, {@code gpucore.gpu.list}
   * naming it).
   */
  List<DoctorCheck> gpu(GpuCore core, GpuCore hostRouted, int device) {
    List<DoctorCheck> out = new ArrayList<>();
    String pre = "gpu" + device + ".";
    GemmRun dev = (g, a, b, c, f64) -> deviceArrays(core, device, g, a, b, c,
        f64 ? DType.FLOAT64 : DType.FLOAT32);
    for (Precision p : List.of(Precision.FP32, Precision.TF32, Precision.BF16, Precision.FP16,
        Precision.FP64)) {
      out.add(gemm(pre + "gemm." + name(p), "device arrays", p, M, N, K, dev));
    }
    for (DType half : List.of(DType.BFLOAT16, DType.FLOAT16)) {
      out.add(gemm(pre + "gemm." + (half == DType.BFLOAT16 ? "bf16" : "fp16") + "-storage",
          half + " device arrays, FLOAT32 C", Precision.DEFAULT, M, N, K,
          (g, a, b, c, f64) -> deviceArrays(core, device, g, a, b, c, half)));
    }
    out.add(gemm(pre + "gemm.host-array", "pinned HostArrays through the GPU pipeline, fp32",
        Precision.FP32, M, N, K, (g, a, b, c, f64) -> hostArrays(hostRouted, g, a, b, c, true)));
    out.add(gemm(pre + "gemm.java-array", "Java arrays through the GPU pipeline, fp32",
        Precision.FP32, M, N, K, (g, a, b, c, f64) -> javaArrays(hostRouted, g, a, b, c, f64)));
    out.add(tf32Guard(pre + "gemm.fp32-not-tf32", "device arrays", dev));
    for (DType t : List.of(DType.FLOAT32, DType.FLOAT64)) {
      for (ReduceOp op : List.of(ReduceOp.SUM, ReduceOp.MAX, ReduceOp.ARGMAX, ReduceOp.NORM2,
          ReduceOp.DOT)) {
        out.add(reduction("gpu" + device, op, t, "device arrays",
            (o, x, y) -> gpuReduce(core, device, o, x, y, t)));
      }
    }
    return out;
  }

  static String name(Precision p) {
    return p.name().toLowerCase(Locale.ROOT);
  }

  // ------------------------------------------------------------------------------ GEMM

  /** Runs C = A·Bᵀ (row-major; lda = ldb = k, ldc = n + 1) and returns what it computed. */
  interface GemmRun {
    Result run(Gemm g, double[] a, double[] b, double[] c, boolean f64);
  }

  /**
   * What a GEMM produced: C (with padding), and the A and B values the backend multiplied
   * (null: as given; 16-bit storage rounds them).
   */
  record Result(double[] c, double[] aSeen, double[] bSeen) {}

  static int ldc(int n) {
    return n + 1;
  }

  DoctorCheck gemm(String check, String where, Precision p, int m, int n, int k, GemmRun run) {
    boolean f64 = p == Precision.FP64;
    SplittableRandom r = rng(check);
    double[] a = random(r, (long) m * k, f64);
    double[] b = random(r, (long) n * k, f64);
    double[] c = poisoned(m, n);
    Gemm g = Gemm.of(m, n, k).transB(true).precision(p);
    String what = m + "x" + n + "x" + k + ", " + where;
    Result res;
    try {
      res = run.run(g, a, b, c, f64);
    } catch (RuntimeException e) {
      return DoctorCheck.fail(check, what + ": " + threw(e));
    }
    tamper.apply(check, res.c());
    double[][] ref = reference(res.aSeen() == null ? a : res.aSeen(),
        res.bSeen() == null ? b : res.bSeen(), m, n, k);
    // 16-bit storage: the reference multiplies the rounded values, so the products are exact
    Precision rule = res.aSeen() != null ? Precision.FP32 : p;
    return verdict(check, what, compareGemm(res.c(), ref, m, n, k, rule));
  }

  /** The error bound of a GEMM in precision {@code p} with inner dimension {@code k}. */
  static double gemmBound(Precision p, int k) {
    double sk = Math.sqrt(Math.max(1, k));
    return switch (p) {
      case TF32 -> 1e-3;
      case BF16, FP16 -> 1e-2;
      case FP64 -> 1e-13 * sk;
      default -> 1e-5 * sk;
    };
  }

  /**
   * C = A·Bᵀ in float64 (A m×k and B n×k, row-major), and |A|·|B|ᵀ, the scale of each
   * element's rounding error: two m×n arrays without padding.
   */
  static double[][] reference(double[] a, double[] b, int m, int n, int k) {
    double[] ref = new double[m * n];
    double[] abs = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        double t = 0;
        for (int p = 0; p < k; p++) {
          double x = a[i * k + p] * b[j * k + p];
          s += x;
          t += Math.abs(x);
        }
        ref[i * n + j] = s;
        abs[i * n + j] = t;
      }
    }
    return new double[][] {ref, abs};
  }

  /**
   * The componentwise bound: {@code |C - ref| <= f·(|A|·|B|ᵀ) + slack} with f twice the worst
   * case of the inputs' rounding (twice their unit roundoff, as if truncated) plus k additions
   * in the accumulation type (fp32 taken as 2^-23: tensor cores may truncate). It catches a
   * single wrong element that the Frobenius norm of a large C would average away.
   */
  static double elementFactor(Precision p, int k) {
    return switch (p) {
      case TF32 -> 2 * (2 * 0x1p-10 + k * 0x1p-23);
      case BF16 -> 2 * (2 * 0x1p-7 + k * 0x1p-23);
      case FP16 -> 2 * (2 * 0x1p-10 + k * 0x1p-23);
      case FP64 -> 2 * k * 0x1p-53;
      default -> 2 * k * 0x1p-23;
    };
  }

  /** Absolute slack of the componentwise bound: fp16's subnormal inputs (|x| < 2^-14). */
  static double elementSlack(Precision p, int k) {
    return p == Precision.FP16 ? k * 0x1p-24 : 0;
  }

  /** Pass/fail and one line. */
  record Verdict(boolean ok, String detail) {}

  /**
   * Checks a computed C (row-major, {@code ldc = n + 1}, poisoned with NaN before the call)
   * against the reference ({@link #reference}): every element written, finite and within the
   * componentwise bound of precision {@code p}, the padding column still NaN, and the relative
   * Frobenius error within {@link #gemmBound}.
   */
  static Verdict compareGemm(double[] got, double[][] reference, int m, int n, int k,
      Precision p) {
    double[] ref = reference[0];
    double[] abs = reference[1];
    double f = elementFactor(p, k);
    double slack = elementSlack(p, k);
    int ldc = ldc(n);
    if (got.length < (long) m * ldc) {
      return new Verdict(false, "C has " + got.length + " elements, expected " + m * ldc);
    }
    double num = 0;
    double den = 0;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double v = got[i * ldc + j];
        String at = "C(" + i + "," + j + ")";
        if (Double.isNaN(v)) {
          return new Verdict(false, at + " was not written (still the NaN poison)");
        }
        if (!Double.isFinite(v)) {
          return new Verdict(false, at + " is " + v);
        }
        double r = ref[i * n + j];
        double d = Math.abs(v - r);
        double eb = f * abs[i * n + j] + slack;
        if (d > eb) {
          return new Verdict(false, String.format(Locale.ROOT,
              "%s = %s, reference %s: error %.2e > bound %.2e", at, fmt(v), fmt(r), d, eb));
        }
        num += d * d;
        den += r * r;
      }
      if (!Double.isNaN(got[i * ldc + n])) {
        return new Verdict(false, "C's padding at (" + i + "," + n + ") was overwritten with "
            + got[i * ldc + n]);
      }
    }
    double bound = gemmBound(p, k);
    double rel = Math.sqrt(num / Math.max(den, Double.MIN_NORMAL));
    boolean ok = rel <= bound;
    return new Verdict(ok, String.format(Locale.ROOT, "relative error %.2e %s %.2e%s", rel,
        ok ? "<=" : "> bound", bound, ok ? ", every element within its bound" : ""));
  }

  /** Strict FP32 must see the 1e-4 that TF32 rounds away. */
  DoctorCheck tf32Guard(String check, String where, GemmRun run) {
    int n = 16;
    int k = 1024;
    double[] a = new double[n * k];
    Arrays.fill(a, 1.0001f);
    Gemm g = Gemm.of(n, n, k).transB(true).precision(Precision.FP32);
    Result res;
    try {
      res = run.run(g, a, a, poisoned(n, n), false);
    } catch (RuntimeException e) {
      return DoctorCheck.fail(check, where + ": " + threw(e));
    }
    tamper.apply(check, res.c());
    double exact = k * (double) 1.0001f * 1.0001f;
    double worst = 0;
    double at = exact;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double v = res.c()[i * ldc(n) + j];
        double d = Double.isNaN(v) ? Double.POSITIVE_INFINITY : Math.abs(v - exact);
        if (d >= worst) {
          worst = d;
          at = v;
        }
      }
    }
    String what = "1.0001*1.0001 summed " + k + " times, " + where;
    if (worst <= 0.01) {
      return DoctorCheck.ok(check, String.format(Locale.ROOT,
          "%s: %.4f (TF32 would give 1024.0)", what, exact));
    }
    String override = System.getenv("NVIDIA_TF32_OVERRIDE");
    String why = Math.abs(at - 1024.0) <= 0.01
        ? ": the inputs were rounded to TF32 although strict FP32 was asked for"
            + (override == null ? "" : " (NVIDIA_TF32_OVERRIDE=" + override + ")")
        : "";
    return DoctorCheck.fail(check, String.format(Locale.ROOT, "%s: got %s, expected %.4f%s",
        what, at, exact, why));
  }

  static Result javaArrays(GpuCore core, Gemm g, double[] a, double[] b, double[] c,
      boolean f64) {
    int k = g.k();
    int ldc = ldc(g.n());
    if (f64) {
      double[] jc = c.clone();
      core.blas().gemm(g, Operand.of(a.clone()), k, Operand.of(b.clone()), k, Operand.of(jc),
          ldc);
      return new Result(jc, null, null);
    }
    Operand fa = Operand.of(toFloat(a));
    Operand fb = Operand.of(toFloat(b));
    float[] jc = toFloat(c);
    requireGpuRoute(core, g, fa, fb, Operand.of(jc));
    core.blas().gemm(g, fa, k, fb, k, Operand.of(jc), ldc);
    return new Result(toDouble(jc), null, null);
  }

  /** On a core routed to the GPU, a host GEMM that the router keeps on the CPU is an error. */
  private static void requireGpuRoute(GpuCore core, Gemm g, Operand a, Operand b, Operand c) {
    if (!core.hasGpu()) {
      return;
    }
    Decision d = core.blas().explain(g, a, g.k(), b, g.k(), c, ldc(g.n()));
    if (!d.gpu()) {
      throw new IllegalStateException("the router kept the host GEMM on the CPU: " + d);
    }
  }

  static Result hostArrays(GpuCore core, Gemm g, double[] a, double[] b, double[] c,
      boolean pinned) {
    try (HostArray ha = core.allocateHost(DType.FLOAT32, a.length, pinned);
        HostArray hb = core.allocateHost(DType.FLOAT32, b.length, pinned);
        HostArray hc = core.allocateHost(DType.FLOAT32, c.length, pinned)) {
      ha.put(0, toFloat(a), 0, a.length);
      hb.put(0, toFloat(b), 0, b.length);
      hc.put(0, toFloat(c), 0, c.length);
      requireGpuRoute(core, g, Operand.of(ha, 0), Operand.of(hb, 0), Operand.of(hc, 0));
      core.blas().gemm(g, Operand.of(ha, 0), g.k(), Operand.of(hb, 0), g.k(), Operand.of(hc, 0),
          ldc(g.n()));
      float[] out = new float[c.length];
      hc.get(0, out, 0, out.length);
      return new Result(toDouble(out), null, null);
    }
  }

  /**
   * On GPU {@code device}: A and B of type {@code t}, C of {@code t} (FLOAT32 for 16-bit A and
   * B), C poisoned on the device.
   */
  static Result deviceArrays(GpuCore core, int device, Gemm g, double[] a, double[] b,
      double[] c, DType t) {
    DType ct = t.isHalf() ? DType.FLOAT32 : t;
    try (DeviceArray da = core.allocate(device, t, a.length);
        DeviceArray db = core.allocate(device, t, b.length);
        DeviceArray dc = core.allocate(device, ct, c.length)) {
      double[] aSeen = null;
      double[] bSeen = null;
      if (t == DType.FLOAT64) {
        da.copyFrom(a);
        db.copyFrom(b);
      } else {
        da.copyFrom(toFloat(a));
        db.copyFrom(toFloat(b));
        if (t.isHalf()) { // the values the GPU multiplies: the inputs rounded to 16 bits
          float[] ra = new float[a.length];
          float[] rb = new float[b.length];
          da.copyTo(ra);
          db.copyTo(rb);
          aSeen = toDouble(ra);
          bSeen = toDouble(rb);
        }
      }
      dc.fill(Double.NaN);
      core.blas().gemm(g, Operand.of(da), g.k(), Operand.of(db), g.k(), Operand.of(dc),
          ldc(g.n()));
      double[] out = new double[c.length];
      if (ct == DType.FLOAT64) {
        dc.copyTo(out);
      } else {
        float[] f = new float[c.length];
        dc.copyTo(f);
        out = toDouble(f);
      }
      return new Result(out, aSeen, bSeen);
    }
  }

  // ------------------------------------------------------------------------------ reductions

  /** Runs a reduction; returns 3 values: poison, the result, poison. */
  interface ReduceRun {
    double[] run(ReduceOp op, double[] x, double[] y);
  }

  DoctorCheck reduction(String prefix, ReduceOp op, DType t, String where, ReduceRun run) {
    boolean f64 = t == DType.FLOAT64;
    String opName = op.name().toLowerCase(Locale.ROOT);
    String check = prefix + "." + opName + "." + (f64 ? "fp64" : "fp32");
    SplittableRandom r = rng(check);
    double[] x = random(r, LEN, f64);
    double[] y = op == ReduceOp.DOT ? random(r, LEN, f64) : null;
    if (op == ReduceOp.MAX || op == ReduceOp.ARGMAX) { // a tie at the top: the first one counts
      int first = 1 + r.nextInt(LEN / 2);
      x[first] = 1.5;
      x[first + 1 + r.nextInt(LEN / 2 - 1)] = 1.5;
    }
    String what = opName + " of " + LEN + " " + (f64 ? "fp64" : "fp32") + ", " + where;
    double[] got;
    try {
      got = run.run(op, x, y);
    } catch (RuntimeException e) {
      return DoctorCheck.fail(check, what + ": " + threw(e));
    }
    tamper.apply(check, got);
    return verdict(check, what, compareScalar(op, got, x, y));
  }

  /**
   * Checks {@code got} = {poison, result, poison} against the float64 reference of {@code op}
   * over {@code x} (and {@code y} for DOT), within the bounds stated on {@code Reduce}.
   */
  static Verdict compareScalar(ReduceOp op, double[] got, double[] x, double[] y) {
    if (got.length != 3 || !Double.isNaN(got[0]) || !Double.isNaN(got[2])) {
      return new Verdict(false, "wrote outside its output element: " + Arrays.toString(got));
    }
    double v = got[1];
    if (Double.isNaN(v)) {
      return new Verdict(false, "result not written (still the NaN poison)");
    }
    int n = x.length;
    switch (op) {
      case MAX, ARGMAX -> {
        int best = 0;
        for (int i = 1; i < n; i++) {
          if (x[i] > x[best]) {
            best = i;
          }
        }
        double want = op == ReduceOp.MAX ? x[best] : best;
        return new Verdict(v == want, (v == want ? "exact: " : "got " + fmt(v) + ", expected ")
            + fmt(want));
      }
      case NORM2 -> {
        double s = 0;
        double c = 0;
        for (double e : x) { // compensated sum of squares
          double t = e * e;
          double u = s + t;
          c += Math.abs(s) >= t ? (s - u) + t : (t - u) + s;
          s = u;
        }
        double want = Math.sqrt(s + c);
        double rel = Math.abs(v - want) / want;
        double bound = 2 * (n + 2) * U;
        return new Verdict(rel <= bound, String.format(Locale.ROOT,
            "relative error %.2e %s %.2e", rel, rel <= bound ? "<=" : "> bound", bound));
      }
      default -> { // SUM, DOT
        double s = 0;
        double c = 0;
        double abs = 0;
        for (int i = 0; i < n; i++) {
          double t = op == ReduceOp.DOT ? x[i] * y[i] : x[i];
          abs += Math.abs(t);
          double u = s + t;
          c += Math.abs(s) >= Math.abs(t) ? (s - u) + t : (t - u) + s;
          s = u;
        }
        double want = s + c;
        double err = Math.abs(v - want);
        double bound = 2 * (n + 1) * U * abs;
        return new Verdict(err <= bound, String.format(Locale.ROOT,
            "error %.2e %s %.2e (value %s)", err, err <= bound ? "<=" : "> bound", bound, fmt(v)));
      }
    }
  }

  static double[] cpuReduce(GpuCore core, ReduceOp op, double[] x, double[] y, DType t) {
    double v;
    if (t == DType.FLOAT64) {
      v = switch (op) {
        case SUM -> core.reduce().sum(x);
        case MAX -> core.reduce().max(x);
        case ARGMAX -> core.reduce().argmax(x);
        case NORM2 -> core.reduce().norm2(x);
        case DOT -> core.reduce().dot(x, y);
        default -> throw new IllegalArgumentException(op.name());
      };
    } else {
      float[] fx = toFloat(x);
      v = switch (op) {
        case SUM -> core.reduce().sum(fx);
        case MAX -> core.reduce().max(fx);
        case ARGMAX -> core.reduce().argmax(fx);
        case NORM2 -> core.reduce().norm2(fx);
        case DOT -> core.reduce().dot(fx, toFloat(y));
        default -> throw new IllegalArgumentException(op.name());
      };
    }
    return new double[] {Double.NaN, v, Double.NaN};
  }

  static double[] gpuReduce(GpuCore core, int device, ReduceOp op, double[] x, double[] y,
      DType t) {
    try (DeviceArray dx = core.allocate(device, t, x.length);
        DeviceArray dy = y == null ? null : core.allocate(device, t, y.length);
        DeviceArray out = core.allocate(device, DType.FLOAT64, 3)) {
      upload(dx, x, t);
      if (y != null) {
        upload(dy, y, t);
      }
      out.fill(Double.NaN);
      if (op == ReduceOp.DOT) {
        core.reduce().dot(dx, 0, dy, 0, x.length, Accumulation.FP64, out, 1, null);
      } else {
        core.reduce().reduce(op, dx, 0, x.length, Accumulation.FP64, out, 1, null);
      }
      double[] got = new double[3];
      out.copyTo(got);
      return got;
    }
  }

  private static void upload(DeviceArray d, double[] v, DType t) {
    if (t == DType.FLOAT64) {
      d.copyFrom(v);
    } else {
      d.copyFrom(toFloat(v));
    }
  }

  // ------------------------------------------------------------------------------ helpers

  private DoctorCheck verdict(String check, String what, Verdict v) {
    return v.ok() ? DoctorCheck.ok(check, what + ": " + v.detail())
        : DoctorCheck.fail(check, what + ": " + v.detail() + " (seed " + seed + ")");
  }

  private SplittableRandom rng(String check) {
    return new SplittableRandom(seed ^ (check.hashCode() * 0x9E3779B97F4A7C15L));
  }

  /** Uniform in (-1, 1), rounded to fp32 unless {@code f64}: the values the backend sees. */
  static double[] random(SplittableRandom r, long n, boolean f64) {
    double[] x = new double[(int) n];
    for (int i = 0; i < x.length; i++) {
      double v = r.nextDouble() * 2 - 1;
      x[i] = f64 ? v : (float) v;
    }
    return x;
  }

  static double[] poisoned(int m, int n) {
    double[] c = new double[m * ldc(n)];
    Arrays.fill(c, Double.NaN);
    return c;
  }

  static float[] toFloat(double[] x) {
    float[] f = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      f[i] = (float) x[i];
    }
    return f;
  }

  static double[] toDouble(float[] x) {
    double[] d = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      d[i] = x[i];
    }
    return d;
  }

  static String threw(RuntimeException e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName()
        + (m == null ? "" : ": " + m.lines().findFirst().orElse(""));
  }

  private static String fmt(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    String s = String.format(Locale.ROOT, "%.9g", v);
    return s.contains("e") ? s : s.replaceAll("0+$", "").replaceAll("\\.$", "");
  }
}
