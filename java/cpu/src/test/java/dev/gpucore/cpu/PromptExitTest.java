package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.GpuCore;
import dev.gpucore.testkit.ChildJvm;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * An API program in a child JVM, GEMMs on OpenBLAS in flight: with gpucore.exit.prompt it
 * exits within 5 s of SIGINT (130) and SIGTERM (143); without it, an exit after the work
 * finished is not held up by OpenBLAS's threads, whatever their count. With no GEMM in flight
 * the host's own hooks and signal handlers keep working.
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

  /**
   * A host program with prompt exit and no GEMM in flight: {@code hook} has a shutdown hook of
   * its own that takes 3 s; {@code handler} has its own SIGINT handler (exit status 3);
   * {@code open-in-hook} opens a core inside a shutdown hook.
   */
  public static final class Host {
    public static void main(String[] args) throws Exception {
      switch (args[0]) {
        case "hook":
          Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("hook started");
            System.out.flush();
            try {
              Thread.sleep(3000);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            System.out.println("hook ended");
            System.out.flush();
          }));
          break;
        case "handler":
          sun.misc.Signal.handle(new sun.misc.Signal("INT"), sig -> {
            System.out.println("host handler");
            System.out.flush();
            System.exit(3);
          });
          break;
        case "open-in-hook":
          Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try (GpuCore core = GpuCore.open()) {
              float[] a = {1, 2, 3, 4};
              float[] c = new float[4];
              core.blas().sgemm(false, false, 2, 2, 2, 1f, a, 2, a, 2, 0f, c, 2);
              System.out.println("opened in a hook: c[3]=" + c[3] + " installed="
                  + dev.gpucore.spi.PromptExit.installed());
              System.out.flush();
            }
          }));
          System.out.println("computing");
          System.out.flush();
          return; // the end of main runs the hook
        default:
          throw new IllegalArgumentException(args[0]);
      }
      try (GpuCore core = GpuCore.open()) {
        System.out.println("computing");
        System.out.flush();
        Thread.sleep(60_000);
      }
    }
  }

  @Test
  void aSecondSignalWithoutAGemmInFlightLetsTheHostsHooksFinish() throws Exception {
    withHost("hook", (p, out) -> {
      awaitLine(out, "computing");
      signal(p, "INT");
      awaitLine(out, "hook started");
      signal(p, "INT");
      assertTrue(p.waitFor(20, TimeUnit.SECONDS), "the child did not exit");
      awaitLine(out, "hook ended");
      assertEquals(130, p.exitValue());
    });
  }

  @Test
  void theHostsSignalHandlerStillRuns() throws Exception {
    withHost("handler", (p, out) -> {
      awaitLine(out, "computing");
      signal(p, "INT");
      assertTrue(p.waitFor(20, TimeUnit.SECONDS), "the child did not exit");
      awaitLine(out, "host handler");
      assertEquals(3, p.exitValue(), "the host's handler chose the status");
    });
  }

  @Test
  void anOpenInsideAShutdownHookWorksWithoutPromptExit() throws Exception {
    withHost("open-in-hook", (p, out) -> {
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child did not exit");
      awaitLine(out, "opened in a hook: c[3]=22.0 installed=false");
      assertEquals(0, p.exitValue());
    });
  }

  /** What a test does with a {@link Host} child and its output lines. */
  private interface WithHost {
    void run(Process p, java.util.concurrent.BlockingQueue<String> out) throws Exception;
  }

  /** Runs {@link Host} in {@code mode} with gpucore.exit.prompt on; the child is killed after. */
  private static void withHost(String mode, WithHost test) throws Exception {
    Process p = startClass(Host.class, List.of("-Dgpucore.exit.prompt=true"), mode);
    try {
      test.run(p, lines(p));
    } finally {
      p.destroyForcibly();
    }
  }

  /** The child's output lines, read on a thread of their own; "EOF" at the end. */
  private static java.util.concurrent.BlockingQueue<String> lines(Process p) {
    java.util.concurrent.BlockingQueue<String> q =
        new java.util.concurrent.LinkedBlockingQueue<>();
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(
          new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String l; (l = r.readLine()) != null; ) {
          q.add(l);
        }
      } catch (IOException e) {
        // the child ended
      }
      q.add("EOF");
    }, "child-output");
    t.setDaemon(true);
    t.start();
    return q;
  }

  /** Waits up to 30 s for a line containing {@code line}. */
  private static void awaitLine(java.util.concurrent.BlockingQueue<String> out, String line)
      throws InterruptedException {
    StringBuilder seen = new StringBuilder();
    for (String l; (l = out.poll(30, TimeUnit.SECONDS)) != null && !l.equals("EOF"); ) {
      if (l.contains(line)) {
        return;
      }
      seen.append(l).append('\n');
    }
    throw new AssertionError("no \"" + line + "\" from the child:\n" + seen);
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
    return startClass(Busy.class, jvmArgs, args);
  }

  private static Process startClass(Class<?> main, List<String> jvmArgs, String... args)
      throws IOException {
    return ChildJvm.start("256m", jvmArgs, main.getName(), args);
  }

  static void signal(Process p, String signal) throws Exception {
    Process k = new ProcessBuilder("/bin/sh", "-c", "kill -s " + signal + " " + p.pid()).start();
    assertTrue(k.waitFor(10, TimeUnit.SECONDS) && k.exitValue() == 0, "kill -s " + signal);
  }
}
