package dev.gpucore.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** {@code gpucore bench} without the suites jar on the class path (as in this module's tests). */
class BenchCommandTest {
  @Test
  void withoutTheSuitesJarBenchSaysSoInOneLine() {
    // the GPU bundle runs every module's tests on one class path, the suites jar on it
    assumeTrue(ServiceLoader.load(BenchSuites.class).findFirst().isEmpty(),
        "the bench suites jar is on this class path (as in the GPU bundle)");
    for (String[] args : new String[][] {{"bench"}, {"bench", "--list"},
        {"bench", "gemm", "--plot", "x.svg"}, {"bench", "--help"}}) {
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
      assertEquals(2, code, String.join(" ", args));
      assertEquals(BenchCommand.NOT_INSTALLED, err.toString().strip());
      assertEquals("", out.toString());
    }
  }

  @Test
  void theSweepCommandsAreGone() {
    for (String c : new String[] {"gemm-sweep", "p2p-sweep"}) {
      StringWriter err = new StringWriter();
      int code = Main.run(new PrintWriter(new StringWriter()), new PrintWriter(err), c);
      assertEquals(2, code, c);
      assertTrue(err.toString().contains("Unmatched argument") || err.toString().contains(c),
          err.toString());
    }
  }
}
