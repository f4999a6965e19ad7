package dev.gpucore.bench.suites;

import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.blas.Decision;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.cli.JsonText;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.HostArray;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * {@code gemm}: GEMM throughput, C = A·Bᵀ (n×n), two ways.
 *
 * <ul>
 *   <li><b>device</b>: A, B and C already on the GPU, per precision (fp32, tf32, bf16 and fp16 on
 *       16-bit device arrays with a 16-bit C, fp64), beside PyTorch's {@code torch.matmul} on the
 *       same GPU with the same dtype and TF32 setting; ratio = gpucore throughput / PyTorch
 *       throughput (= PyTorch time / gpucore time).
 *   <li><b>host</b>: SGEMM from {@code float[]} and DGEMM from {@code double[]}, square (n×n×n)
 *       and of given m×n×k shapes (skinny ones by default, m large and n, k ≤ 256, as in MLP and
 *       k-means), per route: the CPU backend, the GPU pipeline ({@code gpucore.gemm.route=gpu})
 *       and the router ({@code auto}); r/best = the better of the CPU and GPU times / the
 *       router's time (1 = the router picked the faster route at no cost). Beside them OpenBLAS
 *       (the CPU row) and nvBLAS (the GPU row), sgemm_/dgemm_ from C on host arrays. On the GPU
 *       route also from pinned {@link HostArray}s ({@code pinned}) and, from {@code float[]}, at
 *       lower precisions ({@code gpu-tf32}, {@code gpu-bf16}, {@code gpu-fp16}); each row's
 *       throughput against the device row of the same n and precision ({@code vs_device}), and
 *       each GPU row's time against the bus bound: the bytes it sends each way at the pinned
 *       rates measured in the same run (see {@link GemmBus}).
 *   <li><b>batched</b>: fp32 batches of C_i = A_i·B_i on the device, in the pointer-array form
 *       (per call, and prepared once) and the strided form, beside PyTorch's {@code torch.bmm}, timed with CUDA events (see
 *       {@link GemmBatched}).
 *   <li><b>alternate</b>: host SGEMM alternating the CPU and GPU routes beside each route alone;
 *       loss = pair time / (cpu + gpu) (see {@link GemmAlternate}).
 * </ul>
 *
 * Every sample is a loop of back-to-back calls lasting at least {@value #SAMPLE_MS} ms, divided
 * by the number of calls: device loops are queued on one stream and synchronised once; host
 * rounds interleave the three routes so that each sees the same conditions. Every result is
 * checked before anything is timed (C poisoned first): each row sum and column sum of C against
 * the exact sums from the inputs, and whole rows against double-precision dot products; the
 * GPU and router routes also element by element against the CPU's C. A result that fails is not
 * timed: the row says MISMATCH and the run exits 2.
 */
final class GemmSuite extends NamedSuite {
  static final List<String> PRECISIONS = List.of("fp32", "tf32", "bf16", "fp16", "fp64");
  static final List<Long> DEVICE_SIZES = List.of(1024L, 4096L, 8192L);
  static final List<Long> HOST_SIZES = List.of(64L, 128L, 256L, 512L, 1024L, 2048L, 4096L,
      8192L, 16384L);
  static final List<String> HOST_DTYPES = List.of("fp32", "fp64");
  /** {@code --host-memory}: rows from Java arrays. */
  static final String ARRAY = "array";
  /** {@code --host-memory}: GPU rows from pinned host arrays. */
  static final String PINNED = "pinned";
  static final List<String> HOST_MEMORY = List.of(ARRAY, PINNED);
  /** {@code --host-precisions}: the GPU rows' precisions on fp32 data. */
  static final List<String> HOST_PRECISIONS = List.of("fp32", "tf32", "bf16", "fp16");
  /** The largest default square DGEMM: n = 16384 would need 10 GiB of heap and minutes per route. */
  static final long HOST_FP64_MAX_DEFAULT = 8192;
  /** Skinny host shapes m×n×k by default: an MLP layer (64 and 256 wide) and k-means. */
  static final List<String> HOST_SHAPES = List.of("262144x64x64", "65536x256x256",
      "1048576x16x32");
  static final int DEFAULT_REPS = 7;
  /**
   * Host rounds without {@code --reps} (each round samples every route; {@link #HOST_BUDGET_S}
   * caps them at large n): enough rounds that the medians at n = 256 and 512, where the two
   * routes are close, are stable from run to run (7 rounds were not; docs/benchmarks.md).
   */
  static final int DEFAULT_HOST_ROUNDS = 21;
  static final int DEFAULT_WARMUP = 3;
  /** Each sample is a loop of back-to-back calls lasting at least this long. */
  static final int SAMPLE_MS = 25;
  /** Host rounds stop after this long per size (at least one round runs). */
  static final long HOST_BUDGET_S = 30;
  /** At most this many calls in one sample. */
  static final int MAX_CALLS = 5000;

  GemmSuite() {
    super("gemm",
        "GEMM C = A*B^T: device-resident per precision vs PyTorch; SGEMM from float[] and DGEMM "
            + "from double[], square and skinny, per route (CPU, GPU, router) vs OpenBLAS and "
            + "nvBLAS from C, from pinned HostArrays and at lower precisions, vs device and bus "
            + "bound; fp32 batches vs torch.bmm; CPU and GPU routes alternating",
        HOST_SIZES);
  }

  /**
   * Device-resident sizes: {@code --device-sizes}, else {@code --sizes}, else the host sizes
   * when {@code --host-sizes} is given (so that every square host row has its device row in the
   * same run), else the defaults.
   */
  static List<Long> deviceSizes(BenchOptions o) {
    BenchOptions.Gemm g = o.gemm();
    if (deviceFromHost(o)) {
      return g.hostSizes();
    }
    return sizes(o, g != null && g.noDevice(), g == null ? null : g.deviceSizes(), DEVICE_SIZES);
  }

  /**
   * Whether the device rows follow the host rows: {@code --host-sizes} given, neither
   * {@code --device-sizes} nor {@code --sizes}, and both kinds of rows run.
   */
  static boolean deviceFromHost(BenchOptions o) {
    BenchOptions.Gemm g = o.gemm();
    return g != null && g.hostSizes() != null && g.deviceSizes() == null && o.sizes() == null
        && !g.noDevice() && !g.noHost();
  }

  /**
   * Which host memory the host rows use: {@code --host-memory}, else {@code array} and
   * {@code pinned} where a GPU is present ({@code pinned} rows are GPU rows), else
   * {@code array}.
   */
  static List<String> hostMemory(BenchOptions o, boolean gpu) {
    BenchOptions.Gemm g = o.gemm();
    if (g != null && g.hostMemory() != null) {
      return g.hostMemory();
    }
    return gpu ? HOST_MEMORY : List.of(ARRAY);
  }

  /** The precisions of the GPU rows from {@code float[]}: {@code --host-precisions}, else fp32. */
  static List<String> hostPrecisions(BenchOptions o) {
    BenchOptions.Gemm g = o.gemm();
    return g == null || g.hostPrecisions() == null ? List.of("fp32") : g.hostPrecisions();
  }

  /**
   * The precisions of the GPU rows from {@code float[]} beside the strict one (which always
   * runs), in {@link #HOST_PRECISIONS} order; none when the rows from Java arrays do not run.
   */
  static List<String> extraHostPrecisions(BenchOptions o, boolean gpu) {
    List<String> asked = hostPrecisions(o);
    List<String> out = new ArrayList<>();
    if (!hostMemory(o, gpu).contains(ARRAY) || !hostDtypes(o).contains("fp32")) {
      return out;
    }
    for (String p : HOST_PRECISIONS) {
      if (!p.equals("fp32") && asked.contains(p)) {
        out.add(p);
      }
    }
    return out;
  }

  /** Host-array sizes: {@code --host-sizes}, else {@code --sizes}, else the defaults. */
  static List<Long> hostSizes(BenchOptions o) {
    BenchOptions.Gemm g = o.gemm();
    return sizes(o, g != null && g.noHost(), g == null ? null : g.hostSizes(), HOST_SIZES);
  }

  /** The host rows' element types: {@code --host-dtypes}, else fp32 and fp64. */
  static List<String> hostDtypes(BenchOptions o) {
    BenchOptions.Gemm g = o.gemm();
    return g == null || g.hostDtypes() == null ? HOST_DTYPES : g.hostDtypes();
  }

  /**
   * The m×n×k host shapes: {@code --host-shapes} ({@code none}: no shapes), else the skinny
   * defaults unless {@code --sizes} or {@code --host-sizes} chose the host sizes.
   */
  static List<int[]> hostShapes(BenchOptions o) {
    BenchOptions.Gemm g = o.gemm();
    if (g != null && g.noHost()) {
      return List.of();
    }
    List<String> spec = g == null ? null : g.hostShapes();
    if (spec == null) {
      spec = o.sizes() != null || (g != null && g.hostSizes() != null) ? List.of() : HOST_SHAPES;
    } else if (spec.equals(List.of("none"))) {
      spec = List.of();
    }
    List<int[]> out = new ArrayList<>();
    for (String s : spec) {
      String[] p = s.split("x", -1);
      long[] v = new long[3];
      boolean ok = p.length == 3;
      for (int i = 0; ok && i < 3; i++) {
        try {
          v[i] = Long.parseLong(p[i].trim());
          ok = v[i] >= 1;
        } catch (NumberFormatException e) {
          ok = false;
        }
      }
      if (!ok) {
        throw new IllegalArgumentException("gemm: --host-shapes takes MxNxK with m, n, k >= 1 "
            + "(e.g. 262144x64x64), or none; got " + s);
      }
      if (v[0] * v[2] > Integer.MAX_VALUE || v[1] * v[2] > Integer.MAX_VALUE
          || v[0] * v[1] > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("gemm: --host-shapes " + s + ": m*k, n*k and m*n "
            + "must each be at most " + Integer.MAX_VALUE + " (one Java array each)");
      }
      out.add(new int[] {(int) v[0], (int) v[1], (int) v[2]});
    }
    return out;
  }

  /**
   * One host case: element type and m×n×k. Square cases keep the group {@code host} (fp32) or
   * {@code host-fp64} with x = n; other shapes are grouped by n×k with x = m, so that a chart
   * draws one line per n×k over m.
   */
  record HostCase(String dtype, int m, int n, int k, boolean square) {
    boolean fp64() {
      return dtype.equals("fp64");
    }

    String group() {
      String g = fp64() ? "host-fp64" : "host";
      return square ? g : g + "-" + n + "x" + k;
    }

    String label() {
      return square ? "n=" + n : m + "x" + n + "x" + k;
    }

    /** Elements of A, B and C. */
    long elements() {
      return (long) m * k + (long) n * k + (long) m * n;
    }

    /** Bytes of A, B and three C. */
    long heapBytes() {
      return ((long) m * k + (long) n * k + 3L * m * n) * (fp64() ? 8 : 4);
    }

    String routine() {
      return fp64() ? "DGEMM double[]" : "SGEMM float[]";
    }
  }

  /**
   * Every host case, in order: per square size then per shape, fp32 then fp64 each; the default
   * sizes stop at n = {@value #HOST_FP64_MAX_DEFAULT} in fp64.
   */
  static List<HostCase> hostCases(BenchOptions o) {
    List<HostCase> out = new ArrayList<>();
    List<String> dts = hostDtypes(o);
    BenchOptions.Gemm g = o.gemm();
    boolean defaults = o.sizes() == null && (g == null || g.hostSizes() == null);
    for (long nl : hostSizes(o)) {
      int n = (int) nl;
      for (String dt : HOST_DTYPES) {
        if (dts.contains(dt) && !(defaults && dt.equals("fp64") && n > HOST_FP64_MAX_DEFAULT)) {
          out.add(new HostCase(dt, n, n, n, true));
        }
      }
    }
    for (int[] s : hostShapes(o)) {
      for (String dt : HOST_DTYPES) {
        if (dts.contains(dt)) {
          out.add(new HostCase(dt, s[0], s[1], s[2], false));
        }
      }
    }
    return out;
  }

  /**
   * Whether the run narrows the gemm rows (any of {@code --sizes}, {@code --precision},
   * {@code --device-sizes}, {@code --host-sizes}, {@code --host-shapes}, {@code --host-dtypes},
   * {@code --host-memory}, {@code --host-precisions}, {@code --no-device}, {@code --no-host}):
   * the batched and alternating rows then run only
   * where asked for by their own options.
   */
  static boolean narrowed(BenchOptions o) {
    BenchOptions.Gemm g = o.gemm();
    return o.sizes() != null || o.precision() != null || (g != null && (g.deviceSizes() != null
        || g.hostSizes() != null || g.hostShapes() != null || g.hostDtypes() != null
        || g.hostMemory() != null || g.hostPrecisions() != null || g.noDevice()
        || g.noHost()));
  }

  /** None when skipped, else the group's own sizes, else {@code --sizes}, else the defaults. */
  private static List<Long> sizes(BenchOptions o, boolean skip, List<Long> own,
      List<Long> defaults) {
    if (skip) {
      return List.of();
    }
    if (own != null) {
      return own;
    }
    return o.sizes() != null ? o.sizes() : defaults;
  }

  /**
   * The device rows' precisions: {@code --precision} (a comma list here), else those the host
   * rows compare with when the device sizes follow the host sizes (fp32 and fp64 per
   * {@code --host-dtypes}, and the {@code --host-precisions}), else all five.
   */
  static List<String> precisions(BenchOptions o) {
    if (o.precision() != null) {
      return List.of(o.precision().split(","));
    }
    if (!deviceFromHost(o)) {
      return PRECISIONS;
    }
    List<String> dts = hostDtypes(o);
    List<String> hp = hostPrecisions(o);
    List<String> out = new ArrayList<>();
    for (String p : PRECISIONS) {
      boolean need = p.equals("fp64") ? dts.contains("fp64")
          : dts.contains("fp32") && (p.equals("fp32") || hp.contains(p));
      if (need) {
        out.add(p);
      }
    }
    return out;
  }

  @Override
  public void validate(BenchOptions o) {
    if (!o.dtype().equals("fp32") && !o.dtype().equals("fp64")) {
      throw new IllegalArgumentException("gemm: --dtype must be fp32 or fp64, got " + o.dtype());
    }
    for (String p : precisions(o)) {
      if (!PRECISIONS.contains(p)) {
        throw new IllegalArgumentException("gemm: --precision must be one or more of "
            + String.join(", ", PRECISIONS) + " (it selects the device rows); got " + p);
      }
    }
    // host sizes first: without --device-sizes the device rows may follow them
    String[] what = {"--host-sizes", "--device-sizes"};
    int w = 0;
    for (List<Long> l : List.of(hostSizes(o), deviceSizes(o))) {
      for (long n : l) {
        if (n < 1 || n > 46340) {
          throw new IllegalArgumentException("gemm: " + what[w] + " (or --sizes): n must be in "
              + "[1, 46340], got " + n);
        }
      }
      w++;
    }
    for (String d : hostDtypes(o)) {
      if (!HOST_DTYPES.contains(d)) {
        throw new IllegalArgumentException("gemm: --host-dtypes must be one or more of fp32, fp64;"
            + " got " + d);
      }
    }
    BenchOptions.Gemm g = o.gemm();
    for (String m : hostMemory(o, true)) {
      if (!HOST_MEMORY.contains(m)) {
        throw new IllegalArgumentException("gemm: --host-memory must be one or more of array "
            + "(Java arrays), pinned (pinned HostArrays); got " + m);
      }
    }
    for (String p : hostPrecisions(o)) {
      if (!HOST_PRECISIONS.contains(p)) {
        throw new IllegalArgumentException("gemm: --host-precisions must be one or more of "
            + String.join(", ", HOST_PRECISIONS) + " (GPU rows on float[]; fp64 rows are "
            + "--host-dtypes fp64); got " + p);
      }
    }
    boolean lower = hostPrecisions(o).stream().anyMatch(p -> !p.equals("fp32"));
    if (lower && (!hostMemory(o, true).contains(ARRAY) || !hostDtypes(o).contains("fp32")
        || (g != null && g.noHost()))) {
      throw new IllegalArgumentException("gemm: --host-precisions " + String.join(",",
          hostPrecisions(o)) + " needs fp32 host rows from Java arrays (--host-dtypes with "
          + "fp32, --host-memory with array, no --no-host)");
    }
    int bus = GemmBus.mib(o);
    if (bus < 0 || bus > 8191) {
      throw new IllegalArgumentException("gemm: --bus-mib must be in [0, 8191] (0 skips the "
          + "bus rows); got " + bus);
    }
    // host rows hold A, B and three C as float[] or double[]; device rows four inputs and the
    // check's C
    for (HostCase h : hostCases(o)) {
      Checks.heap("gemm: " + (h.square() ? "--host-sizes (or --sizes) " + h.n()
          : "--host-shapes " + h.label()) + " (" + h.dtype() + ")", h.heapBytes());
    }
    for (long n : deviceSizes(o)) {
      Checks.heap("gemm: --device-sizes (or --sizes) " + n, 5 * n * n * 8L);
    }
    for (GemmBatched.Case c : GemmBatched.cases(o)) {
      Checks.heap("gemm: --batched " + c.label(), c.heapBytes());
    }
    for (long n : GemmAlternate.sizes(o)) {
      Checks.heap("gemm: --alternate-sizes " + n, GemmAlternate.hostCase(n).heapBytes());
    }
  }

  @Override
  public int steps(BenchOptions o, boolean gpu) {
    return (gpu ? deviceSizes(o).size() * precisions(o).size() + GemmBatched.cases(o).size() : 0)
        + (busRows(o, gpu) ? 1 : 0) + hostCases(o).size() + GemmAlternate.sizes(o).size() + 1;
  }

  /**
   * Whether the run measures the bus (pinned copies each way, for the GPU host rows' bus bound):
   * where a GPU is present, host cases run and {@code --bus-mib} is not 0.
   */
  static boolean busRows(BenchOptions o, boolean gpu) {
    return gpu && GemmBus.mib(o) > 0 && !hostCases(o).isEmpty();
  }

  static Precision precision(String p) {
    return Precision.valueOf(p.toUpperCase(Locale.ROOT));
  }

  /** Storage type of the device rows: 16-bit arrays for bf16/fp16, as PyTorch's tensors. */
  static DType storage(Precision p) {
    return switch (p) {
      case FP64 -> DType.FLOAT64;
      case BF16 -> DType.BFLOAT16;
      case FP16 -> DType.FLOAT16;
      default -> DType.FLOAT32;
    };
  }

  /**
   * fp64 inputs with a full 52-bit mantissa (values widened from float would leave the low bits
   * zero, which some GPUs multiply measurably faster): element i is
   * {@code ((splitmix64(seed + (i + 1)·0x9E3779B97F4A7C15) >>> 12) + 0.5)·2^-52}, exact, in
   * (0, 1). peers_torch.py draws the same.
   */
  static void fill64(double[] a, long seed) {
    for (int i = 0; i < a.length; i++) {
      long z = InputGen.mix(seed + (i + 1L) * InputGen.GOLDEN);
      a[i] = ((z >>> 12) + 0.5) * 0x1p-52;
    }
  }

  private static GpuCore open(String route) {
    Map<Object, Object> p = new HashMap<>(System.getProperties());
    p.put("gpucore.gemm.route", route);
    return GpuCore.open(Config.from(p, System.getenv()));
  }

  @Override
  SuiteResult run(BenchContext ctx, BenchOptions o) throws Exception {
    int reps = o.repsOr(DEFAULT_REPS);
    int rounds = o.repsOr(DEFAULT_HOST_ROUNDS);
    int warmup = o.warmupOr(DEFAULT_WARMUP);
    List<Long> dsizes = deviceSizes(o);
    List<Long> hsizes = hostSizes(o);
    List<HostCase> hcases = hostCases(o);
    List<String> precs = precisions(o);
    List<String> hmemory = hostMemory(o, ctx.gpu());
    List<String> hprecs = extraHostPrecisions(o, ctx.gpu());
    SuiteResult res = new SuiteResult(name(), String.format(Locale.ROOT,
        "gemm: C = A*B^T; device-resident (n x n) per precision, SGEMM/DGEMM from float[]/"
            + "double[] per route; "
            + "%s; CPU: %d threads; median of %d samples (host: of up to %d rounds), each a "
            + "loop of back-to-back calls >= %d ms", ctx.gpu() ? "GPU " + o.device() + " ("
            + ctx.deviceName() + ")" : "no GPU", ctx.cpuThreads(), reps, rounds, SAMPLE_MS));
    res.settings().put("device_sizes", dsizes);
    res.settings().put("precisions", precs);
    res.settings().put("host_sizes", hsizes);
    res.settings().put("host_dtypes", hostDtypes(o));
    res.settings().put("host_memory", hmemory);
    List<String> hpAll = new ArrayList<>(List.of("fp32"));
    hpAll.addAll(hprecs);
    res.settings().put("host_precisions", hpAll);
    res.settings().put("device_sizes_from_host", deviceFromHost(o));
    res.settings().put("bus_mib", busRows(o, ctx.gpu()) ? GemmBus.mib(o) : 0);
    List<String> shapeNames = new ArrayList<>();
    for (int[] sh : hostShapes(o)) {
      shapeNames.add(sh[0] + "x" + sh[1] + "x" + sh[2]);
    }
    res.settings().put("host_shapes", shapeNames);
    List<GemmBatched.Case> bcases = GemmBatched.cases(o);
    List<String> batchedNames = new ArrayList<>();
    for (GemmBatched.Case c : bcases) {
      batchedNames.add(c.batch() + "x" + c.m() + "x" + c.n() + "x" + c.k());
    }
    res.settings().put("batched", batchedNames);
    List<Long> asizes = GemmAlternate.sizes(o);
    res.settings().put("alternate_sizes", asizes);
    res.settings().put("reps", reps);
    res.settings().put("host_rounds", rounds);
    res.settings().put("warmup", warmup);
    res.settings().put("seed", o.seed());
    res.settings().put("sample_ms", SAMPLE_MS);
    res.settings().put("host_budget_s", HOST_BUDGET_S);
    res.settings().put("cpu_threads", ctx.cpuThreads());
    res.notes().add("inputs: seeded splitmix64 values in (0, 1) that every peer reproduces (fp64: "
        + "full 52-bit mantissas; bf16/fp16: rounded to nearest even from the fp32 values); "
        + "GFLOP/s = 2n^3 (host shapes: 2mnk) per median time per call");
    res.notes().add("device: " + warmup + " warm-up calls, then samples of R calls queued on one "
        + "stream and synchronised once (R for >= " + SAMPLE_MS + " ms), System.nanoTime around "
        + "the loop / R; bf16/fp16: 16-bit A, B and C, fp32 accumulation; ratio = torch time / "
        + "gpucore time = gpucore throughput / torch throughput");
    res.notes().add("host: SGEMM from float[] (fp32), DGEMM from double[] (fp64, full 52-bit "
        + "mantissas), n x n x n and m x n x k (C m x n, A m x k, B n x k); rounds interleave, in rotating order, cpu, gpu (gpucore.gemm.route=gpu),"
        + " router (auto); each sample an untimed call then R back-to-back calls (>= " + SAMPLE_MS
        + " ms); at most " + rounds + " rounds or " + HOST_BUDGET_S + " s per case; r/best = "
        + "min(cpu, gpu) time / router time; OpenBLAS from C beside cpu, nvBLAS from C beside gpu");
    if (hmemory.contains(PINNED) || !hprecs.isEmpty()) {
      res.notes().add("host GPU rows beside gpu (route=gpu, from float[]/double[], strict): "
          + (hmemory.contains(PINNED) ? "pinned = the same GEMM on pinned HostArrays (A, B "
              + "copied in once; Blas.gemm on Operand.of(HostArray)); " : "")
          + (hprecs.isEmpty() ? "" : "gpu-" + String.join(", gpu-", hprecs) + " = Blas.gemm "
              + "with Gemm.precision on the same float[]; ")
          + "interleaved in the same rounds");
    }
    res.notes().add("host ratios: vs_device = host throughput / device-resident throughput at "
        + "the same n and precision in this run (square cases); vs_fp32_gpu = strict gpu time "
        + "/ lower-precision gpu time; bus bound = max(A+B bytes up / pinned H2D, C bytes down "
        + "/ pinned D2H), bytes as gpucore sends them (A, B: 4 or 8 bytes an element at every "
        + "precision today), bus_bound_over_time = bound / row time (1 = at the bound)");
    res.notes().add("checks before timing (C poisoned with NaN): every row and column sum of C "
        + "against the exact sums from the inputs, whole sampled rows against double dot "
        + "products; host gpu, pinned, gpu-PRECISION and router C element by element against "
        + "the CPU's; bounds: fp32 1e-5*sqrt(k), tf32 1e-3, bf16/fp16 1e-2, fp64 "
        + "1e-13*sqrt(k) (k = n when square); a failed check is not timed");
    if (!bcases.isEmpty()) {
      res.notes().add("batched: fp32 (strict: no TF32, in PyTorch too) C_i = A_i*B_i, A batch x m"
          + " x k, B batch x k x n, C batch x m x n, contiguous on the device; pointer = "
          + "Blas.gemmBatched with one Operand view per matrix, prepared = the same batch "
          + "prepared once by Blas.prepareBatched (untimed: extra.prepare_ns) and run, strided = "
          + "Gemm.batch; checked "
          + "first (C poisoned with NaN) against double products on the host, element by "
          + "element; CUDA events around R calls queued on one stream, per call, beside "
          + "torch.bmm(a, b, out=c) timed the same way; ratio = torch time / gpucore time");
    }
    if (!asizes.isEmpty()) {
      res.notes().add("alternate: SGEMM C = A*B^T from float[] (n x n) on the cpu route alone, "
          + "the gpu route (gpucore.gemm.route=gpu) alone, and alternating cpu, gpu, cpu, ...; "
          + "each sample after a " + GemmAlternate.QUIET_MS + " ms pause and an untimed call "
          + "(pair); loss = pair time / (cpu alone + gpu alone), 1 = no interference");
    }
    if (o.dtype().equals("fp64")) {
      res.notes().add("--dtype does not apply to gemm (device rows per precision, host rows per "
          + "--host-dtypes): ignored here");
    }
    if (!ctx.gpu()) {
      res.notes().add("GPU rows skipped: " + ctx.noGpu());
    }
    Map<String, Double> exactSums = new HashMap<>();
    List<Map<String, Object>> deviceCases = new ArrayList<>();
    List<Map<String, Object>> deviceSummary = new ArrayList<>();
    Map<String, Row> deviceRows = new LinkedHashMap<>();
    for (long nl : dsizes) {
      int n = (int) nl;
      HostInputs in = ctx.gpu() ? new HostInputs(n, o.seed()) : null;
      for (String ps : precs) {
        Row r = new Row(name(), "device", ps, "device " + ps + " A*B^T"
            + (ps.equals("bf16") || ps.equals("fp16") ? " (" + ps + " arrays)" : ""),
            "gpucore cuda", n, "n=" + n, 2.0 * n * n * (double) n, "GFLOP/s");
        r.extra().put("precision", ps);
        r.extra().put("storage", storage(precision(ps)).name());
        res.rows().add(r);
        deviceRows.put(ps + " " + n, r);
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("precision", ps);
        c.put("x", n);
        if (!ctx.gpu()) {
          r.skip(ctx.noGpu());
          continue;
        }
        ctx.progress().step("gemm device " + ps + " n=" + n);
        try {
          measureDevice(ctx, r, in, precision(ps), n, reps, warmup, exactSums);
        } catch (GpuCoreException.OutOfMemory e) {
          r.skip("out of device memory: " + e.getMessage());
        }
        ctx.progress().stepDone();
        c.put("calls", r.extra().getOrDefault("calls_per_sample", 0));
        deviceCases.add(c);
      }
    }
    if (!ctx.gpu()) {
      for (long nl : dsizes) {
        for (String ps : precs) {
          Map<String, Object> c = new LinkedHashMap<>();
          c.put("precision", ps);
          c.put("x", nl);
          c.put("calls", 0);
          deviceCases.add(c);
        }
      }
    }
    List<Row[]> batchedRows = new ArrayList<>();
    List<Map<String, Object>> batchedPeer = new ArrayList<>();
    for (GemmBatched.Case c : bcases) {
      if (ctx.gpu()) {
        ctx.progress().step("gemm batched " + c.label());
      }
      Row[] r = GemmBatched.measure(ctx, res, c, reps, warmup, exactSums);
      if (ctx.gpu()) {
        ctx.progress().stepDone();
      }
      batchedRows.add(r);
      Map<String, Object> pc = new LinkedHashMap<>();
      pc.put("batch", c.batch());
      pc.put("m", c.m());
      pc.put("n", c.n());
      pc.put("k", c.k());
      pc.put("x", c.macs());
      pc.put("calls", r[r.length - 1].extra().getOrDefault("calls_per_sample", 0));
      batchedPeer.add(pc);
    }
    List<Map<String, Object>> peerSizes = new ArrayList<>();
    List<HostRows> hostRows = new ArrayList<>();
    List<Row[]> alternateRows = new ArrayList<>();
    Row[] bus = null;
    if (busRows(o, ctx.gpu())) {
      ctx.progress().step("gemm bus " + Fmt.bytes((long) GemmBus.mib(o) << 20));
      bus = GemmBus.measure(ctx, name(), GemmBus.mib(o), warmup);
      res.rows().addAll(List.of(bus));
      ctx.progress().stepDone();
    }
    List<Map<String, Object>> interleavedLines = new ArrayList<>();
    List<String> doneInRounds = new ArrayList<>();
    try (GpuCore auto = open("auto"); GpuCore gpuRoute = ctx.gpu() ? open("gpu") : null;
        InterleavedPeer ob = hmemory.contains(ARRAY) && !hcases.isEmpty()
            ? interleavedPeer(ctx, res) : null) {
      for (HostCase h : hcases) {
        if (hmemory.contains(ARRAY)) {
          Map<String, Object> ps = new LinkedHashMap<>();
          ps.put("x", h.m());
          ps.put("buffers", 1);
          // the C peer's case: element type, m, n, k and the group its line answers to
          ps.put("arg", peerArg(h));
          peerSizes.add(ps);
        }
        ctx.progress().step("gemm host " + h.dtype() + " " + h.label());
        hostRows.add(measureHost(ctx, res, auto, gpuRoute, h, rounds, exactSums, hmemory,
            hprecs, ob, interleavedLines, doneInRounds));
        ctx.progress().stepDone();
      }
      for (long n : asizes) {
        ctx.progress().step("gemm alternate n=" + n);
        alternateRows.add(GemmAlternate.measure(ctx, res, gpuRoute, n, reps));
        ctx.progress().stepDone();
      }
    }
    if (ctx.peers() != null) {
      Map<String, Object> req = ctx.peerRequest(peerSizes, reps, warmup);
      req.put("device", deviceCases);
      req.put("batched", batchedPeer);
      req.put("sample_ms", SAMPLE_MS);
      req.put("budget_s", HOST_BUDGET_S);
      req.put("done_in_rounds", Map.of("openblas", doneInRounds));
      req.put("thread_timeout", GemmAlternate.threadTimeout(ctx.cpuCore()));
      PeerMerge.Checker checker = (row, line) -> {
        double ps = JsonText.num(line, "sum");
        String key = row.group().equals("device") ? row.caseId() + " " + (long) row.x()
            : row.group() + " " + (long) row.x();
        if (row.group().equals("batched") && !line.getOrDefault("check", "ok").toString()
            .startsWith("ok")) {
          // the peer's own check: its C against a double product on its GPU
          return new PeerMerge.Verdict("MISMATCH: " + line.get("check"), false);
        }
        Double exact = exactSums.get(key);
        if (Double.isNaN(ps) || exact == null) {
          return new PeerMerge.Verdict("no sum to compare", true);
        }
        double rel = Math.abs(ps - exact) / Math.abs(exact);
        double bound = row.group().equals("device")
            ? E2eSuite.bound((int) row.x(), precision(row.caseId()))
            : E2eSuite.bound(((Number) row.extra().get("k")).intValue(),
                row.group().startsWith("host-fp64") ? Precision.FP64 : Precision.FP32);
        boolean ok = rel <= bound;
        return new PeerMerge.Verdict(String.format(Locale.ROOT,
            "%s: sum(C) rel. diff %.1e vs exact (bound %.1e)", ok ? "ok" : "MISMATCH", rel,
            bound), ok);
      };
      ctx.runPeers(res, req, checker);
      PeerMerge.attach(res, interleavedLines, ctx.peers(), checker);
    }
    // ratios, now that the peers' figures are in
    for (Map.Entry<String, Row> e : deviceRows.entrySet()) {
      Row r = e.getValue();
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("precision", r.caseId());
      s.put("n", (long) r.x());
      s.put("gflops", r.throughput());
      PeerFigure torch = peer(r, "torch");
      if (torch != null) {
        double ratio = torch.ratio(r);
        r.extra().put("vs_torch", ratio);
        s.put("torch_gflops", r.throughput(torch));
        s.put("vs_torch", ratio);
      }
      if (r.skipped() != null) {
        s.put("skipped", r.skipped());
      }
      deviceSummary.add(s);
    }
    if (!deviceRows.isEmpty() && ctx.gpu()) {
      StringBuilder f = new StringBuilder("device, gpucore GFLOP/s (vs torch = gpucore / torch "
          + "throughput):");
      for (Row r : deviceRows.values()) {
        f.append(String.format(Locale.ROOT, " %s n=%d %s", r.caseId(), (long) r.x(),
            r.stats() == null ? "-" : Fmt.sig(r.throughput())));
        Object v = r.extra().get("vs_torch");
        if (v instanceof Double d && !d.isNaN()) {
          f.append(String.format(Locale.ROOT, " (%.2f)", d));
        }
        f.append(';');
      }
      res.footer().add(f.substring(0, f.length() - 1));
    }
    List<Map<String, Object>> hostSummary = new ArrayList<>();
    double h2d = bus == null || bus[0].stats() == null ? Double.NaN : bus[0].throughput();
    double d2h = bus == null || bus[1].stats() == null ? Double.NaN : bus[1].throughput();
    for (HostRows h : hostRows) {
      hostSummary.add(hostRatios(res, h, deviceRows, h2d, d2h));
    }
    if (bus != null) {
      Map<String, Object> b = new LinkedHashMap<>();
      b.put("bytes", (long) bus[0].x());
      b.put("h2d_gbps", h2d);
      b.put("d2h_gbps", d2h);
      res.summary().put("bus", b);
      if (!Double.isNaN(h2d) && !Double.isNaN(d2h)) {
        res.footer().add(String.format(Locale.ROOT, "bus (pinned HostArray <-> device, %s each "
            + "way): H2D %s GB/s, D2H %s GB/s; each GPU host row's bus bound = max(A+B bytes up"
            + " / H2D, C bytes down / D2H)", bus[0].sizeLabel(), Fmt.sig(h2d), Fmt.sig(d2h)));
      }
    }
    res.summary().put("device", deviceSummary);
    res.summary().put("host", hostSummary);
    res.summary().put("batched", batchedSummary(res, batchedRows, ctx.gpu()));
    List<Map<String, Object>> alternateSummary = new ArrayList<>();
    int timeout = GemmAlternate.threadTimeout(ctx.cpuCore());
    for (Row[] a : alternateRows) {
      alternateSummary.add(GemmAlternate.summarize(res, a, timeout));
    }
    res.summary().put("alternate", alternateSummary);
    return res;
  }

  /** The batched rows' ratios to torch.bmm, into the rows, the summary and a footer line. */
  private static List<Map<String, Object>> batchedSummary(SuiteResult res, List<Row[]> all,
      boolean gpu) {
    List<Map<String, Object>> out = new ArrayList<>();
    StringBuilder f = new StringBuilder("batched fp32, gpucore GFLOP/s (torch.bmm time / gpucore "
        + "time):");
    for (Row[] rows : all) {
      Map<String, Object> s = new LinkedHashMap<>();
      for (String key : List.of("batch", "m", "n", "k")) {
        s.put(key, rows[0].extra().get(key));
      }
      f.append(' ').append(rows[0].sizeLabel());
      PeerFigure torch = null;
      for (Row r : rows) {
        s.put(r.caseId() + "_gflops", r.throughput());
        PeerFigure t = peer(r, "torch");
        double ratio = t == null ? Double.NaN : t.ratio(r);
        if (t != null) {
          torch = t;
          r.extra().put("vs_torch", ratio);
          s.put(r.caseId() + "_vs_torch", ratio);
        }
        f.append(String.format(Locale.ROOT, " %s %s%s", r.caseId(),
            r.stats() == null ? "-" : Fmt.sig(r.throughput()),
            Double.isNaN(ratio) ? "" : String.format(Locale.ROOT, " (%.2f)", ratio)));
        if (r.skipped() != null) {
          s.put(r.caseId() + "_skipped", r.skipped());
        }
      }
      if (torch != null) {
        s.put("torch_gflops", rows[0].throughput(torch));
      }
      s.put("timing", rows[rows.length - 1].timing());
      out.add(s);
      f.append(';');
    }
    if (!all.isEmpty() && gpu) {
      res.footer().add(f.substring(0, f.length() - 1));
    }
    return out;
  }

  private static PeerFigure peer(Row r, String name) {
    for (PeerFigure p : r.peers()) {
      if (p.peer().equals(name) && p.stats() != null) {
        return p;
      }
    }
    return null;
  }

  /** The four fp32 inputs of one size (A0, B0, A1, B1), shared by the fp32-storage precisions. */
  static final class HostInputs {
    final int n;
    final long seed;
    private float[][] f;
    private double[][] d;

    HostInputs(int n, long seed) {
      this.n = n;
      this.seed = seed;
    }

    /** Input {@code j} (A0, B0, A1, B1 = seed, seed+1, seed+2, seed+3), fp32 values. */
    float[] f(int j) {
      if (f == null) {
        f = new float[4][];
      }
      if (f[j] == null) {
        f[j] = new float[n * n];
        InputGen.fill(f[j], seed + j);
      }
      return f[j];
    }

    /** Input {@code j} as full-mantissa fp64 values. */
    double[] d(int j) {
      if (d == null) {
        d = new double[4][];
      }
      if (d[j] == null) {
        d[j] = new double[n * n];
        fill64(d[j], seed + j);
      }
      return d[j];
    }
  }

  private void measureDevice(BenchContext ctx, Row row, HostInputs in, Precision p, int n,
      int reps, int warmup, Map<String, Double> exactSums) {
    GpuCore core = ctx.core();
    int dev = ctx.options().device();
    DType t = storage(p);
    long nn = (long) n * n;
    boolean fp64 = t == DType.FLOAT64;
    DeviceArray[] ops = new DeviceArray[4];
    try (DeviceArray c = core.allocate(dev, t, nn); GpuStream s = core.stream(dev)) {
      for (int j = 0; j < 4; j++) {
        ops[j] = core.allocate(dev, t, nn);
        if (fp64) {
          ops[j].copyFrom(in.d(j));
        } else {
          ops[j].copyFrom(in.f(j));
        }
      }
      Gemm g = Gemm.of(n, n, n).transB(true).precision(p);
      Operand oc = Operand.of(c);
      Operand[] oa = {Operand.of(ops[0]), Operand.of(ops[2])};
      Operand[] ob = {Operand.of(ops[1]), Operand.of(ops[3])};
      IntConsumer call = i -> core.blas().gemm(g, oa[i & 1], n, ob[i & 1], n, oc, n, s);
      // the check: C poisoned, one call on (A0, B0), C and the inputs as stored read back
      ctx.progress().detail("check");
      c.fill(Double.NaN);
      call.accept(0);
      s.synchronize();
      Mat a = Mat.read(ops[0], fp64, n);
      Mat b = Mat.read(ops[1], fp64, n);
      Mat cm = Mat.read(c, fp64, n);
      double bound = E2eSuite.bound(n, p);
      Check chk = verify(a, b, cm, n, bound, ctx.options().seed());
      exactSums.put(row.caseId() + " " + n, chk.exactSum);
      row.extra().put("check_row_col_sum_max_rel", chk.sumRel);
      row.extra().put("check_rows_max_rel", chk.rowRel);
      if (!chk.ok) {
        row.check("MISMATCH: " + chk.text, false);
        row.skip("MISMATCH, not timed: " + chk.text);
        return;
      }
      a = null;
      b = null;
      cm = null;
      for (int i = 0; i < warmup; i++) {
        call.accept(i);
      }
      s.synchronize();
      int calls = calibrate(i -> call.accept(i), s::synchronize);
      Map<String, Object> before = ctx.telemetry().sample(dev);
      long[] samples = new long[reps];
      for (int r = 0; r < reps; r++) {
        ctx.progress().detail("sample " + (r + 1) + "/" + reps + " (" + calls + " calls)");
        samples[r] = Math.round(loop(call, s::synchronize, calls) / (double) calls);
      }
      row.telemetry(before, ctx.telemetry().sample(dev));
      row.measured(Stats.of(samples), "host-sync: System.nanoTime around " + calls
          + " calls queued on a stream + synchronize, per call");
      row.extra().put("calls_per_sample", calls);
      row.check("ok: " + chk.text, true);
      long[] sorted = samples.clone();
      java.util.Arrays.sort(sorted);
      // as it goes, on stderr: a run cut short (a time limit) still leaves these figures
      System.err.println("partial: gemm device " + p.name().toLowerCase(Locale.ROOT) + " n=" + n
          + " median " + Fmt.time(sorted[sorted.length / 2]) + ", "
          + Fmt.sig(2.0 * n * n * (double) n / sorted[sorted.length / 2]) + " GFLOP/s");
    } finally {
      for (DeviceArray d : ops) {
        if (d != null) {
          d.close();
        }
      }
    }
  }

  /** Nanoseconds for {@code calls} calls then {@code sync}. */
  private static long loop(IntConsumer call, Runnable sync, int calls) {
    long t0 = System.nanoTime();
    for (int i = 0; i < calls; i++) {
      call.accept(i);
    }
    sync.run();
    return System.nanoTime() - t0;
  }

  /**
   * Calls per sample for at least {@value #SAMPLE_MS} ms: doubles a loop until it lasts a fifth
   * of that (so launch and wake-up costs are amortised as in the samples), times that loop once
   * more (the faster of the two, so that one hiccup does not shorten every sample), then scales.
   */
  static int calibrate(IntConsumer call, Runnable sync) {
    long target = SAMPLE_MS * 1_000_000L;
    int r = 1;
    long t = loop(call, sync, r);
    while (t < target / 5 && r < MAX_CALLS) {
      r = Math.min(MAX_CALLS, r * 2);
      t = loop(call, sync, r);
    }
    if (t < 2 * target) {
      t = Math.min(t, loop(call, sync, r));
    }
    double per = Math.max(1, t) / (double) r;
    return (int) Math.max(1, Math.min(MAX_CALLS, Math.ceil(target / per)));
  }

  // ---------------------------------------------------------------- host arrays

  /** The rows of one host case, by case id, in table order. */
  record HostRows(HostCase h, Map<String, Row> rows) {}

  /** Whether a host row runs on the GPU route: {@code gpu}, {@code gpu-PRECISION}, {@code pinned}. */
  static boolean gpuRow(String id) {
    return id.equals("gpu") || id.startsWith("gpu-") || id.equals(PINNED);
  }

  /** The precision a host row computes in: its own for {@code gpu-PRECISION}, else the dtype's. */
  static String rowPrecision(HostCase h, String id) {
    return id.startsWith("gpu-") ? id.substring(4) : h.dtype();
  }

  /**
   * One timed host row: {@code poison} fills its C with NaN, {@code call} computes C once,
   * {@code result} reads C for the check (the CPU's C is the reference).
   */
  private record Route(String id, Row row, Runnable poison, Runnable call, Supplier<Mat> result,
      double bound) {}

  /**
   * The OpenBLAS peer taking the host cases' samples in gpucore's rounds, or null (no such
   * peer, or it could not start: it then runs after the rounds, as the other peers do).
   */
  private static InterleavedPeer interleavedPeer(BenchContext ctx, SuiteResult res) {
    if (ctx.peers() == null) {
      return null;
    }
    try {
      int timeout = GemmAlternate.threadTimeout(ctx.cpuCore());
      InterleavedPeer s = ctx.peers().interleavedPeer("openblas", "cpu", ctx.options().seed(),
          SAMPLE_MS, timeout);
      if (s != null) {
        res.notes().add("OpenBLAS from C takes its host samples in the same rounds, in the same "
            + "rotation (peers openblas gemm-serve), with "
            + (timeout > 0 ? "OPENBLAS_THREAD_TIMEOUT=" + timeout + ", gpucore.cpu.threadTimeout"
                : "OpenBLAS's own thread timeout")
            + ", each sample followed by a " + s.quietMs() + " ms pause while its worker "
            + "threads stop spinning (gpucore's rows get none: the rotation spreads the spin of "
            + "gpucore's CPU calls over the rows after them)");
      }
      return s;
    } catch (java.io.IOException e) {
      res.notes().add("peer openblas could not start in the host rounds (" + e.getMessage()
          + "): it ran after them");
      return null;
    }
  }

  /** The C peer's argument for a host case: element type, m, n, k and the group it answers. */
  static String peerArg(HostCase h) {
    return h.dtype() + ":" + h.m() + ":" + h.n() + ":" + h.k() + ":" + h.group();
  }

  /** A line saying the interleaved peer failed (PeerMerge makes it a note), once. */
  private static void peerFailed(InterleavedPeer ob, java.io.IOException e,
      List<Map<String, Object>> lines) {
    for (Map<String, Object> l : lines) {
      if (l.containsKey("unavailable")) {
        return;
      }
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("peer", ob.peer());
    m.put("unavailable", e.getMessage());
    lines.add(m);
  }

  private HostRows measureHost(BenchContext ctx, SuiteResult res, GpuCore auto,
      GpuCore gpuRoute, HostCase h, int reps, Map<String, Double> exactSums,
      List<String> memory, List<String> precisions, InterleavedPeer ob,
      List<Map<String, Object>> peerLines, List<String> peerDone) {
    int m = h.m();
    int n = h.n();
    int k = h.k();
    String label = h.label();
    String what = "host " + h.routine();
    double flops = 2.0 * m * n * (double) k;
    String g = h.group();
    Map<String, Row> rows = new LinkedHashMap<>();
    if (memory.contains(ARRAY)) {
      rows.put("cpu", new Row(name(), g, "cpu", what + " cpu", "gpucore cpu", m, label, flops,
          "GFLOP/s"));
      rows.put("gpu", new Row(name(), g, "gpu", what + " gpu (route=gpu)", "gpucore cuda", m,
          label, flops, "GFLOP/s"));
      rows.put("router", new Row(name(), g, "router", what + " router (auto)", "gpucore auto", m,
          label, flops, "GFLOP/s"));
      if (!h.fp64()) {
        for (String p : precisions) {
          rows.put("gpu-" + p, new Row(name(), g, "gpu-" + p, what + " gpu " + p
              + " (route=gpu)", "gpucore cuda", m, label, flops, "GFLOP/s"));
        }
      }
    }
    if (memory.contains(PINNED)) {
      rows.put(PINNED, new Row(name(), g, PINNED, "host " + (h.fp64() ? "DGEMM" : "SGEMM")
          + " pinned HostArray gpu", "gpucore cuda", m, label, flops, "GFLOP/s"));
    }
    for (Map.Entry<String, Row> e : rows.entrySet()) {
      Row r = e.getValue();
      r.extra().put("dtype", h.dtype());
      r.extra().put("m", m);
      r.extra().put("n", n);
      r.extra().put("k", k);
      r.extra().put("memory", e.getKey().equals(PINNED) ? PINNED : ARRAY);
      r.extra().put("precision", rowPrecision(h, e.getKey()));
      if (gpuRoute == null && gpuRow(e.getKey())) {
        r.skip(ctx.noGpu());
      }
    }
    res.rows().addAll(rows.values());
    HostRows out = new HostRows(h, rows);
    Runtime rt = Runtime.getRuntime();
    long need = h.heapBytes();
    long have = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    if (need > have) {
      System.gc();
      have = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    }
    if (need > have) {
      String why = "needs " + Fmt.bytes(need) + " of Java heap for A, B and three C, "
          + Fmt.bytes(have) + " free (raise the heap: java -Xmx..., or GPUCORE_JAVA_OPTS=-Xmx..."
          + " for the bundle)";
      for (Row r : rows.values()) {
        if (r.skipped() == null) {
          r.skip(why);
        }
      }
      return out;
    }
    HostMats x = new HostMats(h, ctx.options().seed(), gpuRoute != null);
    GpuCore cc = ctx.cpuCore();
    // checks: the CPU's C against the exact sums and double dot products, the others against it
    ctx.progress().detail("check");
    x.poison(x.c[0]);
    x.gemm(cc, x.c[0]);
    double bound = E2eSuite.bound(k, h.fp64() ? Precision.FP64 : Precision.FP32);
    Check chk = verify(x.mat(x.a), x.mat(x.b), x.mat(x.c[0]), m, n, k, bound,
        ctx.options().seed());
    exactSums.put(g + " " + m, chk.exactSum);
    Row cpu = rows.get("cpu");
    if (cpu != null) {
      cpu.extra().put("check_row_col_sum_max_rel", chk.sumRel);
      cpu.extra().put("check_rows_max_rel", chk.rowRel);
      cpu.check((chk.ok ? "ok: " : "MISMATCH: ") + chk.text, chk.ok);
    }
    if (!chk.ok) {
      for (Row r : rows.values()) {
        if (r == cpu) {
          r.skip("MISMATCH, not timed: " + chk.text);
        } else if (r.skipped() == null) {
          if (cpu == null) {
            // no cpu row to carry the failure: the rows it would have checked do
            r.check("MISMATCH: the CPU reference failed its check: " + chk.text, false);
          }
          r.skip("not run: the CPU reference failed its check");
        }
      }
      return out;
    }
    PinnedMats pm = null;
    Row pinnedRow = rows.get(PINNED);
    if (pinnedRow != null && pinnedRow.skipped() == null) {
      try {
        pm = new PinnedMats(gpuRoute, x);
        pinnedRow.extra().put("pinned", pm.a.isPinned());
      } catch (GpuCoreException.OutOfMemory e) {
        pinnedRow.skip("no room for pinned A, B and C: " + e.getMessage());
      }
    }
    try {
      List<Route> routes = new ArrayList<>();
      for (Map.Entry<String, Row> e : rows.entrySet()) {
        String id = e.getKey();
        Row r = e.getValue();
        if (r.skipped() != null) {
          continue;
        }
        Precision rp = precision(rowPrecision(h, id));
        double b = E2eSuite.bound(k, rp);
        Route route;
        if (id.equals("cpu")) {
          route = new Route(id, r, () -> x.poison(x.c[0]), () -> x.gemm(cc, x.c[0]),
              () -> x.mat(x.c[0]), b);
        } else if (id.equals("router")) {
          route = new Route(id, r, () -> x.poison(x.c[2]), () -> x.gemm(auto, x.c[2]),
              () -> x.mat(x.c[2]), b);
        } else if (id.equals(PINNED)) {
          PinnedMats p = pm;
          route = new Route(id, r, p::poison, () -> p.gemm(gpuRoute), () -> {
            p.read(x.c[1]);
            return x.mat(x.c[1]);
          }, b);
        } else {
          // gpu (strict, through sgemm/dgemm) and gpu-PRECISION (Gemm.precision) share a C
          Precision call = id.equals("gpu") ? null : rp;
          route = new Route(id, r, () -> x.poison(x.c[1]), () -> x.gemm(gpuRoute, x.c[1], call),
              () -> x.mat(x.c[1]), b);
        }
        routes.add(route);
      }
      List<Route> ok = new ArrayList<>();
      for (Route route : routes) {
        if (route.row() == cpu) {
          ok.add(route); // checked above, against the exact sums
          continue;
        }
        route.poison().run();
        route.call().run();
        double[] d = diff(x.mat(x.c[0]), route.result().get(), m * n);
        boolean good = d[0] <= route.bound();
        String text = String.format(Locale.ROOT, "C vs CPU: rel. Frobenius %.1e, max rel %.1e "
            + "(bound %.1e)", d[0], d[1], route.bound());
        route.row().check((good ? "ok: " : "MISMATCH: ") + text, good);
        if (good) {
          ok.add(route);
        } else {
          route.row().skip("MISMATCH, not timed: " + text);
        }
      }
      Row router = rows.get("router");
      if (router != null && router.skipped() == null) {
        Decision dec = auto.blas().explain(Gemm.of(m, n, k).transB(true), x.operand(x.a), k,
            x.operand(x.b), k, x.operand(x.c[2]), n);
        router.extra().put("route", dec.gpu() ? "gpu" : "cpu");
        router.extra().put("route_reason", dec.reason());
        router.check(router.check() + "; routed to " + (dec.gpu() ? "gpu" : "cpu"), true);
      }
      int nr = ok.size();
      int[] calls = new int[nr];
      for (int r = 0; r < nr; r++) {
        Runnable call = ok.get(r).call();
        calls[r] = calibrate(i -> call.run(), () -> { });
      }
      List<List<Long>> samples = new ArrayList<>();
      for (int r = 0; r < nr; r++) {
        samples.add(new ArrayList<>());
      }
      // OpenBLAS from C takes its samples in the same rounds, when its case opens (it checks
      // its own C first); a peer that fails drops out with a note
      boolean peer = false;
      String peerArg = peerArg(h);
      if (ob != null && cpu != null && ok.stream().anyMatch(o -> o.row() == cpu)
          && peerLines.stream().noneMatch(l -> l.containsKey("unavailable"))) {
        ctx.progress().detail("openblas (C): check");
        try {
          Map<String, Object> skipped = ob.open(peerArg);
          if (skipped != null) {
            peerLines.add(skipped);
            peerDone.add(peerArg);
          } else {
            peer = true;
          }
        } catch (java.io.IOException e) {
          peerFailed(ob, e, peerLines);
        }
      }
      long deadline = System.nanoTime() + HOST_BUDGET_S * 1_000_000_000L;
      for (int i = 0; i < reps && (i < 1 || System.nanoTime() < deadline); i++) {
        // the order rotates each round: OpenBLAS's threads spin for a while after a CPU call and
        // slow whatever runs next, so no row may always be the one after the CPU
        int slots = nr + (peer ? 1 : 0);
        for (int j = 0; j < slots; j++) {
          int r = (i + j) % slots;
          if (r == nr) {
            ctx.progress().detail("round " + (i + 1) + "/" + reps + ": openblas (C)");
            try {
              ob.sample();
              Thread.sleep(ob.quietMs());
            } catch (java.io.IOException e) {
              peerFailed(ob, e, peerLines);
              peer = false;
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new IllegalStateException("interrupted", e);
            }
            continue;
          }
          Route route = ok.get(r);
          ctx.progress().detail("round " + (i + 1) + "/" + reps + ": " + route.id());
          Runnable call = route.call();
          call.run(); // untimed: each row starts in its own steady state
          long t = loop(z -> call.run(), () -> { }, calls[r]);
          samples.get(r).add(Math.round(t / (double) calls[r]));
        }
      }
      // as it goes, on stderr: a run cut short (a time limit) still leaves these figures
      StringBuilder line = new StringBuilder("partial: gemm host " + h.dtype() + " " + label
          + " median");
      for (int r = 0; r < nr; r++) {
        Row row = ok.get(r).row();
        long[] s = samples.get(r).stream().mapToLong(Long::longValue).toArray();
        row.measured(Stats.of(s), "host: System.nanoTime around " + calls[r]
            + " back-to-back calls / " + calls[r] + ", rounds interleaving the rows");
        row.extra().put("calls_per_sample", calls[r]);
        line.append(' ').append(ok.get(r).id()).append(' ').append(Fmt.time(row.stats()
            .median()));
      }
      System.err.println(line);
      if (peer) {
        try {
          peerLines.add(ob.end());
          peerDone.add(peerArg);
        } catch (java.io.IOException e) {
          peerFailed(ob, e, peerLines);
        }
      }
      if (router != null && router.skipped() == null) {
        // where the router sends the call now that it has learnt from the timed ones
        Decision after = auto.blas().explain(Gemm.of(m, n, k).transB(true), x.operand(x.a), k,
            x.operand(x.b), k, x.operand(x.c[2]), n);
        router.extra().put("route_after", after.gpu() ? "gpu" : "cpu");
        router.extra().put("route_after_reason", after.reason());
        System.err.println("partial: gemm host " + h.dtype() + " " + label
            + " router after timing: " + (after.gpu() ? "gpu" : "cpu") + ": " + after.reason());
      }
    } finally {
      if (pm != null) {
        pm.close();
      }
    }
    return out;
  }

  /** "cpu", or "cpu before timing, gpu after" when the router's route changed while timed. */
  static String routes(Object before, Object after) {
    if (before == null) {
      return "-";
    }
    return after == null || after.equals(before) ? before.toString()
        : before + " before timing, " + after + " after";
  }

  /**
   * A host case's operands as float[] or double[]: A (m×k) and B (n×k) filled from the seed
   * (fp64: full 52-bit mantissas, as {@link #fill64}), and one C (m×n) per route.
   */
  static final class HostMats {
    final HostCase h;
    final Object a;
    final Object b;
    final Object[] c = new Object[3];

    HostMats(HostCase h, long seed, boolean gpu) {
      this.h = h;
      int mk = h.m() * h.k();
      int nk = h.n() * h.k();
      int mn = h.m() * h.n();
      if (h.fp64()) {
        double[] da = new double[mk];
        double[] db = new double[nk];
        fill64(da, seed);
        fill64(db, seed + 1);
        a = da;
        b = db;
        c[0] = new double[mn];
        c[1] = gpu ? new double[mn] : null;
        c[2] = new double[mn];
      } else {
        float[] fa = new float[mk];
        float[] fb = new float[nk];
        InputGen.fill(fa, seed);
        InputGen.fill(fb, seed + 1);
        a = fa;
        b = fb;
        c[0] = new float[mn];
        c[1] = gpu ? new float[mn] : null;
        c[2] = new float[mn];
      }
    }

    /** C = A·Bᵀ row-major through {@code core}'s sgemm or dgemm. */
    void gemm(GpuCore core, Object cc) {
      gemm(core, cc, null);
    }

    /**
     * C = A·Bᵀ row-major through {@code core}: sgemm or dgemm when {@code p} is null, else
     * {@code Blas.gemm} with {@code Gemm.precision(p)} on the same arrays.
     */
    void gemm(GpuCore core, Object cc, Precision p) {
      int m = h.m();
      int n = h.n();
      int k = h.k();
      if (p != null) {
        core.blas().gemm(Gemm.of(m, n, k).transB(true).precision(p), operand(a), k,
            operand(b), k, operand(cc), n);
      } else if (cc instanceof double[] d) {
        core.blas().dgemm(false, true, m, n, k, 1, (double[]) a, k, (double[]) b, k, 0, d, n);
      } else {
        core.blas().sgemm(false, true, m, n, k, 1f, (float[]) a, k, (float[]) b, k, 0f,
            (float[]) cc, n);
      }
    }

    void poison(Object cc) {
      if (cc instanceof double[] d) {
        Arrays.fill(d, Double.NaN);
      } else {
        Arrays.fill((float[]) cc, Float.NaN);
      }
    }

    Mat mat(Object v) {
      return v instanceof double[] d ? Mat.of(d) : Mat.of((float[]) v);
    }

    Operand operand(Object v) {
      return v instanceof double[] d ? Operand.of(d) : Operand.of((float[]) v);
    }
  }

  /**
   * A host case's A, B and C in pinned {@link HostArray}s of the GPU route's core, A and B
   * copied from the {@link HostMats} (same values), for the {@code pinned} rows.
   */
  static final class PinnedMats implements AutoCloseable {
    /** Elements per chunk when poisoning C. */
    private static final int CHUNK = 1 << 20;
    final HostCase h;
    final HostArray a;
    final HostArray b;
    final HostArray c;

    PinnedMats(GpuCore core, HostMats x) {
      h = x.h;
      DType t = h.fp64() ? DType.FLOAT64 : DType.FLOAT32;
      HostArray[] got = new HostArray[3];
      long[] len = {(long) h.m() * h.k(), (long) h.n() * h.k(), (long) h.m() * h.n()};
      try {
        for (int i = 0; i < 3; i++) {
          got[i] = core.allocateHost(t, len[i], true);
        }
      } catch (RuntimeException e) {
        for (HostArray g : got) {
          if (g != null) {
            g.close();
          }
        }
        throw e;
      }
      a = got[0];
      b = got[1];
      c = got[2];
      if (x.a instanceof double[] d) {
        a.put(0, d, 0, d.length);
        b.put(0, (double[]) x.b, 0, ((double[]) x.b).length);
      } else {
        a.put(0, (float[]) x.a, 0, ((float[]) x.a).length);
        b.put(0, (float[]) x.b, 0, ((float[]) x.b).length);
      }
    }

    /** C = A·Bᵀ row-major through {@code core}'s {@code Blas.gemm} on host-array operands. */
    void gemm(GpuCore core) {
      int k = h.k();
      core.blas().gemm(Gemm.of(h.m(), h.n(), k).transB(true), Operand.of(a, 0), k,
          Operand.of(b, 0), k, Operand.of(c, 0), h.n());
    }

    /** Fills C with NaN. */
    void poison() {
      long len = c.length();
      if (h.fp64()) {
        double[] nan = new double[(int) Math.min(CHUNK, len)];
        Arrays.fill(nan, Double.NaN);
        for (long off = 0; off < len; off += nan.length) {
          c.put(off, nan, 0, (int) Math.min(nan.length, len - off));
        }
      } else {
        float[] nan = new float[(int) Math.min(CHUNK, len)];
        Arrays.fill(nan, Float.NaN);
        for (long off = 0; off < len; off += nan.length) {
          c.put(off, nan, 0, (int) Math.min(nan.length, len - off));
        }
      }
    }

    /** Copies C into {@code dst} (a float[] or double[] of m·n). */
    void read(Object dst) {
      if (dst instanceof double[] d) {
        c.get(0, d, 0, d.length);
      } else {
        c.get(0, (float[]) dst, 0, ((float[]) dst).length);
      }
    }

    @Override
    public void close() {
      a.close();
      b.close();
      c.close();
    }
  }

  /** Summary key prefix of a host row: its case id with '_' for '-'. */
  private static String key(String id) {
    return id.replace('-', '_');
  }

  /**
   * One host case's ratios, into the row extras, the summary and the footer: r/best and the
   * peers' ratios (the rows from Java arrays); per row, its throughput against the device row
   * of the same n and precision measured in this run ({@code vs_device}); the lower-precision
   * GPU rows against the strict one ({@code vs_fp32_gpu}); per GPU row the bus bound: A and B
   * up ({@link GemmBus#upBytes}) at the H2D rate and C down at the D2H rate of the bus rows,
   * the slower of the two ({@code bus_bound_ns}), and {@code bus_bound_over_time} (bound time /
   * row time: 1 = at the bus bound) with its inverse {@code time_over_bus_bound}.
   */
  private static Map<String, Object> hostRatios(SuiteResult res, HostRows hr,
      Map<String, Row> deviceRows, double h2d, double d2h) {
    HostCase h = hr.h();
    Map<String, Row> rows = hr.rows();
    Row cpu = rows.get("cpu");
    Row gpu = rows.get("gpu");
    Row router = rows.get("router");
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("dtype", h.dtype());
    s.put("m", h.m());
    s.put("n", h.n());
    s.put("k", h.k());
    String size = h.label();
    if (cpu != null) {
      double tc = median(cpu);
      double tg = median(gpu);
      double ta = median(router);
      s.put("cpu_ns", tc);
      s.put("gpu_ns", tg);
      s.put("router_ns", ta);
      s.put("route", router.extra().get("route"));
      s.put("route_after", router.extra().get("route_after"));
      double best = Double.isNaN(tg) ? tc : Double.isNaN(tc) ? tg : Math.min(tc, tg);
      double rBest = best / ta;
      if (!Double.isNaN(rBest)) {
        router.extra().put("r_best", rBest);
      }
      s.put("r_best", rBest);
      PeerFigure ob = peer(cpu, "openblas");
      PeerFigure nv = peer(gpu, "nvblas");
      StringBuilder f = new StringBuilder(String.format(Locale.ROOT,
          "host %s %s: cpu %s, gpu %s, router %s (routed to %s): r/best %s", h.dtype(), size,
          Fmt.time(tc), Double.isNaN(tg) ? "-" : Fmt.time(tg), Fmt.time(ta),
          routes(router.extra().get("route"), router.extra().get("route_after")),
          Double.isNaN(rBest) ? "-" : String.format(Locale.ROOT, "%.2f", rBest)));
      if (ob != null) {
        double v = ob.ratio(cpu);
        cpu.extra().put("vs_openblas", v);
        s.put("openblas_ns", ob.stats().median());
        s.put("cpu_vs_openblas", v);
        f.append(String.format(Locale.ROOT, "; OpenBLAS/cpu time %.2f", v));
      }
      if (nv != null) {
        double v = nv.ratio(gpu);
        double vr = Double.isNaN(ta) ? Double.NaN : nv.stats().median() / ta;
        gpu.extra().put("vs_nvblas", v);
        router.extra().put("vs_nvblas", vr);
        s.put("nvblas_ns", nv.stats().median());
        s.put("gpu_vs_nvblas", v);
        s.put("router_vs_nvblas", vr);
        f.append(String.format(Locale.ROOT, "; nvBLAS/gpu time %.2f, nvBLAS/router time %.2f", v,
            vr));
      }
      if (!Double.isNaN(tc) || !Double.isNaN(ta)) {
        res.footer().add(f.toString());
      }
    }
    double tStrict = median(gpu);
    StringBuilder f = new StringBuilder(String.format(Locale.ROOT, "host %s %s GPU rows:",
        h.dtype(), size));
    boolean any = false;
    for (Map.Entry<String, Row> e : rows.entrySet()) {
      String id = e.getKey();
      Row r = e.getValue();
      double t = median(r);
      String p = rowPrecision(h, id);
      if (!id.equals("cpu") && !id.equals("gpu") && !id.equals("router")) {
        s.put(key(id) + "_ns", t);
      }
      Row dev = h.square() ? deviceRows.get(p + " " + h.n()) : null;
      double td = median(dev);
      double vsDevice = td / t;
      if (!Double.isNaN(vsDevice)) {
        r.extra().put("vs_device", vsDevice);
        s.put(key(id) + "_vs_device", vsDevice);
      }
      if (!gpuRow(id) || Double.isNaN(t)) {
        continue;
      }
      StringBuilder part = new StringBuilder(String.format(Locale.ROOT, " %s %s", id,
          Fmt.time(t)));
      List<String> notes = new ArrayList<>();
      if (!Double.isNaN(vsDevice)) {
        notes.add(String.format(Locale.ROOT, "%.2f of device %s", vsDevice, p));
      }
      if (id.startsWith("gpu-")) {
        double vs = tStrict / t;
        if (!Double.isNaN(vs)) {
          r.extra().put("vs_fp32_gpu", vs);
          s.put(key(id) + "_vs_fp32_gpu", vs);
          notes.add(String.format(Locale.ROOT, "%.2fx the fp32 gpu row", vs));
        }
      }
      long up = GemmBus.upBytes(h, precision(p));
      long down = GemmBus.downBytes(h);
      r.extra().put("bus_up_bytes", up);
      r.extra().put("bus_down_bytes", down);
      r.extra().put("bus_element_bytes", GemmBus.sentElementBytes(h.dtype(), precision(p)));
      double bound = GemmBus.boundNs(up, down, h2d, d2h);
      if (!Double.isNaN(bound)) {
        r.extra().put("bus_bound_ns", bound);
        r.extra().put("bus_bound_over_time", bound / t);
        r.extra().put("time_over_bus_bound", t / bound);
        s.put(key(id) + "_bus_bound_ns", bound);
        s.put(key(id) + "_bus_bound_over_time", bound / t);
        s.put(key(id) + "_time_over_bus_bound", t / bound);
        notes.add(String.format(Locale.ROOT, "bus bound %s, time/bound %.2f, bound/time %.2f",
            Fmt.time(bound), t / bound, bound / t));
      }
      if (!notes.isEmpty()) {
        part.append(" (").append(String.join(", ", notes)).append(')');
      }
      f.append(any ? ";" : "").append(part);
      any = true;
    }
    if (any) {
      res.footer().add(f.toString());
    }
    return s;
  }

  /** A row's median time, NaN when it is absent or has none. */
  private static double median(Row r) {
    return r == null || r.stats() == null ? Double.NaN : r.stats().median();
  }

  /**
   * Relative Frobenius and largest relative element difference of {@code got} to {@code ref},
   * over their first {@code len} elements.
   */
  static double[] diff(Mat ref, Mat got, int len) {
    double num = 0;
    double den = 0;
    double max = 0;
    double maxRef = 0;
    for (int i = 0; i < len; i++) {
      double r = ref.get(i);
      double d = got.get(i) - r;
      if (Double.isNaN(d)) {
        return new double[] {Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY};
      }
      num += d * d;
      den += r * r;
      max = Math.max(max, Math.abs(d));
      maxRef = Math.max(maxRef, Math.abs(r));
    }
    return new double[] {Math.sqrt(num / den), max / maxRef};
  }

  // ---------------------------------------------------------------- checks

  /** A row-major n×n matrix of float or double values. */
  abstract static class Mat {
    abstract double get(int i);

    static Mat of(float[] f) {
      return new Mat() {
        @Override
        double get(int i) {
          return f[i];
        }
      };
    }

    static Mat of(double[] d) {
      return new Mat() {
        @Override
        double get(int i) {
          return d[i];
        }
      };
    }

    /** A device array's values as stored (16-bit types widened). */
    static Mat read(DeviceArray x, boolean fp64, int n) {
      if (fp64) {
        double[] d = new double[n * n];
        x.copyTo(d);
        return of(d);
      }
      float[] f = new float[n * n];
      x.copyTo(f);
      return of(f);
    }
  }

  /** A check's outcome; {@code exactSum} is sum(C) from the inputs, for the peers. */
  record Check(boolean ok, String text, double sumRel, double rowRel, double exactSum) {}

  /** {@link #verify(Mat, Mat, Mat, int, int, int, double, long)} with m = n = k. */
  static Check verify(Mat a, Mat b, Mat c, int n, double bound, long seed) {
    return verify(a, b, c, n, n, n, bound, seed);
  }

  /**
   * Checks C = A·Bᵀ (C m×n, A m×k, B n×k, row-major): every row sum against
   * Σ_p A[i,p]·(Σ_j B[j,p]) and every column sum against Σ_p B[j,p]·(Σ_i A[i,p]), both exact in
   * double from the inputs (O(mk + nk + mn)), and a few whole rows (first, last, middle, two
   * seeded) against double dot products. NaN anywhere fails.
   */
  static Check verify(Mat a, Mat b, Mat c, int m, int n, int k, double bound, long seed) {
    double[] sa = new double[k];
    double[] sb = new double[k];
    for (int i = 0; i < m; i++) {
      long o = (long) i * k;
      for (int p = 0; p < k; p++) {
        sa[p] += a.get((int) (o + p));
      }
    }
    for (int j = 0; j < n; j++) {
      long o = (long) j * k;
      for (int p = 0; p < k; p++) {
        sb[p] += b.get((int) (o + p));
      }
    }
    double exact = 0;
    for (int p = 0; p < k; p++) {
      exact += sa[p] * sb[p];
    }
    double sumRel = 0;
    double[] colGot = new double[n];
    for (int i = 0; i < m; i++) {
      long oa = (long) i * k;
      long oc = (long) i * n;
      double want = 0;
      for (int p = 0; p < k; p++) {
        want += a.get((int) (oa + p)) * sb[p];
      }
      double got = 0;
      for (int j = 0; j < n; j++) {
        double v = c.get((int) (oc + j));
        got += v;
        colGot[j] += v;
      }
      sumRel = Math.max(sumRel, rel(got, want));
    }
    for (int j = 0; j < n; j++) {
      long o = (long) j * k;
      double want = 0;
      for (int p = 0; p < k; p++) {
        want += b.get((int) (o + p)) * sa[p];
      }
      sumRel = Math.max(sumRel, rel(colGot[j], want));
    }
    SplittableRandom rnd = new SplittableRandom(seed ^ m);
    int[] rows = {0, m - 1, m / 2, rnd.nextInt(m), rnd.nextInt(m)};
    double maxErr = 0;
    double maxRef = 0;
    for (int i : rows) {
      for (int j = 0; j < n; j++) {
        double want = 0;
        for (int p = 0; p < k; p++) {
          want += a.get((int) ((long) i * k + p)) * b.get((int) ((long) j * k + p));
        }
        double v = c.get((int) ((long) i * n + j));
        maxErr = Math.max(maxErr, Double.isNaN(v) ? Double.POSITIVE_INFINITY : Math.abs(v - want));
        maxRef = Math.max(maxRef, Math.abs(want));
      }
    }
    double rowRel = maxErr / maxRef;
    boolean ok = sumRel <= bound && rowRel <= bound;
    return new Check(ok, String.format(Locale.ROOT, "row/col sums vs exact %.1e, 5 rows vs "
        + "double %.1e (bound %.1e)", sumRel, rowRel, bound), sumRel, rowRel, exact);
  }

  private static double rel(double got, double want) {
    if (Double.isNaN(got)) {
      return Double.POSITIVE_INFINITY;
    }
    return want == 0 ? Math.abs(got) : Math.abs(got - want) / Math.abs(want);
  }
}
