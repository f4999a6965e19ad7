package dev.gpucore.bench.suites;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.cli.JsonText;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import java.util.stream.Stream;

/**
 * {@code blas}: netlib-java's BLAS from Java arrays through {@code JNIBLAS} with {@code
 * libgpucore_blas.so} as its native library, beside {@code JNIBLAS} over plain OpenBLAS (the
 * copy bytedeco's openblas jar ships, which the library also forwards to) and over nvBLAS (when
 * installed, GEMM only), in one run: {@code dgemm}/{@code sgemm} (n x n), the forwarded {@code
 * daxpy}, {@code ddot} and {@code dgemv}, and fp64 GEMM of gpucore's own Java API on device
 * arrays.
 *
 * <p>netlib reads its library path once per JVM, so each side is a child JVM ({@link
 * BlasChild}) driven over stdin/stdout; the suite interleaves their samples. Each child proves
 * what it runs: netlib's class ({@code BLAS.getInstance().getClass()}) and the BLAS libraries
 * mapped into it; the library's side also writes its trace, which must hold one line per GEMM
 * call (the route is read from it). A side that is not what it claims is not timed: its rows
 * are skipped and failed with the reason. nvBLAS lacks every level-1/2 routine (netlib would
 * call a null pointer), so its JVM calls GEMM only; a crash there skips its figures with the
 * reason.
 */
final class BlasSuite extends NamedSuite {
  static final List<Long> GEMM_SIZES = List.of(4096L, 8192L);
  static final List<Long> VECTOR_SIZES = List.of(64L, 1_000_000L);
  static final List<Long> GEMV_SIZES = List.of(64L, 4096L);
  static final List<Long> API_SIZES = List.of(8192L);
  static final int MAX_N = 46340;
  static final long MAX_VECTOR = Integer.MAX_VALUE - 8;
  /** Timed GEMM calls per side (after the checked call). */
  static final int DEFAULT_REPS = 3;
  static final int DEFAULT_WARMUP = 0;
  /** Interleaved samples per side of each level-1/2 case. */
  static final int LEVEL12_SAMPLES = 15;
  /** A level-1/2 sample lasts at least this long (many calls). */
  static final int SAMPLE_MS = 20;
  /**
   * Pause before a sample when the other JVM ran the one before: OpenBLAS's idle threads spin
   * for about 2^28 cycles before they sleep, and would otherwise share the cores with the sample.
   */
  static final int SETTLE_MS = 150;
  static final String LIBRARY = "native/linux-x86_64/libgpucore_blas.so";
  static final String OPENBLAS = "org/bytedeco/openblas/linux-x86_64/";
  static final List<String> OPENBLAS_FILES = List.of("libopenblas.so.0", "libgfortran.so.5",
      "libquadmath.so.0", "libgcc_s.so.1");
  static final String NETLIB = "dev.ludovic.netlib.blas.JNIBLAS";
  /** Seconds a child JVM may take to answer one command. */
  static final int ANSWER_TIMEOUT_S = 600;
  static final String GPUCORE = "gpucore";
  static final String OPENBLAS_SIDE = "openblas";
  static final String NVBLAS = "nvblas";

  BlasSuite() {
    super("blas",
        "netlib JNIBLAS from Java arrays: libgpucore_blas.so vs OpenBLAS and nvBLAS (?gemm, "
            + "forwarded daxpy/ddot/dgemv), and vs the Java API's device-resident fp64 GEMM",
        GEMM_SIZES);
  }

  static List<String> dtypes(BenchOptions o) {
    return o.dtypeGiven() ? List.of(o.dtype()) : List.of("fp64", "fp32");
  }

  static List<Long> vectorSizes(BenchOptions o) {
    return o.blas() != null && o.blas().vectorSizes() != null ? o.blas().vectorSizes() : VECTOR_SIZES;
  }

  static List<Long> gemvSizes(BenchOptions o) {
    return o.blas() != null && o.blas().gemvSizes() != null ? o.blas().gemvSizes() : GEMV_SIZES;
  }

  /** n of the fp64 GEMM rows compared with the Java API on device arrays. */
  static List<Long> apiSizes(BenchOptions o) {
    if (!dtypes(o).contains("fp64")) {
      return List.of();
    }
    List<Long> want = o.blas() != null && o.blas().apiSizes() != null ? o.blas().apiSizes() : API_SIZES;
    List<Long> gemm = o.sizesFor(new BlasSuite(), null);
    if (o.blas() == null || o.blas().apiSizes() == null) {
      return want.stream().filter(gemm::contains).toList();
    }
    return want;
  }

  static boolean level12(BenchOptions o) {
    return !(o.dtypeGiven() && o.dtype().equals("fp32"));
  }

