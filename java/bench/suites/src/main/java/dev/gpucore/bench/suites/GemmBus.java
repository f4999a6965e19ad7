package dev.gpucore.bench.suites;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.blas.Precision;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.HostArray;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * The bus under the gemm suite's host rows: copies between a pinned {@link HostArray} and a
 * {@link DeviceArray} each way, measured in the same run as the host GEMMs, and the time the
 * bytes a host GEMM sends each way take at those rates (the bus bound).
 *
 * <p>The bound is the slower direction: A and B up at the H2D rate, C down at the D2H rate,
 * the two directions on separate copy engines, overlapping each other and the compute. A host
 * GEMM cannot finish sooner unless it sends fewer bytes.
 */
final class GemmBus {
  /** MiB copied each way by default. */
  static final int DEFAULT_MIB = 256;
  /** Timed copies each way, after the suite's warm-up copies. */
  static final int REPS = 10;
  /** Elements per chunk when filling and checking the pinned buffer. */
  private static final int CHUNK = 1 << 20;

  private GemmBus() {}

  /** {@code --bus-mib}, else the default. */
  static int mib(BenchOptions o) {
    BenchOptions.Gemm g = o.gemm();
    return g == null || g.busMib() == null ? DEFAULT_MIB : g.busMib();
  }

  /**
   * Bytes per element of A and B as gpucore's GPU pipeline sends them up for a host GEMM on
   * {@code dtype} ({@code fp32}: {@code float[]} or a FLOAT32 host array; {@code fp64}) at
   * precision {@code p}: the native engine converts fp32 operands to 16 bits while packing them
   * for BF16 and FP16 (2 bytes), and sends the host element otherwise (4 or 8).
   */
  static int sentElementBytes(String dtype, Precision p) {
    if (dtype.equals("fp64")) {
      return 8;
    }
    return p == Precision.BF16 || p == Precision.FP16 ? 2 : 4;
  }

  /** Bytes per element of C as it comes down: C keeps the host element type (4 or 8). */
  static int returnedElementBytes(String dtype) {
    return dtype.equals("fp64") ? 8 : 4;
  }

  /** Bytes sent up for one call: A (m×k) and B (n×k). */
  static long upBytes(GemmSuite.HostCase h, Precision p) {
    return ((long) h.m() * h.k() + (long) h.n() * h.k()) * sentElementBytes(h.dtype(), p);
  }

  /** Bytes brought down for one call: C (m×n). */
  static long downBytes(GemmSuite.HostCase h) {
    return (long) h.m() * h.n() * returnedElementBytes(h.dtype());
  }

  /**
   * The bus bound in ns: the slower of {@code up} bytes at {@code h2d} bytes/ns and {@code down}
   * bytes at {@code d2h} bytes/ns (GB/s = bytes/ns).
   */
  static double boundNs(long up, long down, double h2d, double d2h) {
    if (!(h2d > 0) || !(d2h > 0)) {
      return Double.NaN;
    }
    return Math.max(up / h2d, down / d2h);
  }

  /**
   * The two rows (group {@code bus}, cases {@code H2D} and {@code D2H}, GB/s) measured on
   * {@code ctx}'s GPU: the pinned buffer filled from the seed, copied up, poisoned, copied back
   * and compared bit for bit before anything is timed; then {@code warmup} untimed and
   * {@value #REPS} timed synchronous copies each way.
   */
  static Row[] measure(BenchContext ctx, String suite, int mib, int warmup) {
    long bytes = (long) mib << 20;
    long n = bytes / 4;
    String label = Fmt.bytes(bytes);
    Row up = new Row(suite, "bus", "H2D", "bus H2D pinned HostArray -> device", "gpucore cuda",
        bytes, label, bytes, "GB/s");
    Row down = new Row(suite, "bus", "D2H", "bus D2H device -> pinned HostArray", "gpucore cuda",
        bytes, label, bytes, "GB/s");
    Row[] rows = {up, down};
    if (!ctx.gpuOrSkip(rows)) {
      return rows;
    }
    GpuCore core = ctx.core();
    int dev = ctx.options().device();
    long seed = ctx.options().seed();
    try (HostArray h = core.allocateHost(DType.FLOAT32, n, true);
        DeviceArray d = core.allocate(dev, DType.FLOAT32, n)) {
      for (Row r : rows) {
        r.extra().put("pinned", h.isPinned());
      }
      ctx.progress().detail("check");
      fill(h, seed);
      d.copyFrom(h);
      poison(h);
      d.copyTo(h);
      long bad = mismatches(h, seed);
      boolean ok = bad == 0;
      String text = ok ? "ok: round trip bit-exact"
          : "MISMATCH: round trip changed " + bad + " of " + n + " elements";
      for (Row r : rows) {
        r.check(text, ok);
        if (!ok) {
          r.skip("MISMATCH, not timed: " + text);
        }
      }
      if (!ok) {
        return rows;
      }
      Map<String, Object> before = ctx.telemetry().sample(dev);
      Stats su = Timer.measure(warmup, REPS, i -> {
        if (i >= 0) {
          ctx.progress().detail("H2D " + (i + 1) + "/" + REPS);
        }
        d.copyFrom(h);
      }, () -> { });
      Stats sd = Timer.measure(warmup, REPS, i -> {
        if (i >= 0) {
          ctx.progress().detail("D2H " + (i + 1) + "/" + REPS);
        }
        d.copyTo(h);
      }, () -> { });
      Map<String, Object> after = ctx.telemetry().sample(dev);
      String how = "host-sync (System.nanoTime around a synchronous copy)";
      up.measured(su, how).telemetry(before, after);
      down.measured(sd, how).telemetry(before, after);
      System.err.println(String.format(Locale.ROOT, "partial: gemm bus %s H2D %s GB/s, D2H %s "
          + "GB/s", label, Fmt.sig(up.throughput()), Fmt.sig(down.throughput())));
    } catch (GpuCoreException.OutOfMemory e) {
      for (Row r : rows) {
        r.skip("out of memory: " + e.getMessage());
      }
    }
    return rows;
  }

  /** Fills {@code h} chunk by chunk, chunk j from seed + j. */
  private static void fill(HostArray h, long seed) {
    float[] buf = new float[(int) Math.min(CHUNK, h.length())];
    for (long off = 0, j = 0; off < h.length(); off += buf.length, j++) {
      int len = (int) Math.min(buf.length, h.length() - off);
      InputGen.fill(buf, seed + j);
      h.put(off, buf, 0, len);
    }
  }

  private static void poison(HostArray h) {
    float[] buf = new float[(int) Math.min(CHUNK, h.length())];
    Arrays.fill(buf, Float.NaN);
    for (long off = 0; off < h.length(); off += buf.length) {
      h.put(off, buf, 0, (int) Math.min(buf.length, h.length() - off));
    }
  }

  /** Elements of {@code h} that differ from what {@link #fill} wrote. */
  private static long mismatches(HostArray h, long seed) {
    float[] want = new float[(int) Math.min(CHUNK, h.length())];
    float[] got = new float[want.length];
    long bad = 0;
    for (long off = 0, j = 0; off < h.length(); off += want.length, j++) {
      int len = (int) Math.min(want.length, h.length() - off);
      InputGen.fill(want, seed + j);
      h.get(off, got, 0, len);
      for (int i = 0; i < len; i++) {
        if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
          bad++;
        }
      }
    }
    return bad;
  }
}
