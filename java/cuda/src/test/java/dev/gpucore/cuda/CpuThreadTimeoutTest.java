package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;
import dev.gpucore.testkit.OpenBlasSpin;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gpucore.cpu.threadTimeout} reaches OpenBLAS in a core that opens the CUDA backend too,
 * where the GEMM engine ({@code libgpucore_blas.so}) looks for an OpenBLAS of its own when it
 * loads: with a {@code libopenblas.so.0} on the loader's path (as a system OpenBLAS is on a GPU
 * host), the engine would load that one before the CPU backend loads bytedeco's, and OpenBLAS's
 * worker threads would keep spinning for 2^28 clock ticks after each CPU GEMM, taking the cores
 * from the GPU route's staging threads. Each case runs in a child JVM of its own (OpenBLAS's
 * threads are process-wide) with three OpenBLAS threads, that library and the stand-in CUDA
 * runtime of {@link EngineFakeGpuTest} on its path; the child reports the CPU time the process
 * spent in an idle window after a CPU GEMM.
 */
class CpuThreadTimeoutTest {
  @TempDir static Path libs;

  /**
   * The child: the default core (CUDA backend tried first), the idle CPU ms after a CPU GEMM
   * ({@link OpenBlasSpin}), whether the engine is loaded and how many OpenBLAS files are mapped.
   */
  public static void main(String[] args) throws Exception {
    try (GpuCore core = GpuCore.open(Config.from(System.getProperties(), System.getenv()))) {
      OpenBlasSpin.printIdleCpuMs(core);
      List<String> maps = Files.readAllLines(Path.of("/proc/self/maps"));
      System.out.printf(Locale.ROOT, "engine_loaded %b%nopenblas_files %d%n",
          maps.stream().anyMatch(l -> l.contains("libgpucore_blas")),
          maps.stream().filter(l -> l.contains("libopenblas")).map(l -> l.substring(
              l.indexOf('/'))).distinct().count());
    }
  }

  /**
   * A folder with bytedeco's OpenBLAS as {@code libopenblas.so.0} (and the libraries beside it),
   * as a system one would be, the stand-in CUDA runtime and cuBLAS, and an empty
   * {@code libcuda.so.1}: the CUDA backend then loads the engine and finds no usable driver.
   */
  static Path systemLikeOpenBlas() throws IOException, InterruptedException {
    Path link = libs.resolve("libopenblas.so.0");
    if (!Files.exists(link)) {
      EngineFakeGpuTest.buildStandIn(libs);
      Path empty = libs.resolve("empty.c");
      Files.writeString(empty, "");
      Process gcc = new ProcessBuilder("gcc", "-shared", "-fPIC", "-Wl,-soname,libcuda.so.1",
          "-o", libs.resolve("libcuda.so.1").toString(), empty.toString()).inheritIO().start();
      assertEquals(0, gcc.waitFor(), "gcc builds the empty libcuda.so.1");
      org.bytedeco.javacpp.Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
      Path file;
      try (Stream<String> maps = Files.lines(Path.of("/proc/self/maps"))) {
        file = Path.of(maps.filter(l -> l.contains("libopenblas") && l.contains("/"))
            .map(l -> l.substring(l.indexOf('/'))).findFirst()
            .orElseThrow(() -> new AssertionError("bytedeco's OpenBLAS is not mapped")));
      }
      try (Stream<Path> beside = Files.list(file.getParent())) {
        for (Path f : (Iterable<Path>) beside::iterator) {
          Path to = libs.resolve(f.getFileName().toString());
          if (f.getFileName().toString().startsWith("lib") && !Files.exists(to)) {
            Files.createSymbolicLink(to, f);
          }
        }
      }
      Files.createSymbolicLink(link, file);
    }
    return libs;
  }

  /** The child's three figures: engine loaded (1/0), OpenBLAS files mapped, idle CPU ms. */
  static double[] child(int timeout) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-Dgpucore.cpu.threads=3",
        "-Dgpucore.gemm.route=cpu", "-Dgpucore.cpu.threadTimeout=" + timeout, "-cp",
        System.getProperty("java.class.path"), CpuThreadTimeoutTest.class.getName());
    String old = System.getenv("LD_LIBRARY_PATH");
    pb.environment().put("LD_LIBRARY_PATH", systemLikeOpenBlas()
        + (old == null || old.isEmpty() ? "" : ":" + old));
    Process p = pb.redirectErrorStream(true).start();
    String out;
    try (var in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child finished: " + out);
    assertEquals(0, p.exitValue(), "child exit status; output:\n" + out);
    double[] r = new double[3];
    String[] keys = {"engine_loaded ", "openblas_files ", OpenBlasSpin.KEY};
    for (int i = 0; i < 3; i++) {
      String key = keys[i];
      String v = out.lines().filter(l -> l.startsWith(key)).findFirst()
          .orElseThrow(() -> new AssertionError("no " + key + "from the child:\n" + out))
          .substring(key.length());
      r[i] = i == 0 ? (Boolean.parseBoolean(v) ? 1 : 0) : Double.parseDouble(v);
    }
    return r;
  }

  @Test
  void theSettingReachesOpenBlasWhenTheEngineLoadsToo() throws Exception {
    double[] quiet = child(4);
    double[] spin = child(30);
    assertEquals(1, quiet[0], "the GEMM engine loaded in the child (it looks for OpenBLAS)");
    // 2^30 ticks: the workers spin through the whole window; 2^4: they sleep at once
    assertTrue(spin[2] > OpenBlasSpin.WINDOW_MS / 8.0, "N = 30: CPU ms in the idle window " + spin[2]);
    assertTrue(quiet[2] < OpenBlasSpin.WINDOW_MS / 10.0, "N = 4: CPU ms in the idle window " + quiet[2]);
    assertTrue(spin[2] > 4 * quiet[2], "N = 30 " + spin[2] + " ms vs N = 4 " + quiet[2] + " ms");
  }
}
