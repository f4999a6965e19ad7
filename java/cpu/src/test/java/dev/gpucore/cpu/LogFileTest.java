package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** gpucore.log.file never fails a GEMM, and is opened once, when a core opens. */
class LogFileTest {

  private static GpuCore core(Path log) {
    return GpuCore.open(Config.from(Map.of("gpucore.backend", "cpu", "gpucore.log.file",
        log.toString()), Map.of()));
  }

  private static float[] gemm(GpuCore core) {
    float[] a = {1, 2, 3, 4};
    float[] c = new float[4];
    core.blas().sgemm(false, false, 2, 2, 2, 1f, a, 2, a, 2, 0f, c, 2);
    return c;
  }

  @Test
  void unwritableLogFileIsReportedOnceAndTheMathGoesOn(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("no-such-dir").resolve("route.log"); // cannot be created
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    List<String> atOpen;
    try (GpuCore core = core(log)) {
      atOpen = reports(err);
      for (int i = 0; i < 5; i++) {
        assertArrayEquals(new float[] {7, 10, 15, 22}, gemm(core), "call " + i);
      }
    } finally {
      System.setErr(saved);
    }
    assertEquals(1, atOpen.size(), "reported when the core opens: " + atOpen);
    List<String> lines = reports(err);
    assertEquals(atOpen, lines, "one report on stderr");
    String line = lines.get(0);
    assertTrue(line.startsWith("gpucore: gpucore.log.file (system property) is \"" + log + "\": ")
        && line.contains("log is off"), line);
    assertEquals(line.indexOf(log.toString()), line.lastIndexOf(log.toString()),
        "the path once: " + line);
    assertFalse(Files.exists(log));
  }

  private static List<String> reports(ByteArrayOutputStream err) {
    return err.toString(StandardCharsets.UTF_8).lines()
        .filter(l -> l.contains("gpucore.log.file")).toList();
  }

  @Test
  void logFileIsOpenedOnceAndSharedByCores(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("route.log");
    try (GpuCore a = core(log); GpuCore b = core(log)) {
      assertTrue(Files.exists(log), "opened when the core opens, before any GEMM");
      gemm(a);
      gemm(b);
      assertEquals(2, Files.readAllLines(log).size());
      // the open file is kept: a removed file is not created again by later calls
      Files.delete(log);
      gemm(a);
      gemm(b);
      assertFalse(Files.exists(log), "the log file was reopened");
    }
  }
}
