package dev.gpucore.nativeblas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * C programs against libgpucore_blas.so: one linked against OpenBLAS with the library in
 * LD_PRELOAD, one linked against libblas.so.3 that finds the library under that name; the
 * routing trace and the settings; a missing OpenBLAS.
 */
class CProgramTest {
  @TempDir static Path work;
  static Path preloadProgram;
  static Path blas3Program;
  static Path blas3Dir;
  static Path timeoutProgram;

  @BeforeAll
  static void build() throws Exception {
    Path src = Native.cSources().resolve("blas_check.c");
    Path libDir = Native.library().getParent();
    // 1. linked against OpenBLAS itself; the library comes in through LD_PRELOAD
    preloadProgram = work.resolve("blas_check_openblas");
    gcc(List.of(src.toString(), "-o", preloadProgram.toString(), "-L" + libDir,
        "-l:libopenblas.so.0", "-Wl,-rpath," + libDir, "-lm"));
    // 2. linked against "libblas.so.3" (a stub with that soname stands in for the system BLAS
    //    at link time); at run time the name resolves to libgpucore_blas.so
    Path stubDir = Files.createDirectories(work.resolve("stub"));
    StringBuilder stub = new StringBuilder();
    for (String s : Native.listedSymbols()) {
      stub.append("void ").append(s).append("(void) {}\n");
    }
    Path stubSrc = stubDir.resolve("stub.c");
    Files.writeString(stubSrc, stub);
    gcc(List.of("-shared", "-fPIC", "-Wl,-soname,libblas.so.3", "-o",
        stubDir.resolve("libblas.so.3").toString(), stubSrc.toString()));
    blas3Program = work.resolve("blas_check_blas3");
    gcc(List.of(src.toString(), "-o", blas3Program.toString(), "-L" + stubDir, "-l:libblas.so.3",
        "-lm"));
    timeoutProgram = work.resolve("timeout_check");
    gcc(List.of(Native.cSources().resolve("timeout_check.c").toString(), "-o",
        timeoutProgram.toString(), "-L" + stubDir, "-l:libblas.so.3", "-ldl"));
    blas3Dir = Files.createDirectories(work.resolve("blas3"));
    Files.createSymbolicLink(blas3Dir.resolve("libblas.so.3"), Native.library().toAbsolutePath());
  }

