package dev.gpucore.bench.suites;

import dev.gpucore.cli.JsonText;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * {@code blas}: {@code dgemm} and {@code sgemm} of square matrices from Java {@code double[]} /
 * {@code float[]} through netlib-java's {@code JNIBLAS}, once with {@code libgpucore_blas.so} as
 * netlib's native library and once with plain OpenBLAS, in the same run. Both libraries come
 * from the class path (the gpucore-blas jar and bytedeco's OpenBLAS jar) and are extracted into
 * one temporary folder, so the library uses that OpenBLAS. netlib reads its library path once
 * per JVM, so each side runs in a child JVM ({@link BlasChild}) on this class path; the library's
 * side writes its trace ({@code GPUCORE_LOG_FILE}), from which each size's route is read. Each
 * side's C is checked on a few rows against an fp64 sum on the host.
 */
final class BlasSuite extends NamedSuite {
  static final List<Long> SIZES = List.of(1024L, 4096L, 8192L);
  static final int MAX_N = 46340;
  static final int DEFAULT_REPS = 3;
  static final int DEFAULT_WARMUP = 1;
  static final String LIBRARY = "native/linux-x86_64/libgpucore_blas.so";
  static final String OPENBLAS = "org/bytedeco/openblas/linux-x86_64/";
  static final List<String> OPENBLAS_FILES = List.of("libopenblas.so.0", "libgfortran.so.5",
      "libquadmath.so.0", "libgcc_s.so.1");
  static final String NETLIB = "dev.ludovic.netlib.blas.JNIBLAS";
  /** Seconds each child JVM may take. */
  static final int CHILD_TIMEOUT_S = 1800;

  BlasSuite() {
    super("blas",
        "dgemm/sgemm from Java arrays through netlib JNIBLAS: libgpucore_blas.so vs plain "
            + "OpenBLAS, with the library's route",
        SIZES);
  }

  static List<String> dtypes(BenchOptions o) {
    return o.dtypeGiven() ? List.of(o.dtype()) : List.of("fp64", "fp32");
  }

  @Override
  public void validate(BenchOptions o) {
    for (String d : dtypes(o)) {
      if (!d.equals("fp32") && !d.equals("fp64")) {
        throw new IllegalArgumentException("blas: --dtype must be fp32 or fp64, got " + d);
      }
    }
    for (long n : o.sizesFor(this, null)) {
      if (n < 1 || n > MAX_N) {
        throw new IllegalArgumentException("blas: --sizes are n of square matrices in [1, "
            + MAX_N + "], got " + n);
      }
    }
  }

  @Override
  public int steps(BenchOptions o, boolean gpu) {
    return 2 * dtypes(o).size();
  }

  /** Why the suite cannot run here, or null when netlib and both libraries are on the class path. */
  static String missing(ClassLoader cl) {
    try {
      Class.forName(NETLIB, false, cl);
    } catch (ClassNotFoundException | LinkageError e) {
      return "netlib-java (dev.ludovic.netlib:blas) is not on the class path";
    }
    if (cl.getResource(LIBRARY) == null) {
      return "libgpucore_blas.so (the gpucore-blas jar) is not on the class path";
    }
    if (cl.getResource(OPENBLAS + "libopenblas.so.0") == null) {
      return "OpenBLAS (bytedeco's openblas linux-x86_64 jar) is not on the class path";
    }
    return null;
  }

  @Override
  public SuiteResult run(BenchContext ctx) throws Exception {
    BenchOptions o = ctx.options();
    validate(o);
    int reps = o.repsOr(DEFAULT_REPS);
    int warmup = o.warmupOr(DEFAULT_WARMUP);
    List<Long> sizes = o.sizesFor(this, null);
    List<String> dtypes = dtypes(o);
    SuiteResult res = new SuiteResult(name(), String.format(Locale.ROOT,
        "blas: ?gemm from Java arrays through netlib JNIBLAS, libgpucore_blas.so vs OpenBLAS; "
            + "median of %d calls after %d warm-up", reps, warmup));
    res.settings().put("sizes", sizes);
    res.settings().put("dtypes", dtypes);
    res.settings().put("reps", reps);
    res.settings().put("warmup", warmup);
    ClassLoader cl = BlasSuite.class.getClassLoader();
    String why = missing(cl);
    if (why != null) {
      res.notes().add("skipped: " + why);
      res.summary().put("skipped", why);
      return res;
    }
    res.notes().add("each side in its own JVM (netlib reads its library path once per JVM); "
        + "ratio = OpenBLAS time / library time; route from the library's trace");
    res.notes().add("check: max error of C on " + BlasChild.CHECK_ROWS + " rows against an fp64 "
        + "sum, relative to the sum of |products|");
    Path dir = Files.createTempDirectory("gpucore-bench-blas-");
    try {
      Path lib = extract(cl, LIBRARY, dir.resolve("libgpucore_blas.so"));
      for (String f : OPENBLAS_FILES) {
        if (cl.getResource(OPENBLAS + f) != null) {
          extract(cl, OPENBLAS + f, dir.resolve(f));
        }
      }
      Path openblas = dir.resolve("libopenblas.so.0");
      for (String dtype : dtypes) {
        Path trace = dir.resolve("trace-" + dtype + ".txt");
        ctx.progress().step("blas: " + dtype + " libgpucore_blas");
        Side lib1 = child(ctx, dir, lib, openblas, trace, dtype, sizes, reps, warmup);
        ctx.progress().stepDone();
        ctx.progress().step("blas: " + dtype + " OpenBLAS");
        Side ob = child(ctx, dir, openblas, openblas, null, dtype, sizes, reps, warmup);
        ctx.progress().stepDone();
        List<String> traceLines = Files.exists(trace)
            ? Files.readAllLines(trace, StandardCharsets.UTF_8) : List.of();
        String routine = dtype.equals("fp64") ? "dgemm" : "sgemm";
        double tol = dtype.equals("fp64") ? 1e-12 : 1e-5;
        for (long n : sizes) {
          double flops = 2.0 * n * n * n;
          Row row = new Row(name(), routine, "gpucore-blas", routine + " netlib -> libgpucore_blas",
              "gpucore blas", n, "n=" + n, flops, "GFLOP/s");
          Map<String, Object> mine = lib1.at(n);
          Map<String, Object> theirs = ob.at(n);
          String route = route(traceLines, n);
          row.extra().put("route", route);
          if (mine == null) {
            row.skip(lib1.error);
          } else {
            double err = JsonText.num(mine, "max_rel_err");
            row.extra().put("max_rel_err", err);
            row.measured(Stats.of(JsonText.longs(mine, "samples_ns")), "route " + route);
            row.check(String.format(Locale.ROOT, "err %.1e, route %s", err, route), err <= tol);
          }
          if (theirs == null) {
            row.peers().add(new PeerFigure("openblas", routine + " netlib -> OpenBLAS", "", null,
                ob.error, null, false, null));
          } else {
            double err = JsonText.num(theirs, "max_rel_err");
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("max_rel_err", err);
            row.peers().add(new PeerFigure("openblas", routine + " netlib -> OpenBLAS",
                "wall time of the call", Stats.of(JsonText.longs(theirs, "samples_ns")), null,
                String.format(Locale.ROOT, "err %.1e", err), !(err <= tol), extra));
          }
          if (mine != null && theirs != null) {
            double ratio = row.peers().get(0).ratio(row);
            row.extra().put("ratio", ratio);
            res.footer().add(String.format(Locale.ROOT,
                "%s n=%d: library %s GFLOP/s, OpenBLAS %s GFLOP/s, ratio %.2f (route %s)",
                routine, n, Fmt.sig(row.throughput()), Fmt.sig(row.throughput(row.peers().get(0))),
                ratio, route));
          }
          res.rows().add(row);
        }
      }
    } finally {
      delete(dir);
    }
    return res;
  }

  /** This JVM's class path and module path (the child runs everything on its class path). */
  static String classPath() {
    String cp = System.getProperty("java.class.path", "");
    String mp = System.getProperty("jdk.module.path", "");
    return mp.isEmpty() ? cp : cp.isEmpty() ? mp : cp + java.io.File.pathSeparator + mp;
  }

  /** One side's lines by n, or why it has none. */
  record Side(Map<Long, Map<String, Object>> byN, String error) {
    Map<String, Object> at(long n) {
      return byN.get(n);
    }
  }

  private static Side child(BenchContext ctx, Path dir, Path nativeLib, Path openblas,
      Path trace, String dtype, List<Long> sizes, int reps, int warmup) throws IOException {
    long biggest = sizes.stream().mapToLong(Long::longValue).max().orElse(1);
    long heap = 3 * biggest * biggest * (dtype.equals("fp64") ? 8 : 4) + (256L << 20);
    heap = Math.max(heap + heap / 4, 512L << 20);
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx" + (heap >> 20) + "m");
    cmd.add("-Ddev.ludovic.netlib.blas.nativeLibPath=" + nativeLib);
    cmd.add("-cp");
    cmd.add(classPath());
    cmd.add(BlasChild.class.getName());
    cmd.add(dtype);
    cmd.add(sizes.stream().map(String::valueOf).collect(Collectors.joining(",")));
    cmd.add(String.valueOf(reps));
    cmd.add(String.valueOf(warmup));
    cmd.add(String.valueOf(ctx.options().seed()));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
    pb.environment().put("GPUCORE_OPENBLAS", openblas.toString());
    pb.environment().put("GPUCORE_BLAS_QUIET", "1");
    if (trace != null) {
      pb.environment().put("GPUCORE_LOG_FILE", trace.toString());
    }
    Path err = Files.createTempFile(dir, "stderr-", ".txt");
    pb.redirectError(err.toFile());
    Process p = pb.start();
    p.getOutputStream().close();
    Map<Long, Map<String, Object>> byN = new LinkedHashMap<>();
    String error = null;
    try (BufferedReader r = new BufferedReader(
        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String l;
      while ((l = r.readLine()) != null) {
        l = l.strip();
        if (!l.startsWith("{")) {
          continue;
        }
        try {
          Map<String, Object> m = JsonText.object(JsonText.parse(l));
          if (m.containsKey("error")) {
            error = JsonText.str(m, "error", "");
          } else {
            byN.put(Math.round(JsonText.num(m, "n")), m);
            ctx.progress().detail(dtype + " n=" + Math.round(JsonText.num(m, "n")));
          }
        } catch (IllegalArgumentException e) {
          // not one of ours
        }
      }
    }
    try {
      if (!p.waitFor(CHILD_TIMEOUT_S, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        error = error != null ? error : "timed out after " + CHILD_TIMEOUT_S + " s";
      } else if (p.exitValue() != 0 && error == null) {
        String e = Files.readString(err, StandardCharsets.UTF_8).strip();
        String[] ls = e.split("\n");
        error = "child JVM exited " + p.exitValue() + ": " + ls[ls.length - 1];
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
    if (error == null && byN.size() < sizes.size()) {
      error = "no result";
    }
    return new Side(byN, error);
  }

  /**
   * The routes of the trace's lines for n x n x n calls: {@code gpu}, or {@code cpu (reason)},
   * joined with {@code +} when calls went both ways; {@code -} without a line.
   */
  static String route(List<String> trace, long n) {
    String key = " m=" + n + " n=" + n + " k=" + n + " ";
    Set<String> routes = new LinkedHashSet<>();
    for (String l : trace) {
      int i = l.indexOf(key);
      int r = l.indexOf("route=");
      if (i < 0 || r < 0) {
        continue;
      }
      String rest = l.substring(r + "route=".length());
      int sp = rest.indexOf(' ');
      String route = sp < 0 ? rest : rest.substring(0, sp);
      int why = rest.indexOf("reason=");
      if (why >= 0) {
        String reason = rest.substring(why + "reason=".length());
        int colon = reason.indexOf(':');
        route += " (" + (colon < 0 ? reason : reason.substring(0, colon)) + ")";
      }
      routes.add(route);
    }
    return routes.isEmpty() ? "-" : String.join("+", routes);
  }

  private static Path extract(ClassLoader cl, String resource, Path to) throws IOException {
    URL u = cl.getResource(resource);
    try (InputStream in = u.openStream()) {
      Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
    }
    return to;
  }

  private static void delete(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // best effort
    }
  }
}
