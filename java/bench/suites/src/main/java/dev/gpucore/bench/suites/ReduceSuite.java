package dev.gpucore.bench.suites;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.reduce.Accumulation;
import dev.gpucore.reduce.Matrix;
import dev.gpucore.reduce.Reduce;
import dev.gpucore.reduce.ReduceOp;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code reduce}: the reduction API ({@link Reduce}) on device arrays — sum, max, argmax, norm2,
 * dot, per-row and per-column sums of a matrix — per element type (fp32, fp64) and per mode:
 *
 * <ul>
 *   <li><b>sync</b>: the call that returns the result on the host ({@code reduce().sum(x)};
 *       per-row and per-column sums into a device array with no stream, then copied to a host
 *       array), so each call includes its wait;
 *   <li><b>queued</b>: the same reductions into a device array, queued on one stream and
 *       synchronised once per sample.
 * </ul>
 *
 * Beside them in the same run: the device-to-device copy of the same array (memory bandwidth:
 * what a reduction that reads its input once can at best approach) and PyTorch's
 * {@code torch.sum}, {@code amax}, {@code argmax}, {@code linalg.vector_norm}, {@code dot} and
 * {@code sum(dim)} on the same values, synchronised the same way. GB/s = bytes of input read
 * per second (dot reads two arrays); fp32 sums, norms and dots accumulate in fp64 (the API's
 * default; PyTorch accumulates fp32 sums in fp32). Every gpucore result is checked against an
 * fp64 sum on the host before anything is timed.
 */
final class ReduceSuite extends NamedSuite {
  static final List<String> OPS = List.of("sum", "max", "argmax", "norm2", "dot", "rowsum",
      "colsum");
  static final List<String> MODES = List.of("sync", "queued");
  /** 2^10, 2^12, ..., 2^28 elements. */
  static final List<Long> SIZES = List.of(1L << 10, 1L << 12, 1L << 14, 1L << 16, 1L << 18,
      1L << 20, 1L << 22, 1L << 24, 1L << 26, 1L << 28);
  static final long MAX_ELEMENTS = 1L << 30;
  static final int DEFAULT_REPS = 7;
  static final int DEFAULT_WARMUP = 3;
  /** Each sample is a loop of calls lasting at least this long. */
  static final int SAMPLE_MS = 10;
  static final int MAX_CALLS = 20000;
  /** Host chunk for filling and checking device arrays (no Java array of the whole size). */
  private static final int CHUNK = 1 << 22;

  ReduceSuite() {
    super("reduce",
        "reductions of the Java API (sum, max, argmax, norm2, dot, per-row and per-column "
            + "sums), sync and queued, vs PyTorch and the device copy",
        SIZES);
  }

  static List<String> ops(BenchOptions o) {
    return o.reduce() == null || o.reduce().ops() == null ? OPS : o.reduce().ops();
  }

  static List<String> modes(BenchOptions o) {
    return o.reduce() == null || o.reduce().modes() == null ? MODES : o.reduce().modes();
  }

  static List<String> dtypes(BenchOptions o) {
    return o.dtypeGiven() ? List.of(o.dtype()) : List.of("fp32", "fp64");
  }

  @Override
  public void validate(BenchOptions o) {
    for (String d : dtypes(o)) {
      if (!d.equals("fp32") && !d.equals("fp64")) {
        throw new IllegalArgumentException("reduce: --dtype must be fp32 or fp64, got " + d);
      }
    }
    for (String op : ops(o)) {
      if (!OPS.contains(op)) {
        throw new IllegalArgumentException("reduce: --ops takes " + String.join(", ", OPS)
            + "; got " + op);
      }
    }
    for (String m : modes(o)) {
      if (!MODES.contains(m)) {
        throw new IllegalArgumentException("reduce: --modes takes sync, queued; got " + m);
      }
    }
    for (long n : o.sizesFor(this, null)) {
      if (n < 1 || n > MAX_ELEMENTS) {
        throw new IllegalArgumentException("reduce: --sizes are element counts in [1, 2^30], got "
            + n);
      }
    }
  }

  @Override
  public int steps(BenchOptions o, boolean gpu) {
    return (gpu ? o.sizesFor(this, null).size() * dtypes(o).size() : 0) + 1;
  }