  @Override
  public void validate(BenchOptions o) {
    for (String d : dtypes(o)) {
      if (!d.equals("fp32") && !d.equals("fp64")) {
        throw new IllegalArgumentException("blas: --dtype must be fp32 or fp64, got " + d);
      }
    }
    List<Long> gemm = o.sizesFor(this, null);
    for (long n : gemm) {
      if (n < 1 || n > MAX_N) {
        throw new IllegalArgumentException("blas: --sizes are n of square matrices in [1, "
            + MAX_N + "], got " + n);
      }
    }
    for (long n : gemvSizes(o)) {
      if (n < 1 || n > MAX_N) {
        throw new IllegalArgumentException("blas: --gemv-sizes are n of square matrices in [1, "
            + MAX_N + "], got " + n);
      }
    }
    for (long n : vectorSizes(o)) {
      if (n < 1 || n > MAX_VECTOR) {
        throw new IllegalArgumentException("blas: --vector-sizes are element counts in [1, "
            + MAX_VECTOR + "], got " + n);
      }
    }
    if (o.blas() != null && o.blas().apiSizes() != null) {
      if (!dtypes(o).contains("fp64")) {
        throw new IllegalArgumentException("blas: --api-sizes compares fp64 GEMM; drop --dtype fp32");
      }
      for (long n : o.blas().apiSizes()) {
        if (!gemm.contains(n)) {
          throw new IllegalArgumentException("blas: --api-sizes must be among the GEMM sizes "
              + gemm + " (--sizes), got " + n);
        }
      }
    }
  }

