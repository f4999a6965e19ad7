package dev.gpucore.bench.suites;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.HostArray;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * {@code transfer}: host to device and back through each path gpucore offers — pinned
 * {@link HostArray}, pageable {@link HostArray}, Java arrays through gpucore's pipelined staging
 * — and the host-side copies between Java arrays and off-heap memory, which run without a GPU.
 * Beside it: PyTorch (pinned and pageable tensors, numpy arrays), numpy's copyto, and the bare
 * CUDA runtime from C.
 */
final class TransferSuite extends NamedSuite {
  static final int DEFAULT_REPS = 10;
  static final int DEFAULT_WARMUP = 2;

  TransferSuite() {
    super("transfer",
        "host<->device copies: pinned, pageable, Java arrays (staged); host-side Java<->off-heap copies",
        List.of(1L, 16L, 256L, 1024L));
  }

  @Override
  public void validate(BenchOptions o) {
    dtype(o);
    for (long m : o.sizesFor(this, o.mib())) {
      if (m < 1 || m > 8191) {
        throw new IllegalArgumentException("transfer: sizes are in MiB, each in [1, 8191]; got " + m);
      }
    }
  }

  @Override
  public int steps(BenchOptions o, boolean gpu) {
    return o.sizesFor(this, o.mib()).size() * (gpu ? 8 : 2) + 1;
  }

  private static DType dtype(BenchOptions o) {
    return switch (o.dtype()) {
      case "fp32" -> DType.FLOAT32;
      case "fp64" -> DType.FLOAT64;
      default -> throw new IllegalArgumentException("transfer: --dtype must be fp32 or fp64, got "
          + o.dtype());
    };
  }