  /** Rows and columns of the matrix view of n elements: rows a power of two near sqrt(n). */
  static long[] shape(long n) {
    long rows = Long.highestOneBit(Math.max(1, (long) Math.sqrt((double) n)));
    while (n % rows != 0) {
      rows >>= 1;
    }
    return new long[] {rows, n / rows};
  }

  @Override
  SuiteResult run(BenchContext ctx, BenchOptions o) throws Exception {
    int reps = o.repsOr(DEFAULT_REPS);
    int warmup = o.warmupOr(DEFAULT_WARMUP);
    List<Long> sizes = o.sizesFor(this, null);
    List<String> ops = ops(o);
    List<String> modes = modes(o);
    List<String> dtypes = dtypes(o);
    SuiteResult res = new SuiteResult(name(), String.format(Locale.ROOT,
        "reduce: reductions of device arrays through the Java API; %s; median of %d samples, "
            + "each a loop of calls >= %d ms", ctx.gpu() ? "GPU " + o.device() + " ("
            + ctx.deviceName() + ")" : "no GPU", reps, SAMPLE_MS));
    res.settings().put("sizes", sizes);
    res.settings().put("ops", ops);
    res.settings().put("modes", modes);
    res.settings().put("dtypes", dtypes);
    res.settings().put("reps", reps);
    res.settings().put("warmup", warmup);
    res.settings().put("sample_ms", SAMPLE_MS);
    res.notes().add("sync: the call that returns the result to the host (rowsum/colsum: into a "
        + "device array, then copied to the host); queued: into a device array, R calls on one "
        + "stream, one synchronize; time per call = sample / R");
    res.notes().add("GB/s = bytes of input read per second (dot reads two arrays); copy = "
        + "device-to-device copy of the array (it also writes as many bytes); rowsum/colsum "
        + "view the array as a row-major matrix with rows a power of two near sqrt(n)");
    res.notes().add("fp32 sum, norm2, dot accumulate in fp64 (the API's default); checked before "
        + "timing against fp64 sums on the host");
    List<Map<String, Object>> peerSizes = new ArrayList<>();
    for (long n : sizes) {
      long[] sh = shape(n);
      Map<String, Object> ps = new LinkedHashMap<>();
      ps.put("x", n);
      ps.put("buffers", 1);
      ps.put("rows", sh[0]);
      ps.put("cols", sh[1]);
      peerSizes.add(ps);
    }
    Map<String, Row> rows = new LinkedHashMap<>();
    for (String dt : dtypes) {
      for (long n : sizes) {
        String label = sizeLabel(n);
        double bytes = n * (dt.equals("fp64") ? 8.0 : 4.0);
        Row copy = new Row(name(), dt + " copy", "copy", dt + " device copy", "gpucore cuda",
            n, label, bytes, "GB/s");
        res.rows().add(copy);
        rows.put(dt + " copy copy " + n, copy);
        for (String mode : modes) {
          for (String op : ops) {
            Row r = new Row(name(), dt + " " + mode, op, dt + " " + op + " (" + mode + ")",
                "gpucore cuda", n, label, op.equals("dot") ? 2 * bytes : bytes, "GB/s");
            res.rows().add(r);
            rows.put(dt + " " + mode + " " + op + " " + n, r);
          }
        }
      }
    }
    if (!ctx.gpu()) {
      res.notes().add("GPU rows skipped: " + ctx.noGpu());
      for (Row r : res.rows()) {
        r.skip(ctx.noGpu());
      }
    } else {
      for (String dt : dtypes) {
        for (long n : sizes) {
          ctx.progress().step("reduce " + dt + " " + sizeLabel(n));
          try {
            measure(ctx, rows, dt, n, ops, modes, reps, warmup);
          } catch (GpuCoreException.OutOfMemory e) {
            for (Row r : res.rows()) {
              if (r.x() == n && r.group().startsWith(dt) && r.stats() == null) {
                r.skip("out of device memory: " + e.getMessage());
              }
            }
          }
          ctx.progress().stepDone();
        }
      }
    }
    if (ctx.peers() != null) {
      Map<String, Object> req = ctx.peerRequest(peerSizes, reps, warmup);
      req.put("ops", ops);
      req.put("modes", modes);
      req.put("dtypes", dtypes);
      req.put("sample_ms", SAMPLE_MS);
      req.put("cuda_ordinal", ctx.cudaOrdinal());
      ctx.runPeers(res, req, null);
    }
    footer(res, rows, dtypes, sizes, modes, ops);
    return res;
  }

