package dev.gpucore.bench.suites;

import dev.gpucore.cli.JsonText;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The peers run beside gpucore in the same run, on the same inputs:
 *
 * <ul>
 *   <li>{@code torch} and {@code numpy}: {@code peers_torch.py}, run with python3 (or
 *       {@code --python}) when it imports; it serves every suite;
 *   <li>{@code openblas}: {@code peers.c} compiled with gcc against the machine's OpenBLAS
 *       (or, without one, the OpenBLAS build gpucore itself ships, copied out of its jar);
 *   <li>{@code nvblas}: the same program linked against nvBLAS in front of that OpenBLAS;
 *   <li>{@code cudart}: the same source built with {@code -DPEERS_CUDART} against the CUDA
 *       runtime.
 * </ul>
 *
 * Sources are resources of this package, copied to a temporary directory (removed at the end).
 * A peer that cannot run is kept with the reason, so that it is named in the output rather than
 * silently dropped.
 */
public final class Peers implements AutoCloseable {
  /** All peers this harness knows. */
  public static final List<String> NAMES = List.of("torch", "numpy", "openblas", "nvblas", "cudart");

  /** A peer's state: available with a version, or not with the reason. */
  public record Status(String name, boolean available, String detail, Map<String, Object> info) {}

  private static final String RES = "/dev/gpucore/bench/suites/";
  private static final String BUNDLED_OPENBLAS = "org/bytedeco/openblas/linux-x86_64/";

  private final Path dir;
  private final String python;
  private final int timeoutS;
  private final int cudaOrdinal;
  private final boolean gpu;
  private final String noGpuReason;
  private final int threads;
  private final Map<String, Status> status = new LinkedHashMap<>();
  private final Map<String, Path> exe = new LinkedHashMap<>();
  private final Map<String, String> env = new LinkedHashMap<>();
  private Path openblasLib;

  /**
   * Prepares the peers named in {@code wanted} ({@code auto}: all, {@code none}: none, or a
   * comma-separated list): extracts, compiles and probes each.
   *
   * @param suites the suites to run, so that only peers some suite uses are prepared
   */
  public Peers(String wanted, List<String> suites, String python, int timeoutS, int cudaOrdinal,
      boolean gpu, String noGpuReason, int threads, Consumer<String> progress) throws IOException {
    this.python = python;
    this.timeoutS = timeoutS;
    this.cudaOrdinal = cudaOrdinal;
    this.gpu = gpu;
    this.noGpuReason = noGpuReason;
    this.threads = threads;
    this.dir = Files.createTempDirectory("gpucore-bench-peers-");
    List<String> want = select(wanted);
    List<String> used = new ArrayList<>();
    for (String s : suites) {
      used.addAll(usedBy(s));
    }
    for (String p : want) {
      if (!used.contains(p)) {
        continue;
      }
      progress.accept("preparing peer " + p);
      try {
        switch (p) {
          case "torch", "numpy" -> {
            if (!status.containsKey(p)) {
              probePython();
            }
          }
          case "openblas" -> prepareOpenblas();
          case "nvblas" -> prepareNvblas();
          case "cudart" -> prepareCudart();
          default -> throw new IllegalStateException(p);
        }
      } catch (IOException | RuntimeException e) {
        status.put(p, new Status(p, false, "could not be prepared: " + e.getMessage(), Map.of()));
      }
    }
    status.keySet().retainAll(want);
    status.keySet().retainAll(used);
  }

  /** The peers that can take part in a suite's rows. */
  public static List<String> usedBy(String suite) {
    return switch (suite) {
      case "transfer" -> List.of("torch", "numpy", "cudart");
      case "e2e" -> List.of("torch", "openblas", "nvblas");
      case "gemm" -> List.of("torch", "openblas", "nvblas");
      case "reduce", "p2p" -> List.of("torch");
      default -> List.of();
    };
  }

  /** Parses {@code --peers}. */
  public static List<String> select(String wanted) {
    String w = wanted == null ? "auto" : wanted.trim();
    if (w.equals("auto") || w.equals("all")) {
      return NAMES;
    }
    if (w.equals("none") || w.isEmpty()) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (String p : w.split(",")) {
      String n = p.trim();
      if (!NAMES.contains(n)) {
        throw new IllegalArgumentException("--peers: unknown peer '" + n + "'; known: auto, none, "
            + String.join(", ", NAMES));
      }
      out.add(n);
    }
    return out;
  }

