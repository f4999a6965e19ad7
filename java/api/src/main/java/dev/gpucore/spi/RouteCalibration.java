package dev.gpucore.spi;

import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.device.DeviceInfo;
import dev.gpucore.memory.DeviceArray;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The router's calibration: a short measurement of the figures its model needs, on the machine
 * it runs on ({@link RouteRates}). CPU GEMMs on Java arrays at n = 256 to 2048 (fp32) and 256 to
 * 1024 (fp64) through the CPU backend; device-resident GEMMs at n = 2048 and 4096 on the first
 * GPU of the host-GEMM list; 64 MiB copied up and down from a Java array; and host GEMMs at
 * n = 512 and 1024 through the GPU backend, whose time less the model's bus and multiply time is
 * the fixed cost. The operands hold pseudo-random values: constant ones draw less power, and a
 * machine may run them at higher clocks than the data the figures stand for. Each figure is the
 * median of three timed runs after one untimed run (the CPU's series twice, before and after the
 * GPU's, the faster kept at each size); a run of a host GEMM is its calls back to back on the
 * same arrays for at least {@link #SAMPLE_S} s, per call (the steady state of a program that
 * calls in a loop: warm threads, caches and compiled code, as the calls routed later find them);
 * a series of sizes stops at the first whose call takes over {@link #LONGEST_RUN_S} s (a slow
 * CPU or fp64 unit), or, on the GPU, where device memory runs out. After the timed runs of each
 * GEMM a few entries of its C are checked against fp64 sums ({@link #check}): a wrong result
 * fails the calibration. It takes well under a second on a data-centre GPU host.
 */
public final class RouteCalibration {
  private RouteCalibration() {}

  /**
   * What is measured: the n of the square GEMMs of each series, and the fp32 elements copied
   * each way for the bus.
   *
   * @param cpuFp32 CPU fp32 GEMMs on Java arrays
   * @param cpuFp64 CPU fp64 GEMMs on Java arrays
   * @param gpu device-resident GEMMs, fp32 and fp64
   * @param host host GEMMs through the GPU, for the fixed cost
   * @param busElements elements of the copies
   */
  public record Sizes(int[] cpuFp32, int[] cpuFp64, int[] gpu, int[] host, int busElements) {
    public Sizes {
      for (int[] a : new int[][] {cpuFp32, cpuFp64, gpu, host}) {
        if (a.length == 0 || java.util.Arrays.stream(a).anyMatch(n -> n < 1 || n > 46340)) {
          throw new IllegalArgumentException("each series needs sizes from 1 to 46340");
        }
      }
      if (busElements < 1) {
        throw new IllegalArgumentException("busElements must be positive");
      }
      cpuFp32 = cpuFp32.clone();
      cpuFp64 = cpuFp64.clone();
      gpu = gpu.clone();
      host = host.clone();
    }
  }

  /**
   * The sizes of the calibration: CPU fp32 n = 256 to 2048, fp64 to 1024, the GPU at 2048 and
   * 4096, host GEMMs at 512 and 1024, 64 MiB copied.
   */
  public static final Sizes SIZES = new Sizes(new int[] {256, 512, 1024, 2048},
      new int[] {256, 512, 1024}, new int[] {2048, 4096}, new int[] {512, 1024}, 16 << 20);
  /** Timed runs per figure (after one untimed run); the median counts. */
  static final int RUNS = 3;
  /** A curve stops at the size whose call took longer (seconds): a slow CPU or fp64 unit. */
  static final double LONGEST_RUN_S = 0.05;
  /** A timed run of a host GEMM repeats its call for at least this long (seconds). */
  static final double SAMPLE_S = 0.002;

  /**
   * What a calibration is valid for: the host name, the GPUs of the host-GEMM list (name and
   * UUID), the CPU threads and the library version.
   */
  public static String key(String host, List<DeviceInfo> gpus, int cpuThreads, String version) {
    StringBuilder b = new StringBuilder("host=").append(host).append(";gpus=");
    for (int i = 0; i < gpus.size(); i++) {
      b.append(i == 0 ? "" : ",").append(gpus.get(i).name()).append(' ')
          .append(gpus.get(i).uuid());
    }
    return b.append(";cpuThreads=").append(cpuThreads).append(";version=").append(version)
        .toString();
  }

  /** This machine's host name ("unknown" when none can be read). */
  public static String hostName() {
    try {
      String h = Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.UTF_8)
          .trim();
      if (!h.isEmpty()) {
        return h;
      }
    } catch (java.io.IOException | RuntimeException e) {
      // not Linux: below
    }
    String h = System.getenv("HOSTNAME");
    if (h == null || h.isBlank()) {
      h = System.getenv("COMPUTERNAME");
    }
    if (h != null && !h.isBlank()) {
      return h.trim();
    }
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException | RuntimeException e) {
      return "unknown";
    }
  }

  /** gpucore's version as its jar states it ("unknown" outside a jar). */
  public static String version() {
    String v = RouteCalibration.class.getPackage().getImplementationVersion();
    if (v == null) {
      v = RouteCalibration.class.getModule().getDescriptor() == null ? null
          : RouteCalibration.class.getModule().getDescriptor().rawVersion().orElse(null);
    }
    return v == null ? "unknown" : v;
  }

  /**
   * The cache file for {@code key}: {@code gpucore/routing-<hash of the key>.properties} under
   * {@code $XDG_CACHE_HOME} when that is an absolute path, else under {@code ~/.cache}.
   */
  public static Path defaultFile(Map<String, String> env, String userHome, String key) {
    String xdg = env.get("XDG_CACHE_HOME");
    Path base = null;
    if (xdg != null && !xdg.isBlank()) {
      try {
        Path p = Path.of(xdg.trim());
        base = p.isAbsolute() ? p : null;
      } catch (InvalidPathException e) {
        base = null;
      }
    }
    if (base == null) {
      base = Path.of(userHome == null ? "." : userHome, ".cache");
    }
    return base.resolve("gpucore").resolve("routing-" + hash(key) + ".properties");
  }

  private static String hash(String key) {
    try {
      byte[] d = java.security.MessageDigest.getInstance("SHA-256")
          .digest(key.getBytes(StandardCharsets.UTF_8));
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < 8; i++) {
        b.append(String.format("%02x", d[i]));
      }
      return b.toString();
    } catch (java.security.NoSuchAlgorithmException e) {
      return Integer.toHexString(key.hashCode()); // every JDK has SHA-256
    }
  }

  /**
   * Measures the figures: see the class comment.
   *
   * @param cpu the CPU backend
   * @param gpu the GPU backend
   * @param device the GPU of the device-resident GEMMs and the copies
   * @param gpus GPUs a host GEMM is shared by
   * @param gpu0 that GPU's description (for the model)
   * @param model the routing model (for the fixed cost: the host GEMM's time less the model's)
   * @param cpuThreads CPU threads
   * @param key what the figures are valid for
   * @throws dev.gpucore.GpuCoreException when a GEMM or copy fails
   */
  public static RouteRates measure(Backend cpu, GpuBackend gpu, int device, int gpus,
      DeviceInfo gpu0, RouteModel model, int cpuThreads, String key) {
    return measure(cpu, gpu, device, gpus, gpu0, model, cpuThreads, key, SIZES);
  }

  /** The measurement at other sizes (tests measure small ones on stand-in backends). */
  public static RouteRates measure(Backend cpu, GpuBackend gpu, int device, int gpus,
      DeviceInfo gpu0, RouteModel model, int cpuThreads, String key, Sizes sizes) {
    // first runs load libraries and create handles: untimed
    cpuCall(cpu, DType.FLOAT32, Math.min(64, sizes.cpuFp32()[0])).run();
    RouteRates.Curve cpu32 = cpuCurve(cpu, DType.FLOAT32, sizes.cpuFp32());
    RouteRates.Curve cpu64 = cpuCurve(cpu, DType.FLOAT64, sizes.cpuFp64());
    RouteRates.Curve gpu32 = gpuCurve(gpu, device, DType.FLOAT32, sizes.gpu());
    RouteRates.Curve gpu64 = gpuCurve(gpu, device, DType.FLOAT64, sizes.gpu());
    // the CPU once more, after the GPU: the faster of the two at each size (a CPU measured while
    // something else had its cores, a process's compilers at its start say, would look slower
    // than it is, and the router would never time it to learn better)
    cpu32 = faster(cpu32, cpuCurve(cpu, DType.FLOAT32, sizes.cpuFp32()));
    cpu64 = faster(cpu64, cpuCurve(cpu, DType.FLOAT64, sizes.cpuFp64()));
    double bus = busGBs(gpu, device, sizes.busElements());
    int[] host = sizes.host();
    double[] residual = new double[host.length];
    hostCall(gpu, Math.min(256, host[0])).run();
    for (int i = 0; i < host.length; i++) {
      int n = host[i];
      Square call = hostCall(gpu, n);
      double measured = steady(call) * 1e3;
      call.check("a host GEMM through the GPU");
      double flops = 2.0 * n * n * n;
      double bytes = 4.0 * n * n;
      RouteModel.Estimate e = model.estimate(new RouteModel.Input(Precision.FP32, flops, bytes,
          bytes, bytes, false, gpus, gpu0 == null ? 0 : gpu0.ccMajor(),
          gpu0 == null ? 0 : gpu0.multiprocessors(), cpuThreads, cpu32.at(flops),
          gpu32.at(flops), bus, 0));
      residual[i] = measured - e.gpuMs();
    }
    double overhead = Math.max(0, Arrays.stream(residual).average().orElse(0));
    return new RouteRates(key, Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS),
        cpu32, cpu64, gpu32, gpu64, bus, overhead);
  }

  private static RouteRates.Curve cpuCurve(Backend cpu, DType t, int[] sizes) {
    return curve(sizes, false, n -> {
      Square call = cpuCall(cpu, t, n);
      double s = steady(call);
      call.check("the CPU backend's GEMM");
      return s;
    });
  }

  /**
   * Seconds per call of {@code call} in its steady state: one untimed call, then the median of
   * {@link #RUNS} runs of calls back to back for at least {@link #SAMPLE_S} s each.
   */
  static double steady(Runnable call) {
    return steady(call, System::nanoTime);
  }

  /** As {@link #steady(Runnable)}, timed by {@code clock} (nanoseconds). */
  static double steady(Runnable call, java.util.function.LongSupplier clock) {
    call.run();
    return median(() -> {
      long t0 = clock.getAsLong();
      long limit = (long) (SAMPLE_S * 1e9);
      int calls = 0;
      long elapsed;
      do {
        call.run();
        calls++;
        elapsed = clock.getAsLong() - t0;
      } while (elapsed < limit);
      return elapsed / 1e9 / calls;
    });
  }

  /**
   * GFLOP/s of square GEMMs at each of {@code sizes} in turn, {@code seconds} giving one's
   * median time, until one takes over {@link #LONGEST_RUN_S}; where {@code outOfMemoryEnds} and
   * a size after the first runs out of memory, the sizes measured so far.
   */
  private static RouteRates.Curve curve(int[] sizes, boolean outOfMemoryEnds,
      java.util.function.IntToDoubleFunction seconds) {
    double[] flops = new double[sizes.length];
    double[] gflops = new double[sizes.length];
    int points = 0;
    while (points < sizes.length) {
      int n = sizes[points];
      double s;
      try {
        s = seconds.applyAsDouble(n);
      } catch (dev.gpucore.GpuCoreException.OutOfMemory e) {
        if (!outOfMemoryEnds || points == 0) {
          throw e;
        }
        break; // a small GPU: the sizes measured so far
      }
      flops[points] = 2.0 * n * n * n;
      gflops[points] = flops[points] / s / 1e9;
      points++;
      if (s > LONGEST_RUN_S) {
        break;
      }
    }
    return monotone(Arrays.copyOf(flops, points), Arrays.copyOf(gflops, points));
  }

  /**
   * One n×n×n GEMM of the calibration on Java arrays (made once): A and B the noise of seeds 1
   * and 2, C zeros; {@link #check} after its timed runs.
   */
  private record Square(GemmCall call, Runnable body) implements Runnable {
    @Override
    public void run() {
      body.run();
    }

    /** Checks C ({@link RouteCalibration#check}); {@code what} names the GEMM. */
    void check(String what) {
      Object c = call.c().storage();
      RouteCalibration.check(what, call.dtype(), call.n(), e -> c instanceof double[] d
          ? d[(int) e] : ((float[]) c)[(int) e]);
    }
  }

  /** One n×n×n CPU GEMM on Java arrays. */
  private static Square cpuCall(Backend cpu, DType t, int n) {
    GemmCall call = square(n, t, array(t, n, 1), array(t, n, 2), array(t, n, 0),
        GemmCall.OnHost.INSTANCE);
    return new Square(call, () -> cpu.blas().gemm(call));
  }

  /** One n×n×n fp32 host GEMM on Java arrays through the GPU. */
  private static Square hostCall(GpuBackend gpu, int n) {
    GemmCall call = square(n, DType.FLOAT32, array(DType.FLOAT32, n, 1),
        array(DType.FLOAT32, n, 2), array(DType.FLOAT32, n, 0), GemmCall.OnHost.INSTANCE);
    return new Square(call, () -> gpu.blas().gemmFromHost(call));
  }

  /** Entries of C checked after the timed runs of each of the calibration's GEMMs. */
  static final int CHECKS = 4;

  /**
   * Checks {@link #CHECKS} entries of an n×n C = A·B of the calibration (row-major, A and B the
   * noise of seeds 1 and 2, as floats for FLOAT32) against fp64 sums of the same values, read
   * through {@code c} (the element's index to its value): a GEMM that skipped work or wrote
   * elsewhere would give times that stand for nothing.
   *
   * @throws GpuCoreException when an entry is off by more than its type's rounding allows
   *     (relative 1e-3 in fp32, 1e-10 in fp64; every product is positive)
   */
  static void check(String what, DType t, int n, java.util.function.LongToDoubleFunction c) {
    double[] a = noise64(Math.min(n * n, NOISE_PERIOD), 1);
    double[] b = noise64(a.length, 2);
    boolean f64 = t == DType.FLOAT64;
    java.util.SplittableRandom r = new java.util.SplittableRandom(n);
    for (int s = 0; s < CHECKS; s++) {
      int i = r.nextInt(n);
      int j = r.nextInt(n);
      double want = 0;
      for (int p = 0; p < n; p++) {
        double x = a[(int) (((long) i * n + p) % a.length)];
        double y = b[(int) (((long) p * n + j) % b.length)];
        want += f64 ? x * y : (double) (float) x * (float) y;
      }
      double got = c.applyAsDouble((long) i * n + j);
      if (!(Math.abs(got - want) <= (f64 ? 1e-10 : 1e-3) * want)) {
        throw new GpuCoreException("calibration: " + what + " (" + (f64 ? "fp64" : "fp32")
            + ", n = " + n + ") gave C[" + i + "][" + j + "] = " + got + " where an fp64 sum of"
            + " its products gives " + want + ": its times would not stand for a GEMM");
      }
    }
  }

  private static RouteRates.Curve gpuCurve(GpuBackend gpu, int device, DType t, int[] sizes) {
    return curve(sizes, true, n -> deviceSeconds(gpu, device, t, n));
  }

  /** The median seconds of an n×n×n device-resident GEMM, after one untimed call. */
  private static double deviceSeconds(GpuBackend gpu, int device, DType t, int n) {
    long len = (long) n * n;
    try (DeviceArray a = gpu.allocate(device, t, len);
        DeviceArray b = gpu.allocate(device, t, len);
        DeviceArray c = gpu.allocate(device, t, len)) {
      fillNoise(a, t, len, 1);
      fillNoise(b, t, len, 2);
      GemmCall call = square(n, t, Operand.of(a), Operand.of(b), Operand.of(c),
          new GemmCall.OnDevice(device));
      gpu.blas().gemm(call);
      double s = median(() -> {
        long t0 = System.nanoTime();
        gpu.blas().gemm(call); // synchronous: no stream
        return (System.nanoTime() - t0) / 1e9;
      });
      double[] one64 = new double[1];
      float[] one32 = new float[1];
      check("a device-resident GEMM", t, n, e -> {
        if (t == DType.FLOAT64) {
          c.copyTo(e, one64, 0, 1);
          return one64[0];
        }
        c.copyTo(e, one32, 0, 1);
        return one32[0];
      });
      return s;
    }
  }

  /** GB/s between a Java array and the GPU, the mean time of up and down. */
  private static double busGBs(GpuBackend gpu, int device, int elements) {
    float[] host = new float[elements];
    try (DeviceArray d = gpu.allocate(device, DType.FLOAT32, elements)) {
      d.copyFrom(host);
      d.copyTo(host);
      double up = median(() -> {
        long t0 = System.nanoTime();
        d.copyFrom(host);
        return (System.nanoTime() - t0) / 1e9;
      });
      double down = median(() -> {
        long t0 = System.nanoTime();
        d.copyTo(host);
        return (System.nanoTime() - t0) / 1e9;
      });
      return 4.0 * elements / ((up + down) / 2) / 1e9;
    }
  }

  /** An n×n operand on Java arrays: noise of {@code seed}, or zeros for seed 0 (a C). */
  private static Operand array(DType t, int n, long seed) {
    int len = n * n;
    if (seed == 0) {
      return t == DType.FLOAT64 ? Operand.of(new double[len]) : Operand.of(new float[len]);
    }
    return t == DType.FLOAT64 ? Operand.of(noise64(len, seed)) : Operand.of(noise32(len, seed));
  }

  /** Elements uploaded at a time by {@link #fillNoise}. */
  static final int UPLOAD_BLOCK = 1 << 20;

  /**
   * Fills {@code len} elements of a device operand with {@link #noise64} values of
   * {@code seed} (as floats for FLOAT32), uploaded a block of {@link #UPLOAD_BLOCK} at a time:
   * no Java array as large as the operand.
   */
  private static void fillNoise(DeviceArray d, DType t, long len, long seed) {
    int block = (int) Math.min(len, UPLOAD_BLOCK);
    double[] v64 = t == DType.FLOAT64 ? noise64(block, seed) : null;
    float[] v32 = v64 == null ? noise32(block, seed) : null;
    for (long off = 0; off < len; off += block) {
      int count = (int) Math.min(block, len - off);
      if (v64 != null) {
        d.copyFrom(v64, 0, off, count);
      } else {
        d.copyFrom(v32, 0, off, count);
      }
    }
  }

  /** Values repeat with this period in the calibration's operands (cheap to make). */
  static final int NOISE_PERIOD = 1 << 16;

  /**
   * {@code len} pseudo-random values in [0, 1), a block of {@link #NOISE_PERIOD} repeated: the
   * operands' bits change from element to element as in the calls the figures stand for (a
   * constant operand draws less power and may let a CPU or GPU hold higher clocks).
   */
  static double[] noise64(int len, long seed) {
    double[] d = new double[len];
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    int block = Math.min(len, NOISE_PERIOD);
    for (int i = 0; i < block; i++) {
      d[i] = r.nextDouble();
    }
    repeat(d, block, len);
    return d;
  }

  /** {@link #noise64} as floats. */
  static float[] noise32(int len, long seed) {
    float[] f = new float[len];
    double[] block = noise64(Math.min(len, NOISE_PERIOD), seed);
    for (int i = 0; i < block.length; i++) {
      f[i] = (float) block[i];
    }
    repeat(f, block.length, len);
    return f;
  }

  /** Copies the first {@code block} elements of {@code array} over the rest, up to {@code len}. */
  private static void repeat(Object array, int block, int len) {
    for (int i = block; i < len; i += block) {
      System.arraycopy(array, 0, array, i, Math.min(block, len - i));
    }
  }

  private static GemmCall square(int n, DType t, Operand a, Operand b, Operand c,
      GemmCall.Place place) {
    return new GemmCall(false, false, n, n, n, 1, 0,
        t == DType.FLOAT64 ? Precision.FP64 : Precision.FP32, t, a, n, b, n, c, n, 1, 0, 0, 0,
        null, place);
  }

  /** The median of {@link #RUNS} runs. */
  static double median(java.util.function.DoubleSupplier run) {
    double[] t = new double[RUNS];
    for (int i = 0; i < RUNS; i++) {
      t[i] = run.getAsDouble();
    }
    Arrays.sort(t);
    return Math.max(1e-9, t[RUNS / 2]);
  }

  /**
   * A curve whose calls never take less time as they grow (a smaller call measured slower than
   * a larger one was slowed by something else: it is given the larger one's time), and whose
   * rate never falls as they grow (a larger call is never slower per flop than the measurement
   * of a smaller one suggests: a dip is noise).
   */
  static RouteRates.Curve monotone(double[] flops, double[] gflops) {
    double[] g = gflops.clone();
    for (int i = g.length - 2; i >= 0; i--) {
      g[i] = Math.max(g[i], g[i + 1] * flops[i] / flops[i + 1]);
    }
    for (int i = 1; i < g.length; i++) {
      g[i] = Math.max(g[i], g[i - 1]);
    }
    return new RouteRates.Curve(flops, g);
  }

  /**
   * Per size, the faster of two measurements of the same series (a series may stop earlier in
   * one of them: the longer one's further sizes are kept).
   */
  static RouteRates.Curve faster(RouteRates.Curve a, RouteRates.Curve b) {
    RouteRates.Curve longer = a.flops().length >= b.flops().length ? a : b;
    RouteRates.Curve shorter = longer == a ? b : a;
    double[] g = longer.gflops().clone();
    for (int i = 0; i < shorter.gflops().length; i++) {
      g[i] = Math.max(g[i], shorter.gflops()[i]);
    }
    return monotone(longer.flops(), g);
  }
}
