package dev.gpucore.bench.suites;

import static dev.gpucore.bench.suites.OutputAssert.says;
import static dev.gpucore.bench.suites.OutputAssert.saysNone;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.cli.JsonText;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code blas} suite at tiny sizes: both child JVMs (netlib JNIBLAS over libgpucore_blas.so
 * and over OpenBLAS) prove what they run, every GEMM of the library's side leaves its trace line
 * (the CPU, "no GPU", on a machine without one), the forwarded level-1/2 calls are timed beside
 * OpenBLAS's; a JVM over another library than it claims, or one that crashes, gives a reason
 * instead of figures.
 */
class BlasSuiteTest {
  private static final ClassLoader CL = BlasSuite.class.getClassLoader();

  @Test
  void runsEverySideAndProvesWhatEachRuns(@TempDir Path dir) throws Exception {
    assertNull(BlasSuite.missing(CL), "netlib and both libraries");
    Path json = dir.resolve("blas.json");
    BenchCommandTest.Result r = BenchCommandTest.quietRun("bench", "blas", "--sizes", "64,96",
        "--vector-sizes", "64,4096", "--gemv-sizes", "48", "--api-sizes", "96", "--reps", "2",
        "--json", json.toString());
    says(r.out(), "== blas: ", "dgemm double[] netlib -> libgpucore_blas",
        "sgemm float[] netlib -> libgpucore_blas", "dgemm netlib -> OpenBLAS",
        "daxpy double[] netlib -> libgpucore_blas", "ddot netlib -> OpenBLAS",
        "dgemv 48x48: library ", "dgemm n=64: library ", "sgemm n=96: library ",
        "gpucore JVM: JNIBLAS over ", "openblas JVM: JNIBLAS over ", "nvblas JVM: none: ");
    saysNone(r.out(), "NaN", "WRONG", "MISMATCH");
    Map<String, Object> doc = JsonText.object(JsonText.parse(Files.readString(json)));
    Map<String, Object> suite = JsonText.object(((List<?>) doc.get("suites")).get(0));
    Map<String, Object> settings = JsonText.object(suite.get("settings"));
    Map<String, Object> g = JsonText.object(settings.get("jvm_gpucore"));
    Map<String, Object> ob = JsonText.object(settings.get("jvm_openblas"));
    assertEquals("dev.ludovic.netlib.blas.JNIBLAS", g.get("impl"));
    assertEquals("dev.ludovic.netlib.blas.JNIBLAS", ob.get("impl"));
    assertTrue(g.get("native").toString().contains("libgpucore_blas.so"), g.toString());
    assertTrue(g.get("native").toString().contains("libopenblas.so.0"), g.toString());
    assertTrue(ob.get("native").toString().contains("libopenblas.so.0"), ob.toString());
    assertFalse(ob.get("native").toString().contains("libgpucore_blas"), ob.toString());
    List<?> rows = (List<?>) suite.get("rows");
    assertEquals(4 + 5, rows.size(), "dgemm and sgemm at two sizes; daxpy, ddot at two, dgemv at one");
    int gemm = 0;
    for (Object o : rows) {
      Map<String, Object> row = JsonText.object(o);
      Map<String, Object> extra = JsonText.object(row.get("extra"));
      assertEquals(true, row.get("ok"), row.toString());
      assertTrue(JsonText.num(extra, "max_rel_err") < 1e-5, row.toString());
      assertTrue(JsonText.num(extra, "vs_openblas") > 0, row.toString());
      List<?> peers = (List<?>) row.get("peers");
      Map<String, Object> peer = JsonText.object(peers.get(0));
      assertEquals("openblas", peer.get("peer"));
      assertEquals(true, peer.get("ok"), peer.toString());
      assertTrue(JsonText.num(JsonText.object(peer.get("extra")), "max_rel_err") < 1e-5);
      if (!"gemm".equals(row.get("group"))) {
        assertTrue(JsonText.num(extra, "calls_per_sample") >= 1, row.toString());
        continue;
      }
      gemm++;
      // the checked call and two timed ones, each with its line in the library's trace
      assertEquals(3, (int) JsonText.num(extra, "trace_lines"), row.toString());
      String route = (String) extra.get("route");
      if (!BenchCommandTest.gpu) {
        assertEquals("cpu (no GPU)", route, row.toString());
      } else {
        assertFalse(route.equals("-"), row.toString());
      }
      Map<String, Object> nv = JsonText.object(peers.get(1));
      assertEquals("nvblas", nv.get("peer"));
      assertTrue(nv.get("skipped").toString().contains("--peers none"), nv.toString());
      if ("dgemm".equals(row.get("case")) && JsonText.num(row, "x") == 96) {
        Map<String, Object> dev = JsonText.object(peers.get(2));
        assertEquals("device", dev.get("peer"));
        if (!BenchCommandTest.gpu) {
          assertTrue(dev.get("skipped").toString().startsWith("No GPU visible"), dev.toString());
        }
      } else {
        assertEquals(2, peers.size(), row.toString());
      }
    }
    assertEquals(4, gemm);
  }