  /** Every peer prepared, in order, with its state. */
  public List<Status> statuses() {
    return new ArrayList<>(status.values());
  }

  /** Whether {@code name} was asked for and can run. */
  public boolean available(String name) {
    Status s = status.get(name);
    return s != null && s.available();
  }

  /** The state of {@code name}, or null when it was not asked for. */
  public Status status(String name) {
    return status.get(name);
  }

  // ---- preparation ----

  private Path extract(String name) throws IOException {
    Path p = dir.resolve(name);
    try (InputStream in = Peers.class.getResourceAsStream(RES + name)) {
      if (in == null) {
        throw new IOException("resource " + RES + name + " is missing from the jar");
      }
      Files.copy(in, p, StandardCopyOption.REPLACE_EXISTING);
    }
    return p;
  }

  private void probePython() throws IOException {
    Path script = extract("peers_torch.py");
    Result r;
    try {
      r = exec(List.of(python, script.toString(), "--probe", String.valueOf(cudaOrdinal)),
          Map.of(), 120, null);
    } catch (IOException e) {
      String why = python + " could not be started (" + e.getMessage() + ")";
      status.put("torch", new Status("torch", false, why, Map.of()));
      status.put("numpy", new Status("numpy", false, why, Map.of()));
      return;
    }
    for (Map<String, Object> m : r.lines) {
      String n = JsonText.str(m, "peer", "");
      if (n.equals("torch") || n.equals("numpy")) {
        boolean ok = Boolean.TRUE.equals(m.get("available"));
        status.put(n, new Status(n, ok, ok ? JsonText.str(m, "version", "")
            : JsonText.str(m, "reason", "unavailable"), m));
      }
    }
    for (String n : List.of("torch", "numpy")) {
      status.putIfAbsent(n, new Status(n, false, "peers_torch.py --probe failed (exit " + r.exit
          + "): " + r.errTail(), Map.of()));
    }
  }

  private String gccMissing() {
    String v = Machine.run(dir, "gcc", "--version");
    return v == null ? "gcc not found on the PATH" : null;
  }

  private void prepareOpenblas() throws IOException {
    String why = gccMissing();
    if (why != null) {
      status.put("openblas", new Status("openblas", false, why, Map.of()));
      return;
    }
    Path lib = findOpenblas();
    if (lib == null) {
      status.put("openblas", new Status("openblas", false, "no libopenblas.so.0 on this machine "
          + "nor in gpucore's jars (set GPUCORE_PEER_OPENBLAS=/path/to/libopenblas.so)", Map.of()));
      return;
    }
    Path src = extract("peers.c");
    Path out = dir.resolve("peers_openblas");
    Result c = exec(List.of("gcc", "-O2", "-std=c11", "-o", out.toString(), src.toString(),
        lib.toString(), "-Wl,-rpath," + lib.getParent(), "-lm"), Map.of(), 120, null);
    if (c.exit != 0) {
      status.put("openblas", new Status("openblas", false, "gcc failed: " + c.errTail(), Map.of()));
      return;
    }
    exe.put("openblas", out);
    Status s = probeC("openblas", List.of(out.toString(), "openblas", "probe"), blasEnv());
    String where = lib.startsWith(dir) ? "gpucore's own OpenBLAS build (from its jar)" : lib.toString();
    status.put("openblas", s.available() ? new Status("openblas", true, s.detail() + "; " + where
        + "; OPENBLAS_NUM_THREADS=" + threads, s.info()) : s);
  }

  private Map<String, String> blasEnv() {
    Map<String, String> e = new LinkedHashMap<>();
    e.put("OPENBLAS_NUM_THREADS", String.valueOf(threads));
    return e;
  }

