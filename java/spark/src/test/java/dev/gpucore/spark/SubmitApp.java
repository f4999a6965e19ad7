package dev.gpucore.spark;

import java.util.List;
import java.util.TreeSet;
import org.apache.spark.SparkConf;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The application {@link SparkSubmitTest} submits: on each executor, a task reports its GPU
 * address, the GPU the library was told, and netlib's BLAS; it prints them and fails unless
 * every executor bound its address and has JNIBLAS.
 */
public final class SubmitApp {
  private SubmitApp() {}

  public static void main(String[] args) throws Exception {
    JavaSparkContext sc = new JavaSparkContext(new SparkConf().setAppName("gpucore-submit"));
    try {
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (sc.sc().statusTracker().getExecutorInfos().length < 3 && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      List<String> seen = sc.parallelize(List.of(0, 1, 2, 3, 4, 5, 6, 7), 8).map(i -> {
        Thread.sleep(150);
        String address = TaskContext.get().resourcesJMap().get("gpu").addresses()[0];
        return "executor " + org.apache.spark.SparkEnv.get().executorId() + " address " + address
            + " selected " + BlasSetup.selectedGpu() + " blas "
            + dev.ludovic.netlib.blas.BLAS.getInstance().getClass().getName();
      }).collect();
      TreeSet<String> distinct = new TreeSet<>(seen);
      distinct.forEach(s -> System.out.println("seen: " + s));
      boolean ok = distinct.stream().allMatch(s -> s.endsWith("blas dev.ludovic.netlib.blas.JNIBLAS")
          && s.split(" ")[3].equals(s.split(" ")[5]));
      System.out.println(ok ? "submit-app: ok" : "submit-app: FAILED");
      if (!ok) {
        System.exit(1);
      }
    } finally {
      sc.stop();
    }
  }
}