  @Override
  public int steps(BenchOptions o, boolean gpu) {
    int gemm = dtypes(o).size() * o.sizesFor(this, null).size();
    int l12 = level12(o) ? 2 * vectorSizes(o).size() + gemvSizes(o).size() : 0;
    return 1 + gemm + l12 + apiSizes(o).size();
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

  // ------------------------------------------------------------------ the run

  @Override
  SuiteResult run(BenchContext ctx, BenchOptions o) throws Exception {
    int reps = o.repsOr(DEFAULT_REPS);
    int warmup = o.warmupOr(DEFAULT_WARMUP);
    int samples = o.repsOr(LEVEL12_SAMPLES);
    List<Long> sizes = o.sizesFor(this, null);
    List<String> dtypes = dtypes(o);
    SuiteResult res = new SuiteResult(name(), String.format(Locale.ROOT,
        "blas: netlib JNIBLAS from Java arrays, libgpucore_blas.so vs OpenBLAS%s; GEMM: median "
            + "of %d calls after a checked one; level 1/2: median of %d interleaved samples of "
            + ">= %d ms", nvblasWanted(o) ? " and nvBLAS" : "", reps, samples, SAMPLE_MS));
    res.settings().put("sizes", sizes);
    res.settings().put("dtypes", dtypes);
    res.settings().put("vector_sizes", level12(o) ? vectorSizes(o) : List.of());
    res.settings().put("gemv_sizes", level12(o) ? gemvSizes(o) : List.of());
    res.settings().put("api_sizes", apiSizes(o));
    res.settings().put("reps", reps);
    res.settings().put("warmup", warmup);
    res.settings().put("level12_samples", samples);
    res.settings().put("sample_ms", SAMPLE_MS);
    res.settings().put("settle_ms", SETTLE_MS);
    ClassLoader cl = BlasSuite.class.getClassLoader();
    String why = missing(cl);
    if (why != null) {
      res.notes().add("skipped: " + why);
      res.summary().put("skipped", why);
      return res;
    }
    String threads = System.getenv().getOrDefault("OPENBLAS_NUM_THREADS",
        String.valueOf(ctx.cpuThreads()));
    res.settings().put("openblas_threads", threads);
    res.notes().add("each side is a JVM of its own (netlib reads its library path once per JVM) "
        + "that proves what it runs: netlib's class and the BLAS libraries mapped into it; the "
        + "library's GEMMs must each leave a trace line (route from it)");
    res.notes().add("ratio = other time / library time (above 1: the library is faster); "
        + "OPENBLAS_NUM_THREADS=" + threads + " in every JVM");
    res.notes().add("check: max error of one call's output (GEMM: " + BlasChild.CHECK_ROWS
        + " rows of C) against an fp64 sum, relative to the sum of |products|");
    Path dir = Files.createTempDirectory("gpucore-bench-blas-");
    List<Child> children = new ArrayList<>();
    try {
      Path lib = extractLibraries(cl, dir);
      Path openblas = dir.resolve("libopenblas.so.0");
      Path trace = dir.resolve("gpucore-blas.trace");
      String cp = childClassPath(cl);
      long heap = childHeap(o);
      ctx.progress().step("blas: start the JVMs");
      Map<String, String> env = new LinkedHashMap<>();
      env.put("OPENBLAS_NUM_THREADS", threads);
      env.put("GPUCORE_OPENBLAS", openblas.toString());
      env.put("GPUCORE_BLAS_QUIET", "1");
      Map<String, String> genv = new LinkedHashMap<>(env);
      genv.put("GPUCORE_LOG_FILE", trace.toString());
      Child g = Child.start(GPUCORE, dir, lib, genv, heap, cp);
      children.add(g);
      Child ob = Child.start(OPENBLAS_SIDE, dir, openblas, env, heap, cp);
      children.add(ob);
      Child nv = null;
      String nvWhy = null;
      if (!nvblasWanted(o)) {
        nvWhy = "not asked for (--peers " + o.peers() + ")";
      } else {
        Path nvlib = findNvblas();
        if (nvlib == null) {
          nvWhy = "libnvblas.so not found (CUDA_HOME, CUDA_PATH, /usr/local/cuda)";
        } else if (!ctx.gpu()) {
          nvWhy = ctx.noGpu();
        } else {
          Path conf = dir.resolve("nvblas.conf");
          Files.writeString(conf, nvblasConf(openblas, ctx.cudaOrdinal(), dir.resolve("nvblas.log")));
          Map<String, String> nenv = new LinkedHashMap<>(env);
          nenv.put("NVBLAS_CONFIG_FILE", conf.toString());
          String ld = System.getenv("LD_LIBRARY_PATH");
          nenv.put("LD_LIBRARY_PATH", nvlib.getParent() + (ld == null || ld.isEmpty() ? "" : ":" + ld));
          nv = Child.start(NVBLAS, dir, nvlib, nenv, heap, cp);
          children.add(nv);
          res.settings().put("nvblas", nvlib.toString());
          res.settings().put("nvblas_conf", List.of(Files.readString(conf).strip().split("\n")));
        }
      }
      String gWrong = g.verify(lib, openblas);
      String obWrong = ob.verify(openblas, openblas);
      if (nv != null) {
        nvWhy = nv.verify(nv.lib, openblas);
      }
      for (Child c : children) {
        res.settings().put("jvm_" + c.side, c.hello);
      }
      res.notes().add(String.format(Locale.ROOT, "%s JVM: %s", GPUCORE, gWrong == null
          ? "JNIBLAS over " + files(g.hello) : "WRONG: " + gWrong));
      res.notes().add(String.format(Locale.ROOT, "%s JVM: %s", OPENBLAS_SIDE, obWrong == null
          ? "JNIBLAS over " + files(ob.hello) : "WRONG: " + obWrong));
      res.notes().add(NVBLAS + " JVM: " + (nvWhy == null ? "JNIBLAS over "
          + files(nv.hello) + " (GEMM only)" : "none: " + nvWhy));
      if (nv != null && nvWhy != null) {
        nv.close();
        nv = null;
      }
      ctx.progress().stepDone();
      List<Map<String, Object>> gemmSummary = new ArrayList<>();
      List<Map<String, Object>> l12Summary = new ArrayList<>();
      Map<Long, Row> fp64Rows = new LinkedHashMap<>();
      for (String dtype : dtypes) {
        for (long n : sizes) {
          String routine = dtype.equals("fp64") ? "dgemm" : "sgemm";
          ctx.progress().step("blas: " + routine + " n=" + n);
          Row row = gemm(ctx, res, routine, (int) n, reps, warmup, g, gWrong, ob, obWrong, nv,
              nvWhy, trace);
          if (nv != null && !nv.alive()) {
            nvWhy = nv.dead;
            nv = null;
          }
          if (dtype.equals("fp64")) {
            fp64Rows.put(n, row);
          }
          gemmSummary.add(summary(row));
          ctx.progress().stepDone();
        }
      }
      if (nv != null) {
        nv.close();
      }
      if (level12(o)) {
        List<Object[]> cases = new ArrayList<>();
        for (String k : List.of("daxpy", "ddot")) {
          for (long n : vectorSizes(o)) {
            cases.add(new Object[] {k, n});
          }
        }
        for (long n : gemvSizes(o)) {
          cases.add(new Object[] {"dgemv", n});
        }
        for (Object[] c : cases) {
          String k = (String) c[0];
          long n = (Long) c[1];
          ctx.progress().step("blas: " + k + " n=" + n);
          Row row = level12(ctx, res, k, (int) n, samples, g, gWrong, ob, obWrong);
          l12Summary.add(summary(row));
          ctx.progress().stepDone();
        }
      }
      g.close();
      ob.close();
      for (long n : apiSizes(o)) {
        ctx.progress().step("blas: Java API fp64 n=" + n);
        Row row = fp64Rows.get(n);
        PeerFigure api = api(ctx, (int) n, reps);
        row.peers().add(api);
        double r = api.ratio(row);
        row.extra().put("vs_device", r);
        String foot = String.format(Locale.ROOT, "dgemm n=%d: library %s GFLOP/s from "
            + "double[], Java API %s on device arrays (library/device %s)", n,
            Fmt.sig(row.throughput()), api.stats() == null ? "skipped: " + api.skipped()
                : Fmt.sig(row.throughput(api)) + " GFLOP/s", ratioText(r));
        res.footer().add(foot);
        partial(foot);
        ctx.progress().stepDone();
      }
      for (Map<String, Object> s : gemmSummary) {
        Row row = fp64Rows.get(((Number) s.get("n")).longValue());
        if ("dgemm".equals(s.get("routine")) && row != null && row.extra().containsKey("vs_device")) {
          s.put("vs_device", row.extra().get("vs_device"));
        }
      }
      res.summary().put("gemm", gemmSummary);
      res.summary().put("level12", l12Summary);
    } finally {
      for (Child c : children) {
        c.kill();
      }
      delete(dir);
    }
    return res;
  }

  /** The file names of the BLAS libraries a child mapped (the JSON's settings keep the paths). */
  private static String files(Map<String, Object> hello) {
    List<String> names = new ArrayList<>();
    if (hello.get("native") instanceof List<?> l) {
      for (Object x : l) {
        String p = String.valueOf(x);
        names.add(p.substring(p.lastIndexOf('/') + 1));
      }
    }
    return String.join(", ", names) + " (" + JsonText.str(hello, "impl", "?") + ")";
  }

  private static Map<String, Object> summary(Row row) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("routine", row.caseId());
    m.put("n", Math.round(row.x()));
    m.put("gflops", row.throughput());
    for (String k : List.of("route", "vs_openblas", "vs_nvblas")) {
      if (row.extra().containsKey(k)) {
        m.put(k, row.extra().get(k));
      }
    }
    if (row.skipped() != null) {
      m.put("skipped", row.skipped());
    }
    return m;
  }

