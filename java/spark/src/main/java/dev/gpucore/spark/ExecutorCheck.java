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
 * its library once per JVM); then {@link BlockKernel}, {@link GpuBlockMatrix}'s block step.
 *
 * <pre>
 * java -cp 'lib/*:gpucore-spark.jar:blas-3.0.3.jar:arpack_combined_all-0.1.jar' \
 *   dev.gpucore.spark.ExecutorCheck [--address 0] [--n 4096] [--reps 3]
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
    String side = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--address" -> address = value(args, ++i, "--address");
        case "--n" -> n = positive(value(args, ++i, "--n"), "--n");
        case "--reps" -> reps = positive(value(args, ++i, "--reps"), "--reps");
        case "--side" -> side = value(args, ++i, "--side");
        default -> {
          System.err.println("ExecutorCheck: unknown argument " + args[i]
              + "; expected --address A, --n N, --reps R");
          System.exit(2);
        }
      }
    }
    if (side == null) {
      System.exit(parent(address, n, reps));
    }
    System.exit(switch (side) {
      case "gpucore" -> gpucoreSide(address, n, reps);
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
  static int parent(String address, int n, int reps) throws Exception {
    Path dir = Files.createTempDirectory("gpucore-executor-check");
    Path trace = dir.resolve("gpucore-blas.trace");
    int a = child(List.of("--side", "gpucore", "--address", address, "--n", "" + n, "--reps", "" + reps),
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

  /** The plugin's executor path: plan, library, binding; then the GEMMs. */
  static int gpucoreSide(String address, int n, int reps) throws Exception {
    ExecutorPlan plan = ExecutorGpu.plan(Map.of(ExecutorPlan.GPU, List.of(address)), false);
    BlasSetup.Result r = BlasSetup.install(ExecutorCheck.class.getClassLoader(),
        Path.of(System.getProperty("java.io.tmpdir")));
    System.out.println("gpucore side: " + r.message());
    System.out.println("gpucore side: " + BlasSetup.apply(plan));
    System.out.println("gpucore side: library GPU chosen: CUDA " + BlasSetup.selectedGpu());
    int status = netlibGemm("netlib JNIBLAS -> gpucore", n, reps);
    GpuCore core = ExecutorGpu.core();
    int device = ExecutorGpu.deviceFor(List.of(address));
    double[][] ab = operands(n);
    for (Precision p : new Precision[] {Precision.FP64, Precision.TF32}) {
      List<BlockKernel.Pair> pairs = List.of(new BlockKernel.Pair(ab[0], ab[1], n));
      BlockKernel.sumOfProducts(core, device, n, n, pairs, p); // warm-up
      double[] times = new double[reps];
      double[] c = null;
      for (int i = 0; i < reps; i++) {
        long t0 = System.nanoTime();
        c = BlockKernel.sumOfProducts(core, device, n, n, pairs, p);
        times[i] = (System.nanoTime() - t0) / 1e9;
      }
      double err = check(n, ab[0], ab[1], c);
      double bound = p == Precision.FP64 ? 1e-12 : 1e-3;
      report("BlockKernel " + p + " on gpucore device " + device, n, times, err, bound);
      if (!(err <= bound)) {
        status = 1;
      }
    }
    return status;
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
        + " cores)", n, reps);
  }

  private static int netlibGemm(String what, int n, int reps) {
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
    double err = check(n, ab[0], ab[1], c);
    report(what + " dgemm", n, times, err, 1e-12);
    boolean jni = blas.getClass().getName().equals("dev.ludovic.netlib.blas.JNIBLAS");
    return jni && err <= 1e-12 ? 0 : 1;
  }

  static double[][] operands(int n) {
    Random r = new Random(42);
    double[] a = new double[n * n];
    double[] b = new double[n * n];
    for (int i = 0; i < a.length; i++) {
      a[i] = r.nextDouble() * 2 - 1;
      b[i] = r.nextDouble() * 2 - 1;
    }
    return new double[][] {a, b};
  }

  /** Largest error over 8 rows of C against an fp64 sum, relative to the sum of |products|. */
  static double check(int n, double[] a, double[] b, double[] c) {
    double worst = 0;
    for (int s = 0; s < 8; s++) {
      int i = (int) ((long) s * (n - 1) / 7);
      for (int j = 0; j < n; j++) {
        double sum = 0;
        double abs = 0;
        for (int l = 0; l < n; l++) {
          double p = a[i + l * n] * b[l + j * n];
          sum += p;
          abs += Math.abs(p);
        }
        worst = Math.max(worst, Math.abs(c[i + j * n] - sum) / Math.max(abs, Double.MIN_NORMAL));
      }
    }
    return worst;
  }

  private static void report(String what, int n, double[] times, double err, double bound) {
    double[] t = times.clone();
    Arrays.sort(t);
    double med = t[t.length / 2];
    System.out.printf(Locale.ROOT, "%-55s n=%d  median %.4f s  %.1f GFLOP/s  max rel error %.2e (%s %.0e)%n",
        what, n, med, 2.0 * n * n * n / med / 1e9, err, err <= bound ? "within" : "BEYOND", bound);
  }
}
