package dev.gpucore.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.mllib.linalg.DenseMatrix;
import org.apache.spark.mllib.linalg.Matrix;
import org.apache.spark.mllib.linalg.distributed.BlockMatrix;
import scala.Tuple2;

/** What the Spark tests share: their work folder, a fake discovery script, block matrices. */
final class SparkFixture {
  private SparkFixture() {}

  /** Skips unless run by the pom's Spark execution (spark.testing, spark.test.home, Java options). */
  static void assumeSparkExecution() {
    org.junit.jupiter.api.Assumptions.assumeTrue(System.getProperty("spark.test.home") != null,
        "Spark tests run in the pom's spark execution (spark.testing, spark.test.home, Spark's "
            + "--add-opens list)");
  }

  /** A fresh folder for one test class under the build's spark-work folder. */
  static Path work(String name) throws IOException {
    Path root = Path.of(System.getProperty("gpucore.spark.work", "target/spark-work"));
    Path dir = root.resolve(name);
    if (Files.exists(dir)) {
      try (var s = Files.walk(dir)) {
        for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    return Files.createDirectories(dir).toAbsolutePath();
  }

  /**
   * A discovery script in the manner of Spark's own tests: the n-th run (over all workers) prints
   * the n-th group of addresses, so each worker of a local cluster gets its own GPUs.
   */
  static Path discoveryScript(Path dir, List<List<String>> groups) throws IOException {
    StringBuilder s = new StringBuilder("#!/bin/sh\n# a stand-in for a GPU discovery script\n");
    s.append("d=\"").append(dir).append("\"\n");
    for (int i = 0; i < groups.size(); i++) {
      s.append("if mkdir \"$d/claimed-").append(i).append("\" 2>/dev/null; then echo '")
          .append(json(groups.get(i))).append("'; exit 0; fi\n");
    }
    s.append("echo '").append(json(List.of())).append("'\n");
    Path script = dir.resolve("discover-gpus.sh");
    Files.writeString(script, s.toString());
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    return script;
  }

  /**
   * A local cluster with a worker per group of GPU addresses (handed out by a {@link
   * #discoveryScript}), as many cores as GPUs on each, one GPU per task, the plugin on, and
   * Spark's local files in {@code work}.
   */
  static SparkConf localCluster(Path work, String app, List<List<String>> groups)
      throws IOException {
    Path script = discoveryScript(work, groups);
    String gpus = String.valueOf(groups.get(0).size());
    return new SparkConf()
        .setMaster("local-cluster[" + groups.size() + "," + gpus + ",1024]")
        .setAppName(app)
        .set("spark.plugins", GpuCorePlugin.class.getName())
        .set("spark.worker.resource.gpu.amount", gpus)
        .set("spark.worker.resource.gpu.discoveryScript", script.toString())
        .set("spark.executor.resource.gpu.amount", gpus)
        .set("spark.task.resource.gpu.amount", "1")
        .set("spark.executor.memory", "512m")
        .set("spark.ui.enabled", "false")
        .set("spark.local.dir", work.resolve("local").toString());
  }

  static String json(List<String> addresses) {
    List<String> q = new ArrayList<>();
    for (String a : addresses) {
      q.add("\"" + a + "\"");
    }
    return "{\"name\":\"gpu\",\"addresses\":[" + String.join(",", q) + "]}";
  }

  /** A rows×cols block matrix of random values in blocks of rpb×cpb, column-major values in full. */
  static BlockMatrix random(JavaSparkContext sc, int rows, int cols, int rpb, int cpb, long seed,
      double[][] full) {
    Random r = new Random(seed);
    double[] all = new double[rows * cols];
    for (int i = 0; i < all.length; i++) {
      all[i] = r.nextDouble() * 2 - 1;
    }
    full[0] = all;
    List<Tuple2<Tuple2<Object, Object>, Matrix>> blocks = new ArrayList<>();
    for (int bi = 0; bi * rpb < rows; bi++) {
      for (int bj = 0; bj * cpb < cols; bj++) {
        int m = Math.min(rpb, rows - bi * rpb);
        int n = Math.min(cpb, cols - bj * cpb);
        double[] v = new double[m * n];
        for (int j = 0; j < n; j++) {
          for (int i = 0; i < m; i++) {
            v[i + j * m] = all[(bi * rpb + i) + (bj * cpb + j) * rows];
          }
        }
        blocks.add(new Tuple2<>(new Tuple2<>(bi, bj), new DenseMatrix(m, n, v)));
      }
    }
    JavaRDD<Tuple2<Tuple2<Object, Object>, Matrix>> rdd = sc.parallelize(blocks, 4);
    return new BlockMatrix(rdd.rdd(), rpb, cpb, rows, cols);
  }

  /** Column-major m×n product by netlib's JavaBLAS (the reference). */
  static double[] javaBlas(int m, int n, int k, double[] a, double[] b) {
    double[] c = new double[m * n];
    dev.ludovic.netlib.blas.JavaBLAS.getInstance().dgemm("N", "N", m, n, k, 1.0, a, m, b, k, 0.0, c, m);
    return c;
  }

  /** max |x - y| / max |y|. */
  static double relDiff(double[] x, double[] y) {
    double d = 0;
    double s = 0;
    for (int i = 0; i < y.length; i++) {
      d = Math.max(d, Math.abs(x[i] - y[i]));
      s = Math.max(s, Math.abs(y[i]));
    }
    return d / s;
  }
}
