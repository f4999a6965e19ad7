package dev.gpucore;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * One gpucore setting, declared once: its key ({@code gpucore.gemm.route}), its environment
 * variable ({@code GPUCORE_GEMM_ROUTE}), its type, default, accepted range and a line of
 * documentation. Every setting the library reads is a constant of this class and is read with
 * {@link Settings#get(Setting)}; {@link #all()} lists them in the order of
 * {@code docs/configuration.md}, which is generated from this registry.
 *
 * @param <T> the type of the parsed value
 */
public final class Setting<T> {
  /** Largest CPU thread count accepted ({@code gpucore.cpu.threads}). */
  public static final int MAX_CPU_THREADS = 1024;
  /** Largest GPU index accepted in {@code gpucore.gpu.list}. */
  public static final int MAX_GPU_INDEX = 1023;

  private static final List<Setting<?>> ALL = new ArrayList<>();
  private static final String BOOL_RANGE = "true, false (also yes/no, on/off, 1/0)";
  private static final List<String> ROUTINES =
      List.of("sgemm", "dgemm", "sgemm_batched", "dgemm_batched");

  // ---- the registry; docs/configuration.md lists these in this order ----

  /** The configuration file (read from a system property or the environment only). */
  public static final Setting<String> CONFIG = path("gpucore.config",
      "configuration file of `key = value` lines (only as a system property or environment "
          + "variable)");
  /** Which backend to use. */
  public static final Setting<Config.Backend> BACKEND = choice("gpucore.backend", "auto",
      Map.of("auto", Config.Backend.AUTO, "cpu", Config.Backend.CPU, "cuda", Config.Backend.CUDA),
      "auto, cpu, cuda", "`auto`: a GPU when one is usable, else the CPU; `cpu`: never load a GPU "
          + "library; `cuda`: a GPU or fail");
  /** CPU backend threads, 0 for automatic. */
  public static final Setting<Integer> CPU_THREADS = integer("gpucore.cpu.threads", 0, 0,
      MAX_CPU_THREADS, "OpenBLAS threads, process-wide (0: the cgroup CPU quota, else the core "
          + "count; more than the cores available is warned about)");
  /** How long OpenBLAS's worker threads spin after a call. */
  public static final Setting<Integer> CPU_THREAD_TIMEOUT = integer("gpucore.cpu.threadTimeout",
      20, 0, 30, "OpenBLAS's OPENBLAS_THREAD_TIMEOUT, process-wide: after a call its worker "
          + "threads spin for 2^N clock ticks, taking cores from what runs next, then sleep (1 to "
          + "3 act as 4; 0: OpenBLAS's own, 2^28 unless the variable is set); set by the first CPU "
          + "backend when it is the first to load OpenBLAS into the process (a core opens its CPU "
          + "backend before its GPU backend, whose GEMM engine would otherwise load a system "
          + "`libopenblas.so.0` first); `libgpucore_blas.so` gives it to an OpenBLAS it loads "
          + "itself");
  /** Longest CPU GEMM call run on Java arrays in place. */
  public static final Setting<Double> CPU_IN_PLACE_MAX_MS = decimal("gpucore.cpu.inPlaceMaxMs", 20,
      0, 1e6, "longest native CPU call (estimated ms) on Java arrays in place, a JNI critical "
          + "region that may hold off garbage collection: GEMMs at 50 GFLOP/s per thread (fp64 "
          + "25), longer ones in panels of C or on copies, whose critical regions are as short "
          + "(0: copies through JNI, no critical region)");
  /** How much repacking panels of C may cost against copies. */
  public static final Setting<Double> CPU_REPACK_MAX = decimal("gpucore.cpu.repackMax", 0.5, 0,
      1e6, "a CPU GEMM past gpucore.cpu.inPlaceMaxMs runs in place in panels of C while the "
          + "elements OpenBLAS packs again for them are at most this share of the elements copies "
          + "would move; otherwise on copies (0: always on copies)");
  /** Whether long CPU GEMMs on Java arrays may run in place in slabs of k. */
  public static final Setting<Boolean> CPU_K_SLABS = bool("gpucore.cpu.kSlabs", true,
      "a CPU GEMM past gpucore.cpu.inPlaceMaxMs may run in place in slabs of k that end where "
          + "OpenBLAS's own k-blocks end (found once per process from small GEMMs; the same C "
          + "bit for bit as one call, nothing packed twice), where that repacks less than panels");
  /** Where host GEMMs run. */
  public static final Setting<String> GEMM_ROUTE = choice("gpucore.gemm.route", "auto",
      words("auto", "cpu", "gpu"), "auto, cpu, gpu",
      "where host GEMMs run: `auto` by the cost model, or always on the `cpu` or the `gpu`");
  /** Routines kept on the CPU. */
  public static final Setting<List<String>> GEMM_DISABLE = new Setting<>("gpucore.gemm.disable",
      null, "list", "", "sgemm, dgemm, sgemm_batched, dgemm_batched, comma-separated",
      "routines whose host calls stay on the CPU (as nvBLAS's per-routine disable)", List.of(),
      Setting::routines);
  /** Whether a failed GPU GEMM is rerun on the CPU. */
  public static final Setting<Boolean> GEMM_FALLBACK = bool("gpucore.gemm.fallback", true,
      "rerun a host GEMM on the CPU when the GPU runs out of memory (after retries with tiles "
          + "1/4 and 1/16 of panelMiB) or faults");
  /** Share of C's rows a GPU-routed host GEMM computes on the CPU. */
  public static final Setting<Double> GEMM_CPU_RATIO = decimal("gpucore.gemm.cpuRatio", 0, 0,
      0.99, "share of C's rows that a host GEMM sent to the GPU computes on the CPU meanwhile "
          + "(nvBLAS's NVBLAS_CPU_RATIO)");
  /** Panel (tile) size of host GEMMs on the GPU. */
  public static final Setting<Double> GEMM_PANEL_MIB = decimal("gpucore.gemm.panelMiB", 16, 1,
      65536, "size in MiB of the row panels of A streamed to the GPU by a host GEMM (the tile "
          + "size)");
  /** Which GEMMs go through cuBLASLt. */
  public static final Setting<String> GEMM_LT = choice("gpucore.gemm.lt", "fp64",
      words("fp64", "all", "none"), "fp64, all, none",
      "which device GEMMs go through cuBLASLt: fp64 ones, all, or none");
  /** Which pipeline runs host-operand GEMMs on the GPU. */
  public static final Setting<String> GEMM_HOST_ENGINE = choice("gpucore.gemm.hostEngine", "native",
      words("java", "native"), "java, native",
      "the GPU pipeline of fp32/fp64 GEMMs on host operands: native (the engine of libgpucore_blas.so, the drop-in BLAS library's), or java");
  /** CPU rate of the routing model. */
  public static final Setting<Double> GEMM_CPU_GFLOPS = decimal("gpucore.gemm.cpuGflops", 0, 0,
      1e9, "the routing model's CPU rate in GFLOP/s, fp32 (fp64: half); 0: the calibration's, else the"
          + " built-in model's");
  /** GPU rate of the routing model. */
  public static final Setting<Double> GEMM_GPU_GFLOPS = decimal("gpucore.gemm.gpuGflops", 0, 0,
      1e9, "the routing model's GPU rate in GFLOP/s; 0: the calibration's (fp32, fp64), else by"
          + " architecture and precision");
  /** Host-device bandwidth of the routing model. */
  public static final Setting<Double> GEMM_BUS_GBS = decimal("gpucore.gemm.busGBs", 35, 0.001,
      1e6, "the routing model's host-device bandwidth in GB/s, each way (unset: the calibration's, else"
          + " the default)");
  /** Fixed GPU overhead of the routing model. */
  public static final Setting<Double> GEMM_OVERHEAD_MS = decimal("gpucore.gemm.overheadMs", 0.5,
      0, 1e6, "the routing model's fixed cost in ms of a host GEMM on the GPU (unset: the calibration's,"
          + " else the default)");
  /** Whether the routing model's rates are measured on this machine. */
  public static final Setting<String> GEMM_CALIBRATE = choice("gpucore.gemm.calibrate", "auto",
      words("auto", "off"), "auto, off",
      "`auto`: the router measures the CPU and GPU rates, the bus and the GPU's fixed cost once"
          + " per host and GPU (under a second, at the first host GEMM that needs them, or by"
          + " `gpucore calibrate`) and caches them in a file; `off`: the built-in model's figures");
  /** File the routing calibration is cached in. */
  public static final Setting<String> GEMM_CALIBRATION_FILE = path("gpucore.gemm.calibrationFile",
      "the routing calibration's cache file (default: gpucore/routing-KEY.properties under"
          + " $XDG_CACHE_HOME or ~/.cache, KEY naming the host, GPUs, CPU threads and version; a"
          + " file written for another key is measured again)");
  /** Whether the router corrects its estimates by the host GEMMs it has timed. */
  public static final Setting<Boolean> GEMM_LEARN = bool("gpucore.gemm.learn", true,
      "correct the routing estimates by the times of the host GEMMs routed so far (per route,"
          + " precision and size class, once a class has 5 calls)");
  /**
   * GPUs for host GEMMs: an empty list means all. An index of a GPU that is not present is
   * warned about and ignored.
   */
  public static final Setting<List<Integer>> GPU_LIST = new Setting<>("gpucore.gpu.list", null,
      "list", "all", "all, or GPU indices 0 to " + MAX_GPU_INDEX + " like 0,1",
      "GPUs that host GEMMs may use; an index not present is warned about and ignored",
      List.of(), Setting::gpuIndices);
  /** Log every routing decision. */
  public static final Setting<Boolean> TRACE = bool("gpucore.trace", false,
      "log every routing decision (System.Logger dev.gpucore.router)");
  /** File that every routing decision is appended to. */
  public static final Setting<String> LOG_FILE = path("gpucore.log.file",
      "append every routing decision to this file (opened once, at the first open that names"
          + " it; if it cannot be opened or written, one line on stderr and no more logging)");
  /** Prompt exit on SIGINT, SIGTERM and SIGHUP with GEMMs in flight (see spi.PromptExit). */
  public static final Setting<Boolean> EXIT_PROMPT = bool("gpucore.exit.prompt", false,
      "on SIGINT/SIGTERM/SIGHUP end the process promptly even with GEMMs in flight (the CLI"
          + " turns it on); installed at the first GpuCore.open whose settings ask for it");
  /** Idle device scratch kept for reuse. */
  public static final Setting<Long> SCRATCH_CACHE_MIB = longInteger("gpucore.scratch.cacheMiB",
      4096, 0, 1L << 20, "idle device memory kept for reuse by host GEMMs, in MiB: the Java "
          + "pipeline's panels per GPU, the native engine's buffers over all its threads");
  /** Chunk of a staged copy between Java arrays and a GPU. */
  public static final Setting<Integer> STAGING_CHUNK_MIB = integer("gpucore.staging.chunkMiB", 2,
      1, 1024, "chunk in MiB of copies between Java arrays and a GPU: what one thread copies in "
          + "one JNI critical region (which holds back the garbage collector) and one DMA moves");
  /** Threads staging copies between Java arrays and a GPU. */
  public static final Setting<Integer> STAGING_THREADS = integer("gpucore.staging.threads", 0, 0,
      64, "threads staging copies between Java arrays and a GPU (0: the core count, at most 16)");
  /** The cap of {@link #STAGING_THREADS}'s default. */
  public static final int MAX_DEFAULT_STAGING_THREADS = 16;

  /**
   * The staging threads {@code s} gives: {@link #STAGING_THREADS}, or at 0 its default for this
   * machine ({@link #defaultStagingThreads}).
   */
  public static int stagingThreads(Settings s) {
    int threads = s.get(STAGING_THREADS);
    return threads > 0 ? threads
        : defaultStagingThreads(Runtime.getRuntime().availableProcessors());
  }

  /** {@link #STAGING_THREADS}'s default for {@code cores} processors: all, at most 16. */
  public static int defaultStagingThreads(int cores) {
    return Math.max(1, Math.min(MAX_DEFAULT_STAGING_THREADS, cores));
  }

  /** Whether staging copies of large Java arrays bypass the CPU caches. */
  public static final Setting<Boolean> STAGING_STREAMING = bool("gpucore.staging.streaming", false,
      "copies of 1 MiB and more between Java arrays and the pinned staging use stores that bypass"
          + " the CPU caches (false: the C library's memcpy, faster on the hosts measured)");
  /** Pinned staging per stream of the native GEMM engine. */
  public static final Setting<Double> BLAS_STAGE_MIB = decimal("gpucore.blas.stageMiB", 32, 0.0625,
      4096, "pinned staging in MiB per stream of the native GEMM engine (the drop-in BLAS library's"
          + " and gpucore.gemm.hostEngine=native's)");
  /** Host copy threads of the native GEMM engine. */
  public static final Setting<Integer> BLAS_COPY_THREADS = integer("gpucore.blas.copyThreads", 0,
      0, 16, "threads packing operands into the native GEMM engine's staging (0: by the CPU count)");
  /** Whether the native GEMM engine keeps A and B whole on the GPU when they fit. */
  public static final Setting<Boolean> BLAS_RESIDENT = bool("gpucore.blas.resident", true,
      "the native GEMM engine uploads A and B once and keeps them on the GPU when they fit (false:"
          + " always streams B per row block of A)");
  /** Largest edge of the native GEMM engine's C tiles. */
  public static final Setting<Integer> BLAS_TILE_DIM = integer("gpucore.blas.tileDim", 1024, 64,
      16384, "largest edge of the C tiles of the native GEMM engine (smaller when a tile would not"
          + " fit gpucore.blas.stageMiB)");
  /** A stage profile of each GPU GEMM of the native engine on stderr. */
  public static final Setting<Boolean> BLAS_PROFILE = bool("gpucore.blas.profile", false,
      "one line on stderr per GPU GEMM of the native engine: host time packing, unpacking and "
          + "waiting; GPU time per stage (copies up, multiplies, copies down, from CUDA events), "
          + "idle time and overlap");
  /** File the native engine's stage intervals are appended to. */
  public static final Setting<String> BLAS_PROFILE_FILE = path("gpucore.blas.profileFile",
      "append every copy and multiply of each GPU GEMM of the native engine to this CSV file "
          + "(stream, tile, bytes, start and end in ms; also turns gpucore.blas.profile on)");
  /** Peer access between GPUs. */
  public static final Setting<Boolean> P2P = new Setting<>("gpucore.p2p", null, "choice", "auto",
      "auto, off (also on/off, true/false, yes/no, 1/0)",
      "`auto`: direct copies where a pair allows peer access and its probe passes; `off`: every "
          + "copy between GPUs is staged through host memory", true, Setting::p2pMode);
  /** Probe pairs before trusting them. */
  public static final Setting<Boolean> P2P_PROBE = bool("gpucore.p2p.probe", true,
      "write-then-checksum probe of a GPU pair before it is trusted (false: trust CUDA's word)");
  /** Time limit of each probe step. */
  public static final Setting<Integer> P2P_PROBE_TIMEOUT_MS = integer("gpucore.p2p.probeTimeoutMs",
      2000, 1, 600_000, "time in ms each step of the probe may take before the pair is staged");
  /** Chunk of a staged peer copy. */
  public static final Setting<Double> P2P_STAGED_CHUNK_MIB = decimal(
      "gpucore.p2p.stagedChunkMiB", 8, 0.0625, 1024, "chunk in MiB of a staged copy between GPUs");
  /** Page-locked buffers per direction of a pair. */
  public static final Setting<Integer> P2P_STAGED_BUFFERS = integer("gpucore.p2p.stagedBuffers",
      4, 2, 64, "page-locked buffers per direction of a staged pair (2: double buffering)");
  /** How synchronous peer copies wait. */
  public static final Setting<String> P2P_WAIT = choice("gpucore.p2p.wait", "spin",
      words("spin", "event", "block"), "spin, event, block",
      "how synchronous copies wait: cudaStreamQuery in a loop, cudaEventQuery in a loop, or "
          + "cudaStreamSynchronize");
  /** Largest synchronous peer copy done by a kernel. */
  public static final Setting<Long> P2P_KERNEL_MAX_BYTES = longInteger(
      "gpucore.p2p.kernelMaxBytes", 0, 0, 1L << 30,
      "synchronous peer copies up to this many bytes are done by a kernel through the peer "
          + "mapping instead of a copy engine (0: never)");
  /** Faults to inject (tests and drills). */
  public static final Setting<String> FAULT = new Setting<>("gpucore.fault", null, "list", "",
      "driver, oom:scratch[:MiB], oom:alloc[:MiB], sticky:gemm[:N], sticky:reduce[:N], "
          + "comma-separated",
      "faults to inject, for tests and drills (see docs/reliability.md)", "", Setting::faults);
  /** Record allocation sites of native resources (read once per JVM). */
  public static final Setting<Boolean> LEAK_SITES = bool("gpucore.leakSites", false,
      "record where each native resource was allocated, for leak reports (read once per JVM)");
  /** Whether gpucore runs in a container; unset: detected. */
  public static final Setting<Boolean> IN_CONTAINER = new Setting<>("gpucore.inContainer",
      "GPUCORE_IN_CONTAINER", "boolean", "detected", BOOL_RANGE,
      "whether this process runs in a container (default: /.dockerenv, /run/.containerenv or "
          + "the `container` variable)", null, Setting::bool);

  private final String key;
  private final String env;
  private final String type;
  private final String defaultText;
  private final String range;
  private final String doc;
  private final T defaultValue;
  private final Function<String, T> parser;

  private Setting(String key, String env, String type, String defaultText, String range,
      String doc, T defaultValue, Function<String, T> parser) {
    this.key = key;
    this.env = env != null ? env : Settings.envName(key);
    this.type = type;
    this.defaultText = defaultText;
    this.range = range;
    this.doc = doc;
    this.defaultValue = defaultValue;
    this.parser = parser;
    synchronized (ALL) {
      ALL.add(this);
    }
  }

  /** Every setting, in the registry's order. */
  public static List<Setting<?>> all() {
    synchronized (ALL) {
      return List.copyOf(ALL);
    }
  }

  /** The setting with exactly this key, or null. */
  public static Setting<?> byKey(String key) {
    for (Setting<?> s : all()) {
      if (s.key.equals(key)) {
        return s;
      }
    }
    return null;
  }

  /** The key, e.g. {@code gpucore.gemm.route}: a system property or a configuration file key. */
  public String key() {
    return key;
  }

  /** The environment variable, e.g. {@code GPUCORE_GEMM_ROUTE}. */
  public String envName() {
    return env;
  }

  /** The type: choice, boolean, integer, decimal, path or list. */
  public String type() {
    return type;
  }

  /** The default as the documentation shows it (empty when unset). */
  public String defaultText() {
    return defaultText;
  }

  /** The values accepted, in words. */
  public String range() {
    return range;
  }

  /** One line of documentation. */
  public String doc() {
    return doc;
  }

  /** The value when the setting is not given (null for an unset path or a detected value). */
  public T defaultValue() {
    return defaultValue;
  }

  /**
   * Parses a trimmed, non-blank value.
   *
   * @throws IllegalArgumentException whose message says what is expected ("must be ...")
   */
  T parse(String value) {
    return parser.apply(value);
  }

  /**
   * A value as this setting reads it: trimmed, blank for the default.
   *
   * @throws GpuCoreException.InvalidArgument naming the key and what it must be
   */
  public T valueOf(String text) {
    String t = text == null ? "" : text.trim();
    if (t.isBlank()) {
      return defaultValue;
    }
    try {
      return parse(t);
    } catch (IllegalArgumentException e) {
      throw new GpuCoreException.InvalidArgument(key + " is \"" + t + "\": " + e.getMessage());
    }
  }

  @Override
  public String toString() {
    return key;
  }

  // ---- factories and parsers ----

  private static Setting<String> path(String key, String doc) {
    return new Setting<>(key, null, "path", "", "a file path", doc, null, Setting::pathText);
  }

  private static <T> Setting<T> choice(String key, String def, Map<String, T> values,
      String range, String doc) {
    T d = values.get(def);
    return new Setting<>(key, null, "choice", def, range, doc, d, v -> {
      T t = values.get(v.toLowerCase(Locale.ROOT));
      if (t == null) {
        throw new IllegalArgumentException("must be one of " + range);
      }
      return t;
    });
  }

  private static Map<String, String> words(String... w) {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    for (String s : w) {
      m.put(s, s);
    }
    return m;
  }

  private static Setting<Boolean> bool(String key, boolean def, String doc) {
    return new Setting<>(key, null, "boolean", Boolean.toString(def), BOOL_RANGE, doc, def,
        Setting::bool);
  }

  private static Setting<Integer> integer(String key, int def, int min, int max, String doc) {
    return new Setting<>(key, null, "integer", Integer.toString(def), min + " to " + max, doc,
        def, v -> (int) wholeNumber(v, min, max));
  }

  private static Setting<Long> longInteger(String key, long def, long min, long max, String doc) {
    return new Setting<>(key, null, "integer", Long.toString(def), min + " to " + max, doc, def,
        v -> wholeNumber(v, min, max));
  }

  private static Setting<Double> decimal(String key, double def, double min, double max,
      String doc) {
    return new Setting<>(key, null, "decimal", number(def), number(min) + " to " + number(max),
        doc, def, v -> {
          double d;
          try {
            d = Double.parseDouble(v);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("must be a number from " + number(min) + " to "
                + number(max));
          }
          if (!(d >= min && d <= max)) {
            throw new IllegalArgumentException("must be from " + number(min) + " to "
                + number(max));
          }
          return d;
        });
  }

  /** A number as the documentation writes it: 16, 0.5, 1e+06 as 1000000. */
  static String number(double d) {
    if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      return Long.toString((long) d);
    }
    return java.math.BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
  }

  private static long wholeNumber(String v, long min, long max) {
    long n;
    try {
      n = Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("must be a whole number from " + min + " to " + max);
    }
    if (n < min || n > max) {
      throw new IllegalArgumentException("must be from " + min + " to " + max);
    }
    return n;
  }

  private static Boolean bool(String v) {
    return onOff(v, "must be true or false");
  }

  private static Boolean p2pMode(String v) {
    return v.equalsIgnoreCase("auto") || onOff(v, "must be auto or off");
  }

  /** true for true, 1, yes, on; false for false, 0, no, off (any case); else fails with why. */
  private static boolean onOff(String v, String why) {
    switch (v.toLowerCase(Locale.ROOT)) {
      case "true", "1", "yes", "on":
        return true;
      case "false", "0", "no", "off":
        return false;
      default:
        throw new IllegalArgumentException(why);
    }
  }

  private static String pathText(String v) {
    if (v.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("must be a file path (it holds a NUL character)");
    }
    try {
      Path.of(v);
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException("must be a file path (" + e.getMessage() + ")");
    }
    return v;
  }

  private static List<String> routines(String v) {
    Set<String> out = new LinkedHashSet<>();
    for (String r : v.split(",", -1)) {
      String t = r.trim().toLowerCase(Locale.ROOT);
      if (t.isEmpty()) {
        continue;
      }
      if (!ROUTINES.contains(t)) {
        throw new IllegalArgumentException("names the unknown routine \"" + t + "\"; expected "
            + "sgemm, dgemm, sgemm_batched, dgemm_batched, comma-separated");
      }
      out.add(t);
    }
    return List.copyOf(out);
  }

  private static List<Integer> gpuIndices(String v) {
    if (v.equalsIgnoreCase("all")) {
      return List.of();
    }
    Set<Integer> out = new LinkedHashSet<>();
    for (String e : v.split(",", -1)) {
      String t = e.trim();
      int i;
      try {
        i = Integer.parseInt(t);
      } catch (NumberFormatException ex) {
        i = -1;
      }
      if (i < 0 || i > MAX_GPU_INDEX || !t.chars().allMatch(Character::isDigit)) {
        throw new IllegalArgumentException("must be all or GPU indices (0 to " + MAX_GPU_INDEX
            + ") like 0,1");
      }
      out.add(i);
    }
    return List.copyOf(out);
  }

  private static String faults(String v) {
    try {
      dev.gpucore.spi.FaultPlan.parse(v);
    } catch (GpuCoreException.InvalidArgument e) {
      String m = e.getMessage();
      throw new IllegalArgumentException(m.startsWith("gpucore.fault: ")
          ? m.substring("gpucore.fault: ".length()) : m);
    }
    return v;
  }
}
