package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;
import dev.gpucore.testkit.OpenBlasSpin;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code gpucore.cpu.threadTimeout} reaches OpenBLAS: after a threaded GEMM, its worker thread
 * spins for 2^N clock ticks before it sleeps. With N = 30 the process keeps burning CPU in the
 * idle window after each call; with N = 4 it does not, unless OpenBLAS was loaded before
 * gpucore's CPU backend (then its own 2^28 stays). Each case runs in a child JVM of its own
 * ({@link OpenBlasSpin}), with three OpenBLAS threads, so two workers spin.
 */
class ThreadTimeoutTest {
  /**
   * The child: three OpenBLAS threads, the setting from its system properties (with the argument
   * {@code preload}, OpenBLAS loaded first, as another library would); prints the median CPU ms
   * in the idle window after a GEMM ({@link OpenBlasSpin}).
   */
  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("preload")) {
      org.bytedeco.javacpp.Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
    }
    try (GpuCore core = GpuCore.open(Config.from(System.getProperties(), System.getenv()))) {
      OpenBlasSpin.printIdleCpuMs(core);
    }
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
    String line = out.lines().filter(l -> l.startsWith(OpenBlasSpin.KEY)).findFirst()
        .orElseThrow(() -> new AssertionError("no figure from the child:\n" + out));
    return Double.parseDouble(line.substring(OpenBlasSpin.KEY.length()));
  }

  @Test
  void theSettingDecidesHowLongOpenBlasThreadsSpinAfterACall() throws Exception {
    double spin = idleCpuMs(30);
    double quiet = idleCpuMs(4);
    // 2^30 ticks: the workers spin through the whole window; 2^4: they sleep at once
    assertTrue(spin > OpenBlasSpin.WINDOW_MS / 8.0, "N = 30: CPU ms in the idle window " + spin);
    assertTrue(quiet < OpenBlasSpin.WINDOW_MS / 10.0, "N = 4: CPU ms in the idle window " + quiet);
    assertTrue(spin > 4 * quiet, "N = 30 " + spin + " ms vs N = 4 " + quiet + " ms");
  }

  @Test
  void anOpenBlasLoadedBeforeTheBackendKeepsItsOwnSpin() throws Exception {
    double quiet = idleCpuMs(4);
    double kept = idleCpuMs(4, "preload");
    // 2^28 ticks, OpenBLAS's own: 54 ms at 5 GHz, more at any slower clock
    assertTrue(kept > OpenBlasSpin.WINDOW_MS / 12.0, "preloaded, N = 4 ignored: CPU ms in the idle window "
        + kept);
    assertTrue(kept > 4 * quiet, "preloaded " + kept + " ms vs N = 4 " + quiet + " ms");
  }
}