  @Test
  void aJvmOverAnotherLibraryOrNoneSaysSo(@TempDir Path dir) throws Exception {
    Path lib = BlasSuite.extractLibraries(CL, dir);
    Path openblas = dir.resolve("libopenblas.so.0");
    String cp = BlasSuite.childClassPath(CL);
    Map<String, String> env = Map.of("GPUCORE_OPENBLAS", openblas.toString(),
        "GPUCORE_BLAS_QUIET", "1", "OPENBLAS_NUM_THREADS", "1");
    // the "OpenBLAS" side handed gpucore's library
    try (BlasSuite.Child c = BlasSuite.Child.start("openblas", dir, lib, env, 256L << 20, cp)) {
      String why = c.verify(openblas, openblas);
      assertNotNull(why, c.hello.toString());
      assertTrue(why.contains("libopenblas.so.0 is not mapped") || why.contains("libgpucore_blas"),
          why);
    }
    // a path that does not exist: netlib falls back to its Java BLAS
    Path none = dir.resolve("libnone.so");
    try (BlasSuite.Child c = BlasSuite.Child.start("gpucore", dir, none, env, 256L << 20, cp)) {
      String why = c.verify(lib, openblas);
      assertNotNull(why, c.hello.toString());
      assertTrue(why.startsWith("netlib uses dev.ludovic.netlib.blas."), why);
      assertTrue(why.contains("not JNIBLAS") && why.contains("does not exist"), why);
    }
  }

  @Test
  void aCrashIsAReasonNotAHang(@TempDir Path dir) throws Exception {
    BlasSuite.extractLibraries(CL, dir);
    // a library without dgemm_: netlib's JNIBLAS calls through a null pointer, as with nvBLAS's
    // missing level-1/2 routines
    Path noBlas = dir.resolve("libquadmath.so.0");
    String cp = BlasSuite.childClassPath(CL);
    try (BlasSuite.Child c = BlasSuite.Child.start("nvblas", dir, noBlas, Map.of(),
        256L << 20, cp)) {
      assertEquals("dev.ludovic.netlib.blas.JNIBLAS", c.hello.get("impl"), c.hello.toString());
      assertNotNull(c.ask("prep x dgemm 8 1").get("ok"));
      BlasSuite.ChildDied e = assertThrows(BlasSuite.ChildDied.class, () -> c.ask("check x"));
      assertTrue(e.getMessage().startsWith("the nvblas JVM died at 'check' (exit "), e.getMessage());
      assertTrue(e.getMessage().contains("SIG"), e.getMessage());
      assertFalse(c.alive());
    }
  }

  @Test
  void wrongImplementationNamesTheProblem() {
    Path lib = Path.of("/opt/x/libgpucore_blas.so");
    Path ob = Path.of("/opt/x/libopenblas.so.0");
    assertNull(BlasSuite.wrongImplementation("gpucore",
        hello("JNIBLAS", lib.toString(), ob.toString()), lib, ob));
    assertNull(BlasSuite.wrongImplementation("openblas", hello("JNIBLAS", ob.toString()), ob, ob));
    assertTrue(BlasSuite.wrongImplementation("openblas",
        hello("JNIBLAS", ob.toString(), "/usr/lib/libopenblas.so.0"), ob, ob)
        .startsWith("a second OpenBLAS is mapped into the openblas JVM: /usr/lib/libopenblas.so.0"));
    assertTrue(BlasSuite.wrongImplementation("gpucore", hello("JNIBLAS", lib.toString()), lib, ob)
        .startsWith("libgpucore_blas.so did not load its OpenBLAS"));
    assertTrue(BlasSuite.wrongImplementation("openblas",
        hello("JNIBLAS", ob.toString(), lib.toString()), ob, ob)
        .startsWith("libgpucore_blas.so is mapped into the openblas JVM"));
    Map<String, Object> java = hello("Java11BLAS");
    java.put("load_error", "x.so: cannot open shared object file");
    assertEquals("netlib uses dev.ludovic.netlib.blas.Java11BLAS, not JNIBLAS over "
        + "libgpucore_blas.so: x.so: cannot open shared object file",
        BlasSuite.wrongImplementation("gpucore", java, lib, ob));
  }

  private static Map<String, Object> hello(String impl, String... mapped) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("impl", "dev.ludovic.netlib.blas." + impl);
    m.put("native", new ArrayList<>(List.of(mapped)));
    return m;
  }

  @Test
  void optionsAreCheckedBeforeAnything() {
    for (String[] bad : List.of(new String[] {"--sizes", "64", "--api-sizes", "128"},
        new String[] {"--vector-sizes", "0"}, new String[] {"--gemv-sizes", "50000"},
        new String[] {"--dtype", "fp32", "--api-sizes", "64", "--sizes", "64"})) {
      List<String> args = new ArrayList<>(List.of("bench", "blas", "--peers", "none"));
      args.addAll(List.of(bad));
      BenchCommandTest.Result r = BenchCommandTest.run(args.toArray(String[]::new));
      assertEquals(2, r.code(), String.join(" ", bad) + ": " + r.out() + r.err());
      says(r.err(), "blas: --");
    }
  }

  @Test
  void saysWhatIsMissingFromTheClassPath() throws Exception {
    try (URLClassLoader bare = new URLClassLoader(new URL[0], null)) {
      assertTrue(BlasSuite.missing(bare).contains("netlib-java"), BlasSuite.missing(bare));
    }
  }

  @Test
  void routeReadsTheTrace() {
    List<String> trace = List.of(
        "2026-01-01T00:00:00Z dgemm_ m=64 n=64 k=64 route=cpu reason=no GPU: no driver",
        "2026-01-01T00:00:00Z dgemm_ m=128 n=128 k=128 route=gpu reason=tiles 1x1",
        "2026-01-01T00:00:00Z dgemm_ m=128 n=128 k=128 route=gpu reason=tiles 1x1");
    assertEquals("cpu (no GPU)", BlasSuite.route(trace, 64));
    assertEquals("gpu", BlasSuite.route(trace, 128));
    assertEquals("-", BlasSuite.route(trace, 256));
  }
}