  static String sizeLabel(long n) {
    return Long.bitCount(n) == 1 ? "2^" + Long.numberOfTrailingZeros(n) : Long.toString(n);
  }

  /** Per size: each op's GB/s as a fraction of the copy's (queued, else sync). */
  private static void footer(SuiteResult res, Map<String, Row> rows, List<String> dtypes,
      List<Long> sizes, List<String> modes, List<String> ops) {
    String mode = modes.contains("queued") ? "queued" : "sync";
    boolean header = false;
    for (String dt : dtypes) {
      for (long n : sizes) {
        Row copy = rows.get(dt + " copy copy " + n);
        if (copy == null || copy.stats() == null) {
          continue;
        }
        StringBuilder sb = new StringBuilder();
        for (String op : ops) {
          Row r = rows.get(dt + " " + mode + " " + op + " " + n);
          if (r != null && r.stats() != null) {
            sb.append(String.format(Locale.ROOT, " %s %.2f", op,
                r.throughput() / copy.throughput()));
          }
        }
        if (sb.length() == 0) {
          continue;
        }
        if (!header) {
          res.footer().add("GB/s as a fraction of the device copy's (" + mode + "; 1 = as fast "
              + "as reading the input by copying it):");
          header = true;
        }
        res.footer().add(String.format(Locale.ROOT, "  %s %-5s%s", dt, sizeLabel(n), sb));
      }
    }
  }

  private static void measure(BenchContext ctx, Map<String, Row> rows, String dt, long n,
      List<String> ops, List<String> modes, int reps, int warmup) {
    GpuCore core = ctx.core();
    int dev = ctx.options().device();
    DType t = dt.equals("fp64") ? DType.FLOAT64 : DType.FLOAT32;
    long seed = ctx.options().seed();
    long[] sh = shape(n);
    Matrix m = Matrix.rowMajor(sh[0], sh[1]);
    Reduce red = core.reduce();
    Accumulation acc = Accumulation.FP64;
    try (DeviceArray x = core.allocate(dev, t, n);
        DeviceArray y = ops.contains("dot") ? core.allocate(dev, t, n) : null;
        DeviceArray z = core.allocate(dev, t, n);
        DeviceArray out = core.allocate(dev, DType.FLOAT64, Math.max(sh[0], sh[1]));
        GpuStream s = core.stream(dev)) {
      Ref rx = fill(x, seed, sh);
      Ref ry = y == null ? null : fill(y, seed + 1, sh);
      double dotRef = y == null ? 0 : dotRef(x, y);
      double[] host = new double[(int) Math.max(sh[0], sh[1])];
      // the copy: the memory bandwidth that bounds a reduction reading its input once
      Row copy = rows.get(dt + " copy copy " + n);
      copy.measured(loop(() -> z.copyFrom(x, 0, 0, n, s), s, reps, warmup),
          "host (System.nanoTime around R queued copies + synchronize) / R");
      for (String mode : modes) {
        boolean sync = mode.equals("sync");
        for (String op : ops) {
          Row r = rows.get(dt + " " + mode + " " + op + " " + n);
          Runnable call = call(red, op, sync, x, y, n, m, acc, out, host, s);
          // check first
          call.run();
          if (!sync) {
            s.synchronize();
          }
          String bad = check(op, sync ? lastScalar[0] : Double.NaN, out, host, rx, ry, dotRef,
              sh, sync);
          if (bad != null) {
            r.check("MISMATCH: " + bad, false);
            continue;
          }
          r.check("ok", true);
          r.measured(loop(call, sync ? null : s, reps, warmup), sync
              ? "host (System.nanoTime around R calls, each returning the result) / R"
              : "host (System.nanoTime around R queued calls + synchronize) / R");
        }
      }
    }
  }

  /** The last scalar a sync call returned (the suite runs on one thread). */
  private static final double[] lastScalar = new double[1];

