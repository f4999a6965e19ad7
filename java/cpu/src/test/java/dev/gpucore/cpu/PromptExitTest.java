package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.GpuCore;
import dev.gpucore.testkit.ChildJvm;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * An API program in a child JVM, GEMMs on OpenBLAS in flight: with gpucore.exit.prompt it
 * exits within 5 s of SIGINT (130) and SIGTERM (143); without it, an exit after the work
 * finished is not held up by OpenBLAS's threads, whatever their count.
 */
@EnabledOnOs(OS.LINUX)
class PromptExitTest {

  /** The child: opens a core, says "computing", then runs 1500^3 SGEMMs until it is stopped. */
  public static final class Busy {
    public static void main(String[] args) {
      int n = 1500;
      float[] a = new float[n * n];
      java.util.Arrays.fill(a, 0.5f);
      float[] c = new float[n * n];
      try (GpuCore core = GpuCore.open()) {
        System.out.println("computing");
        System.out.flush();
        if (args.length > 0) { // one GEMM, then exit with the given status
          core.blas().sgemm(false, false, n, n, n, 1f, a, n, a, n, 0f, c, n);
          System.exit(Integer.parseInt(args[0]));
        }
        while (true) {
          core.blas().sgemm(false, false, n, n, n, 1f, a, n, a, n, 0f, c, n);
        }
      }
    }
  }

  @Test
  void promptExitOnSigint() throws Exception {
    stopMidGemm("INT", 130);
  }

  @Test
  void promptExitOnSigterm() throws Exception {
    stopMidGemm("TERM", 143);
  }

  @Test
  void exitAfterTheWorkIsNotHeldUpByOpenBlasThreads() throws Exception {
    for (String threads : new String[] {"1", "2", "3"}) {
      Process p = start(List.of("-Dgpucore.cpu.threads=" + threads), "7");
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "exit with gpucore.cpu.threads=" + threads
          + " did not end within 60 s");
      assertEquals(7, p.exitValue(), "gpucore.cpu.threads=" + threads);
    }
  }

  private static void stopMidGemm(String signal, int status) throws Exception {
    ChildJvm.stopWithin5s(start(List.of("-Dgpucore.exit.prompt=true")), "computing", 1000, signal,
        status); // GEMMs running
  }

  /** A child JVM running {@link Busy} on this class path. */
  static Process start(List<String> jvmArgs, String... args) throws IOException {
    return ChildJvm.start("256m", jvmArgs, Busy.class.getName(), args);
  }
}