  static boolean nvblasWanted(BenchOptions o) {
    String p = o.peers() == null ? "auto" : o.peers().trim().toLowerCase(Locale.ROOT);
    return p.equals("auto") || Arrays.asList(p.split(",")).contains(NVBLAS);
  }

  static String nvblasConf(Path openblas, int gpu, Path log) {
    return "NVBLAS_CPU_BLAS_LIB " + openblas + "\nNVBLAS_GPU_LIST " + gpu
        + "\nNVBLAS_TILE_DIM 2048\nNVBLAS_AUTOPIN_MEM_ENABLED\nNVBLAS_CPU_RATIO_SGEMM 0\n"
        + "NVBLAS_CPU_RATIO_DGEMM 0\nNVBLAS_LOGFILE " + log + "\n";
  }

  /** libnvblas.so under CUDA_HOME, CUDA_PATH or /usr/local/cuda, or null. */
  static Path findNvblas() {
    List<String> homes = new ArrayList<>();
    for (String e : List.of("CUDA_HOME", "CUDA_PATH")) {
      String v = System.getenv(e);
      if (v != null && !v.isEmpty()) {
        homes.add(v);
      }
    }
    homes.add("/usr/local/cuda");
    for (String h : homes) {
      for (String f : List.of("lib64/libnvblas.so", "targets/x86_64-linux/lib/libnvblas.so",
          "lib64/libnvblas.so.13", "lib64/libnvblas.so.12")) {
        Path p = Path.of(h, f);
        if (Files.isRegularFile(p)) {
          return p;
        }
      }
    }
    return null;
  }

  private static String ratioText(double r) {
    return Double.isNaN(r) ? "-" : String.format(Locale.ROOT, "%.2f", r);
  }

  /** One GEMM case on every side: a checked call, warm-ups, then timed calls interleaved. */
  private Row gemm(BenchContext ctx, SuiteResult res, String routine, int n, int reps, int warmup,
      Child g, String gWrong, Child ob, String obWrong, Child nv, String nvWhy, Path trace)
      throws IOException {
    boolean fp64 = routine.equals("dgemm");
    double flops = 2.0 * n * n * n;
    Row row = new Row(name(), "gemm", routine, routine + (fp64 ? " double[]" : " float[]")
        + " netlib -> libgpucore_blas", "gpucore blas", n, "n=" + n, flops, "GFLOP/s");
    res.rows().add(row);
    double tol = fp64 ? 1e-12 : 1e-5;
    String id = routine + n;
    String prep = "prep " + id + " " + routine + " " + n + " " + ctx.options().seed();
    List<Side> sides = new ArrayList<>();
    sides.add(new Side(g, gWrong, "library", null));
    sides.add(new Side(ob, obWrong, OPENBLAS_SIDE, routine + " netlib -> OpenBLAS"));
    sides.add(new Side(nv, nv == null ? nvWhy : null, NVBLAS, routine + " netlib -> nvBLAS"));
    long traceBefore = traceLines(trace, routine, n).size();
    int gCalls = 0;
    for (Side s : sides) {
      if (s.usable()) {
        ctx.progress().detail(s.name + ": inputs and the checked call");
        s.ask(prep);
        Map<String, Object> chk = s.ask("check " + id);
        if (chk != null) {
          s.err = JsonText.num(chk, "max_rel_err");
          if (!(s.err <= tol)) {
            s.why = String.format(Locale.ROOT, "MISMATCH, not timed: max rel err %.1e > %.0e",
                s.err, tol);
            s.mismatch = true;
          }
        }
        if (s.child == g) {
          gCalls++;
        }
      }
    }
    for (int i = 0; i < warmup; i++) {
      for (Side s : sides) {
        if (s.usable() && s.ask("run " + id + " 1") != null && s.child == g) {
          gCalls++;
        }
      }
    }
    Side last = null;
    for (int r = 0; r < reps; r++) {
      ctx.progress().detail("call " + (r + 1) + "/" + reps);
      for (int j = 0; j < sides.size(); j++) {
        Side s = sides.get((j + r) % sides.size());
        if (s.usable()) {
          if (last != null && last != s) {
            sleep(SETTLE_MS);
          }
          last = s;
          Map<String, Object> a = s.ask("run " + id + " 1");
          if (a != null) {
            s.samples.add(Math.round(JsonText.num(a, "ns")));
            if (s.child == g) {
              gCalls++;
            }
          }
        }
      }
    }
    for (Side s : sides) {
      if (s.usable()) {
        s.ask("free " + id);
      }
    }
    // the library's side: one trace line per call, else the calls did not reach it
    List<String> lines = traceLines(trace, routine, n);
    List<String> mine = lines.subList((int) Math.min(traceBefore, lines.size()), lines.size());
    String route = route(mine, n);
    row.extra().put("route", route);
    row.extra().put("trace_lines", mine.size());
    Side lib = sides.get(0);
    if (lib.why == null && gCalls > 0 && mine.size() != gCalls) {
      lib.why = "the trace of libgpucore_blas.so has " + mine.size() + " " + routine
          + "_ lines for " + gCalls + " calls: netlib did not call the library";
      lib.mismatch = true;
    }
    if (lib.why != null) {
      row.skip(lib.why);
      row.check(lib.why, false);
    } else {
      row.extra().put("max_rel_err", lib.err);
      row.measured(Stats.of(lib.longs()), "wall time of the call from Java (route " + route + ")");
      row.check(String.format(Locale.ROOT, "err %.1e, route %s", lib.err, route), true);
    }
    StringBuilder foot = new StringBuilder(String.format(Locale.ROOT, "%s n=%d: library %s GFLOP/s "
        + "(route %s)", routine, n, Fmt.sig(row.throughput()), route));
    for (Side s : sides.subList(1, sides.size())) {
      PeerFigure p = s.figure();
      row.peers().add(p);
      double r = p.ratio(row);
      row.extra().put("vs_" + s.name, r);
      foot.append(String.format(Locale.ROOT, ", %s %s GFLOP/s (ratio %s)", s.name,
          p.stats() == null ? "-" : Fmt.sig(row.throughput(p)), ratioText(r)));
    }
    res.footer().add(foot.toString());
    partial(foot.toString());
    return row;
  }

