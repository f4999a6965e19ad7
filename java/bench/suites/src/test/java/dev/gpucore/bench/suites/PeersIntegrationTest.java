package dev.gpucore.bench.suites;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gpucore.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The real peers, where the machine has them (skipped, saying what is missing, elsewhere):
 * OpenBLAS from C compiled on the spot (gcc; the machine's OpenBLAS or gpucore's own), and numpy
 * through peers_torch.py.
 */
class PeersIntegrationTest {
  static String run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
    assertEquals(0, code, out + "\n" + err);
    return out.toString();
  }

  @Test
  void openblasFromCAgreesWithGpucore() {
    assumeTrue(Machine.run(Path.of("").toAbsolutePath(), "gcc", "--version") != null,
        "gcc is not on the PATH");
    String out = run("bench", "e2e", "--n", "40", "--reps", "2", "--warmup", "0", "--peers",
        "openblas", "--progress", "never");
    assertTrue(out.contains("peer openblas: "), out);
    assertTrue(!out.contains("peer openblas: MISSING"), out);
    assertTrue(out.contains("C sgemm_ + sum"), out);
    assertTrue(out.contains("ok: sum rel. diff"), out);
  }

  @Test
  void openblasFromCRunsTheGemmSuitesHostCase() {
    assumeTrue(Machine.run(Path.of("").toAbsolutePath(), "gcc", "--version") != null,
        "gcc is not on the PATH");
    String out = run("bench", "gemm", "--sizes", "16,33", "--host-shapes", "300x7x5",
        "--precision", "fp32", "--reps", "2", "--warmup", "0", "--peers", "openblas",
        "--progress", "never");
    assertTrue(!out.contains("peer openblas: MISSING"), out);
    assertTrue(out.contains("C sgemm_ (OpenBLAS)"), out);
    assertTrue(out.contains("C dgemm_ (OpenBLAS)"), out);
    // fp32 and fp64 at n = 16, 33 and 300x7x5: each peer sum checked against the exact sum
    assertEquals(6, out.split("ok: sum\\(C\\) rel. diff", -1).length - 1, out);
    assertTrue(out.contains("OpenBLAS/cpu time"), out);
    // OpenBLAS took its samples in gpucore's rounds, and never failed there
    assertTrue(out.contains("OpenBLAS from C takes its host samples in the same rounds"), out);
    assertTrue(!out.contains("peer openblas failed"), out);
    assertTrue(!out.contains("could not start in the host rounds"), out);
  }

  @Test
  void numpyPeerRunsThroughTheScript() {
    assumeTrue(Machine.run(Path.of("").toAbsolutePath(), "python3", "-c", "import numpy") != null,
        "python3 with numpy is not on the PATH");
    String out = run("bench", "transfer", "--mib", "1", "--reps", "2", "--warmup", "0", "--peers",
        "numpy", "--progress", "never");
    assertTrue(out.contains("np.copyto"), out);
  }
}