  private static void gcc(List<String> args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("gcc", "-O1"));
    cmd.addAll(args);
    Native.Result r = Native.run(cmd, Map.of(), null);
    assertEquals(0, r.code(), "gcc failed: " + r.all());
  }

  private static Map<String, String> env(String... kv) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  /** Runs the program linked against OpenBLAS with the library in LD_PRELOAD and {@code kv}. */
  private static Native.Result preloaded(String... kv) throws Exception {
    Map<String, String> e = env(kv);
    e.put("LD_PRELOAD", Native.library().toAbsolutePath().toString());
    return Native.run(List.of(preloadProgram.toString()), e, null);
  }

  private static boolean gpuAbsent() {
    return !Files.exists(Path.of("/dev/nvidia0")) && !Files.exists(Path.of("/dev/nvidiactl"));
  }

  private static List<String> trace(Path file) throws IOException {
    return Files.exists(file) ? Files.readAllLines(file) : List.of();
  }

  @Test
  void programLinkedAgainstOpenBlasGetsTheLibraryThroughLdPreload() throws Exception {
    Path log = work.resolve("preload.trace");
    Native.Result r = preloaded("GPUCORE_LOG_FILE", log.toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("20 passed, 0 failed"), r.out());
    List<String> lines = trace(log);
    // the library's own GEMMs intercepted every GEMM the program made (4 dgemm_, 1 sgemm_, 2 CBLAS)
    assertEquals(4, lines.stream().filter(l -> l.contains(" dgemm_ ")).count(), String.join("\n", lines));
    assertEquals(1, lines.stream().filter(l -> l.contains(" sgemm_ ")).count());
    assertEquals(1, lines.stream().filter(l -> l.contains(" cblas_dgemm ")).count());
    assertEquals(1, lines.stream().filter(l -> l.contains(" cblas_sgemm ")).count());
    assertTrue(lines.stream().anyMatch(l -> l.contains(" dgemm_ m=300 n=200 k=100 route=")), String.join("\n", lines));
  }

  @Test
  void programLinkedAgainstLibblasSo3RunsOnTheLibrary() throws Exception {
    Native.Result elf = Native.run(List.of("readelf", "-d", blas3Program.toString()), Map.of(), null);
    assertTrue(elf.out().contains("[libblas.so.3]"), elf.out());
    Path log = work.resolve("blas3.trace");
    Native.Result r = Native.run(List.of(blas3Program.toString()),
        env("LD_LIBRARY_PATH", blas3Dir.toString(), "GPUCORE_OPENBLAS",
            Native.openblas().toAbsolutePath().toString(), "GPUCORE_LOG_FILE", log.toString()), null);
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("20 passed, 0 failed"), r.out());
    assertEquals(7, trace(log).size(), String.join("\n", trace(log)));
  }

  @Test
  void withoutGpuEveryGemmRunsOnTheCpuAndTheTraceSaysNoGpu() throws Exception {
    assumeTrue(gpuAbsent(), "a GPU device node exists here: the no-GPU route cannot be shown");
    Path log = work.resolve("nogpu.trace");
    // even when the GPU route is forced
    Native.Result r = preloaded("GPUCORE_LOG_FILE", log.toString(), "GPUCORE_GEMM_ROUTE", "gpu");
    assertEquals(0, r.code(), r.all());
    List<String> lines = trace(log);
    assertEquals(7, lines.size());
    for (String l : lines) {
      assertTrue(l.matches(".* (s|d|cblas_s|cblas_d)gemm_? m=\\d+ n=\\d+ k=\\d+ route=cpu reason=no GPU: .+"), l);
    }
  }

  @Test
  void cblasRowMajorTraceGivesTheCallersShape() throws Exception {
    Path log = work.resolve("shape.trace");
    Native.Result r = preloaded("GPUCORE_LOG_FILE", log.toString());
    assertEquals(0, r.code(), r.all());
    assertTrue(trace(log).stream().anyMatch(l -> l.contains(" cblas_dgemm m=2 n=2 k=2 route=")));
    assertTrue(trace(log).stream().anyMatch(l -> l.contains(" dgemm_ m=37 n=29 k=41 route=")));
  }

  @Test
  void settingsComeFromTheFileAndTheEnvironmentWins() throws Exception {
    Path conf = work.resolve("gpucore.conf");
    Files.writeString(conf, "# routing\ngpucore.gemm.route = sideways\ngpucore.gpu.list 0,x\n"
        + "gpucore.gemm.cpuRatio: 2\n");
    Map<String, String> e = env("LD_PRELOAD", Native.library().toAbsolutePath().toString(),
        "GPUCORE_CONFIG", conf.toString());
    Native.Result fromFile = Native.run(List.of(preloadProgram.toString()), e, null);
    assertEquals(0, fromFile.code(), fromFile.all());
    assertTrue(fromFile.err().contains("gpucore.gemm.route must be auto, cpu or gpu; got \"sideways\""),
        fromFile.err());
    assertTrue(fromFile.err().contains("gpucore.gpu.list must be all or GPU indices like 0,1; got \"0,x\""),
        fromFile.err());
    assertTrue(fromFile.err().contains("gpucore.gemm.cpuRatio must be a number from 0 to 0.99; got \"2\""),
        fromFile.err());
    e.put("GPUCORE_GEMM_ROUTE", "upwards");
    Native.Result fromEnv = Native.run(List.of(preloadProgram.toString()), e, null);
    assertTrue(fromEnv.err().contains("got \"upwards\""), fromEnv.err());
    assertFalse(fromEnv.err().contains("sideways"), fromEnv.err());
    Native.Result noFile = preloaded("GPUCORE_CONFIG", work.resolve("absent.conf").toString());
    assertEquals(0, noFile.code(), noFile.all());
    assertTrue(noFile.err().contains("GPUCORE_CONFIG=" + work.resolve("absent.conf") + " cannot be read"),
        noFile.err());
  }

  /**
   * {@link #timeoutProgram}'s three figures, with OpenBLAS loaded by the library from
   * GPUCORE_OPENBLAS, three OpenBLAS threads and {@code kv}: OpenBLAS's thread timeout exponent,
   * the variable after the load, idle CPU ms.
   */
  private static String[] timeoutRun(String... kv) throws Exception {
    Map<String, String> e = env(kv);
    e.put("LD_LIBRARY_PATH", blas3Dir.toString());
    e.put("GPUCORE_OPENBLAS", Native.openblas().toAbsolutePath().toString());
    e.put("OPENBLAS_NUM_THREADS", "3");
    e.put("GPUCORE_GEMM_ROUTE", "cpu");
    Native.Result r = Native.run(List.of(timeoutProgram.toString()), e, null);
    assertEquals(0, r.code(), r.all());
    String[] keys = {"openblas_thread_timeout ", "variable ", "idle_cpu_ms "};
    String[] v = new String[3];
    for (int i = 0; i < 3; i++) {
      String key = keys[i];
      v[i] = r.out().lines().filter(l -> l.startsWith(key)).findFirst()
          .orElseThrow(() -> new AssertionError("no " + key + "in " + r.all()))
          .substring(key.length());
    }
    return v;
  }

  @Test
  void anOpenBlasTheLibraryLoadsGetsTheThreadTimeoutSetting() throws Exception {
    String[] byDefault = timeoutRun();
    assertEquals("20", byDefault[0], "gpucore.cpu.threadTimeout's default");
    assertEquals("unset", byDefault[1], "the variable is restored after the load");
    String[] quiet = timeoutRun("GPUCORE_CPU_THREADTIMEOUT", "4");
    String[] spin = timeoutRun("GPUCORE_CPU_THREADTIMEOUT", "30");
    assertEquals("4", quiet[0]);
    assertEquals("30", spin[0]);
    double q = Double.parseDouble(quiet[2]);
    double sp = Double.parseDouble(spin[2]);
    // 2^30 ticks: the two workers spin through the 200 ms window; 2^4: they sleep at once
    assertTrue(sp > 200 / 8.0, "N = 30: CPU ms in the idle window " + sp);
    assertTrue(q < 200 / 10.0, "N = 4: CPU ms in the idle window " + q);
    assertTrue(sp > 4 * q, "N = 30 " + sp + " ms vs N = 4 " + q + " ms");
    // from the settings file; 0 leaves OpenBLAS with the variable the user set
    Path conf = work.resolve("timeout.conf");
    Files.writeString(conf, "gpucore.cpu.threadTimeout = 6\n");
    assertEquals("6", timeoutRun("GPUCORE_CONFIG", conf.toString())[0]);
    String[] own = timeoutRun("GPUCORE_CPU_THREADTIMEOUT", "0", "OPENBLAS_THREAD_TIMEOUT", "7");
    assertEquals("7", own[0]);
    assertEquals("7", own[1]);
  }

  @Test
  void missingOpenBlasIsOneClearLineAndNoCrash() throws Exception {
    Native.Result r = Native.run(List.of(blas3Program.toString()),
        env("LD_LIBRARY_PATH", blas3Dir.toString(), "GPUCORE_OPENBLAS", "/nonexistent/libopenblas.so.0"),
        null);
    // the checks fail (nothing was computed) but the program ran to its end
    assertEquals(1, r.code(), r.all());
    assertTrue(r.out().contains("passed,"), r.out());
    assertTrue(r.err().contains("gpucore_blas: no OpenBLAS: GPUCORE_OPENBLAS=/nonexistent/libopenblas.so.0 cannot be loaded"),
        r.err());
    assertTrue(r.err().contains("gpucore_blas: dgemm_ cannot run:"), r.err());
    assertTrue(r.err().contains("gpucore_blas: ddot_ cannot run:"), r.err());
    assertEquals(1, r.err().lines().filter(l -> l.contains("ddot_ cannot run")).count(),
        "each missing routine is reported once");
  }

  @Test
  void openBlasIsFoundBesideTheLibraryWithoutAnySetting() throws Exception {
    // the tarball layout, lib/libgpucore_blas.so next to lib/libopenblas.so.0, with that folder on
    // no search path: the program's libblas.so.3 is the stub, the library comes in by LD_PRELOAD
    Native.Result r = Native.run(List.of(blas3Program.toString()),
        env("LD_LIBRARY_PATH", work.resolve("stub").toString(), "LD_PRELOAD",
            Native.library().toAbsolutePath().toString()), null);
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("20 passed, 0 failed"), r.out());
    assertFalse(r.err().contains("gpucore_blas:"), r.err());
  }
}
