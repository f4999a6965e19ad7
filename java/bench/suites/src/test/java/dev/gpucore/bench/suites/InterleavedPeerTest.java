package dev.gpucore.bench.suites;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gpucore.cli.JsonText;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The C peer taking host GEMM samples one at a time: the real OpenBLAS peer where gcc is on the
 * PATH, and stand-in processes that fail in each way it must report.
 */
class InterleavedPeerTest {
  @TempDir Path dir;

  @Test
  void theOpenblasPeerChecksAndSamplesOneCaseAtATime() throws IOException {
    try (Peers peers = openblas()) {
      try (InterleavedPeer s = peers.interleavedPeer("openblas", "cpu", 11, 2, 20)) {
        assertEquals(6, s.quietMs(), "2^20 ticks of at least 1 GHz, and 4 ms");
        assertNull(s.open("fp32:37:20:9:host-fp32"));
        long first = s.sample();
        long second = s.sample();
        assertTrue(first > 0 && second > 0, first + ", " + second);
        Map<String, Object> line = s.end();
        assertEquals("host-fp32", line.get("group"));
        assertEquals("cpu", line.get("case"));
        assertEquals(37.0, JsonText.num(line, "x"));
        long[] samples = JsonText.longs(line, "samples_ns");
        assertEquals(2, samples.length);
        assertEquals(first, samples[0]);
        assertEquals(second, samples[1]);
        // the peer's own check of its C: every row sum against the exact one
        assertTrue(JsonText.num(line, "rowsum_max_rel") < 1e-5, JsonText.write(line));
        assertTrue(JsonText.str(line, "timing", "").contains("interleaved"), line.toString());
        // the next case, in fp64, on the same process
        assertNull(s.open("fp64:8:8:300:host-fp64"));
        s.sample();
        Map<String, Object> l64 = s.end();
        assertEquals(1, JsonText.longs(l64, "samples_ns").length);
        assertTrue(JsonText.num(l64, "rowsum_max_rel") < 1e-13, JsonText.write(l64));
        // a bad case ends it, naming the command and the peer's complaint
        IOException e = assertThrows(IOException.class, () -> s.open("fp16:8:8:8:host-fp16"));
        assertTrue(e.getMessage().contains("exited during 'open fp16:8:8:8:host-fp16'"),
            e.getMessage());
        assertTrue(e.getMessage().contains("bad gemm case"), e.getMessage());
        IOException again = assertThrows(IOException.class, s::sample);
        assertEquals(e.getMessage(), again.getMessage());
      }
    }
  }

  @Test
  void casesRunInTheRoundsAreNotRunAgainAfterThem() throws IOException {
    try (Peers peers = openblas()) {
      Map<String, Object> req = new java.util.LinkedHashMap<>();
      req.put("sizes", List.of(Map.of("x", 12, "arg", "fp32:12:12:12:host"),
          Map.of("x", 13, "arg", "fp64:13:13:13:host-fp64")));
      req.put("seed", 5L);
      req.put("reps", 2);
      req.put("warmup", 0);
      req.put("sample_ms", 1);
      req.put("budget_s", 5);
      req.put("done_in_rounds", Map.of("openblas", List.of("fp32:12:12:12:host")));
      List<Map<String, Object>> lines = peers.run("gemm", req, s -> { });
      assertEquals(1, lines.size(), lines.toString());
      assertEquals("host-fp64", lines.get(0).get("group"));
      req.put("done_in_rounds", Map.of("openblas", List.of("fp32:12:12:12:host",
          "fp64:13:13:13:host-fp64")));
      assertEquals(List.of(), peers.run("gemm", req, s -> { }));
    }
  }

