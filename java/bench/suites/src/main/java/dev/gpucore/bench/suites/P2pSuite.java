package dev.gpucore.bench.suites;

import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.HostArray;
import dev.gpucore.p2p.PeerCopy;
import dev.gpucore.p2p.PeerLink;
import dev.gpucore.p2p.Route;
import dev.gpucore.p2p.Transfer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code p2p}: copies between GPUs in the manner of the CUDA samples' p2pBandwidthLatencyTest —
 * unidirectional and bidirectional bandwidth matrices with P2P on (direct) and off (staged
 * through pinned host memory), the latency of small copies from the Java call to completion
 * (also per wait mode and copy mechanism), the pinned host-to-device bandwidth of the same run
 * for reference, and the large peer copy between the first two GPUs beside PyTorch's
 * {@code Tensor.copy_} across devices. Times are host timers around synchronous calls; GB/s are
 * 10^9 bytes per second; bidirectional figures count the bytes of both directions. The matrices
 * are printed above the table and written to the JSON summary; the large copy is the table's
 * rows. With fewer than two GPUs the peer cases are skipped with the reason.
 */
final class P2pSuite extends NamedSuite {
  static final int DEFAULT_MIB = 256;
  static final int DEFAULT_BIG_MIB = 1024;
  static final int DEFAULT_REPS = 10;
  static final int DEFAULT_WARMUP = 2;
  static final int DEFAULT_LATENCY_BYTES = 4096;
  static final int DEFAULT_LATENCY_REPS = 2000;

  private int mib;
  private int bigMib;
  private int reps;
  private int warmup;
  private int latencyBytes;
  private int latencyReps;
  private List<Integer> deviceList;
  private boolean noVariants;
  /** The samples of the last {@link #time} call, in nanoseconds. */
  private long[] lastNs;

  P2pSuite() {
    super("p2p",
        "copies between GPUs: bandwidth and latency matrices P2P on and off (staged), the "
            + "large peer copy vs PyTorch",
        List.of());
  }

  @Override
  public void validate(BenchOptions o) {
    settings(o);
    if (mib < 1 || mib > 16384) {
      throw new IllegalArgumentException("p2p: --mib must be in [1, 16384], got " + mib);
    }
    if (bigMib < 0 || bigMib > 65536) {
      throw new IllegalArgumentException("p2p: --big-mib must be in [0, 65536], got " + bigMib);
    }
    if (latencyBytes < 4 || latencyBytes > (1 << 30)) {
      throw new IllegalArgumentException("p2p: --latency-bytes must be in [4, 2^30], got "
          + latencyBytes);
    }
    if (latencyReps < 1) {
      throw new IllegalArgumentException("p2p: --latency-reps must be >= 1, got " + latencyReps);
    }
    if (deviceList != null) {
      for (int d : deviceList) {
        if (d < 0) {
          throw new IllegalArgumentException("p2p: --devices: " + d + " is not a GPU index");
        }
      }
    }
  }