  /** One level-1/2 case: the library's and OpenBLAS's samples interleaved, ABBA. */
  private Row level12(BenchContext ctx, SuiteResult res, String kind, int n, int samples,
      Child g, String gWrong, Child ob, String obWrong) throws IOException {
    double flops = kind.equals("dgemv") ? 2.0 * n * n : 2.0 * n;
    String label = kind.equals("dgemv") ? n + "x" + n : "n=" + n;
    Row row = new Row(name(), "level12", kind, kind + " double[] netlib -> libgpucore_blas",
        "gpucore blas", n, label, flops, "GFLOP/s");
    res.rows().add(row);
    String id = kind + n;
    Side lib = new Side(g, gWrong, "library", null);
    Side other = new Side(ob, obWrong, OPENBLAS_SIDE, kind + " netlib -> OpenBLAS");
    List<Side> both = List.of(lib, other);
    for (Side s : both) {
      if (s.usable()) {
        s.ask("prep " + id + " " + kind + " " + n + " " + ctx.options().seed());
        Map<String, Object> chk = s.ask("check " + id);
        if (chk != null) {
          s.err = JsonText.num(chk, "max_rel_err");
          if (!(s.err <= 1e-12)) {
            s.why = String.format(Locale.ROOT, "MISMATCH, not timed: max rel err %.1e", s.err);
            s.mismatch = true;
          }
        }
      }
    }
    // calls per sample from OpenBLAS's side (the library's if it has none); the same for both
    Side ref = other.usable() ? other : lib;
    int calls = 1;
    if (ref.usable()) {
      Map<String, Object> a = ref.ask("calib " + id + " " + SAMPLE_MS);
      calls = a == null ? 1 : (int) JsonText.num(a, "calls");
    }
    for (Side s : both) {
      if (s.usable()) {
        s.ask("run " + id + " " + calls); // warm-up
      }
    }
    Side last = null;
    for (int r = 0; r < samples; r++) {
      ctx.progress().detail("sample " + (r + 1) + "/" + samples + " (" + calls + " calls)");
      List<Side> order = r % 2 == 0 ? both : List.of(other, lib);
      for (Side s : order) {
        if (!s.usable()) {
          continue;
        }
        if (last != null && last != s) {
          sleep(SETTLE_MS);
        }
        Map<String, Object> a = s.ask("run " + id + " " + calls);
        if (a != null) {
          s.samples.add(Math.round(JsonText.num(a, "ns") / calls));
        }
        last = s;
      }
    }
    for (Side s : both) {
      if (s.usable()) {
        s.ask("free " + id);
      }
    }
    row.extra().put("calls_per_sample", calls);
    if (lib.why != null) {
      row.skip(lib.why);
      row.check(lib.why, false);
    } else {
      row.extra().put("max_rel_err", lib.err);
      row.measured(Stats.of(lib.longs()), "forwarded to OpenBLAS; per call: System.nanoTime "
          + "around " + calls + " back-to-back calls, samples interleaved with OpenBLAS's");
      row.check(String.format(Locale.ROOT, "err %.1e", lib.err), true);
    }
    PeerFigure p = other.figure();
    row.peers().add(p);
    double r = p.ratio(row);
    row.extra().put("vs_openblas", r);
    String foot = String.format(Locale.ROOT, "%s %s: library %s, OpenBLAS %s per call "
        + "(ratio %s)", kind, label, row.stats() == null ? "-" : Fmt.time(row.stats().median()),
        p.stats() == null ? "-" : Fmt.time(p.stats().median()), ratioText(r));
    res.footer().add(foot);
    partial(foot);
    return row;
  }

