package dev.gpucore.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.GpuCore;
import java.nio.file.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.mllib.linalg.distributed.BlockMatrix;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Local mode: asking for task GPUs fails at start with the reason (Spark would wait forever);
 * without such a request the executor is the driver, and it uses the driver's GPU, else the CPU.
 */
class SparkLocalModeTest {
  static Path work;

  @BeforeAll
  static void setUp() throws Exception {
    SparkFixture.assumeSparkExecution();
    work = SparkFixture.work("local-mode");
  }

  private static SparkConf conf(String name) {
    return new SparkConf()
        .setMaster("local[2]")
        .setAppName(name)
        .set("spark.plugins", GpuCorePlugin.class.getName())
        .set("spark.ui.enabled", "false")
        .set("spark.local.dir", work.resolve(name).toString());
  }

  @Test
  void taskGpuRequestsFailFastWithTheReason() throws Exception {
    // what would hang: executor and task GPUs configured, as for a cluster (a task amount alone
    // Spark refuses itself)
    Path script = SparkFixture.discoveryScript(work, java.util.List.of(java.util.List.of("0")));
    SparkConf c = conf("gpu-request")
        .set("spark.executor.resource.gpu.amount", "1")
        .set("spark.executor.resource.gpu.discoveryScript", script.toString())
        .set("spark.driver.resource.gpu.amount", "1")
        .set("spark.driver.resource.gpu.discoveryScript", script.toString())
        .set("spark.task.resource.gpu.amount", "1");
    long t0 = System.nanoTime();
    Exception e = assertThrows(Exception.class, () -> new JavaSparkContext(c).stop());
    Throwable root = e;
    while (!(root instanceof IllegalStateException) && root.getCause() != null) {
      root = root.getCause();
    }
    assertTrue(root.getMessage() != null && root.getMessage().contains(
        "local mode does not schedule task resources"), String.valueOf(e));
    assertTrue(System.nanoTime() - t0 < 60_000_000_000L, "fails at start, not by a timeout");
  }

  @Test
  void withoutRequestsTheDriversGpuElseTheCpu() throws Exception {
    JavaSparkContext sc = new JavaSparkContext(conf("no-request"));
    try {
      // the plugin's executor side ran in this JVM
      assertEquals("dev.ludovic.netlib.blas.JNIBLAS", BlasSetup.netlibInstance(getClass().getClassLoader()));
      assertTrue(System.getProperty(BlasSetup.NATIVE_LIB_PATH).endsWith("/libgpucore_blas.so"));
      ExecutorPlan plan = ExecutorGpu.currentPlan();
      GpuCore core = ExecutorGpu.core();
      if (core.hasGpu()) {
        assertEquals(ExecutorPlan.Mode.ONE_GPU, plan.mode());
        assertEquals(plan.processGpu().cudaOrdinal(), BlasSetup.selectedGpu());
      } else {
        assertEquals(ExecutorPlan.Mode.CPU, plan.mode(), plan.summary());
        assertEquals(-1, BlasSetup.selectedGpu());
      }
      double[][] fa = new double[1][];
      double[][] fb = new double[1][];
      BlockMatrix a = SparkFixture.random(sc, 300, 260, 128, 100, 5, fa);
      BlockMatrix b = SparkFixture.random(sc, 260, 140, 100, 64, 6, fb);
      double[] want = SparkFixture.javaBlas(300, 140, 260, fa[0], fb[0]);
      double[] spark = a.multiply(b).toLocalMatrix().toArray();
      double[] gpu = GpuBlockMatrix.multiply(a, b).toLocalMatrix().toArray();
      assertTrue(SparkFixture.relDiff(spark, want) <= 1e-12);
      assertTrue(SparkFixture.relDiff(gpu, spark) <= 1e-12);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> GpuBlockMatrix.multiply(a, a));
      assertEquals("a has 260 columns but b has 300 rows", e.getMessage());
    } finally {
      sc.stop();
    }
  }
}
