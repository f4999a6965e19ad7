package dev.gpucore.cli;

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * {@code gpucore demo --n 8000} in a child JVM, stopped by SIGINT and by SIGTERM while its CPU
 * GEMM runs (about 1 TFLOP: many seconds on a CI machine): it must exit within 5 s with 130 or
 * 143, not hang in OpenBLAS's exit-time thread join.
 */
@EnabledOnOs(OS.LINUX)
class CliStopTest {

  @Test
  void sigintStopsDemoMidGemm() throws Exception {
    stop("INT", 130);
  }

  @Test
  void sigtermStopsDemoMidGemm() throws Exception {
    stop("TERM", 143);
  }

  private static void stop(String signal, int status) throws Exception {
    List<String> cmd = new ArrayList<>(resetSignals());
    cmd.addAll(List.of(System.getProperty("java.home") + File.separator + "bin" + File.separator
        + "java", "-Xmx1g", "-cp",
        System.getProperty("gpucore.testClassPath", System.getProperty("java.class.path")),
        Main.class.getName(), "demo", "--n", "8000"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try {
      BufferedReader r = new BufferedReader(
          new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      StringBuilder seen = new StringBuilder();
      boolean started = false;
      for (String l; (l = r.readLine()) != null; ) {
        seen.append(l).append('\n');
        if (l.startsWith("gpucore demo:")) {
          started = true;
          break;
        }
      }
      assertTrue(started, "demo did not start:\n" + seen);
      Thread drain = new Thread(() -> {
        try {
          while (r.readLine() != null) {
            // keep the pipe empty
          }
        } catch (IOException e) {
          // ended
        }
      });
      drain.setDaemon(true);
      drain.start();
      Thread.sleep(1500); // the CPU GEMM runs
      long t0 = System.nanoTime();
      Process k = new ProcessBuilder("/bin/sh", "-c", "kill -s " + signal + " " + p.pid()).start();
      assertTrue(k.waitFor(10, TimeUnit.SECONDS) && k.exitValue() == 0, "kill -s " + signal);
      boolean ended = p.waitFor(5, TimeUnit.SECONDS);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ended, "gpucore demo did not exit within 5 s of SIG" + signal);
      assertEquals(status, p.exitValue(), "exit status after SIG" + signal + " (" + ms + " ms)");
    } finally {
      p.destroyForcibly();
    }
  }

  /** GNU env restores SIGINT/SIGTERM where a background script left them ignored. */
  private static List<String> resetSignals() {
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
}