  private void prepareNvblas() throws IOException {
    String why = gccMissing();
    Path cuda = cudaHome();
    Path nvblas = cuda == null ? null : firstExisting(cuda.resolve("lib64/libnvblas.so"),
        cuda.resolve("targets/x86_64-linux/lib/libnvblas.so"), cuda.resolve("lib64/libnvblas.so.13"));
    if (why == null && nvblas == null) {
      why = "libnvblas.so not found (looked under " + (cuda == null ? "no CUDA toolkit found: "
          + "set CUDA_HOME" : cuda) + ")";
    }
    Path ob = why == null ? findOpenblas() : null;
    if (why == null && ob == null) {
      why = "nvBLAS needs a CPU BLAS library (NVBLAS_CPU_BLAS_LIB) and no OpenBLAS was found";
    }
    if (why == null && !gpu) {
      why = "no GPU visible: " + noGpuReason;
    }
    if (why != null) {
      status.put("nvblas", new Status("nvblas", false, why, Map.of()));
      return;
    }
    Path src = extract("peers.c");
    Path out = dir.resolve("peers_nvblas");
    Result c = exec(List.of("gcc", "-O2", "-std=c11", "-o", out.toString(), src.toString(),
        nvblas.toString(), ob.toString(), "-Wl,--disable-new-dtags",
        "-Wl,-rpath," + nvblas.getParent() + ":" + ob.getParent(), "-lm"), Map.of(), 120, null);
    if (c.exit != 0) {
      status.put("nvblas", new Status("nvblas", false, "gcc failed: " + c.errTail(), Map.of()));
      return;
    }
    Path conf = dir.resolve("nvblas.conf");
    Files.writeString(conf, "NVBLAS_CPU_BLAS_LIB " + ob + "\nNVBLAS_GPU_LIST " + cudaOrdinal
        + "\nNVBLAS_TILE_DIM 2048\nNVBLAS_AUTOPIN_MEM_ENABLED\nNVBLAS_LOGFILE "
        + dir.resolve("nvblas.log") + "\n");
    env.put("NVBLAS_CONFIG_FILE", conf.toString());
    env.put("LD_LIBRARY_PATH", libraryPath(nvblas.getParent()));
    exe.put("nvblas", out);
    Status s = probeC("nvblas", List.of(out.toString(), "nvblas", "probe"), nvblasEnv());
    status.put("nvblas", s.available() ? new Status("nvblas", true, "nvBLAS (" + nvblas
        + ") over " + s.detail() + "; GPU_LIST " + cudaOrdinal + ", TILE_DIM 2048, AUTOPIN", s.info()) : s);
  }

  private Map<String, String> nvblasEnv() {
    Map<String, String> e = blasEnv();
    e.put("NVBLAS_CONFIG_FILE", env.get("NVBLAS_CONFIG_FILE"));
    e.put("LD_LIBRARY_PATH", env.get("LD_LIBRARY_PATH"));
    return e;
  }

  /** {@code dir} in front of the inherited LD_LIBRARY_PATH (cuBLAS beside nvBLAS, and so on). */
  private static String libraryPath(Path dir) {
    String old = System.getenv("LD_LIBRARY_PATH");
    return dir + (old == null || old.isBlank() ? "" : ":" + old);
  }

  private void prepareCudart() throws IOException {
    String why = gccMissing();
    Path cuda = cudaHome();
    Path inc = cuda == null ? null : firstExisting(cuda.resolve("include/cuda_runtime.h"),
        cuda.resolve("targets/x86_64-linux/include/cuda_runtime.h"));
    Path lib = cuda == null ? null : firstExisting(cuda.resolve("lib64/libcudart.so"),
        cuda.resolve("targets/x86_64-linux/lib/libcudart.so"));
    if (why == null && (inc == null || lib == null)) {
      why = "the CUDA runtime headers or libcudart.so were not found (looked under "
          + (cuda == null ? "no CUDA toolkit found: set CUDA_HOME" : cuda) + ")";
    }
    if (why != null) {
      status.put("cudart", new Status("cudart", false, why, Map.of()));
      return;
    }
    Path src = extract("peers.c");
    Path out = dir.resolve("peers_cudart");
    Result c = exec(List.of("gcc", "-O2", "-std=c11", "-DPEERS_CUDART", "-I" + inc.getParent(),
        "-o", out.toString(), src.toString(), lib.toString(), "-ldl", "-Wl,--disable-new-dtags",
        "-Wl,-rpath," + lib.getParent()), Map.of(), 120, null);
    if (c.exit != 0) {
      status.put("cudart", new Status("cudart", false, "gcc failed: " + c.errTail(), Map.of()));
      return;
    }
    exe.put("cudart", out);
    env.put("CUDART_LD_LIBRARY_PATH", libraryPath(lib.getParent()));
    status.put("cudart", probeC("cudart", List.of(out.toString(), "cudart", "probe",
        String.valueOf(cudaOrdinal)), cudartEnv()));
  }

  private Map<String, String> cudartEnv() {
    return Map.of("LD_LIBRARY_PATH", env.get("CUDART_LD_LIBRARY_PATH"));
  }

