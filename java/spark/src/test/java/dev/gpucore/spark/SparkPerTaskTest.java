package dev.gpucore.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One executor owning two GPUs (local-cluster[1,2,1024], addresses "0" and "1"), one GPU per
 * task: each task's thread is bound to the GPU Spark gave that task while it runs.
 */
class SparkPerTaskTest {
  static JavaSparkContext sc;

  @BeforeAll
  static void start() throws Exception {
    SparkFixture.assumeSparkExecution();
    Path work = SparkFixture.work("per-task");
    sc = new JavaSparkContext(
        SparkFixture.localCluster(work, "gpucore-per-task", List.of(List.of("0", "1"))));
  }

  @AfterAll
  static void stop() {
    if (sc != null) {
      sc.stop();
    }
  }

  record Seen(String address, int selected) implements Serializable {}

  @Test
  void eachTaskThreadUsesItsOwnGpu() {
    List<Seen> seen = sc.parallelize(List.of(0, 1, 2, 3, 4, 5, 6, 7), 8).map(i -> {
      Thread.sleep(100); // two tasks at once, one per GPU
      ResourceInformation gpu = TaskContext.get().resourcesJMap().get("gpu");
      return new Seen(gpu.addresses()[0], BlasSetup.selectedGpu());
    }).collect();
    Set<String> addresses = new TreeSet<>();
    for (Seen s : seen) {
      addresses.add(s.address());
      assertEquals(Integer.parseInt(s.address()), s.selected(), "task bound to its GPU: " + seen);
    }
    assertEquals(Set.of("0", "1"), addresses, "both GPUs served tasks: " + seen);
    assertEquals(8, seen.size());
  }
}
