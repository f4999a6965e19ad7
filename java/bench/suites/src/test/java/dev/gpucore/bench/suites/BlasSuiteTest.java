package dev.gpucore.bench.suites;

import static dev.gpucore.bench.suites.OutputAssert.says;
import static dev.gpucore.bench.suites.OutputAssert.saysNone;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.cli.JsonText;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code blas} suite at a tiny size: both child JVMs (netlib JNIBLAS over libgpucore_blas.so
 * and over OpenBLAS) run, agree with the fp64 reference, and the library's route comes from its
 * trace (the CPU, "no GPU", on a machine without one).
 */
class BlasSuiteTest {
  @Test
  void runsBothSidesAndReportsTheRoute(@TempDir Path dir) throws Exception {
    assertNull(BlasSuite.missing(BlasSuite.class.getClassLoader()), "netlib and both libraries");
    Path json = dir.resolve("blas.json");
    BenchCommandTest.Result r = BenchCommandTest.quietRun("bench", "blas", "--sizes", "64,96",
        "--reps", "2", "--warmup", "1", "--json", json.toString());
    says(r.out(), "== blas: ", "dgemm netlib -> libgpucore_blas", "sgemm netlib -> libgpucore_blas",
        "dgemm netlib -> OpenBLAS", "dgemm n=64: library ", "sgemm n=96: library ");
    saysNone(r.out(), "NaN", "skipped");
    Map<String, Object> doc = JsonText.object(JsonText.parse(Files.readString(json)));
    Map<String, Object> suite = JsonText.object(((List<?>) doc.get("suites")).get(0));
    List<?> rows = (List<?>) suite.get("rows");
    assertEquals(4, rows.size(), "fp64 and fp32 at two sizes");
    for (Object o : rows) {
      Map<String, Object> row = JsonText.object(o);
      Map<String, Object> extra = JsonText.object(row.get("extra"));
      String route = (String) extra.get("route");
      if (!BenchCommandTest.gpu) {
        assertEquals("cpu (no GPU)", route, row.toString());
      } else {
        assertFalse(route.equals("-"), row.toString());
      }
      assertTrue(JsonText.num(extra, "max_rel_err") < 1e-5, row.toString());
      assertTrue(JsonText.num(extra, "ratio") > 0, row.toString());
      Map<String, Object> peer = JsonText.object(((List<?>) row.get("peers")).get(0));
      assertEquals("openblas", peer.get("peer"));
      assertEquals(true, peer.get("ok"), peer.toString());
      assertEquals(true, row.get("ok"), row.toString());
      assertTrue(JsonText.num(JsonText.object(peer.get("extra")), "max_rel_err") < 1e-5);
    }
  }

  @Test
  void saysWhatIsMissingFromTheClassPath() {
    try (URLClassLoader bare = new URLClassLoader(new URL[0], null)) {
      assertTrue(BlasSuite.missing(bare).contains("netlib-java"), BlasSuite.missing(bare));
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void routeReadsTheTrace() {
    List<String> trace = List.of(
        "2026-01-01T00:00:00Z dgemm_ m=64 n=64 k=64 route=cpu reason=no GPU: no driver",
        "2026-01-01T00:00:00Z dgemm_ m=128 n=128 k=128 route=gpu",
        "2026-01-01T00:00:00Z dgemm_ m=128 n=128 k=128 route=gpu");
    assertEquals("cpu (no GPU)", BlasSuite.route(trace, 64));
    assertEquals("gpu", BlasSuite.route(trace, 128));
    assertEquals("-", BlasSuite.route(trace, 256));
  }
}
