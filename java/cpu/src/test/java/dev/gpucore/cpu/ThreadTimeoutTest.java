package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code gpucore.cpu.threadTimeout} reaches OpenBLAS: after a threaded GEMM, its worker thread
 * spins for 2^N clock ticks before it sleeps. With N = 30 (about a third of a second at 3 GHz)
 * the process keeps burning CPU in the idle window after each call; with N = 4 it does not,
 * unless OpenBLAS was loaded before gpucore's CPU backend (then its own 2^28 stays). Each case
 * runs in a child JVM of its own (OpenBLAS's threads are process-wide), with three OpenBLAS
 * threads, so two workers spin. A busy machine gives the spinning workers less than their
 * cores (they yield), hence the bounds well below a full window.
 */
class ThreadTimeoutTest {
  /** Idle window after each GEMM, in ms: shorter than 2^30 ticks of any clock up to 4 GHz. */
  static final long WINDOW_MS = 200;
  static final int TRIALS = 5;
  /** Longer than 2^30 ticks of any clock from 2.2 GHz up. */
  static final long QUIET_MS = 600;

  /**
   * The child: three OpenBLAS threads, the setting from its system properties (with the argument
   * {@code preload}, OpenBLAS loaded first, as another library would); a few warm-up GEMMs, then
   * per trial one GEMM and the CPU time the whole process spent in the idle window after it.
   * Prints the median in ms.
   */
  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("preload")) {
      org.bytedeco.javacpp.Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
    }
    try (GpuCore core = GpuCore.open(Config.from(System.getProperties(), System.getenv()))) {
      int n = 256; // above OpenBLAS's threshold for threading (64^3 multiply-adds)
      float[] a = new float[n * n];
      float[] c = new float[n * n];
      java.util.Arrays.fill(a, 0.5f);
      for (int i = 0; i < 20; i++) {
        core.blas().sgemm(false, true, n, n, n, 1f, a, n, a, n, 0f, c, n);
      }
      Thread.sleep(QUIET_MS); // every thread asleep, whatever the setting
      double[] spent = new double[TRIALS];
      for (int t = 0; t < TRIALS; t++) {
        core.blas().sgemm(false, true, n, n, n, 1f, a, n, a, n, 0f, c, n);
        long before = processCpuNs();
        Thread.sleep(WINDOW_MS);
        spent[t] = (processCpuNs() - before) / 1e6;
        Thread.sleep(QUIET_MS - WINDOW_MS);
      }
      if (c[0] != n * 0.25f) {
        throw new AssertionError("wrong product: " + c[0]);
      }
      java.util.Arrays.sort(spent);
      System.out.printf(Locale.ROOT, "idle_cpu_ms %.1f%n", spent[TRIALS / 2]);
    }
  }

  /** CPU time of every thread of this process, from each task's schedstat (ns). */
  static long processCpuNs() throws IOException {
    long sum = 0;
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path t : (Iterable<Path>) tasks::iterator) {
        try {
          sum += Long.parseLong(Files.readString(t.resolve("schedstat")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
          // a thread that ended meanwhile
        }
      }
    }
    return sum;
  }

  static double idleCpuMs(int timeout, String... args) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String cp = System.getProperty("gpucore.testClassPath", System.getProperty("java.class.path"));
    Process p = new ProcessBuilder(java, "-Dgpucore.backend=cpu", "-Dgpucore.cpu.threads=3",
        "-Dgpucore.cpu.threadTimeout=" + timeout, "-cp", cp, ThreadTimeoutTest.class.getName(),
        String.join(" ", args)).redirectErrorStream(true).start();
    String out;
    try (var in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child finished: " + out);
    assertEquals(0, p.exitValue(), "child exit status; output:\n" + out);
    String line = out.lines().filter(l -> l.startsWith("idle_cpu_ms ")).findFirst()
        .orElseThrow(() -> new AssertionError("no figure from the child:\n" + out));
    return Double.parseDouble(line.substring("idle_cpu_ms ".length()));
  }

  @Test
  void theSettingDecidesHowLongOpenBlasThreadsSpinAfterACall() throws Exception {
    double spin = idleCpuMs(30);
    double quiet = idleCpuMs(4);
    // 2^30 ticks: the workers spin through the whole window; 2^4: they sleep at once
    assertTrue(spin > WINDOW_MS / 8.0, "N = 30: CPU ms in the idle window " + spin);
    assertTrue(quiet < WINDOW_MS / 10.0, "N = 4: CPU ms in the idle window " + quiet);
    assertTrue(spin > 4 * quiet, "N = 30 " + spin + " ms vs N = 4 " + quiet + " ms");
  }

  @Test
  void anOpenBlasLoadedBeforeTheBackendKeepsItsOwnSpin() throws Exception {
    double quiet = idleCpuMs(4);
    double kept = idleCpuMs(4, "preload");
    // 2^28 ticks, OpenBLAS's own: 54 ms at 5 GHz, more at any slower clock
    assertTrue(kept > WINDOW_MS / 12.0, "preloaded, N = 4 ignored: CPU ms in the idle window "
        + kept);
    assertTrue(kept > 4 * quiet, "preloaded " + kept + " ms vs N = 4 " + quiet + " ms");
  }
}
