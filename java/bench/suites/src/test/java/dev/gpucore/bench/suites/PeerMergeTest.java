package dev.gpucore.bench.suites;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.cli.JsonText;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Peer lines land on the rows they belong to, checks apply, failures become notes, the table shows ratios. */
class PeerMergeTest {
  static Map<String, Object> line(String json) {
    return JsonText.object(JsonText.parse(json));
  }

  @Test
  void attachesFiguresSkipsAndFailures() {
    SuiteResult r = new SuiteResult("e2e", "e2e: test");
    Row cpu = new Row("e2e", "e2e", "cpu", "CPU gemm+sum", "gpucore cpu", 64, "n=64", 2.0 * 64 * 64 * 64,
        "GFLOP/s").measured(Stats.of(1000, 1100, 900), "host");
    Row gpu = new Row("e2e", "e2e", "gpu", "GPU", "gpucore cuda", 64, "n=64", 1, "GFLOP/s")
        .skip("No GPU visible: test");
    r.rows().add(cpu);
    r.rows().add(gpu);
    List<Map<String, Object>> lines = List.of(
        line("{\"peer\":\"torch\",\"suite\":\"e2e\",\"group\":\"e2e\",\"case\":\"cpu\",\"x\":64,"
            + "\"samples_ns\":[2000,2000,2000],\"sum\":10.0,\"label\":\"CPU x @ x.T\"}"),
        line("{\"peer\":\"openblas\",\"suite\":\"e2e\",\"group\":\"e2e\",\"case\":\"cpu\",\"x\":64,"
            + "\"samples_ns\":[500],\"sum\":11.0}"),
        line("{\"peer\":\"torch\",\"suite\":\"e2e\",\"group\":\"e2e\",\"case\":\"gpu\",\"x\":64,"
            + "\"skipped\":\"CUDA not available\"}"),
        line("{\"peer\":\"torch\",\"suite\":\"e2e\",\"group\":\"e2e\",\"case\":\"cpu\",\"x\":128,"
            + "\"samples_ns\":[1]}"),
        line("{\"peer\":\"nvblas\",\"unavailable\":\"exited with 1: boom\"}"));
    PeerMerge.attach(r, lines, null, (row, l) -> {
      boolean ok = JsonText.num(l, "sum") == 10.0;
      return new PeerMerge.Verdict(ok ? "ok" : "MISMATCH", ok);
    });
    assertEquals(2, cpu.peers().size());
    PeerFigure torch = cpu.peers().get(0);
    assertEquals("torch", torch.peer());
    assertEquals(2.0, torch.ratio(cpu), 1e-12); // peer 2000 ns vs gpucore median 1000 ns
    assertEquals("CPU x @ x.T", torch.label());
    assertEquals(10.0, torch.extra().get("sum"));
    assertFalse(torch.failed());
    PeerFigure ob = cpu.peers().get(1);
    assertTrue(ob.failed());
    assertEquals(0.5, ob.ratio(cpu), 1e-12);
    assertEquals(1, gpu.peers().size());
    assertNull(gpu.peers().get(0).stats());
    assertEquals("CUDA not available", gpu.peers().get(0).skipped());
    assertTrue(Double.isNaN(gpu.peers().get(0).ratio(gpu)));
    assertTrue(r.notes().get(0).contains("peer nvblas failed: exited with 1: boom"));
    assertTrue(r.failed());

    StringWriter sw = new StringWriter();
    Table.suite(new PrintWriter(sw), r, null);
    String t = sw.toString();
    assertTrue(t.contains("2.00"), t);
    assertTrue(t.contains("skipped: CUDA not available"), t);
    assertTrue(t.contains("MISMATCH"), t);
    // the JSON row carries both figures and the ratio
    Map<String, Object> json = Report.row(cpu);
    List<?> peers = (List<?>) json.get("peers");
    assertEquals(2.0, JsonText.object(peers.get(0)).get("ratio_peer_time_over_gpucore"));
  }

  @Test
  void peerSelection() {
    assertEquals(Peers.NAMES, Peers.select("auto"));
    assertEquals(List.of(), Peers.select("none"));
    assertEquals(List.of("torch", "cudart"), Peers.select("torch, cudart"));
    assertTrue(Peers.usedBy("e2e").contains("nvblas"));
    assertEquals(List.of("torch", "openblas", "nvblas"), Peers.usedBy("gemm"));
    assertEquals(List.of("torch"), Peers.usedBy("reduce"));
    assertEquals(List.of("torch"), Peers.usedBy("p2p"));
    assertTrue(Peers.usedBy("nosuch").isEmpty());
  }
}
