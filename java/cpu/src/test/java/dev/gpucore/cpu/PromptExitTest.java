package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.GpuCore;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
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
    Process p = start(List.of("-Dgpucore.exit.prompt=true"));
    try {
      awaitLine(p, "computing");
      Thread.sleep(1000); // GEMMs running
      long t0 = System.nanoTime();
      signal(p, signal);
      boolean ended = p.waitFor(5, TimeUnit.SECONDS);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ended, "the child did not exit within 5 s of SIG" + signal);
      assertEquals(status, p.exitValue(), "exit status after SIG" + signal + " (" + ms + " ms)");
    } finally {
      p.destroyForcibly();
    }
  }

  /** A child JVM on this class path; SIGINT and SIGTERM at their default even where ignored. */
  static Process start(List<String> jvmArgs, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(resetSignals());
    cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
    cmd.add("-Xmx256m");
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(System.getProperty("gpucore.testClassPath", System.getProperty("java.class.path")));
    cmd.add(Busy.class.getName());
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true).start();
  }

  /**
   * A process started in the background by a script ignores SIGINT, and so do its children:
   * GNU env restores the default where it can.
   */
  static List<String> resetSignals() {
    try {
      Process p = new ProcessBuilder("env", "--default-signal=INT,TERM", "true").start();
      if (p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0) {
        return List.of("env", "--default-signal=INT,TERM");
      }
    } catch (IOException | InterruptedException e) {
      // no GNU env
    }
    return List.of();
  }

  static void awaitLine(Process p, String line) throws IOException {
    BufferedReader r = new BufferedReader(
        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder seen = new StringBuilder();
    for (String l; (l = r.readLine()) != null; ) {
      if (l.contains(line)) {
        Thread t = new Thread(() -> drain(r), "drain");
        t.setDaemon(true);
        t.start();
        return;
      }
      seen.append(l).append('\n');
    }
    throw new AssertionError("the child ended before \"" + line + "\":\n" + seen);
  }

  private static void drain(BufferedReader r) {
    try {
      while (r.readLine() != null) {
        // keep the pipe open and empty
      }
    } catch (IOException e) {
      // the child ended
    }
  }

  static void signal(Process p, String signal) throws Exception {
    Process k = new ProcessBuilder("/bin/sh", "-c", "kill -s " + signal + " " + p.pid()).start();
    assertTrue(k.waitFor(10, TimeUnit.SECONDS) && k.exitValue() == 0, "kill -s " + signal);
  }
}
