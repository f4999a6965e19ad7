package dev.gpucore.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM on the test class path (property {@code gpucore.testClassPath}, else this JVM's),
 * for tests of how a program stops: start it, wait for a line of its output, signal it and check
 * its exit status. Linux only (GNU env, {@code kill -s}).
 */
public final class ChildJvm {
  private ChildJvm() {}

  /**
   * Starts {@code mainClass} with {@code args} in a JVM of {@code maxHeap} ({@code -Xmx} value)
   * and {@code jvmArgs}; output and errors come on one stream. SIGINT and SIGTERM are at their
   * default even where this JVM was started with them ignored.
   */
  public static Process start(String maxHeap, List<String> jvmArgs, String mainClass,
      String... args) throws IOException {
    List<String> cmd = new ArrayList<>(resetSignals());
    cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
    cmd.add("-Xmx" + maxHeap);
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(System.getProperty("gpucore.testClassPath", System.getProperty("java.class.path")));
    cmd.add(mainClass);
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

  /**
   * Reads the child's output until a line that starts with {@code prefix}, then keeps the pipe
   * empty in the background; fails with what it saw if the output ends first.
   */
  public static void awaitLine(Process p, String prefix) throws IOException {
    BufferedReader r = new BufferedReader(
        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder seen = new StringBuilder();
    for (String l; (l = r.readLine()) != null; ) {
      if (l.startsWith(prefix)) {
        Thread t = new Thread(() -> drain(r), "drain");
        t.setDaemon(true);
        t.start();
        return;
      }
      seen.append(l).append('\n');
    }
    throw new AssertionError("the child ended before \"" + prefix + "\":\n" + seen);
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

  /**
   * Waits for the child's line that starts with {@code startLine}, lets it work {@code runMs},
   * sends it SIG{@code signal} and fails unless it exits within 5 s with {@code status}; the
   * child is killed in the end whatever happened.
   */
  public static void stopWithin5s(Process p, String startLine, long runMs, String signal,
      int status) throws Exception {
    try {
      awaitLine(p, startLine);
      Thread.sleep(runMs);
      long t0 = System.nanoTime();
      Process k = new ProcessBuilder("/bin/sh", "-c", "kill -s " + signal + " " + p.pid()).start();
      assertTrue(k.waitFor(10, TimeUnit.SECONDS) && k.exitValue() == 0, "kill -s " + signal);
      boolean ended = p.waitFor(5, TimeUnit.SECONDS);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ended, "the child did not exit within 5 s of SIG" + signal);
      assertEquals(status, p.exitValue(), "exit status after SIG" + signal + " (" + ms + " ms)");
    } finally {
      p.destroyForcibly();
    }
  }
}