  private Status probeC(String name, List<String> cmd, Map<String, String> e) throws IOException {
    Result r = exec(cmd, e, 120, null);
    for (Map<String, Object> m : r.lines) {
      if (name.equals(m.get("peer")) && m.containsKey("available")) {
        boolean ok = Boolean.TRUE.equals(m.get("available")) && r.exit == 0;
        return new Status(name, ok, ok ? JsonText.str(m, "version", "")
            : JsonText.str(m, "reason", "probe failed (exit " + r.exit + ")"), m);
      }
    }
    return new Status(name, false, "probe failed (exit " + r.exit + "): " + r.errTail(), Map.of());
  }

  /** The CUDA toolkit: CUDA_HOME, CUDA_PATH, /usr/local/cuda, or above nvcc on the PATH. */
  static Path cudaHome() {
    List<Path> c = new ArrayList<>();
    for (String v : new String[] {System.getenv("CUDA_HOME"), System.getenv("CUDA_PATH")}) {
      if (v != null && !v.isBlank()) {
        c.add(Path.of(v));
      }
    }
    c.add(Path.of("/usr/local/cuda"));
    String path = System.getenv("PATH");
    if (path != null) {
      for (String d : path.split(":")) {
        Path nvcc = Path.of(d.isEmpty() ? "." : d, "nvcc");
        if (Files.isExecutable(nvcc)) {
          c.add(nvcc.toAbsolutePath().getParent().getParent());
        }
      }
    }
    try (Stream<Path> s = Files.list(Path.of("/usr/local"))) {
      s.filter(p -> p.getFileName().toString().startsWith("cuda-"))
          .sorted(Comparator.reverseOrder()).forEach(c::add);
    } catch (IOException e) {
      // none
    }
    for (Path p : c) {
      if (Files.isDirectory(p.resolve("include")) || Files.isDirectory(p.resolve("lib64"))) {
        return p;
      }
    }
    return null;
  }