  private static Runnable call(Reduce red, String op, boolean sync, DeviceArray x, DeviceArray y,
      long n, Matrix m, Accumulation acc, DeviceArray out, double[] host, GpuStream s) {
    int rows = (int) m.rows();
    int cols = (int) m.cols();
    if (sync) {
      return switch (op) {
        case "sum" -> () -> lastScalar[0] = red.reduce(ReduceOp.SUM, x, 0, n, acc, null);
        case "max" -> () -> lastScalar[0] = red.reduce(ReduceOp.MAX, x, 0, n, acc, null);
        case "argmax" -> () -> lastScalar[0] = red.reduce(ReduceOp.ARGMAX, x, 0, n, acc, null);
        case "norm2" -> () -> lastScalar[0] = red.reduce(ReduceOp.NORM2, x, 0, n, acc, null);
        case "dot" -> () -> lastScalar[0] = red.dot(x, 0, y, 0, n, acc, null);
        case "rowsum" -> () -> {
          red.perRow(ReduceOp.SUM, x, 0, m, acc, out, 0, null);
          out.copyTo(0, host, 0, rows);
        };
        case "colsum" -> () -> {
          red.perColumn(ReduceOp.SUM, x, 0, m, acc, out, 0, null);
          out.copyTo(0, host, 0, cols);
        };
        default -> throw new IllegalArgumentException(op);
      };
    }
    return switch (op) {
      case "sum" -> () -> red.reduce(ReduceOp.SUM, x, 0, n, acc, out, 0, s);
      case "max" -> () -> red.reduce(ReduceOp.MAX, x, 0, n, acc, out, 0, s);
      case "argmax" -> () -> red.reduce(ReduceOp.ARGMAX, x, 0, n, acc, out, 0, s);
      case "norm2" -> () -> red.reduce(ReduceOp.NORM2, x, 0, n, acc, out, 0, s);
      case "dot" -> () -> red.dot(x, 0, y, 0, n, acc, out, 0, s);
      case "rowsum" -> () -> red.perRow(ReduceOp.SUM, x, 0, m, acc, out, 0, s);
      case "colsum" -> () -> red.perColumn(ReduceOp.SUM, x, 0, m, acc, out, 0, s);
      default -> throw new IllegalArgumentException(op);
    };
  }

  /**
   * Samples of R calls (R for >= {@link #SAMPLE_MS} ms), per call; with a stream the calls are
   * queued and the stream synchronised once per sample.
   */
  private static Stats loop(Runnable call, GpuStream s, int reps, int warmup) {
    Runnable sync = s == null ? () -> { } : s::synchronize;
    for (int i = 0; i < warmup; i++) {
      call.run();
    }
    sync.run();
    int calls = 1;
    long t;
    while (true) {
      long t0 = System.nanoTime();
      for (int i = 0; i < calls; i++) {
        call.run();
      }
      sync.run();
      t = System.nanoTime() - t0;
      if (t >= SAMPLE_MS * 1_000_000L / 4 || calls >= MAX_CALLS) {
        break;
      }
      calls = Math.min(MAX_CALLS, calls * 4);
    }
    calls = (int) Math.max(1, Math.min(MAX_CALLS,
        Math.ceil(SAMPLE_MS * 1_000_000.0 * calls / Math.max(1, t))));
    long[] ns = new long[reps];
    for (int r = 0; r < reps; r++) {
      long t0 = System.nanoTime();
      for (int i = 0; i < calls; i++) {
        call.run();
      }
      sync.run();
      ns[r] = Math.round((System.nanoTime() - t0) / (double) calls);
    }
    return Stats.of(ns);
  }

  /** Host-side reference figures of an input: sum, max and its first index, sum of squares. */
  private record Ref(double sum, double max, long argmax, double sumSq, double sumAbs,
      double[] rowSums, double[] colSums) {}