  /** fp64 GEMM of the Java API on device arrays, as a figure beside the library's row. */
  private static PeerFigure api(BenchContext ctx, int n, int reps) {
    String label = "gpucore API fp64 GEMM, device arrays";
    if (!ctx.gpu()) {
      return new PeerFigure("device", label, "", null, ctx.noGpu(), null, false, null);
    }
    GpuCore core = ctx.core();
    int dev = ctx.options().device();
    long nn = (long) n * n;
    double[] a = new double[Math.toIntExact(nn)];
    double[] b = new double[a.length];
    SplittableRandom rnd = new SplittableRandom(ctx.options().seed());
    for (int i = 0; i < a.length; i++) {
      a[i] = rnd.nextDouble(-1, 1);
      b[i] = rnd.nextDouble(-1, 1);
    }
    try (DeviceArray da = core.allocate(dev, DType.FLOAT64, nn);
        DeviceArray db = core.allocate(dev, DType.FLOAT64, nn);
        DeviceArray dc = core.allocate(dev, DType.FLOAT64, nn);
        GpuStream s = core.stream(dev)) {
      da.copyFrom(a);
      db.copyFrom(b);
      dc.fill(Double.NaN);
      Gemm g = Gemm.of(n, n, n).precision(Precision.FP64);
      IntConsumer call = i -> core.blas().gemm(g, Operand.of(da), n, Operand.of(db), n,
          Operand.of(dc), n, s);
      call.accept(0);
      s.synchronize();
      double err = deviceError(n, a, b, dc);
      Map<String, Object> extra = new LinkedHashMap<>();
      extra.put("max_rel_err", err);
      if (!(err <= 1e-12)) {
        return new PeerFigure("device", label, "", null, String.format(Locale.ROOT,
            "MISMATCH, not timed: max rel err %.1e", err), null, true, extra);
      }
      int calls = GemmSuite.calibrate(call, s::synchronize);
      long[] samples = new long[Math.max(reps, 3)];
      for (int r = 0; r < samples.length; r++) {
        long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) {
          call.accept(i);
        }
        s.synchronize();
        samples[r] = Math.round((System.nanoTime() - t0) / (double) calls);
      }
      extra.put("calls_per_sample", calls);
      return new PeerFigure("device", label, "per call: " + calls + " calls queued on a stream "
          + "+ synchronize", Stats.of(samples), null, String.format(Locale.ROOT, "err %.1e", err),
          false, extra);
    } catch (RuntimeException e) {
      return new PeerFigure("device", label, "", null, "failed: " + e, null, false, null);
    }
  }

  /** {@link BlasChild#checkGemm} of row-major C = A·B with C on the device. */
  private static double deviceError(int n, double[] a, double[] b, DeviceArray dc) {
    double[] c = new double[a.length];
    dc.copyTo(c);
    return BlasChild.checkGemm(n, (i, k) -> a[i * n + k], (k, j) -> b[k * n + j],
        (i, j) -> c[i * n + j]);
  }

  /** A figure on stderr as soon as it is known: a run cut at a time limit still leaves it. */
  private static void partial(String line) {
    System.err.println("partial: blas " + line);
    System.err.flush();
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A child in one case: its samples and why it has none. */
  private static final class Side {
    final Child child;
    final String name;
    final String label;
    String why;
    boolean mismatch;
    double err = Double.NaN;
    final List<Long> samples = new ArrayList<>();

    Side(Child child, String why, String name, String label) {
      this.child = child;
      this.why = why;
      this.name = name;
      this.label = label;
    }

    boolean usable() {
      return why == null && child != null && child.alive();
    }

    /** The answer, or null after the child died or refused (then {@link #why} says so). */
    Map<String, Object> ask(String cmd) {
      try {
        Map<String, Object> a = child.ask(cmd);
        if (a.containsKey("error")) {
          why = "'" + cmd.split(" ")[0] + "' failed: " + a.get("error");
          return null;
        }
        return a;
      } catch (ChildDied e) {
        why = e.getMessage();
        return null;
      }
    }

    long[] longs() {
      return samples.stream().mapToLong(Long::longValue).toArray();
    }

    /** This side's figure as a peer of the library's row. */
    PeerFigure figure() {
      Map<String, Object> extra = new LinkedHashMap<>();
      if (!Double.isNaN(err)) {
        extra.put("max_rel_err", err);
      }
      if (why != null || samples.isEmpty()) {
        // OpenBLAS's JVM is the baseline: anything wrong there fails the row, as a wrong
        // result anywhere does; nvBLAS missing, not loading or crashing only skips its figure
        boolean failed = !name.equals(NVBLAS) || mismatch;
        return new PeerFigure(name, label, "", null, why == null ? "no samples" : why, null,
            failed, extra);
      }
      return new PeerFigure(name, label, "wall time of the call from Java", Stats.of(longs()),
          null, String.format(Locale.ROOT, "err %.1e", err), false, extra);
    }
  }

  /** The child JVM died or stopped answering; the message says how. */
  static final class ChildDied extends IOException {
    ChildDied(String m) {
      super(m);
    }
  }

  /** A {@link BlasChild} JVM over one native BLAS, driven over its stdin and stdout. */
  static final class Child implements AutoCloseable {
    final String side;
    final Path lib;
    final Process process;
    final Path stderr;
    final Map<String, Object> hello;
    private final BufferedWriter in;
    private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
    /** The last lines on stdout that are not answers (the JVM's fatal-error report goes there). */
    private final java.util.Deque<String> other = new java.util.ArrayDeque<>();
    private final Thread reader;
    String dead;

    private Child(String side, Path lib, Process p, Path stderr) throws ChildDied {
      this.side = side;
      this.lib = lib;
      this.process = p;
      this.stderr = stderr;
      this.in = new BufferedWriter(new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8));
      this.reader = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(
            new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
          String l;
          while ((l = r.readLine()) != null) {
            if (l.startsWith(BlasChild.PREFIX)) {
              answers.add(l.substring(BlasChild.PREFIX.length()));
            } else {
              synchronized (other) {
                other.addLast(l);
                if (other.size() > 200) {
                  other.removeFirst();
                }
              }
            }
          }
        } catch (IOException e) {
          // the process is gone; ask() says how
        }
        answers.add("");
      }, "blas-child-" + side);
      reader.setDaemon(true);
      reader.start();
      this.hello = next("start");
    }

    /**
     * Starts {@link BlasChild} with netlib's library path set to {@code nativeLib}, and reads
     * its first line (what it loaded).
     */
    static Child start(String side, Path dir, Path nativeLib, Map<String, String> env,
        long heapBytes, String classPath) throws IOException {
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.add("-Xmx" + (heapBytes >> 20) + "m");
      cmd.add("-XX:+UseParallelGC");
      cmd.add("-XX:-CreateCoredumpOnCrash");
      cmd.add("-XX:ErrorFile=" + dir.resolve("hs_err_" + side + "_%p.log"));
      cmd.add("-Djava.io.tmpdir=" + dir);
      cmd.add("-Ddev.ludovic.netlib.blas.nativeLibPath=" + nativeLib);
      cmd.add("-cp");
      cmd.add(classPath);
      cmd.add(BlasChild.class.getName());
      ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
      pb.environment().putAll(env);
      // OpenBLAS's libgfortran finds libquadmath (extracted here too) only on the loader's path
      String ld = pb.environment().get("LD_LIBRARY_PATH");
      pb.environment().put("LD_LIBRARY_PATH",
          dir + (ld == null || ld.isEmpty() ? "" : File.pathSeparator + ld));
      Path err = dir.resolve("stderr-" + side + ".txt");
      pb.redirectError(err.toFile());
      return new Child(side, nativeLib, pb.start(), err);
    }

    boolean alive() {
      return dead == null;
    }

    /** Sends one command and returns its answer. */
    Map<String, Object> ask(String cmd) throws ChildDied {
      if (dead != null) {
        throw new ChildDied(dead);
      }
      try {
        in.write(cmd);
        in.newLine();
        in.flush();
      } catch (IOException e) {
        // it died: next() says how
      }
      return next(cmd);
    }

    private Map<String, Object> next(String cmd) throws ChildDied {
      String l;
      try {
        l = answers.poll(ANSWER_TIMEOUT_S, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        l = null;
      }
      if (l == null) {
        process.destroyForcibly();
        dead = "the " + side + " JVM gave no answer to '" + cmd.split(" ")[0] + "' within "
            + ANSWER_TIMEOUT_S + " s";
        throw new ChildDied(dead);
      }
      if (l.isEmpty()) {
        int code;
        try {
          code = process.waitFor(30, TimeUnit.SECONDS) ? process.exitValue() : -1;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          code = -1;
        }
        dead = "the " + side + " JVM died at '" + cmd.split(" ")[0] + "' (exit " + code + ")"
            + crashText();
        throw new ChildDied(dead);
      }
      return JsonText.object(JsonText.parse(l));
    }

    /** The JVM's fatal-error lines (signal, frame) or its last stderr line. */
    private String crashText() {
      List<String> ls = new ArrayList<>();
      try {
        reader.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      synchronized (other) {
        ls.addAll(other);
      }
      try {
        ls.addAll(Files.readAllLines(stderr, StandardCharsets.UTF_8));
      } catch (IOException e) {
        // only stdout's
      }
      List<String> keep = new ArrayList<>();
      for (String l : ls) {
        String t = l.strip();
        if (t.startsWith("#") && (t.matches("#\\s+SIG.*") || t.matches("#\\s+[CjJv]\\s+\\[.*"))) {
          keep.add(t.replaceFirst("^#\\s*", ""));
        }
      }
      if (keep.isEmpty()) {
        for (int i = ls.size() - 1; i >= 0; i--) {
          if (!ls.get(i).isBlank()) {
            return ": " + ls.get(i).strip();
          }
        }
        return "";
      }
      return ": " + String.join("; ", keep);
    }

    /**
     * Why this JVM is not netlib's JNIBLAS over {@code expected} (with its OpenBLAS, {@code
     * openblas}, the one copy), or null when it is.
     */
    String verify(Path expected, Path openblas) {
      return wrongImplementation(side, hello, expected, openblas);
    }

    @Override
    public void close() {
      if (dead == null) {
        try {
          ask("quit");
        } catch (ChildDied e) {
          // gone already
        }
        dead = "closed";
      }
      kill();
    }

    void kill() {
      try {
        if (!process.waitFor(dead != null && dead.equals("closed") ? 10 : 0, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          process.waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
      if (dead == null) {
        dead = "closed";
      }
    }
  }

  /**
   * Why a child's first line shows something other than netlib's JNIBLAS over {@code expected}
   * for {@code side} ({@code gpucore}: libgpucore_blas.so and its OpenBLAS, {@code openblas}:
   * OpenBLAS alone, {@code nvblas}: libnvblas.so), or null when it shows that.
   */
  static String wrongImplementation(String side, Map<String, Object> hello, Path expected,
      Path openblas) {
    String impl = JsonText.str(hello, "impl", "?");
    if (!impl.endsWith(".JNIBLAS")) {
      return "netlib uses " + impl + ", not JNIBLAS over " + expected.getFileName() + ": "
          + JsonText.str(hello, "load_error", "(no reason given)");
    }
    List<String> mapped = new ArrayList<>();
    if (hello.get("native") instanceof List<?> l) {
      for (Object x : l) {
        mapped.add(String.valueOf(x));
      }
    }
    String exp = real(expected);
    if (!mapped.contains(exp)) {
      return expected.getFileName() + " is not mapped into the " + side + " JVM (its BLAS "
          + "libraries: " + mapped + ")";
    }
    String ob = real(openblas);
    for (String m : mapped) {
      String file = m.substring(m.lastIndexOf('/') + 1);
      if (file.startsWith("libopenblas") && !m.equals(ob)) {
        return "a second OpenBLAS is mapped into the " + side + " JVM: " + m + " (expected only "
            + ob + ")";
      }
      if (!side.equals(GPUCORE) && file.startsWith("libgpucore_blas")) {
        return "libgpucore_blas.so is mapped into the " + side + " JVM: " + m;
      }
    }
    if (side.equals(GPUCORE) && !mapped.contains(ob)) {
      return "libgpucore_blas.so did not load its OpenBLAS " + ob + " (mapped: " + mapped + ")";
    }
    return null;
  }

  private static String real(Path p) {
    try {
      return p.toRealPath().toString();
    } catch (IOException e) {
      return p.toAbsolutePath().toString();
    }
  }

  /** Heap for a child: the largest case's arrays with room to spare. */
  static long childHeap(BenchOptions o) {
    long big = 0;
    for (long n : o.sizesFor(new BlasSuite(), null)) {
      big = Math.max(big, 3 * n * n * 8);
    }
    for (long n : gemvSizes(o)) {
      big = Math.max(big, (n * n + 2 * n) * 8);
    }
    for (long n : vectorSizes(o)) {
      big = Math.max(big, 3 * n * 8);
    }
    return Math.max(512L << 20, big + big / 4 + (256L << 20));
  }

  /**
   * The child's class path: the jars (or folders) of the classes it needs — the suites, the
   * CLI's JSON, netlib's BLAS and the f2j types its interface names — wherever this JVM found
   * them (class path, module path, a jlinked runtime's folder of jars), then this JVM's own
   * class path and module path entries as they are.
   */
  static String childClassPath(ClassLoader cl) {
    Set<String> cp = new LinkedHashSet<>();
    for (String name : List.of(BlasChild.class.getName(), JsonText.class.getName(),
        BlasChild.API, NETLIB, "org.netlib.util.doubleW")) {
      try {
        CodeSource cs = Class.forName(name, false, cl).getProtectionDomain().getCodeSource();
        if (cs != null && cs.getLocation() != null) {
          cp.add(Path.of(cs.getLocation().toURI()).toString());
        }
      } catch (ClassNotFoundException | LinkageError | URISyntaxException
          | IllegalArgumentException e) {
        // not there: the entries below may still hold it
      }
    }
    for (String prop : List.of("java.class.path", "jdk.module.path")) {
      String v = System.getProperty(prop, "");
      for (String e : v.split(File.pathSeparator)) {
        if (e.isEmpty()) {
          continue;
        }
        Path p = Path.of(e);
        if (Files.isDirectory(p) && prop.equals("jdk.module.path")) {
          // a module path folder holds jars; a class path folder holds classes
          try (Stream<Path> s = Files.list(p)) {
            s.filter(f -> f.toString().endsWith(".jar")).sorted()
                .forEach(f -> cp.add(f.toString()));
          } catch (IOException x) {
            cp.add(e);
          }
        } else {
          cp.add(e);
        }
      }
    }
    return String.join(File.pathSeparator, cp);
  }

  /** The trace's lines for {@code routine} at n x n x n. */
  static List<String> traceLines(Path trace, String routine, long n) throws IOException {
    if (!Files.exists(trace)) {
      return List.of();
    }
    String key = routine + "_ m=" + n + " n=" + n + " k=" + n + " ";
    List<String> out = new ArrayList<>();
    for (String l : Files.readAllLines(trace, StandardCharsets.UTF_8)) {
      if (l.contains(" " + key)) {
        out.add(l);
      }
    }
    return out;
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
      if (why >= 0 && !route.equals("gpu")) {
        String reason = rest.substring(why + "reason=".length());
        int colon = reason.indexOf(':');
        route += " (" + (colon < 0 ? reason : reason.substring(0, colon)) + ")";
      }
      routes.add(route);
    }
    return routes.isEmpty() ? "-" : String.join("+", routes);
  }

  /**
   * Copies libgpucore_blas.so and OpenBLAS (with its libgfortran, libquadmath, libgcc_s) from
   * the class path into {@code dir}; returns the library's path ({@code dir/libopenblas.so.0}
   * beside it).
   */
  static Path extractLibraries(ClassLoader cl, Path dir) throws IOException {
    Path lib = extract(cl, LIBRARY, dir.resolve("libgpucore_blas.so"));
    for (String f : OPENBLAS_FILES) {
      if (cl.getResource(OPENBLAS + f) != null) {
        extract(cl, OPENBLAS + f, dir.resolve(f));
      }
    }
    return lib;
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