  @Override
  SuiteResult run(BenchContext ctx, BenchOptions o) throws Exception {
    DType dtype = dtype(o);
    List<Long> mibs = o.sizesFor(this, o.mib());
    int reps = o.repsOr(DEFAULT_REPS);
    int warmup = o.warmupOr(DEFAULT_WARMUP);
    String jt = dtype == DType.FLOAT32 ? "float[]" : "double[]";
    SuiteResult res = new SuiteResult(name(), String.format(Locale.ROOT,
        "transfer: host <-> device copies, %s, %s; median of %d after %d warm-ups",
        o.dtype(), ctx.gpu() ? "GPU " + o.device() + " (" + ctx.deviceName() + ")" : "no GPU",
        reps, warmup));
    res.settings().put("sizes_mib", mibs);
    res.settings().put("dtype", o.dtype());
    res.settings().put("reps", reps);
    res.settings().put("warmup", warmup);
    res.settings().put("seed", o.seed());
    res.notes().add("timing: host-sync = System.nanoTime() around a synchronous copy "
        + "(what a caller waits); GB/s = 10^9 bytes/s; host buffers rotate "
        + "where a size fits twice in the " + Fmt.bytes(ctx.cacheBytes()) + " last-level cache");
    if (!ctx.gpu()) {
      res.notes().add("GPU rows skipped: " + ctx.noGpu());
    }
    if (o.precision() != null) {
      res.notes().add("--precision does not apply to copies: ignored here");
    }
    List<Map<String, Object>> peerSizes = new ArrayList<>();
    for (long mib : mibs) {
      long bytes = mib << 20;
      int n = (int) Math.min(Integer.MAX_VALUE - 8, bytes / dtype.bytes());
      bytes = (long) n * dtype.bytes();
      int k = Timer.rotation(bytes, ctx.cacheBytes());
      Map<String, Object> ps = new LinkedHashMap<>();
      ps.put("x", bytes);
      ps.put("buffers", k);
      peerSizes.add(ps);
      String label = Fmt.bytes(bytes);
      Object[] java = new Object[k];
      Object[] back = new Object[k];
      for (int j = 0; j < k; j++) {
        java[j] = array(dtype, n);
        back[j] = array(dtype, n);
        fill(java[j], o.seed() + j);
      }
      // host-side: Java array <-> off-heap, what staging costs on the CPU
      GpuCore hostCore = ctx.cpuCore();
      HostArray[] off = new HostArray[k];
      try {
        for (int j = 0; j < k; j++) {
          off[j] = hostCore.allocateHost(dtype, n, false);
        }
        Row put = new Row(name(), "host", "put", "Java " + jt + " -> off-heap (HostArray.put)",
            "gpucore", bytes, label, bytes, "GB/s");
        Row get = new Row(name(), "host", "get", "off-heap -> Java " + jt + " (HostArray.get)",
            "gpucore", bytes, label, bytes, "GB/s");
        put(off[0], java[0], n);
        poison(back[0]);
        get(off[0], back[0], n);
        boolean ok = equal(java[0], back[0]);
        put.check(ok ? "ok: round trip bit-exact" : "MISMATCH: round trip changed the data", ok);
        get.check(put.check(), ok);
        put.measured(time(ctx, "transfer put " + label, warmup, reps,
            i -> put(off[Math.floorMod(i, k)], java[Math.floorMod(i, k)], n)),
            "host (System.nanoTime around the copy)");
        get.measured(time(ctx, "transfer get " + label, warmup, reps,
            i -> get(off[Math.floorMod(i, k)], back[Math.floorMod(i, k)], n)),
            "host (System.nanoTime around the copy)");
        put.extra().put("buffers", k);
        get.extra().put("buffers", k);
        res.rows().add(put);
        res.rows().add(get);
      } finally {
        closeAll(off);
      }
      String[][] cases = {{"pinned", "pinned HostArray"}, {"pageable", "pageable HostArray"},
          {"java", "Java " + jt + " (staged)"}};
      List<Row> gpuRows = new ArrayList<>();
      for (String dir : new String[] {"H2D", "D2H"}) {
        for (String[] c : cases) {
          Row r = new Row(name(), dir, c[0], dir + " " + c[1], "gpucore cuda", bytes, label, bytes,
              "GB/s");
          r.extra().put("buffers", k);
          gpuRows.add(r);
        }
      }
      if (!ctx.gpu()) {
        for (Row r : gpuRows) {
          res.rows().add(r.skip(ctx.noGpu()));
        }
        continue;
      }
      measureGpu(ctx, dtype, n, k, java, back, gpuRows, warmup, reps, label);
      res.rows().addAll(gpuRows);
      double pinH2d = gpuRows.get(0).throughput();
      double pinD2h = gpuRows.get(3).throughput();
      for (Row r : gpuRows) {
        double ref = r.group().equals("H2D") ? pinH2d : pinD2h;
        r.extra().put("vs_pinned", r.throughput() / ref);
      }
      res.footer().add(String.format(Locale.ROOT,
          "%s: vs pinned in this run: pageable H2D %.2f, D2H %.2f; Java %s (staged) H2D %.2f, D2H %.2f",
          label, gpuRows.get(1).throughput() / pinH2d, gpuRows.get(4).throughput() / pinD2h, jt,
          gpuRows.get(2).throughput() / pinH2d, gpuRows.get(5).throughput() / pinD2h));
    }
    if (ctx.peers() != null) {
      Map<String, Object> req = ctx.peerRequest(peerSizes, reps, warmup);
      req.put("dtype", o.dtype());
      ctx.runPeers(res, req, null);
    }
    return res;
  }