  /** Fills a device array chunk by chunk with InputGen's values (minus 0.5: signs mixed). */
  private static Ref fill(DeviceArray d, long seed, long[] sh) {
    long n = d.length();
    double sum = 0;
    double sumSq = 0;
    double sumAbs = 0;
    double max = Double.NEGATIVE_INFINITY;
    long arg = 0;
    double[] rs = new double[(int) sh[0]];
    double[] cs = new double[(int) sh[1]];
    boolean f64 = d.dtype() == DType.FLOAT64;
    float[] f = f64 ? null : new float[(int) Math.min(CHUNK, n)];
    double[] g = f64 ? new double[(int) Math.min(CHUNK, n)] : null;
    for (long off = 0; off < n; off += CHUNK) {
      int c = (int) Math.min(CHUNK, n - off);
      for (int i = 0; i < c; i++) {
        double v = InputGen.value(seed, off + i) - 0.5;
        if (f64) {
          g[i] = v;
        } else {
          f[i] = (float) v;
          v = f[i];
        }
        sum += v;
        sumSq += v * v;
        sumAbs += Math.abs(v);
        if (v > max) {
          max = v;
          arg = off + i;
        }
        long e = off + i;
        rs[(int) (e / sh[1])] += v;
        cs[(int) (e % sh[1])] += v;
      }
      if (f64) {
        d.copyFrom(g, 0, off, c);
      } else {
        d.copyFrom(f, 0, off, c);
      }
    }
    return new Ref(sum, max, arg, sumSq, sumAbs, rs, cs);
  }

  /** x·y on the host from the device arrays' contents. */
  private static double dotRef(DeviceArray x, DeviceArray y) {
    long n = x.length();
    double s = 0;
    boolean f64 = x.dtype() == DType.FLOAT64;
    int len = (int) Math.min(CHUNK, n);
    double[] a = new double[len];
    double[] b = new double[len];
    float[] fa = f64 ? null : new float[len];
    float[] fb = f64 ? null : new float[len];
    for (long off = 0; off < n; off += CHUNK) {
      int c = (int) Math.min(CHUNK, n - off);
      if (f64) {
        x.copyTo(off, a, 0, c);
        y.copyTo(off, b, 0, c);
      } else {
        x.copyTo(off, fa, 0, c);
        y.copyTo(off, fb, 0, c);
        for (int i = 0; i < c; i++) {
          a[i] = fa[i];
          b[i] = fb[i];
        }
      }
      for (int i = 0; i < c; i++) {
        s += a[i] * b[i];
      }
    }
    return s;
  }

  /** Null when the result agrees with the host reference, else what differs. */
  private static String check(String op, double scalar, DeviceArray out, double[] host, Ref rx,
      Ref ry, double dotRef, long[] sh, boolean sync) {
    long n = sh[0] * sh[1];
    // twice the API's worst-case bound, (n - 1) 2^-53 sum|x|: the host's own sum errs too
    double tol = 4.0 * n * 0x1p-52 * Math.max(rx.sumAbs, 1e-300) + 1e-9;
    double got;
    if (op.equals("rowsum") || op.equals("colsum")) {
      double[] ref = op.equals("rowsum") ? rx.rowSums : rx.colSums;
      if (!sync) {
        out.copyTo(0, host, 0, ref.length);
      }
      for (int i = 0; i < ref.length; i++) {
        if (!(Math.abs(host[i] - ref[i]) <= tol)) {
          return op + "[" + i + "] = " + host[i] + ", host " + ref[i];
        }
      }
      return null;
    }
    if (sync) {
      got = scalar;
    } else {
      double[] one = new double[1];
      out.copyTo(0, one, 0, 1);
      got = one[0];
    }
    return switch (op) {
      case "sum" -> Math.abs(got - rx.sum) <= tol ? null : "sum " + got + ", host " + rx.sum;
      case "max" -> got == rx.max ? null : "max " + got + ", host " + rx.max;
      case "argmax" -> got == rx.argmax ? null : "argmax " + (long) got + ", host " + rx.argmax;
      // the API's bound, (n + 2) 2^-53 relative, on each side
      case "norm2" -> Math.abs(got - Math.sqrt(rx.sumSq))
          <= 2 * (n + 2) * 0x1p-53 * Math.sqrt(rx.sumSq) ? null
          : "norm2 " + got + ", host " + Math.sqrt(rx.sumSq);
      case "dot" -> Math.abs(got - dotRef) <= tol + 1e-9 * Math.abs(dotRef) ? null
          : "dot " + got + ", host " + dotRef;
      default -> null;
    };
  }
}