  @Test
  void thePauseAfterASampleCoversTheThreadsSpin() {
    assertEquals(4 + 269, InterleavedPeer.quietMs(0, null), "OpenBLAS's own 2^28 ticks");
    assertEquals(4 + 269, InterleavedPeer.quietMs(28, null));
    assertEquals(4 + 2, InterleavedPeer.quietMs(20, null));
    assertEquals(4 + 2, InterleavedPeer.quietMs(20, "30"), "gpucore's setting wins");
    assertEquals(4 + 1, InterleavedPeer.quietMs(1, null), "1 to 3 act as 4");
    assertEquals(4 + 1074, InterleavedPeer.quietMs(30, null));
    // at 0 the peer keeps what it inherits
    assertEquals(4 + 1074, InterleavedPeer.quietMs(0, "30"));
    assertEquals(4 + 2, InterleavedPeer.quietMs(0, " 20 "));
    assertEquals(4 + 269, InterleavedPeer.quietMs(0, "lots"));
    assertEquals(4 + 1074, InterleavedPeer.quietMs(0, "31"), "at most 30");
    assertEquals(4 + 269, InterleavedPeer.quietMs(0, "0"));
  }

  @Test
  void thePeerGetsGpucoresThreadTimeout() throws IOException {
    try (Peers peers = new Peers("none", List.of("gemm"), "python3", 10, 0, false, "no GPU", 3,
        s -> { })) {
      Map<String, String> e = peers.interleavedEnv("openblas", 20);
      assertEquals("20", e.get("OPENBLAS_THREAD_TIMEOUT"));
      assertEquals("3", e.get("OPENBLAS_NUM_THREADS"));
      assertNull(peers.interleavedEnv("openblas", 0).get("OPENBLAS_THREAD_TIMEOUT"),
          "0: OpenBLAS's own");
    }
  }

  @Test
  void aPeerThatExitsIsNamedWithItsExitCode() throws IOException {
    try (InterleavedPeer s = stand("read l; echo 'it broke' >&2; exit 3", 30)) {
      IOException e = assertThrows(IOException.class, () -> s.open("fp32:4:4:4:g"));
      assertTrue(e.getMessage().startsWith("openblas (interleaved) exited during 'open "
          + "fp32:4:4:4:g': exit 3, it broke"), e.getMessage());
    }
  }

  @Test
  void aPeerThatDoesNotAnswerTimesOut() throws IOException {
    try (InterleavedPeer s = stand("sleep 30", 1)) {
      IOException e = assertThrows(IOException.class, s::sample);
      assertTrue(e.getMessage().contains("gave no answer to 'sample' within 1 s"),
          e.getMessage());
    }
  }

  @Test
  void anAnswerOutOfTurnIsRefused() throws IOException {
    try (InterleavedPeer s = stand("read l; echo '{\"ready\":true}'; read l; echo "
        + "'{\"other\":1}'; sleep 5", 30)) {
      assertNull(s.open("fp32:4:4:4:g"));
      IOException e = assertThrows(IOException.class, s::sample);
      assertTrue(e.getMessage().contains("answered a sample with {"), e.getMessage());
    }
  }

  @Test
  void aCaseThePeerSkipsComesBackAsItsLine() throws IOException {
    try (InterleavedPeer s = stand("read l; echo '{\"peer\":\"openblas\",\"group\":\"g\","
        + "\"skipped\":\"out of host memory\"}'; read l", 30)) {
      Map<String, Object> line = s.open("fp32:4:4:4:g");
      assertNotNull(line);
      assertEquals("out of host memory", line.get("skipped"));
    }
  }

  /** The OpenBLAS peer, compiled here (the test is skipped where it cannot be). */
  private static Peers openblas() throws IOException {
    assumeTrue(Machine.run(Path.of("").toAbsolutePath(), "gcc", "--version") != null,
        "gcc is not on the PATH");
    Peers peers = new Peers("openblas", List.of("gemm"), "python3", 120, 0, false, "no GPU", 2,
        s -> { });
    if (!peers.available("openblas")) {
      String why = peers.status("openblas").detail();
      peers.close();
      assumeTrue(false, "peer openblas: " + why);
    }
    return peers;
  }

  private InterleavedPeer stand(String script, int timeoutS) throws IOException {
    return new InterleavedPeer("openblas", List.of("sh", "-c", script), Map.of(), dir, timeoutS,
        0);
  }
}