  private void settings(BenchOptions o) {
    List<Long> sizes = o.mib(); // --sizes is for the suites with a size sweep

    if (sizes != null && sizes.size() != 1) {
      throw new IllegalArgumentException("p2p: give one size in MiB for the matrices (--mib), got "
          + sizes);
    }
    long m = sizes == null ? DEFAULT_MIB : sizes.get(0);
    mib = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, m));
    BenchOptions.P2p p = o.p2p() != null ? o.p2p() : new BenchOptions.P2p(null, null, null, null,
        false);
    bigMib = p.bigMib() != null ? p.bigMib() : DEFAULT_BIG_MIB;
    latencyBytes = p.latencyBytes() != null ? p.latencyBytes() : DEFAULT_LATENCY_BYTES;
    latencyReps = p.latencyReps() != null ? p.latencyReps() : DEFAULT_LATENCY_REPS;
    deviceList = p.devices();
    noVariants = p.noVariants();
    reps = o.repsOr(DEFAULT_REPS);
    warmup = o.warmupOr(DEFAULT_WARMUP);
  }

  @Override
  SuiteResult run(BenchContext ctx, BenchOptions o) throws Exception {
    GpuCore core = ctx.core();
    SuiteResult result = new SuiteResult(name(), String.format(Locale.ROOT,
        "p2p: copies between GPUs, %d MiB per matrix cell, %d MiB large copy; median of %d "
            + "after %d warm-up (GB/s = 1e9 bytes/s; host timers around synchronous calls)",
        mib, bigMib, reps, warmup));
    result.settings().put("mib", mib);
    result.settings().put("big_mib", bigMib);
    result.settings().put("reps", reps);
    result.settings().put("warmup", warmup);
    result.settings().put("latency_bytes", latencyBytes);
    result.settings().put("latency_reps", latencyReps);
    long bigBytes = (long) bigMib << 20;
    Row uniRow = new Row(name(), "peer", "uni", "peer copy GPU a -> GPU b", "gpucore cuda",
        bigBytes, Fmt.bytes(bigBytes), bigBytes, "GB/s");
    Row bidiRow = new Row(name(), "peer", "bidi", "peer copy both ways at once", "gpucore cuda",
        bigBytes, Fmt.bytes(bigBytes), 2.0 * bigBytes, "GB/s");
    if (bigMib > 0) {
      result.rows().add(uniRow);
      result.rows().add(bidiRow);
    }
    if (!ctx.gpu()) {
      result.notes().add("GPU rows skipped: " + ctx.noGpu());
      uniRow.skip(ctx.noGpu());
      bidiRow.skip(ctx.noGpu());
      peers(ctx, result, -1, -1);
      return result;
    }
    int[] devs = devices(core);
    int n = devs.length;
    if (n < 2) {
      String why = "needs two GPUs; " + (n == 1 ? "one is" : "none are") + " visible";
      uniRow.skip(why);
      bidiRow.skip(why);
    }
    StringWriter text = new StringWriter();
    PrintWriter out = new PrintWriter(text);
    Map<String, Object> res = result.summary();
    PeerCopy peer;
    try {
      peer = core.peer();
      peer.link(devs[0], devs[0]);
    } catch (GpuCoreException e) {
      String why = "copies between devices are not available: " + e.getMessage();
      result.notes().add(why);
      uniRow.skip(why);
      bidiRow.skip(why);
      return result;
    }
    out.printf(Locale.ROOT, "%d GPU(s):%n", n);
    for (int d : devs) {
      out.printf(Locale.ROOT, "  GPU%d: %s (%s)%n", d, core.devices().get(d).name(),
          core.devices().get(d).pciBusId());
    }
    ctx.progress().step("p2p matrices");
    // decide every pair first (enables and probes peer access)
    List<Object> pathList = new ArrayList<>();
    boolean[][] peerOk = new boolean[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        PeerLink l = peer.link(devs[i], devs[j]);
        peerOk[i][j] = i == j || l.isPeer();
        if (i != j) {
          Map<String, Object> pair = new LinkedHashMap<>();
          pair.put("from", devs[i]);
          pair.put("to", devs[j]);
          pair.put("path", l.path().name().toLowerCase(Locale.ROOT));
          pair.put("reason", l.reason());
          pathList.add(pair);
          if (i < j) {
            out.printf(Locale.ROOT, "  GPU%d <-> GPU%d: %s (%s)%n", devs[i], devs[j],
                l.path(), l.reason());
          }
        }
      }
    }
    res.put("paths", pathList);
    out.flush();

    long bytes = (long) mib << 20;
    long count = bytes / 4;
    List<DeviceArray> owned = new ArrayList<>();
    try {
      DeviceArray[] a = new DeviceArray[n];
      DeviceArray[] b = new DeviceArray[n];
      for (int i = 0; i < n; i++) {
        a[i] = core.allocate(devs[i], DType.FLOAT32, count);
        owned.add(a[i]);
        b[i] = core.allocate(devs[i], DType.FLOAT32, count);
        owned.add(b[i]);
        a[i].fill(i + 1);
        b[i].fill(0);
      }
      double[][] uniOn = new double[n][n];
      double[][] uniOff = new double[n][n];
      double[][] bidiOn = new double[n][n];
      double[][] bidiOff = new double[n][n];
      double[][] latOn = new double[n][n];
      double[][] latOff = new double[n][n];
      long small = Math.max(1, latencyBytes / 4);
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          int si = i;
          int dj = j;
          uniOn[i][j] = !peerOk[i][j] ? Double.NaN : gbps(bytes,
              time(() -> peer.copy(a[si], 0, b[dj], 0, count, Route.PEER)));
          uniOff[i][j] = gbps(bytes,
              time(() -> peer.copy(a[si], 0, b[dj], 0, count, Route.STAGED)));
          List<Transfer> both = bidi(a, b, i, j, count);
          bidiOn[i][j] = !peerOk[i][j] || !peerOk[j][i] ? Double.NaN
              : gbps(bytesOf(both), time(() -> peer.copyAll(both, Route.PEER)));
          bidiOff[i][j] = gbps(bytesOf(both), time(() -> peer.copyAll(both, Route.STAGED)));
          latOn[i][j] = !peerOk[i][j] ? Double.NaN
              : latencyUs(() -> peer.copy(a[si], 0, b[dj], 0, small, Route.PEER));
          latOff[i][j] = latencyUs(() -> peer.copy(a[si], 0, b[dj], 0, small, Route.STAGED));
        }
      }
      double[] h2d = new double[n];
      double[] d2h = new double[n];
      try (HostArray h = core.allocateHost(DType.FLOAT32, count, true)) {
        for (int i = 0; i < n; i++) {
          int si = i;
          h2d[i] = gbps(bytes, time(() -> b[si].copyFrom(h)));
          d2h[i] = gbps(bytes, time(() -> a[si].copyTo(h)));
        }
      }
      res.put("bytes", bytes);
      res.put("devices", Arrays.stream(devs).boxed().toList());
      res.put("uni_p2p_on_gbs", rows(uniOn));
      res.put("uni_p2p_off_gbs", rows(uniOff));
      res.put("bidi_p2p_on_gbs", rows(bidiOn));
      res.put("bidi_p2p_off_gbs", rows(bidiOff));
      res.put("latency_bytes", small * 4);
      res.put("latency_p2p_on_us", rows(latOn));
      res.put("latency_p2p_off_us", rows(latOff));
      res.put("pinned_h2d_gbs", Arrays.stream(h2d).boxed().toList());
      res.put("pinned_d2h_gbs", Arrays.stream(d2h).boxed().toList());
      {
        out.println();
        matrix(out, "Unidirectional P2P=Enabled Bandwidth Matrix (GB/s)", devs, uniOn, 1);
        matrix(out, "Unidirectional P2P=Disabled (staged) Bandwidth Matrix (GB/s)", devs,
            uniOff, 1);
        matrix(out, "Bidirectional P2P=Enabled Bandwidth Matrix (GB/s, both directions)",
            devs, bidiOn, 1);
        matrix(out, "Bidirectional P2P=Disabled (staged) Bandwidth Matrix (GB/s, both "
            + "directions)", devs, bidiOff, 1);
        matrix(out, String.format(Locale.ROOT, "P2P=Enabled Latency Matrix (us, %d-byte copy, "
            + "Java call to completion, median of %d)", small * 4, latencyReps), devs, latOn, 2);
        matrix(out, String.format(Locale.ROOT, "P2P=Disabled (staged) Latency Matrix (us, "
            + "%d-byte copy, median of %d)", small * 4, latencyReps), devs, latOff, 2);
        out.println("Pinned host memory reference (GB/s, " + mib + " MiB)");
        for (int i = 0; i < n; i++) {
          out.printf(Locale.ROOT, "  GPU%d  host->device %8.1f   device->host %8.1f%n",
              devs[i], h2d[i], d2h[i]);
        }
        out.println();
        out.flush();
      }
      for (DeviceArray x : owned) {
        x.close();
      }
      owned.clear();

      ctx.progress().stepDone();
      ctx.progress().step("p2p large copy");
      Map<String, Object> big = n >= 2 && bigMib > 0 ? big(core, devs[0], devs[1], peerOk[0][1]
          && peerOk[1][0], out, uniRow, bidiRow) : null;
      if (big != null) {
        res.put("big", big);
      }
      Map<String, Object> variants = null;
      if (!noVariants && n >= 2 && peerOk[0][1]) {
        variants = variants(devs[0], devs[1], small);
        res.put("latency_variants_us", variants);
      }
      ctx.progress().stepDone();
      if (n >= 2) {
        peers(ctx, result, core.devices().get(devs[0]).cudaOrdinal(),
            core.devices().get(devs[1]).cudaOrdinal());
      }
      Map<String, Object> targets = targets(big, latOn, n, torchGbs(uniRow), torchGbs(bidiRow));
      res.put("targets", targets);
      {
        if (big != null) {
          printBig(out, big);
        }
        if (variants != null) {
          out.printf(Locale.ROOT, "%d-byte copy GPU%d -> GPU%d by wait mode and mechanism "
              + "(us, median; gpucore.p2p.wait, gpucore.p2p.kernelMaxBytes):%n", small * 4,
              devs[0], devs[1]);
          for (Map.Entry<String, Object> e : variants.entrySet()) {
            out.printf(Locale.ROOT, "  %-34s %s%n", e.getKey(), e.getValue() instanceof Double d
                ? String.format(Locale.ROOT, "%.2f", d) : e.getValue());
          }
          out.println();
        }
        out.println("Targets:");
        for (Map.Entry<String, Object> e : targets.entrySet()) {
          out.printf(Locale.ROOT, "  %-44s %s%n", e.getKey(), e.getValue());
        }
      }
    } finally {
      for (DeviceArray x : owned) {
        x.close();
      }
    }
    out.flush();
    for (String line : text.toString().split("\n")) {
      result.notes().add(line);
    }
    return result;
  }

  private int[] devices(GpuCore core) {
    int all = core.devices().size();
    if (deviceList == null || deviceList.isEmpty()) {
      int[] d = new int[all];
      for (int i = 0; i < all; i++) {
        d[i] = i;
      }
      return d;
    }
    int[] d = new int[deviceList.size()];
    for (int i = 0; i < d.length; i++) {
      d[i] = deviceList.get(i);
      if (d[i] < 0 || d[i] >= all) {
        throw new IllegalArgumentException("--devices: " + d[i] + " is not in [0, " + all + ")");
      }
    }
    return d;
  }

  /** The two copies of a bidirectional cell: i -> j and j -> i at once (halves on one device). */
  private static List<Transfer> bidi(DeviceArray[] a, DeviceArray[] b, int i, int j, long count) {
    if (i != j) {
      return List.of(new Transfer(a[i], 0, b[j], 0, count), new Transfer(a[j], 0, b[i], 0, count));
    }
    long h = count / 2;
    return List.of(new Transfer(a[i], 0, b[i], 0, h), new Transfer(b[i], h, a[i], h, h));
  }

  private static long bytesOf(List<Transfer> ts) {
    long s = 0;
    for (Transfer t : ts) {
      s += t.bytes();
    }
    return s;
  }

  private static double gbps(long bytes, double seconds) {
    return bytes / seconds / 1e9;
  }

  /** Median seconds of {@code reps} runs after {@code warmup}. */
  private double time(Runnable r) {
    for (int k = 0; k < warmup; k++) {
      r.run();
    }
    double[] t = new double[reps];
    lastNs = new long[reps];
    for (int k = 0; k < reps; k++) {
      long t0 = System.nanoTime();
      r.run();
      lastNs[k] = System.nanoTime() - t0;
      t[k] = lastNs[k] / 1e9;
    }
    Arrays.sort(t);
    return median(t);
  }

  /** Median microseconds of one call, over {@code latencyReps} timed calls. */
  private double latencyUs(Runnable r) {
    // enough calls first for the JIT to compile the path (the figure is the steady state)
    for (int k = 0; k < Math.max(5000, latencyReps); k++) {
      r.run();
    }
    double[] t = new double[latencyReps];
    for (int k = 0; k < latencyReps; k++) {
      long t0 = System.nanoTime();
      r.run();
      t[k] = (System.nanoTime() - t0) / 1e3;
    }
    Arrays.sort(t);
    return median(t);
  }

  private static double median(double[] sorted) {
    int m = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  }

  private static List<Object> rows(double[][] m) {
    List<Object> out = new ArrayList<>();
    for (double[] r : m) {
      out.add(Arrays.stream(r).boxed().toList());
    }
    return out;
  }

  private static void matrix(PrintWriter out, String title, int[] devs, double[][] m,
      int decimals) {
    out.println(title);
    StringBuilder sb = new StringBuilder("   D\\D");
    for (int d : devs) {
      sb.append(String.format(Locale.ROOT, "%10d", d));
    }
    out.println(sb);
    for (int i = 0; i < devs.length; i++) {
      sb = new StringBuilder(String.format(Locale.ROOT, "%6d", devs[i]));
      for (int j = 0; j < devs.length; j++) {
        sb.append(Double.isNaN(m[i][j]) ? String.format(Locale.ROOT, "%10s", "n/a")
            : String.format(Locale.ROOT, "%10." + decimals + "f", m[i][j]));
      }
      out.println(sb);
    }
    out.println();
  }

  /** The big peer copy: uni and bidi peer, uni staged, and pinned H2D of the same size. */
  private Map<String, Object> big(GpuCore core, int d0, int d1, boolean peerBoth,
      PrintWriter out, Row uniRow, Row bidiRow) {
    Map<String, Object> m = new LinkedHashMap<>();
    long bytes = (long) bigMib << 20;
    long count = bytes / 4;
    m.put("bytes", bytes);
    m.put("from", d0);
    m.put("to", d1);
    PeerCopy peer = core.peer();
    List<AutoCloseable> owned = new ArrayList<>();
    try {
      DeviceArray a0 = own(owned, core.allocate(d0, DType.FLOAT32, count));
      DeviceArray b0 = own(owned, core.allocate(d0, DType.FLOAT32, count));
      DeviceArray a1 = own(owned, core.allocate(d1, DType.FLOAT32, count));
      DeviceArray b1 = own(owned, core.allocate(d1, DType.FLOAT32, count));
      a0.fill(1);
      a1.fill(2);
      if (peerBoth) {
        m.put("peer_uni_gbs", gbps(bytes, time(() -> peer.copy(a0, 0, b1, 0, count, Route.PEER))));
        uniRow.measured(Stats.of(lastNs), "host (System.nanoTime around PeerCopy.copy, synchronous)");
        List<Transfer> both = List.of(new Transfer(a0, 0, b1, 0, count),
            new Transfer(a1, 0, b0, 0, count));
        m.put("peer_bidi_gbs", gbps(2 * bytes, time(() -> peer.copyAll(both, Route.PEER))));
        bidiRow.measured(Stats.of(lastNs), "host (System.nanoTime around PeerCopy.copyAll)");
      } else {
        uniRow.skip("GPU" + d0 + " and GPU" + d1 + " have no peer access both ways");
        bidiRow.skip("GPU" + d0 + " and GPU" + d1 + " have no peer access both ways");
      }
      m.put("staged_uni_gbs",
          gbps(bytes, time(() -> peer.copy(a0, 0, b1, 0, count, Route.STAGED))));
      HostArray h = own(owned, core.allocateHost(DType.FLOAT32, count, true));
      m.put("pinned_h2d_gbs", gbps(bytes, time(() -> b1.copyFrom(h))));
    } catch (GpuCoreException.OutOfMemory e) {
      m.put("skipped", "out of memory: " + e.getMessage());
      out.println("The " + bigMib + " MiB figure was skipped: " + e.getMessage());
      if (uniRow.stats() == null) {
        uniRow.skip("out of device memory");
      }
      if (bidiRow.stats() == null) {
        bidiRow.skip("out of device memory");
      }
    } finally {
      for (AutoCloseable c : owned) {
        try {
          c.close();
        } catch (Exception e) {
          // closing device and host arrays throws nothing checked
        }
      }
    }
    return m;
  }

  private static <T extends AutoCloseable> T own(List<AutoCloseable> owned, T x) {
    owned.add(x);
    return x;
  }

  private void printBig(PrintWriter out, Map<String, Object> big) {
    if (big.containsKey("skipped")) {
      return;
    }
    int from = (Integer) big.get("from");
    int to = (Integer) big.get("to");
    out.printf(Locale.ROOT, "%d MiB copy GPU%d -> GPU%d (GB/s, median of %d; PyTorch beside the "
        + "peer rows in the table)%n", bigMib, from, to, reps);
    row(out, "peer, unidirectional", (Double) big.get("peer_uni_gbs"));
    row(out, "peer, bidirectional (both ways)", (Double) big.get("peer_bidi_gbs"));
    row(out, "staged, unidirectional", (Double) big.get("staged_uni_gbs"));
    row(out, "pinned host->device (reference)", (Double) big.get("pinned_h2d_gbs"));
    out.println();
  }

  private static void row(PrintWriter out, String what, Double v) {
    out.printf(Locale.ROOT, "  %-34s %10s%n", what,
        v == null ? "n/a" : String.format(Locale.ROOT, "%.1f", v));
  }

  /** Small-copy latency between two GPUs per wait mode and mechanism (a core per setting). */
  private Map<String, Object> variants(int d0, int d1, long small) {
    Map<String, Object> m = new LinkedHashMap<>();
    String[][] settings = {
        {"copy engine, wait=spin (default)", "spin", "0"},
        {"copy engine, wait=event", "event", "0"},
        {"copy engine, wait=block", "block", "0"},
        {"kernel (kernelMaxBytes=65536), spin", "spin", "65536"}};
    for (String[] s : settings) {
      Map<Object, Object> props = new HashMap<>(System.getProperties());
      props.put("gpucore.p2p.wait", s[1]);
      props.put("gpucore.p2p.kernelMaxBytes", s[2]);
      try (GpuCore c = GpuCore.open(Config.from(props, System.getenv()));
          DeviceArray x = c.allocate(d0, DType.FLOAT32, small);
          DeviceArray y = c.allocate(d1, DType.FLOAT32, small)) {
        x.fill(3);
        PeerCopy p = c.peer();
        m.put(s[0], latencyUs(() -> p.copy(x, 0, y, 0, small, Route.PEER)));
        float[] back = new float[(int) Math.min(small, 1024)];
        y.copyTo(back);
        for (float v : back) {
          if (v != 3f) {
            m.put(s[0], "WRONG DATA");
            break;
          }
        }
      } catch (GpuCoreException e) {
        m.put(s[0], "failed: " + e.getMessage());
      }
    }
    return m;
  }

  private Map<String, Object> targets(Map<String, Object> big, double[][] latOn, int n,
      Double torchUni, Double torchBidi) {
    Map<String, Object> t = new LinkedHashMap<>();
    Double uni = big == null ? null : (Double) big.get("peer_uni_gbs");
    Double bidi = big == null ? null : (Double) big.get("peer_bidi_gbs");
    Double staged = big == null ? null : (Double) big.get("staged_uni_gbs");
    Double h2d = big == null ? null : (Double) big.get("pinned_h2d_gbs");
    t.put("peer " + bigMib + " MiB uni / torch (>= 0.95)", uni != null && torchUni != null
        ? verdict(uni / torchUni, 0.95, true)
        : "n/a" + (uni == null ? " (no gpucore figure)" : " (no PyTorch figure)"));
    t.put("peer " + bigMib + " MiB bidi / torch (>= 0.95)", bidi != null && torchBidi != null
        ? verdict(bidi / torchBidi, 0.95, true)
        : "n/a" + (bidi == null ? " (no gpucore figure)" : " (no PyTorch figure)"));
    t.put("peer bidi / uni (>= 1.8)", uni != null && bidi != null
        ? verdict(bidi / uni, 1.8, true) : "n/a");
    t.put("peer " + latencyBytes + " B latency us, median (<= 10)",
        n >= 2 && !Double.isNaN(latOn[0][1]) ? verdict(latOn[0][1], 10, false) : "n/a");
    t.put("staged / pinned H2D, " + bigMib + " MiB (>= 0.8)", staged != null && h2d != null
        ? verdict(staged / h2d, 0.8, true) : "n/a");
    return t;
  }

  private static String verdict(double v, double bound, boolean atLeast) {
    boolean ok = atLeast ? v >= bound : v <= bound;
    return String.format(Locale.ROOT, "%.3f %s", v, ok ? "PASS" : "FAIL");
  }

  /** PyTorch's GB/s on a row, or null. */
  private static Double torchGbs(Row row) {
    for (PeerFigure p : row.peers()) {
      if (p.peer().equals("torch") && p.stats() != null) {
        return row.throughput(p);
      }
    }
    return null;
  }

  /** Asks PyTorch for the same large copies between CUDA devices {@code from} and {@code to}. */
  private void peers(BenchContext ctx, SuiteResult result, int from, int to) throws Exception {
    if (ctx.peers() == null || bigMib == 0) {
      return;
    }
    Map<String, Object> req =
        ctx.peerRequest(List.of(Map.of("x", (long) bigMib << 20, "buffers", 1)), reps, warmup);
    req.put("suite", name());
    req.put("from", from);
    req.put("to", to);
    req.put("cuda_ordinal", ctx.cudaOrdinal());
    if (from < 0) {
      req.put("no_gpu", ctx.noGpu());
    }
    ctx.runPeers(result, req, null);
  }

  @Override
  public int steps(BenchOptions o, boolean gpu) {
    return gpu ? 3 : 1;
  }
}
