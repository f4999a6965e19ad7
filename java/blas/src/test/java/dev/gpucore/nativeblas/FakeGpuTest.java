package dev.gpucore.nativeblas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * The GPU path of libgpucore_blas.so without a GPU: a stand-in CUDA runtime and cuBLAS
 * (src/test/c/fake_cuda.c, built as libcudart.so.13 and libcublas.so.13, host memory as device
 * memory, naive GEMMs) on the library path. Checks routing, tiling (row blocks of A, column
 * blocks of C, several streams), operand layouts (Fortran, CBLAS row- and column-major, every
 * transpose, padded leading dimensions), the CPU share, out-of-memory and mid-call faults (C as
 * it was, the rerun on OpenBLAS) and concurrent callers. It cannot check timing or the overlap of
 * copies with GEMMs: that needs a GPU (native/blas/gpu-check.sh).
 */
class FakeGpuTest {
  @TempDir static Path work;
  static Path fake;
  static Path program;

  @BeforeAll
  static void build() throws Exception {
    fake = Files.createDirectories(work.resolve("fake"));
    Path src = Native.cSources().resolve("fake_cuda.c");
    gcc(List.of("-shared", "-fPIC", "-O2", "-Wl,-soname,libcudart.so.13", "-o",
        fake.resolve("libcudart.so.13").toString(), src.toString()));
    // cuBLAS reads each thread's device from the runtime, as the real one does
    gcc(List.of("-shared", "-fPIC", "-O2", "-DFAKE_CUBLAS", "-Wl,-soname,libcublas.so.13", "-o",
        fake.resolve("libcublas.so.13").toString(), src.toString(), "-L" + fake,
        "-l:libcudart.so.13", "-Wl,-rpath,$ORIGIN"));
    program = work.resolve("gemm_check");
    Path libDir = Native.library().getParent().toAbsolutePath();
    gcc(List.of(Native.cSources().resolve("gemm_check.c").toString(), "-o", program.toString(),
        "-L" + libDir, "-l:libopenblas.so.0", "-Wl,-rpath," + libDir, "-lm", "-lpthread"));
  }

  /**
   * The engine's own entry point as the Java API calls it (engine_check.c): operands moved only
   * through the caller's copy function, in chunks of a small staging buffer, host pointers,
   * TF32, BF16 and FP16 on floats (16-bit operands converted on the way up), pinned operands
   * copied by the GPU in place, a failing copy function (reported, C marked as written or not)
   * and bad arguments.
   */
  @Test
  void engineReadsAndWritesOperandsOnlyThroughTheCopyFunction() throws Exception {
    Path engine = work.resolve("engine_check");
    Path libDir = Native.library().getParent().toAbsolutePath();
    gcc(List.of("-I" + Native.cSources().resolve("../../../../../native/include").normalize(),
        Native.cSources().resolve("engine_check.c").toString(), "-o", engine.toString(),
        "-L" + libDir, "-l:libgpucore_blas.so", "-Wl,-rpath," + libDir, "-lm", "-ldl"));
    Map<String, String> env = Map.of("LD_LIBRARY_PATH", fake.toString(),
        "GPUCORE_BLAS_STAGEMIB", "0.125", "FAKE_CUDA_MEM", String.valueOf(4 << 20));
    Native.Result r = Native.run(List.of(engine.toString()), env, null);
    assertEquals(0, r.code(), r.all());
    java.util.regex.Matcher m = java.util.regex.Pattern
        .compile("(\\d+) passed, 0 failed, (\\d+) copies").matcher(r.out());
    assertTrue(m.find(), r.all());
    assertEquals(41, Integer.parseInt(m.group(1)), r.all());
    // 128 KiB staging: the operands of the 19 calls through the copy function move in chunks
    assertTrue(Long.parseLong(m.group(2)) > 19 * 3, r.all());
  }

