package dev.gpucore.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.mllib.linalg.distributed.BlockMatrix;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Spark's local-cluster[2,1,1024] (a master, two workers and two executor JVMs) with a stand-in
 * GPU discovery script handing GPU "0" to one worker and "1" to the other: each executor binds
 * its address, netlib's BLAS there is JNIBLAS over libgpucore_blas.so, and every block GEMM of
 * BlockMatrix.multiply goes through the library (its trace counts them). No GPU here: the library
 * runs them on OpenBLAS and says why in the trace.
 */
class SparkLocalClusterTest {
  static JavaSparkContext sc;
  static Path work;
  static Path trace;

  @BeforeAll
  static void start() throws Exception {
    SparkFixture.assumeSparkExecution();
    work = SparkFixture.work("local-cluster");
    trace = work.resolve("gpucore-blas.trace");
    SparkConf conf = SparkFixture.localCluster(work, "gpucore-local-cluster",
            List.of(List.of("0"), List.of("1")))
        .set("spark.executorEnv.GPUCORE_LOG_FILE", trace.toString());
    sc = new JavaSparkContext(conf);
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (sc.sc().statusTracker().getExecutorInfos().length < 3) { // the driver counts too
      assertTrue(System.nanoTime() < deadline, "the two executors did not register in 60 s");
      Thread.sleep(100);
    }
  }

  @AfterAll
  static void stop() {
    if (sc != null) {
      sc.stop();
    }
  }

  /** What a task sees on its executor. */
  record Seen(String executor, String address, int selected, String blas, String libPath)
      implements Serializable {}

  @Test
  void eachExecutorBindsItsAddressAndNetlibIsJniBlasOverTheLibrary() {
    List<Seen> seen = sc.parallelize(List.of(0, 1, 2, 3, 4, 5, 6, 7), 8).map(i -> {
      Thread.sleep(150); // both executors take tasks
      ResourceInformation gpu = TaskContext.get().resourcesJMap().get("gpu");
      return new Seen(org.apache.spark.SparkEnv.get().executorId(), gpu.addresses()[0],
          BlasSetup.selectedGpu(), dev.ludovic.netlib.blas.BLAS.getInstance().getClass().getName(),
          System.getProperty(BlasSetup.NATIVE_LIB_PATH));
    }).collect();
    Map<String, Seen> byExecutor = new TreeMap<>();
    for (Seen s : seen) {
      byExecutor.put(s.executor(), s);
      assertEquals(Integer.parseInt(s.address()), s.selected(), "bound: " + s);
      assertEquals("dev.ludovic.netlib.blas.JNIBLAS", s.blas());
      assertTrue(s.libPath().endsWith("/libgpucore_blas.so"), s.libPath());
    }
    assertEquals(2, byExecutor.size(), "tasks ran on both executors: " + seen);
    assertEquals(List.of("0", "1"), byExecutor.values().stream().map(Seen::address).sorted().toList());
  }

  private static final Pattern GEMM = Pattern.compile(" dgemm_ m=(\\d+) n=(\\d+) k=(\\d+) route=(\\S+)");

  @Test
  void everyBlockGemmOfBlockMatrixMultiplyGoesThroughTheLibrary() throws Exception {
    // 3 x 2 blocks times 2 x 2 blocks (edge blocks smaller): 3 * 2 * 2 = 12 block products
    int rows = 500;
    int inner = 380;
    int cols = 330;
    double[][] fa = new double[1][];
    double[][] fb = new double[1][];
    BlockMatrix a = SparkFixture.random(sc, rows, inner, 200, 256, 1, fa);
    BlockMatrix b = SparkFixture.random(sc, inner, cols, 256, 180, 2, fb);
    Files.deleteIfExists(trace);
    double[] got = a.multiply(b).toLocalMatrix().toArray();
    List<String> gemms = new ArrayList<>();
    for (String l : Files.readAllLines(trace)) {
      if (l.contains(" dgemm_ ")) { // netlib's calls (the Java API logs to the same file)
        gemms.add(l);
      }
    }
    assertEquals(12, gemms.size(), String.join("\n", gemms));
    for (String l : gemms) {
      Matcher m = GEMM.matcher(l);
      assertTrue(m.find(), l);
      assertTrue(List.of("200", "100").contains(m.group(1)) && List.of("180", "150").contains(m.group(2))
          && List.of("256", "124").contains(m.group(3)), l);
      assertEquals("cpu", m.group(4), "no GPU here: " + l);
    }
    double[] want = SparkFixture.javaBlas(rows, cols, inner, fa[0], fb[0]);
    assertTrue(SparkFixture.relDiff(got, want) <= 1e-12, "vs JavaBLAS: " + SparkFixture.relDiff(got, want));

    double[] gpu = GpuBlockMatrix.multiply(a, b).toLocalMatrix().toArray();
    assertTrue(SparkFixture.relDiff(gpu, got) <= 1e-12, "GpuBlockMatrix vs BlockMatrix.multiply: "
        + SparkFixture.relDiff(gpu, got));
    double[] tf32 = GpuBlockMatrix.multiply(a, b, dev.gpucore.blas.Precision.TF32).toLocalMatrix().toArray();
    assertTrue(SparkFixture.relDiff(tf32, want) <= 1e-3, "TF32: " + SparkFixture.relDiff(tf32, want));
  }
}