  private static Path firstExisting(Path... ps) {
    for (Path p : ps) {
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    return null;
  }

  /**
   * The OpenBLAS shared library: GPUCORE_PEER_OPENBLAS (a path, or {@code bundled}), then the
   * usual system places and the loader cache, then the build inside gpucore's own OpenBLAS jar
   * (copied out with its Fortran runtime).
   */
  private Path findOpenblas() throws IOException {
    if (openblasLib != null) {
      return openblasLib;
    }
    String envLib = System.getenv("GPUCORE_PEER_OPENBLAS");
    if ("bundled".equals(envLib)) {
      openblasLib = bundledOpenblas();
      return openblasLib;
    }
    List<Path> c = new ArrayList<>();
    if (envLib != null && !envLib.isBlank()) {
      c.add(Path.of(envLib));
    }
    for (String d : new String[] {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/usr/lib64",
        "/usr/lib", "/usr/local/lib", "/opt/OpenBLAS/lib", "/lib/aarch64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu"}) {
      c.add(Path.of(d, "libopenblas.so.0"));
    }
    String ld = Machine.run(dir, "sh", "-c", "ldconfig -p 2>/dev/null | grep -m1 'libopenblas.so.0 '");
    if (ld != null && ld.contains("=>")) {
      c.add(Path.of(ld.substring(ld.indexOf("=>") + 2).trim()));
    }
    Path found = firstExisting(c.toArray(new Path[0]));
    if (found == null) {
      found = bundledOpenblas();
    }
    openblasLib = found;
    return found;
  }

  private Path bundledOpenblas() throws IOException {
    ClassLoader cl = Peers.class.getClassLoader();
    if (cl.getResource(BUNDLED_OPENBLAS + "libopenblas.so.0") == null) {
      return null;
    }
    Path d = Files.createDirectories(dir.resolve("openblas"));
    for (String f : new String[] {"libopenblas.so.0", "libgfortran.so.5", "libquadmath.so.0",
        "libgcc_s.so.1"}) {
      try (InputStream in = cl.getResourceAsStream(BUNDLED_OPENBLAS + f)) {
        if (in != null) {
          Files.copy(in, d.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    return d.resolve("libopenblas.so.0");
  }

  // ---- running ----

  /**
   * The C peer {@code peer} ({@code openblas}) taking the gemm suite's host cases sample by
   * sample, to be interleaved with gpucore's rounds ({@link InterleavedPeer}); null when the
   * peer is not available.
   *
   * @param caseId the rows its lines answer to ({@code cpu})
   * @param threadTimeout OpenBLAS's {@code OPENBLAS_THREAD_TIMEOUT} for it, as gpucore's CPU
   *     backend sets it ({@code gpucore.cpu.threadTimeout}); 0: OpenBLAS's own
   */
  InterleavedPeer interleavedPeer(String peer, String caseId, long seed, int sampleMs,
      int threadTimeout) throws IOException {
    if (!available(peer) || !exe.containsKey(peer)) {
      return null;
    }
    List<String> cmd = List.of(exe.get(peer).toString(), peer, "gemm-serve", caseId,
        Long.toUnsignedString(seed), String.valueOf(sampleMs));
    return new InterleavedPeer(peer, cmd, interleavedEnv(peer, threadTimeout), dir, timeoutS,
        threadTimeout);
  }

  /** The environment a {@link #interleavedPeer} adds: the peer's, and the thread timeout. */
  Map<String, String> interleavedEnv(String peer, int threadTimeout) {
    Map<String, String> e = new LinkedHashMap<>(peer.equals("nvblas") ? nvblasEnv() : blasEnv());
    if (threadTimeout > 0) {
      e.put("OPENBLAS_THREAD_TIMEOUT", String.valueOf(threadTimeout));
    }
    return e;
  }

  /**
   * Runs every available peer that takes part in {@code suite}, each once for all sizes, and
   * returns their result lines (JSON objects). A peer that fails adds a line
   * {@code {"peer": name, "unavailable": reason}}.
   *
   * @param request suite, sizes (each {@code {"x": size, "buffers": k}}, or with {@code "arg"}
   *     the C peer's size argument as it is), reps, warmup, seed, dtype, and optionally
   *     {@code "done_in_rounds"}: per peer, the size arguments it already ran in the suite's own
   *     rounds (not run again here)
   */
  public List<Map<String, Object>> run(String suite, Map<String, Object> request,
      Consumer<String> progress) throws IOException {
    List<Map<String, Object>> out = new ArrayList<>();
    Map<String, Object> req = new LinkedHashMap<>(request);
    req.put("suite", suite);
    req.put("cuda_ordinal", cudaOrdinal);
    req.put("threads", threads);
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> sizes = (List<Map<String, Object>>) req.get("sizes");
    List<String> sizeArgs = new ArrayList<>();
    for (Map<String, Object> s : sizes) {
      // a size may carry its own argument for the C peer (gemm: DTYPE:M:N:K:GROUP)
      sizeArgs.add(s.get("arg") instanceof String arg ? arg
          : Math.round(JsonText.num(s, "x")) + ":" + Math.round(JsonText.num(s, "buffers")));
    }
    String seed = Long.toUnsignedString(((Number) req.get("seed")).longValue());
    String reps = String.valueOf(req.get("reps"));
    String warmup = String.valueOf(req.get("warmup"));
    boolean pythonRan = false;
    Map<?, ?> done = req.get("done_in_rounds") instanceof Map<?, ?> d ? d : Map.of();
    for (String p : usedBy(suite)) {
      List<String> args = sizeArgs;
      if (done.get(p) instanceof List<?> ran) {
        args = new ArrayList<>(sizeArgs);
        args.removeAll(ran);
        if (args.isEmpty()) {
          continue;
        }
      }
      Status st = status.get(p);
      if (p.equals("torch") || p.equals("numpy")) {
        // one script serves both: run it once if either is asked for and available
        boolean numpyHere = available("numpy") && usedBy(suite).contains("numpy");
        if (pythonRan || !(available("torch") || numpyHere)) {
          continue;
        }
        pythonRan = true;
        p = "torch";
      } else if (st == null || !st.available()) {
        continue;
      }
      List<String> cmd = new ArrayList<>();
      Map<String, String> e = Map.of();
      switch (p) {
        case "torch" -> {
          Path r = dir.resolve("request-" + suite + ".json");
          Files.writeString(r, JsonText.write(req));
          cmd.addAll(List.of(python, dir.resolve("peers_torch.py").toString(), r.toString()));
          e = Map.of("PYTHONUNBUFFERED", "1", "OMP_NUM_THREADS", String.valueOf(threads));
        }
        case "openblas", "nvblas" -> {
          Object prec = req.get("precision");
          if (p.equals("nvblas") && prec != null && !prec.equals("fp32") && !prec.equals("fp64")) {
            for (Map<String, Object> sz : sizes) {
              Map<String, Object> m = new LinkedHashMap<>();
              m.put("peer", p);
              m.put("suite", suite);
              m.put("group", "e2e");
              m.put("case", "gpu");
              m.put("x", sz.get("x"));
              m.put("skipped", "nvBLAS computes fp32/fp64 only (no " + prec + ")");
              out.add(m);
            }
            continue;
          }
          if (suite.equals("gemm")) {
            // host-array SGEMM/DGEMM C = A*B^T: OpenBLAS beside gpucore's CPU row, nvBLAS beside its GPU row
            cmd.addAll(List.of(exe.get(p).toString(), p, "gemm", p.equals("openblas") ? "cpu" : "gpu",
                seed, reps, String.valueOf(req.get("sample_ms")), String.valueOf(req.get("budget_s"))));
          } else {
            cmd.addAll(List.of(exe.get(p).toString(), p, "e2e", p.equals("openblas") ? "cpu" : "gpu",
                String.valueOf(req.get("dtype")), seed, reps, warmup));
          }
          cmd.addAll(args);
          // gemm: as the peer in the rounds (the cases it left run here), with the thread
          // timeout the request names
          e = suite.equals("gemm") && req.get("thread_timeout") instanceof Number tt
              ? interleavedEnv(p, tt.intValue()) : p.equals("nvblas") ? nvblasEnv() : blasEnv();
        }
        case "cudart" -> {
          cmd.addAll(List.of(exe.get(p).toString(), "cudart", "transfer",
              String.valueOf(cudaOrdinal), reps, warmup, seed));
          cmd.addAll(args);
          e = cudartEnv();
        }
        default -> throw new IllegalStateException(p);
      }
      String name = p.equals("torch") ? "peers_torch.py" : p;
      progress.accept("peer " + name + " (" + suite + ")");
      Result r = exec(cmd, e, timeoutS, line -> progress.accept("peer " + name + " (" + suite
          + "): " + JsonText.str(line, "group", "") + " " + JsonText.str(line, "case", "")));
      out.addAll(r.lines);
      if (r.exit != 0 || r.timedOut) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("peer", p.equals("torch") && !available("torch") ? "numpy" : p);
        m.put("unavailable", r.timedOut ? "timed out after " + timeoutS + " s (--peer-timeout)"
            : "exited with " + r.exit + ": " + r.errTail());
        out.add(m);
      }
    }
    return out;
  }

  /** A finished child: its JSON lines, exit code and the end of its stderr. */
  private record Result(List<Map<String, Object>> lines, int exit, boolean timedOut, String err) {
    String errTail() {
      String e = err.strip();
      String[] ls = e.split("\n");
      String last = ls.length == 0 ? "" : ls[ls.length - 1];
      return last.isEmpty() ? "(no message)" : last.length() > 300 ? last.substring(0, 300) : last;
    }
  }

  private Result exec(List<String> cmd, Map<String, String> extraEnv, int timeout,
      Consumer<Map<String, Object>> onLine) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
    pb.environment().putAll(extraEnv);
    Path errFile = Files.createTempFile(dir, "stderr-", ".txt");
    pb.redirectError(errFile.toFile());
    Process p = pb.start();
    p.getOutputStream().close();
    List<Map<String, Object>> lines = Collections.synchronizedList(new ArrayList<>());
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(
          new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String l;
        while ((l = r.readLine()) != null) {
          l = l.strip();
          if (!l.startsWith("{")) {
            continue; // anything else a library prints
          }
          try {
            Map<String, Object> m = JsonText.object(JsonText.parse(l));
            lines.add(m);
            if (onLine != null) {
              onLine.accept(m);
            }
          } catch (IllegalArgumentException e) {
            // not one of ours
          }
        }
      } catch (IOException e) {
        // the process went away
      }
    }, "gpucore-bench-peer-reader");
    reader.setDaemon(true);
    reader.start();
    boolean done;
    try {
      done = p.waitFor(timeout, TimeUnit.SECONDS);
      if (!done) {
        p.destroy();
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
      reader.join(5000);
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
    String err = Files.readString(errFile, StandardCharsets.UTF_8);
    return new Result(new ArrayList<>(lines), done ? p.exitValue() : -1, !done, err);
  }

  /** Removes the temporary directory (unless GPUCORE_BENCH_KEEP is set, for debugging). */
  @Override
  public void close() {
    if (System.getenv("GPUCORE_BENCH_KEEP") != null) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // best effort
    }
  }

  /** The temporary directory the peers work in. */
  public Path dir() {
    return dir;
  }
}