  private void measureGpu(BenchContext ctx, DType dtype, int n, int k, Object[] java,
      Object[] back, List<Row> rows, int warmup, int reps, String label) {
    GpuCore core = ctx.core();
    int dev = ctx.options().device();
    HostArray[] pinned = new HostArray[k];
    HostArray[] pageable = new HostArray[k];
    try (DeviceArray d = core.allocate(dev, dtype, n)) {
      for (int j = 0; j < k; j++) {
        pinned[j] = core.allocateHost(dtype, n, true);
        pageable[j] = core.allocateHost(dtype, n, false);
        put(pinned[j], java[j], n);
        put(pageable[j], java[j], n);
      }
      // checks before timing: every path round-trips bit-exactly
      poison(back[0]);
      fromJava(d, java[0]);
      toJava(d, back[0]);
      boolean javaOk = equal(java[0], back[0]);
      d.fill(Double.NaN);
      d.copyFrom(pinned[0]);
      HostArray probe = pageable[k - 1];
      poison(back[0]);
      put(probe, back[0], n);
      d.copyTo(probe);
      get(probe, back[0], n);
      boolean hostOk = equal(java[0], back[0]);
      d.fill(Double.NaN);
      d.copyFrom(pageable[0]);
      poison(back[0]);
      toJava(d, back[0]);
      hostOk &= equal(java[0], back[0]);
      put(probe, java[k - 1], n); // restore the rotating buffer
      String verdict = javaOk && hostOk ? "ok: round trip bit-exact"
          : "MISMATCH: round trip changed the data (" + (javaOk ? "" : "Java arrays ")
              + (hostOk ? "" : "HostArrays") + ")";
      IntConsumer[] ops = {
          i -> d.copyFrom(pinned[Math.floorMod(i, k)]),
          i -> d.copyFrom(pageable[Math.floorMod(i, k)]),
          i -> fromJava(d, java[Math.floorMod(i, k)]),
          i -> d.copyTo(pinned[Math.floorMod(i, k)]),
          i -> d.copyTo(pageable[Math.floorMod(i, k)]),
          i -> toJava(d, back[Math.floorMod(i, k)]),
      };
      for (int c = 0; c < ops.length; c++) {
        Row r = rows.get(c);
        Map<String, Object> before = ctx.telemetry().sample(dev);
        Stats s = time(ctx, "transfer " + r.name() + " " + label, warmup, reps, ops[c]);
        r.measured(s, "host-sync (System.nanoTime around a synchronous copy)");
        r.telemetry(before, ctx.telemetry().sample(dev));
        boolean ok = c % 3 == 2 ? javaOk : hostOk;
        r.check(ok ? "ok: round trip bit-exact" : verdict, ok);
      }
    } finally {
      closeAll(pinned);
      closeAll(pageable);
    }
  }

  private static Stats time(BenchContext ctx, String label, int warmup, int reps, IntConsumer op) {
    ctx.progress().step(label);
    Stats s = Timer.measure(warmup, reps, i -> {
      if (i >= 0) {
        ctx.progress().detail("rep " + (i + 1) + "/" + reps);
      }
      op.accept(i);
    }, () -> { });
    ctx.progress().stepDone();
    return s;
  }

  private static void closeAll(AutoCloseable[] a) {
    for (AutoCloseable c : a) {
      if (c != null) {
        try {
          c.close();
        } catch (Exception e) {
          // closing gpucore resources does not fail
        }
      }
    }
  }

  private static Object array(DType t, int n) {
    return t == DType.FLOAT32 ? new float[n] : new double[n];
  }

  private static void fill(Object a, long seed) {
    if (a instanceof float[] f) {
      InputGen.fill(f, seed);
    } else {
      InputGen.fill((double[]) a, seed);
    }
  }

  private static void poison(Object a) {
    if (a instanceof float[] f) {
      Arrays.fill(f, Float.NaN);
    } else {
      Arrays.fill((double[]) a, Double.NaN);
    }
  }

  private static boolean equal(Object a, Object b) {
    return a instanceof float[] f ? Arrays.equals(f, (float[]) b)
        : Arrays.equals((double[]) a, (double[]) b);
  }

  private static void put(HostArray h, Object a, int n) {
    if (a instanceof float[] f) {
      h.put(0, f, 0, n);
    } else {
      h.put(0, (double[]) a, 0, n);
    }
  }

  private static void get(HostArray h, Object a, int n) {
    if (a instanceof float[] f) {
      h.get(0, f, 0, n);
    } else {
      h.get(0, (double[]) a, 0, n);
    }
  }

  private static void fromJava(DeviceArray d, Object a) {
    if (a instanceof float[] f) {
      d.copyFrom(f);
    } else {
      d.copyFrom((double[]) a);
    }
  }

  private static void toJava(DeviceArray d, Object a) {
    if (a instanceof float[] f) {
      d.copyTo(f);
    } else {
      d.copyTo((double[]) a);
    }
  }
}
