package dev.gpucore.spark;

import dev.gpucore.GpuCore;
import dev.gpucore.blas.Precision;
import dev.gpucore.nativeblas.GpuCoreBlasLibrary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The executor side of the Spark plugin without Spark, for a GPU machine (where Spark's jars
 * cannot go): the plugin's binding and library set-up driven by a stand-in for Spark's
 * resources, then MLlib-shaped block GEMMs ({@code dgemm}, column-major n×n fp64 blocks, as
 * {@code BlockMatrix.multiply} calls them) through netlib-java's {@code JNIBLAS} → gpucore →
 * GPU, timed beside {@code JNIBLAS} → plain OpenBLAS, each side in its own JVM (netlib reads
 * its library once per JVM); then {@link BlockKernel}, {@link GpuBlockMatrix}'s block step: a
 * result block of one pair and of K pairs ({@code --pairs}), per product, beside the K products
 * the best way a netlib caller makes them ({@code dgemm} into one C, {@code beta = 1} after the
 * first) through {@code JNIBLAS} → gpucore in the same JVM, with the ratio; then the block
 * step of a cell of S×S result blocks ({@code --cell}, default 2) on the same blocks (K / S
 * steps, S·K products, each block sent up once for the S result blocks that use it); before them, the block step's results on
 * blocks that are not square at each precision.
 *
 * <pre>
 * java -cp 'lib/*:gpucore-spark.jar:blas-3.0.3.jar:arpack_combined_all-0.1.jar' \
 *   dev.gpucore.spark.ExecutorCheck [--address 0] [--n 4096] [--reps 3] [--pairs 4] [--cell 2]
 * </pre>
 *
 * Needs the gpucore jars (the bundle's lib/), this jar, netlib-java's blas jar and the f2j jar
 * it needs ({@code net.sourceforge.f2j:arpack_combined_all}); no Spark.
 * Exit 0 when every result checks against a host fp64 sum and netlib was {@code JNIBLAS} on
 * both sides.
 */
public final class ExecutorCheck {
  private ExecutorCheck() {}

  public static void main(String[] args) throws Exception {
    String address = "0";
    int n = 4096;
    int reps = 3;
    int pairs = 4;
    int cell = 2;
    String side = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--address" -> address = value(args, ++i, "--address");
        case "--n" -> n = positive(value(args, ++i, "--n"), "--n");
        case "--reps" -> reps = positive(value(args, ++i, "--reps"), "--reps");
        case "--pairs" -> pairs = positive(value(args, ++i, "--pairs"), "--pairs");
        case "--cell" -> cell = positive(value(args, ++i, "--cell"), "--cell");
        case "--side" -> side = value(args, ++i, "--side");
        default -> {
          System.err.println("ExecutorCheck: unknown argument " + args[i]
              + "; expected --address A, --n N, --reps R, --pairs K, --cell S");
          System.exit(2);
        }
      }
    }
    if (side == null) {
      System.exit(parent(address, n, reps, pairs, cell));
    }
    System.exit(switch (side) {
      case "gpucore" -> gpucoreSide(address, n, reps, pairs, cell);
      case "openblas" -> openblasSide(n, reps);
      default -> 2;
    });
  }

  private static String value(String[] a, int i, String name) {
    if (i >= a.length) {
      System.err.println("ExecutorCheck: " + name + " needs a value");
      System.exit(2);
    }
    return a[i];
  }

  private static int positive(String v, String name) {
    try {
      int x = Integer.parseInt(v);
      if (x > 0 && x <= 46340) {
        return x;
      }
    } catch (NumberFormatException e) {
      // below
    }
    System.err.println("ExecutorCheck: " + name + " must be an integer from 1 to 46340, got " + v);
    System.exit(2);
    return 0;
  }

  /** Runs both sides in child JVMs and prints them side by side. */
  static int parent(String address, int n, int reps, int pairs, int cell) throws Exception {
    Path dir = Files.createTempDirectory("gpucore-executor-check");
    Path trace = dir.resolve("gpucore-blas.trace");
    int a = child(List.of("--side", "gpucore", "--address", address, "--n", "" + n, "--reps", "" + reps,
            "--pairs", "" + pairs, "--cell", "" + cell),
        Map.of("GPUCORE_LOG_FILE", trace.toString()));
    int b = child(List.of("--side", "openblas", "--n", "" + n, "--reps", "" + reps), Map.of());
    if (Files.exists(trace)) {
      // netlib's calls (dgemm_); the Java API's own GEMMs log to the same file
      List<String> lines = Files.readAllLines(trace).stream().filter(l -> l.contains(" dgemm_ ")).toList();
      long gpu = lines.stream().filter(l -> l.contains(" route=gpu ")).count();
      System.out.printf(Locale.ROOT, "library trace: %d dgemm_ calls from netlib, %d on the GPU; last: %s%n",
          lines.size(), gpu, lines.isEmpty() ? "-" : lines.get(lines.size() - 1));
    }
    return a != 0 || b != 0 ? 1 : 0;
  }

  private static int child(List<String> args, Map<String, String> env) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(ExecutorCheck.class.getName());
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
    pb.environment().putAll(env);
    Process p = pb.start();
    if (!p.waitFor(1800, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      System.out.println(args.get(1) + " side: killed after 1800 s");
      return 1;
    }
    return p.exitValue();
  }

  /**
   * The plugin's executor path: plan, library, binding; then the GEMMs: one product and K
   * products into one C through netlib, then the block step with one pair and with K.
   */
  static int gpucoreSide(String address, int n, int reps, int pairs, int cell)
      throws Exception {
    ExecutorPlan plan = ExecutorGpu.plan(Map.of(ExecutorPlan.GPU, List.of(address)), false);
    BlasSetup.Result r = BlasSetup.install(ExecutorCheck.class.getClassLoader(),
        Path.of(System.getProperty("java.io.tmpdir")));
    System.out.println("gpucore side: " + r.message());
    System.out.println("gpucore side: " + BlasSetup.apply(plan));
    System.out.println("gpucore side: library GPU chosen: CUDA " + BlasSetup.selectedGpu());
    String netlib = "netlib JNIBLAS -> gpucore";
    Timing one = netlibGemm(netlib, n, reps);
    int status = one.status();
    List<double[][]> ops = operands(n, pairs);
    Timing many = netlibSum(netlib, n, reps, ops);
    status |= many.status();
    GpuCore core = ExecutorGpu.core();
    int device = ExecutorGpu.deviceFor(List.of(address));
    status |= shapes(core, device);
    for (Precision p : new Precision[] {Precision.FP64, Precision.TF32}) {
      double bound = p == Precision.FP64 ? 1e-12 : 1e-3;
      String what = "BlockKernel " + p + " on gpucore device " + device;
      Timing t1 = blockStep(core, device, n, reps, ops.subList(0, 1), p, what, bound, false);
      Timing tk = blockStep(core, device, n, reps, ops, p,
          what + ", " + pairs + " pairs, per product", bound, false);
      status |= t1.status() | tk.status();
      System.out.printf(Locale.ROOT, "block step %s against %s (per product): one pair %.2fx, "
          + "%d pairs %.2fx; against one product of %s: %d pairs %.2fx%n", p, netlib,
          one.median() / t1.median(), pairs, many.median() / tk.median(), netlib, pairs,
          one.median() / tk.median());
      if (pairs >= cell && cell >= 2) {
        // the blocks of K pairs as a cell of S×S result blocks: K / S steps, S·S·(K / S) products
        int steps = pairs / cell;
        Timing tg = gridStep(core, device, n, reps, ops.subList(0, steps * cell), cell, p, what,
            bound);
        status |= tg.status();
        System.out.printf(Locale.ROOT, "cell step %s (%dx%d result blocks, %d steps, %d products "
            + "from the blocks of %d pairs) against one product of %s (per product): %.2fx; "
            + "against %d products into one C: %.2fx%n", p, cell, cell, steps,
            cell * cell * steps, steps * cell, netlib, one.median() / tg.median(), pairs,
            many.median() / tg.median());
      }
      if (p == Precision.FP64 && core.devices().size() == 1) {
        // the same sum as one Blas.gemmSum on the native engine, beside the device pipeline
        Timing ts = blockStep(core, device, n, reps, ops, p,
            what + ", " + pairs + " pairs, as one gemmSum, per product", bound, true);
        status |= ts.status();
        System.out.printf(Locale.ROOT, "block step FP64, %d pairs: as one gemmSum %.2fx the "
            + "device pipeline%n", pairs, tk.median() / ts.median());
      }
    }
    return status;
  }

  /**
   * The block step on blocks that are not square, with a pair of k = 0 and blocks of several
   * staging chunks and column slabs, at each precision, against a plain fp64 sum (relative
   * Frobenius error).
   */
  static int shapes(GpuCore core, int device) {
    int m = 200;
    int n = 2100;
    int[] ks = {700, 0, 1500, 257, 9};
    List<BlockKernel.Pair> pairs = randomPairs(new Random(7), m, n, ks);
    double[] want = plainSum(m, n, pairs);
    StringBuilder line = new StringBuilder();
    int status = 0;
    Precision[] ps = {Precision.FP64, Precision.FP64, Precision.FP32, Precision.TF32,
        Precision.BF16};
    double[] bounds = {1e-14, 1e-14, 1e-5, 1e-3, 1e-2};
    for (int x = 0; x < ps.length; x++) {
      boolean viaSum = x == 1; // FP64 also as one gemmSum
      double err = relError(BlockKernel.sumOfProducts(core, device, m, n, pairs, ps[x], viaSum),
          want);
      boolean ok = err <= bounds[x];
      status |= ok ? 0 : 1;
      line.append(String.format(Locale.ROOT, "  %s%s %.2e (%s %.0e)", ps[x],
          viaSum ? " (one gemmSum)" : "", err, ok ? "within" : "BEYOND", bounds[x]));
    }
    System.out.println("BlockKernel on gpucore device " + device + ", m=" + m + " n=" + n + " k="
        + Arrays.toString(ks) + ", relative error against an fp64 sum" + line);
    // a grid of 2×3 result blocks whose column slabs cross the borders of the B blocks
    int[] gks = {700, 0, 300};
    List<BlockKernel.Step> steps = randomSteps(new Random(8), m, 900, 2, 3, gks);
    line.setLength(0);
    for (int x = 0; x < ps.length; x++) {
      if (x == 1) {
        continue;
      }
      double[][] got = BlockKernel.gridOfProducts(core, device, m, 900, 2, 3, steps, ps[x]);
      double err = 0;
      for (int b = 0; b < 6; b++) {
        err = Math.max(err, relError(got[b], plainBlock(m, 900, steps, b / 3, b % 3)));
      }
      boolean ok = err <= bounds[x];
      status |= ok ? 0 : 1;
      line.append(String.format(Locale.ROOT, "  %s %.2e (%s %.0e)", ps[x], err,
          ok ? "within" : "BEYOND", bounds[x]));
    }
    System.out.println("BlockKernel grid of 2x3 result blocks on gpucore device " + device
        + ", m=" + m + " n=900 k=" + Arrays.toString(gks) + ", largest relative error of a "
        + "result block against an fp64 sum" + line);
    return status;
  }

  /** A grid's steps of blocks of values uniform in [-1, 1), one per k. */
  static List<BlockKernel.Step> randomSteps(Random r, int m, int n, int rows, int cols,
      int... ks) {
    List<BlockKernel.Step> steps = new ArrayList<>();
    for (int k : ks) {
      List<double[]> a = new ArrayList<>();
      List<double[]> b = new ArrayList<>();
      for (int i = 0; i < rows; i++) {
        a.add(uniform(r, m * k));
      }
      for (int j = 0; j < cols; j++) {
        b.add(uniform(r, k * n));
      }
      steps.add(new BlockKernel.Step(a, b, k));
    }
    return steps;
  }

  /** Result block (i, j) of a grid in plain fp64 loops. */
  static double[] plainBlock(int m, int n, List<BlockKernel.Step> steps, int i, int j) {
    List<BlockKernel.Pair> pairs = new ArrayList<>();
    for (BlockKernel.Step s : steps) {
      pairs.add(new BlockKernel.Pair(s.a().get(i), s.b().get(j), s.k()));
    }
    return plainSum(m, n, pairs);
  }

  /** Pairs of m×k and k×n blocks (column-major) of values uniform in [-1, 1), one per k. */
  static List<BlockKernel.Pair> randomPairs(Random r, int m, int n, int... ks) {
    List<BlockKernel.Pair> pairs = new ArrayList<>();
    for (int k : ks) {
      pairs.add(new BlockKernel.Pair(uniform(r, m * k), uniform(r, k * n), k));
    }
    return pairs;
  }

  /** The column-major m×n sum of the pairs' products in plain fp64 loops. */
  static double[] plainSum(int m, int n, List<BlockKernel.Pair> pairs) {
    double[] c = new double[m * n];
    for (BlockKernel.Pair p : pairs) {
      for (int j = 0; j < n; j++) {
        for (int l = 0; l < p.k(); l++) {
          double b = p.b()[l + j * p.k()];
          for (int i = 0; i < m; i++) {
            c[i + j * m] += p.a()[i + l * m] * b;
          }
        }
      }
    }
    return c;
  }

  /** The relative Frobenius error of {@code got} against {@code want}. */
  static double relError(double[] got, double[] want) {
    double num = 0;
    double den = 0;
    for (int i = 0; i < want.length; i++) {
      num += (got[i] - want[i]) * (got[i] - want[i]);
      den += want[i] * want[i];
    }
    return Math.sqrt(num / den);
  }

  private static double[] uniform(Random r, int size) {
    double[] d = new double[size];
    for (int i = 0; i < size; i++) {
      d[i] = r.nextDouble() * 2 - 1;
    }
    return d;
  }

  /** A median time (per product) and whether its result checked. */
  record Timing(int status, double median) {}

  /**
   * The block step on {@code pairs}: a first call (which sets up the buffers kept for the next,
   * timed and printed apart), then {@code reps} timed calls, each time per product.
   */
  private static Timing blockStep(GpuCore core, int device, int n, int reps, List<double[][]> ops,
      Precision p, String what, double bound, boolean viaSum) {
    List<BlockKernel.Pair> pairs = new ArrayList<>();
    for (double[][] ab : ops) {
      pairs.add(new BlockKernel.Pair(ab[0], ab[1], n));
    }
    long t0 = System.nanoTime();
    double[] c = BlockKernel.sumOfProducts(core, device, n, n, pairs, p, viaSum);
    double first = (System.nanoTime() - t0) / 1e9 / pairs.size();
    double[] times = new double[reps];
    for (int i = 0; i < reps; i++) {
      long s = System.nanoTime();
      c = BlockKernel.sumOfProducts(core, device, n, n, pairs, p, viaSum);
      times[i] = (System.nanoTime() - s) / 1e9 / pairs.size();
    }
    double err = check(n, ops, c);
    double med = report(what, n, times, err, bound);
    System.out.printf(Locale.ROOT, "  (first call %.4f s per product: it sets up the buffers the "
        + "timed calls reuse)%n", first);
    return new Timing(err <= bound ? 0 : 1, med);
  }

  /**
   * The block step of a cell of S×S result blocks on the blocks of {@code ops}: step t's A
   * blocks are the A blocks of pairs t·S to t·S + S - 1, its B blocks their B blocks (so the
   * host holds the same blocks as for the pairs); a first call, then {@code reps} timed calls,
   * each time per product (S·S per step); every result block checked.
   */
  private static Timing gridStep(GpuCore core, int device, int n, int reps, List<double[][]> ops,
      int side, Precision p, String what, double bound) {
    int steps = ops.size() / side;
    List<BlockKernel.Step> grid = new ArrayList<>();
    for (int t = 0; t < steps; t++) {
      List<double[]> as = new ArrayList<>();
      List<double[]> bs = new ArrayList<>();
      for (int x = 0; x < side; x++) {
        as.add(ops.get(t * side + x)[0]);
        bs.add(ops.get(t * side + x)[1]);
      }
      grid.add(new BlockKernel.Step(as, bs, n));
    }
    int products = side * side * steps;
    long t0 = System.nanoTime();
    double[][] c = BlockKernel.gridOfProducts(core, device, n, n, side, side, grid, p);
    double first = (System.nanoTime() - t0) / 1e9 / products;
    double[] times = new double[reps];
    for (int i = 0; i < reps; i++) {
      long s = System.nanoTime();
      c = BlockKernel.gridOfProducts(core, device, n, n, side, side, grid, p);
      times[i] = (System.nanoTime() - s) / 1e9 / products;
    }
    double err = 0;
    for (int i = 0; i < side; i++) {
      for (int j = 0; j < side; j++) {
        List<double[][]> sum = new ArrayList<>();
        for (BlockKernel.Step st : grid) {
          sum.add(new double[][] {st.a().get(i), st.b().get(j)});
        }
        err = Math.max(err, check(n, sum, c[i * side + j]));
      }
    }
    double med = report(what + ", " + side + "x" + side + " cell, " + steps + " steps, per product",
        n, times, err, bound);
    System.out.printf(Locale.ROOT, "  (first call %.4f s per product: it sets up the buffers the "
        + "timed calls reuse)%n", first);
    return new Timing(err <= bound ? 0 : 1, med);
  }

  /** netlib over bytedeco's OpenBLAS, extracted beside the library. */
  static int openblasSide(int n, int reps) throws Exception {
    Path dir = Files.createTempDirectory("gpucore-openblas");
    GpuCoreBlasLibrary.extract(ExecutorCheck.class.getClassLoader(), dir);
    Path openblas = dir.resolve("libopenblas.so.0");
    if (!Files.exists(openblas)) {
      System.out.println("openblas side: bytedeco's OpenBLAS jar is not on the class path");
      return 1;
    }
    System.setProperty(BlasSetup.NATIVE_LIB_PATH, openblas.toString());
    return netlibGemm("netlib JNIBLAS -> OpenBLAS (" + Runtime.getRuntime().availableProcessors()
        + " cores)", n, reps).status();
  }

  private static Timing netlibGemm(String what, int n, int reps) {
    dev.ludovic.netlib.blas.BLAS blas = dev.ludovic.netlib.blas.BLAS.getInstance();
    System.out.println(what + ": netlib BLAS is " + blas.getClass().getName());
    double[][] ab = operands(n);
    double[] c = new double[n * n];
    blas.dgemm("N", "N", n, n, n, 1.0, ab[0], n, ab[1], n, 0.0, c, n); // warm-up
    double[] times = new double[reps];
    for (int i = 0; i < reps; i++) {
      Arrays.fill(c, Double.NaN);
      long t0 = System.nanoTime();
      blas.dgemm("N", "N", n, n, n, 1.0, ab[0], n, ab[1], n, 0.0, c, n);
      times[i] = (System.nanoTime() - t0) / 1e9;
    }
    double err = check(n, List.<double[][]>of(ab), c);
    double med = report(what + " dgemm", n, times, err, 1e-12);
    boolean jni = blas.getClass().getName().equals("dev.ludovic.netlib.blas.JNIBLAS");
    return new Timing(jni && err <= 1e-12 ? 0 : 1, med);
  }

  /**
   * The K products of {@code ops} added into one C through netlib: {@code dgemm} with
   * {@code beta = 0} for the first and 1 for the others; times per product.
   */
  private static Timing netlibSum(String what, int n, int reps, List<double[][]> ops) {
    dev.ludovic.netlib.blas.BLAS blas = dev.ludovic.netlib.blas.BLAS.getInstance();
    double[] c = new double[n * n];
    double[] times = new double[reps];
    for (int i = 0; i < reps; i++) {
      Arrays.fill(c, Double.NaN);
      long t0 = System.nanoTime();
      for (int t = 0; t < ops.size(); t++) {
        blas.dgemm("N", "N", n, n, n, 1.0, ops.get(t)[0], n, ops.get(t)[1], n, t == 0 ? 0.0 : 1.0, c, n);
      }
      times[i] = (System.nanoTime() - t0) / 1e9 / ops.size();
    }
    double err = check(n, ops, c);
    double med = report(what + " dgemm, " + ops.size() + " products into one C, per product", n,
        times, err, 1e-12);
    return new Timing(err <= 1e-12 ? 0 : 1, med);
  }

  /** K pairs of n×n operands; the first is {@link #operands(int)}'s. */
  static List<double[][]> operands(int n, int pairs) {
    List<double[][]> out = new ArrayList<>();
    for (int t = 0; t < pairs; t++) {
      out.add(pair(n, 42 + t));
    }
    return out;
  }

  static double[][] operands(int n) {
    return pair(n, 42);
  }

  private static double[][] pair(int n, long seed) {
    Random r = new Random(seed);
    double[] a = new double[n * n];
    double[] b = new double[n * n];
    for (int i = 0; i < a.length; i++) {
      a[i] = r.nextDouble() * 2 - 1;
      b[i] = r.nextDouble() * 2 - 1;
    }
    return new double[][] {a, b};
  }

  /**
   * Largest error over 8 rows of C against the fp64 sum of the products of {@code ops} (pairs
   * {a, b}), relative to the sum of |products| (NaN where C holds one: beyond every bound).
   */
  static double check(int n, List<double[][]> ops, double[] c) {
    double worst = 0;
    for (int s = 0; s < 8; s++) {
      int i = (int) ((long) s * (n - 1) / 7);
      for (int j = 0; j < n; j++) {
        double sum = 0;
        double abs = 0;
        for (double[][] ab : ops) {
          double[] a = ab[0];
          double[] b = ab[1];
          for (int l = 0; l < n; l++) {
            double p = a[i + l * n] * b[l + j * n];
            sum += p;
            abs += Math.abs(p);
          }
        }
        worst = Math.max(worst, Math.abs(c[i + j * n] - sum) / Math.max(abs, Double.MIN_NORMAL));
      }
    }
    return worst;
  }

  /** Prints a timing line; returns the median. */
  private static double report(String what, int n, double[] times, double err, double bound) {
    double[] t = times.clone();
    Arrays.sort(t);
    double med = t[t.length / 2];
    System.out.printf(Locale.ROOT, "%-55s n=%d  median %.4f s  %.1f GFLOP/s  max rel error %.2e (%s %.0e)%n",
        what, n, med, 2.0 * n * n * n / med / 1e9, err, err <= bound ? "within" : "BEYOND", bound);
    return med;
  }
}