  /**
   * The pipeline compiled in with settings of its own (scheme_switch_check.c): a resident call,
   * then streamed calls with smaller and larger C tiles on the same thread's buffers; a write
   * past a device buffer aborts the stand-in runtime.
   */
  /**
   * Long dimensions on the engine (engine_check.c, "parts"), with device memory and staging
   * enough for the resident scheme: an inner dimension of more than twice four tiles is summed in
   * parts with C kept on the GPU (every transpose, beta = 0 and not, BF16), also with a dimension
   * of several tiles; each checked against plain C loops.
   */
  @Test
  void engineSumsALongInnerDimensionInPartsWithCOnTheGpu() throws Exception {
    Path engine = work.resolve("engine_check_parts");
    Path libDir = Native.library().getParent().toAbsolutePath();
    gcc(List.of("-I" + Native.cSources().resolve("../../../../../native/include").normalize(),
        Native.cSources().resolve("engine_check.c").toString(), "-o", engine.toString(),
        "-L" + libDir, "-l:libgpucore_blas.so", "-Wl,-rpath," + libDir, "-lm", "-ldl"));
    Map<String, String> env = Map.of("LD_LIBRARY_PATH", fake.toString(),
        "GPUCORE_BLAS_PROFILE", "true");
    Native.Result r = Native.run(List.of(engine.toString(), "parts"), env, null);
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("12 passed, 0 failed"), r.all());
    List<String> summed = r.all().lines()
        .filter(l -> l.startsWith("gpucore_blas: profile ") && l.contains(" k=8300 scheme=summed "))
        .toList();
    // 8 + 1 calls of k = 8300: three parts of 4096, 4096 and 108, one tile each but the last (of
    // 4100 rows: pieces of 1024, 1024, 1024, 1024 and 4 -> 5 tiles a part)
    assertEquals(9, summed.size(), r.all());
    assertTrue(summed.stream().filter(l -> l.contains(" tiles=3 ")).count() == 8, r.all());
    assertTrue(summed.stream().anyMatch(l -> l.contains("m=4100 n=23") && l.contains(" tiles=15 ")),
        r.all());
  }

  @Test
  void eachStreamsBuffersFollowTheSchemeThatUsesThem() throws Exception {
    Path check = work.resolve("scheme_switch_check");
    Path src = Native.cSources().resolve("../../../../../native/blas/src").normalize();
    gcc(List.of("-I" + src, "-I" + Native.cSources().resolve("../../../../../native/include").normalize(),
        Native.cSources().resolve("scheme_switch_check.c").toString(),
        src.resolve("gcb_cuda.c").toString(), src.resolve("gcb_copy.c").toString(),
        src.resolve("gcb_convert.c").toString(), src.resolve("gcb_profile.c").toString(),
        "-o", check.toString(), "-lpthread", "-ldl"));
    Native.Result r = Native.run(List.of(check.toString()), Map.of("LD_LIBRARY_PATH", fake.toString()),
        null);
    assertEquals(0, r.code(), r.all());
    assertTrue(r.out().contains("3 passed, 0 failed"), r.all());
  }

  private static void gcc(List<String> args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("gcc", "-O1"));
    cmd.addAll(args);
    Native.Result r = Native.run(cmd, Map.of(), null);
    assertEquals(0, r.code(), "gcc failed: " + r.all());
  }

  record Run(Native.Result result, List<String> trace, List<String> gemms) {
    long routes(String route) {
      return trace.stream().filter(l -> l.contains(" route=" + route + " ")).count();
    }
  }

  private static int runs;

  /** gemm_check under LD_PRELOAD with the stand-in GPU; kv: extra environment, args: the program's. */
  private static Run run(List<String> args, String... kv) throws Exception {
    return run(program, args, kv);
  }

  private static Run run(Path program, List<String> args, String... kv) throws Exception {
    int id = ++runs;
    Path trace = work.resolve("trace-" + id);
    Path gemms = work.resolve("gemms-" + id);
    Map<String, String> env = new HashMap<>();
    env.put("LD_PRELOAD", Native.library().toAbsolutePath().toString());
    env.put("LD_LIBRARY_PATH", fake.toString());
    env.put("GPUCORE_LOG_FILE", trace.toString());
    env.put("FAKE_CUDA_LOG", gemms.toString());
    for (int i = 0; i < kv.length; i += 2) {
      env.put(kv[i], kv[i + 1]);
    }
    List<String> cmd = new ArrayList<>(List.of(program.toString()));
    cmd.addAll(args);
    Native.Result r = Native.run(cmd, env, null);
    return new Run(r, Files.exists(trace) ? Files.readAllLines(trace) : List.of(),
        Files.exists(gemms) ? Files.readAllLines(gemms) : List.of());
  }

  /** One run of the program with settings {@code kv}, all of whose 24 calls must pass. */
  private static Run passing(String... kv) throws Exception {
    Run r = run(List.of(), kv);
    allPass(r, 24);
    return r;
  }

  private static void allPass(Run r, int calls) {
    assertEquals(0, r.result().code(), r.result().all());
    assertTrue(r.result().out().contains(calls + " passed, 0 failed"), r.result().out());
    assertEquals(calls, r.trace().size(), String.join("\n", r.trace()));
  }

  @Test
  void forcedGpuRouteComputesEveryLayoutOnTheGpu() throws Exception {
    Run r = passing("GPUCORE_GEMM_ROUTE", "gpu");
    assertEquals(24, r.routes("gpu"));
    assertEquals(24, r.gemms().size(), "one tile per call at this size");
    assertTrue(r.trace().stream().allMatch(l -> l.endsWith("reason=gpucore.gemm.route=gpu")));
  }

  @Test
  void smallStagingAndDeviceMemoryCutTheCallIntoTiles() throws Exception {
    Run r = passing("GPUCORE_GEMM_ROUTE", "gpu", "GPUCORE_BLAS_STAGEMIB", "0.125", "FAKE_CUDA_MEM", String.valueOf(4 << 20));
    assertEquals(24, r.routes("gpu"));
    assertTrue(r.gemms().size() > 200, "tiles: " + r.gemms().size());
    // row blocks of A (m < 310, and m < 270 where C is row-major) and column blocks of C
    assertTrue(r.gemms().stream().map(g -> g.split(" ")).allMatch(
        g -> Integer.parseInt(g[3]) < 270 && Integer.parseInt(g[4]) < 270), r.gemms().get(0));
  }

  @Test
  void faultMidCallRerunsOnTheCpuWithCAsItWasThenTheGpuStaysOff() throws Exception {
    // 128 KiB staging: 3 tiles per sgemm call, 6 per dgemm; GEMM 41 is the fifth tile of the
    // first dgemm_ (beta = 0.5), after earlier tiles were written into C
    Run r = passing("GPUCORE_GEMM_ROUTE", "gpu", "GPUCORE_BLAS_STAGEMIB", "0.125",
        "GPUCORE_BLAS_RESIDENT", "false", "FAKE_CUBLAS_FAIL_AT", "41");
    assertEquals(40, r.gemms().size());
    assertTrue(r.trace().get(12).contains("dgemm_ m=310 n=270 k=150 route=cpu reason=GPU failed "
        + "(cublasDgemm: status 13); rerun on OpenBLAS with C as it was"), r.trace().get(12));
    for (String l : r.trace().subList(13, 24)) {
      assertTrue(l.contains("route=cpu reason=no GPU: disabled after a GPU failure: cublasDgemm"), l);
    }
  }

  @Test
  void residentSchemeFaultAfterTilesCameDownRerunsFromCAsItWas() throws Exception {
    // 128 KiB staging: 128 x 128 tiles (64 KiB), nine for the first call (sgemm_ 310 x 270,
    // beta 0.5), in six slots (two per compute stream) in turn; the seventh tile's turn brings
    // the first down into C, and the eighth multiply fails
    Run r = passing("GPUCORE_GEMM_ROUTE", "gpu", "GPUCORE_BLAS_STAGEMIB", "0.125",
        "FAKE_CUBLAS_FAIL_AT", "8");
    assertEquals(7, r.gemms().size());
    assertTrue(r.trace().get(0).contains("sgemm_ m=310 n=270 k=150 route=cpu reason=GPU failed "
        + "(cublasSgemm: status 13); rerun on OpenBLAS with C as it was"), r.trace().get(0));
    assertTrue(r.gemms().stream().map(g -> g.split(" ")).allMatch(
        g -> Integer.parseInt(g[3]) <= 128 && Integer.parseInt(g[4]) <= 128), r.gemms().toString());
  }

  @Test
  void stageProfileAccountsForEveryTileAndByte() throws Exception {
    Path csv = work.resolve("profile.csv");
    Run r = passing("GPUCORE_GEMM_ROUTE", "gpu", "GPUCORE_BLAS_STAGEMIB", "0.125",
        "GPUCORE_BLAS_PROFILEFILE", csv.toString());
    List<String> summaries = r.result().err().lines()
        .filter(l -> l.startsWith("gpucore_blas: profile ")).toList();
    assertEquals(24, summaries.size(), r.result().err());
    List<String> rows = Files.readAllLines(csv);
    assertEquals("call,routine,m,n,k,scheme,kind,stream,tile_i,tile_j,bytes,start_ms,end_ms",
        rows.get(0));
    Map<Integer, long[]> calls = new HashMap<>(); // m, n, k, es, up_a, up_b, up_c, down, gemms
    for (String row : rows.subList(1, rows.size())) {
      String[] f = row.split(",");
      long[] c = calls.computeIfAbsent(Integer.parseInt(f[0]), x -> new long[] {
          Long.parseLong(f[2]), Long.parseLong(f[3]), Long.parseLong(f[4]),
          f[1].equals("sgemm") ? 4 : 8, 0, 0, 0, 0, 0});
      assertEquals("resident", f[5], row);
      double start = Double.parseDouble(f[11]);
      double end = Double.parseDouble(f[12]);
      assertTrue(start >= 0 && end >= start, row);
      long bytes = Long.parseLong(f[10]);
      switch (f[6]) {
        case "up_a" -> c[4] += bytes;
        case "up_b" -> c[5] += bytes;
        case "up_c" -> c[6] += bytes;
        case "down" -> c[7] += bytes;
        case "gemm" -> c[8]++;
        default -> throw new AssertionError(row);
      }
    }
    assertEquals(24, calls.size());
    for (int call = 1; call <= 24; call++) {
      long[] c = calls.get(call);
      long m = c[0], n = c[1], k = c[2], es = c[3];
      assertEquals(m * k * es, c[4], "A up once, call " + call);
      assertEquals(k * n * es, c[5], "B up once, call " + call);
      assertTrue(c[6] == 0 || c[6] == m * n * es, "C up: none or all of it, call " + call);
      assertEquals(m * n * es, c[7], "C down once, call " + call);
      assertTrue(c[8] > 1, "tiles of call " + call + ": " + c[8]);
      String summary = summaries.get(call - 1);
      assertTrue(summary.contains(" m=" + m + " n=" + n + " k=" + k + " scheme=resident tiles="
          + c[8] + " "), summary);
      assertTrue(summary.contains(" overlap "), summary);
    }
  }

  @Test
  void deviceBuffersStayForTheNextCallUpToTheCacheSetting() throws Exception {
    Path live = work.resolve("live-kept");
    passing("GPUCORE_GEMM_ROUTE", "gpu", "FAKE_CUDA_LIVE", live.toString());
    long kept = Long.parseLong(Files.readString(live).trim().split(" ")[1]);
    assertTrue(kept > 0, "buffers kept after the last call: " + kept);
    Path none = work.resolve("live-none");
    passing("GPUCORE_GEMM_ROUTE", "gpu", "GPUCORE_SCRATCH_CACHEMIB", "0", "FAKE_CUDA_LIVE",
        none.toString());
    assertEquals("live 0", Files.readString(none).trim(), "gpucore.scratch.cacheMiB=0 keeps none");
  }

  @Test
  void outOfMemoryAfterSmallerTilesRerunsOnTheCpu() throws Exception {
    Run r = passing("GPUCORE_GEMM_ROUTE", "gpu", "FAKE_CUDA_MEM", "1000");
    assertEquals(0, r.gemms().size());
    assertTrue(r.trace().stream().allMatch(l -> l.contains(
        "route=cpu reason=GPU failed (cudaMalloc: out of memory); rerun on OpenBLAS with C as it was")),
        String.join("\n", r.trace()));
  }

  @Test
  void fallbackOffLeavesTheFailureVisible() throws Exception {
    Run r = run(List.of(), "GPUCORE_GEMM_ROUTE", "gpu", "FAKE_CUBLAS_FAIL_AT", "1",
        "GPUCORE_GEMM_FALLBACK", "false");
    assertEquals(1, r.result().code(), r.result().all());
    assertTrue(r.trace().get(0).contains("route=gpu-failed reason=cublasSgemm: status 13"), r.trace().get(0));
    assertTrue(r.result().err().contains("sgemm_ failed on the GPU (cublasSgemm: status 13) and "
        + "gpucore.gemm.fallback=false"), r.result().err());
  }

  @Test
  void cpuRatioSharesRowsOfCWithOpenBlas() throws Exception {
    Run r = passing("GPUCORE_GEMM_ROUTE", "gpu", "GPUCORE_GEMM_CPURATIO", "0.3");
    assertTrue(r.trace().get(0).contains("gpucore.gemm.cpuRatio=0.3: 93 of 310 rows of C on the CPU meanwhile"),
        r.trace().get(0));
    assertTrue(r.gemms().get(0).startsWith("gemm 0 0 217 270 150"), r.gemms().get(0));
  }

  @Test
  void concurrentCallersEachGetTheirOwnHandlesAndStreams() throws Exception {
    Run r = run(List.of("1", "4"), "GPUCORE_GEMM_ROUTE", "gpu", "GPUCORE_BLAS_STAGEMIB", "0.125");
    allPass(r, 96);
    assertEquals(96, r.routes("gpu"));
  }

  @Test
  void copyPoolPacksAndUnpacksLargeCallsFromTwoCallers() throws Exception {
    // scale 2: C of the double calls is 2.7 MB, past the size the copy pool takes on
    Run r = run(List.of("2", "2"), "GPUCORE_GEMM_ROUTE", "gpu", "GPUCORE_BLAS_COPYTHREADS", "4",
        "FAKE_CUBLAS_FAIL_AT", "40");
    allPass(r, 48);
    assertTrue(r.trace().stream().anyMatch(l -> l.contains("rerun on OpenBLAS with C as it was")),
        String.join("\n", r.trace()));
  }

  @Test
  void autoRouteUsesTheModelOrMinFlops() throws Exception {
    // the model with the CPU's rate set: a fast CPU keeps these calls, a slow one gives them away
    Run fast = passing("GPUCORE_GEMM_CPUGFLOPS", "1e6");
    assertTrue(fast.trace().stream().allMatch(l -> l.matches(
        ".* route=cpu reason=estimated GPU [0-9.]+ ms vs CPU [0-9.]+ ms at [0-9]+ GFLOP/s")),
        String.join("\n", fast.trace()));
    Run slow = passing("GPUCORE_GEMM_CPUGFLOPS", "1");
    assertEquals(24, slow.routes("gpu"), String.join("\n", slow.trace()));
    Run flops = passing("GPUCORE_GEMM_MINFLOPS", "1e6");
    assertEquals(24, flops.routes("gpu"));
    assertTrue(flops.trace().get(0).endsWith("reason=2.51e+07 flops >= gpucore.gemm.minFlops=1e+06"),
        flops.trace().get(0));
  }

  @Test
  void disabledRoutinesAndRouteCpuStayOnOpenBlas() throws Exception {
    Run r = passing("GPUCORE_GEMM_ROUTE", "gpu", "GPUCORE_GEMM_DISABLE", "sgemm");
    assertEquals(12, r.routes("gpu"));
    assertTrue(r.trace().get(0).endsWith("reason=sgemm is disabled for the GPU by gpucore.gemm.disable"));
    Run cpu = passing("GPUCORE_GEMM_ROUTE", "cpu");
    assertTrue(cpu.trace().stream().allMatch(l -> l.endsWith("route=cpu reason=gpucore.gemm.route=cpu")));
    assertEquals(0, cpu.gemms().size());
  }

  @Test
  void gpuListBeyondTheVisibleGpusAndNoDeviceMeanNoGpu() throws Exception {
    Run list = passing("GPUCORE_GEMM_ROUTE", "gpu", "GPUCORE_GPU_LIST", "3");
    assertTrue(list.trace().get(0).endsWith("route=cpu reason=no GPU: gpucore.gpu.list names GPU 3 but 1 are visible"),
        list.trace().get(0));
    Run none = passing("GPUCORE_GEMM_ROUTE", "gpu", "FAKE_CUDA_DEVICES", "0");
    assertTrue(none.trace().get(0).endsWith(
        "route=cpu reason=no GPU: cudaGetDeviceCount: no CUDA-capable device is detected"), none.trace().get(0));
  }

  @Test
  void theGpuChosenFromTheJvmSideHoldsForTheProcessAndPerThread() throws Exception {
    Path select = work.resolve("select_gpu_check");
    Path libDir = Native.library().getParent().toAbsolutePath();
    gcc(List.of(Native.cSources().resolve("select_gpu_check.c").toString(), "-o", select.toString(),
        "-L" + libDir, "-l:libgpucore_blas.so", "-Wl,-rpath," + libDir, "-lpthread"));
    Run r = run(select, List.of(), "GPUCORE_GEMM_ROUTE", "gpu", "FAKE_CUDA_DEVICES", "4");
    assertEquals(0, r.result().code(), r.result().all());
    assertEquals(List.of("settings selected=-1", "process selected=1", "thread selected=2",
        "thread-cleared selected=1", "thread selected=3", "thread-cleared selected=1",
        "process selected=1", "beyond selected=7", "cleared selected=-1"),
        r.result().out().lines().toList());
    // the device of each GEMM, as the stand-in runtime saw it; GPU 7 is not there: the CPU ran it
    assertEquals(List.of("dev=0", "dev=1", "dev=2", "dev=1", "dev=3", "dev=1", "dev=1", "dev=0"),
        r.gemms().stream().map(g -> g.substring(g.lastIndexOf(' ') + 1)).toList());
    assertEquals(9, r.trace().size(), String.join("\n", r.trace()));
    assertTrue(r.trace().get(7).endsWith("route=cpu reason=no GPU: GPU 7 is chosen but 4 are visible"),
        r.trace().get(7));
  }
}
