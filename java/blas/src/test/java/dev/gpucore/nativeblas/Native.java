package dev.gpucore.nativeblas;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/** Paths the build laid out, and small process helpers for the native tests. */
final class Native {
  private Native() {}

  /** The folder holding lib/libgpucore_blas.so with bytedeco's OpenBLAS beside it. */
  static Path blasDir() {
    return Path.of(System.getProperty("gpucore.blas.dir", "target/gpucore-blas"));
  }

  static Path library() {
    return blasDir().resolve("lib/libgpucore_blas.so");
  }

  static Path openblas() {
    return blasDir().resolve("lib/libopenblas.so.0");
  }

  static Path symbolFile() {
    return Path.of(System.getProperty("gpucore.blas.symbols", "../../native/blas/symbols.txt"));
  }

  static Path cSources() {
    return Path.of(System.getProperty("gpucore.blas.csrc", "src/test/c"));
  }

  /** The names symbols.txt lists (first word of each non-comment line). */
  static List<String> listedSymbols() throws IOException {
    return Files.readAllLines(symbolFile()).stream()
        .map(String::strip)
        .filter(l -> !l.isEmpty() && !l.startsWith("#"))
        .map(l -> l.split("\\s+")[0])
        .toList();
  }

  /** The routines symbols.txt marks as implemented by the library itself. */
  static Set<String> ownSymbols() throws IOException {
    Set<String> own = new TreeSet<>();
    for (String l : Files.readAllLines(symbolFile())) {
      String[] w = l.strip().split("\\s+");
      if (w.length > 1 && !w[0].startsWith("#")) {
        own.add(w[0]);
      }
    }
    return own;
  }

  /** A finished process: exit code, stdout, stderr. */
  record Result(int code, String out, String err) {
    String all() {
      return out + err;
    }
  }

  static Result run(List<String> cmd, Map<String, String> env, Path dir) throws IOException,
      InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    if (dir != null) {
      pb.directory(dir.toFile());
    }
    pb.environment().remove("LD_PRELOAD");
    pb.environment().remove("GPUCORE_LOG_FILE");
    pb.environment().keySet().removeIf(k -> k.startsWith("GPUCORE_")
        || k.startsWith("OPENBLAS_"));
    pb.environment().putAll(env);
    Path out = Files.createTempFile("gpucore-blas", ".out");
    Path err = Files.createTempFile("gpucore-blas", ".err");
    try {
      pb.redirectOutput(out.toFile()).redirectError(err.toFile());
      Process p = pb.start();
      assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + cmd);
      return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  /** Defined dynamic symbols of a shared library (nm -D --defined-only), functions and data. */
  static Set<String> exports(Path lib) throws IOException, InterruptedException {
    Result r = run(List.of("nm", "-D", "--defined-only", lib.toString()), Map.of(), null);
    assertTrue(r.code() == 0, "nm failed: " + r.err());
    Set<String> names = new TreeSet<>();
    for (String line : r.out().split("\n")) {
      String[] w = line.strip().split("\\s+");
      if (w.length == 3 && w[1].matches("[TtWiV]")) {
        names.add(w[2].replaceAll("@.*", ""));
      }
    }
    return names;
  }

  private static final String REAL =
      "symv|syr|spmv|spr|spr2|syr2|sbmv|axpy|axpby|copy|swap|scal|rot|rotg|rotm|rotmg|dot|nrm2"
          + "|asum|amax|amin|max|min|sum|cabs1|gemv|gbmv|trmv|tbmv|tpmv|trsv|tbsv|tpsv|ger|gemm"
          + "|symm|syrk|syr2k|trmm|trsm|gemmt|gemmtr|geadd|omatcopy|imatcopy|gemm_batch"
          + "|gemm_batch_strided";
  private static final String COMPLEX =
      "symv|syr|spmv|spr|spr2|syr2|sbmv|axpy|axpyc|axpby|copy|swap|scal|rotg|dotu|dotc|gemv|gbmv"
          + "|hemv|hbmv|hpmv|trmv|tbmv|tpmv|trsv|tbsv|tpsv|geru|gerc|her|hpr|her2|hpr2|gemm"
          + "|gemm3m|symm|symm3m|hemm|hemm3m|syrk|syr2k|herk|her2k|trmm|trsm|gemmt|gemmtr|geadd"
          + "|omatcopy|imatcopy|gemm_batch|gemm_batch_strided";

  /**
   * Which of OpenBLAS's exports are BLAS: every cblas_ function; the Fortran names of the BLAS
   * routines (reference BLAS and OpenBLAS's extensions, in single, double, extended (q/x) and
   * complex precision), xerbla_ and lsame_; and OpenBLAS's thread controls. LAPACK is not.
   */
  static final Pattern BLAS = Pattern.compile("^(?:cblas_.*"
      + "|(?:[sdq](?:" + REAL + ")|[czx](?:" + COMPLEX + ")|sdsdot|dsdot|csscal|zdscal|csrot|zdrot"
      + "|qrot|xqrot|xqscal|i[sdqcxz]?amax|i[sdqcxz]?amin|i[sdq]max|i[sdq]min"
      + "|[sd]c(?:asum|nrm2|amax|amin|sum)|dz(?:asum|nrm2|amax|amin|sum)"
      + "|qx(?:asum|nrm2|amax|amin|sum)|xerbla|xerbla_array|lsame)_"
      + "|openblas_(?:set_num_threads|get_num_threads|get_num_procs|get_parallel)_?"
      + "|openblas_get_config|openblas_get_corename|openblas_set_num_threads_local"
      + "|openblas_set_threads_callback_function|goto_set_num_threads)$");
}
