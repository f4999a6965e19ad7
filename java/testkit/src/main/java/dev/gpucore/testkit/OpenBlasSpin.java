package dev.gpucore.testkit;

import dev.gpucore.GpuCore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * How long OpenBLAS's worker threads keep a process busy after a CPU GEMM, for tests of
 * {@code gpucore.cpu.threadTimeout} run in a child JVM of their own (OpenBLAS's threads are
 * process-wide): after warm-up GEMMs and a quiet pause, per trial one threaded SGEMM and the CPU
 * time the whole process spends in an idle window after it. With a spin of 2^30 clock ticks
 * (about a third of a second at 3 GHz) the workers burn CPU through the window; with 2^4 they
 * sleep at once. A busy machine gives spinning workers less than their cores (they yield),
 * hence bounds well below a full window in the tests.
 */
public final class OpenBlasSpin {
  /** Idle window after each GEMM, in ms: shorter than 2^30 ticks of any clock up to 4 GHz. */
  public static final long WINDOW_MS = 200;
  static final int TRIALS = 5;
  /** Longer than 2^30 ticks of any clock from 2.2 GHz up. */
  static final long QUIET_MS = 600;
  /** The line the child prints, followed by the median CPU ms in the window. */
  public static final String KEY = "idle_cpu_ms ";

  private OpenBlasSpin() {}

  /**
   * Runs the trials on {@code core}'s CPU route (n = 256, above OpenBLAS's threshold for
   * threading) and prints {@link #KEY} with the median CPU ms in the idle window.
   */
  public static void printIdleCpuMs(GpuCore core) throws Exception {
    int n = 256;
    float[] a = new float[n * n];
    float[] c = new float[n * n];
    Arrays.fill(a, 0.5f);
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
    Arrays.sort(spent);
    System.out.printf(Locale.ROOT, "%s%.1f%n", KEY, spent[TRIALS / 2]);
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
}
