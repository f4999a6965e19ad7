package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A thread whose interrupt flag is set when gpucore first loads OpenBLAS: JavaCPP's loader
 * takes a file lock through an interruptible channel, so the load failed and left the library
 * class unusable in that JVM. Runs in a child JVM with an empty JavaCPP cache, where the load
 * really extracts and locks.
 */
class InterruptedLoadTest {
  /** The child: interrupts itself, opens a CPU core, multiplies, reports. */
  public static void main(String[] args) {
    Thread.currentThread().interrupt();
    try (GpuCore core = GpuCore.open(new Config(Config.Backend.CPU, 0))) {
      float[] a = {1, 2, 3, 4};
      float[] c = new float[4];
      core.blas().sgemm(false, false, 2, 2, 2, 1f, a, 2, a, 2, 0f, c, 2);
      System.out.println("result " + java.util.Arrays.toString(c) + " interrupted "
          + Thread.currentThread().isInterrupted());
    }
  }

  @Test
  void anInterruptedThreadLoadsOpenBlasAndKeepsItsFlag(@TempDir Path tmp) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String cp = System.getProperty("gpucore.testClassPath", System.getProperty("java.class.path"));
    Path cache = tmp.resolve("javacpp-cache");
    Process p = new ProcessBuilder(java, "-Dorg.bytedeco.javacpp.cachedir=" + cache, "-cp", cp,
        InterruptedLoadTest.class.getName()).redirectErrorStream(true).start();
    String out;
    try (var in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child finished: " + out);
    assertEquals(0, p.exitValue(), "child exit status; output:\n" + out);
    assertTrue(out.contains("result [7.0, 10.0, 15.0, 22.0] interrupted true"),
        "right result and the interrupt flag kept; output:\n" + out);
    assertTrue(Files.isDirectory(cache), "the child loaded through the empty cache given to it");
    deleteTree(cache);
  }

  static void deleteTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      List<Path> all = s.sorted(Comparator.reverseOrder()).toList();
      for (Path q : all) {
        Files.deleteIfExists(q);
      }
    }
  }
}
