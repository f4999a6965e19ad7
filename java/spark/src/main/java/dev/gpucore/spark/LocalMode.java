package dev.gpucore.spark;

import java.util.Map;
import java.util.regex.Pattern;

/**
 * Local mode and GPU requests. Spark's local mode ({@code local}, {@code local[N]},
 * {@code local[*]}, {@code local[N,F]}) does not schedule task resources: a job whose tasks ask
 * for GPUs ({@code spark.task.resource.gpu.amount}) waits forever for them. This check makes
 * that configuration fail at start with the reason. Spark-free.
 */
public final class LocalMode {
  private static final Pattern LOCAL = Pattern.compile("local(\\[[^\\]]*\\])?");
  /** Spark's key for the GPUs each task asks for. */
  public static final String TASK_GPU_AMOUNT = "spark.task.resource.gpu.amount";

  private LocalMode() {}

  /** Whether {@code master} is local mode (not {@code local-cluster}). */
  public static boolean isLocal(String master) {
    return master != null && LOCAL.matcher(master.strip()).matches();
  }

  /**
   * Throws when {@code master} is local mode and {@code conf} asks for task GPUs.
   *
   * @param master {@code spark.master}
   * @param conf Spark's settings
   * @throws IllegalStateException with the reason and what to do
   */
  public static void check(String master, Map<String, String> conf) {
    String amount = conf.get(TASK_GPU_AMOUNT);
    if (!isLocal(master) || amount == null || amount.isBlank()) {
      return;
    }
    double a;
    try {
      a = Double.parseDouble(amount.strip());
    } catch (NumberFormatException e) {
      return; // Spark reports a malformed amount itself
    }
    if (a > 0) {
      throw new IllegalStateException("gpucore: " + TASK_GPU_AMOUNT + "=" + amount.strip()
          + " with master " + master + ": Spark's local mode does not schedule task resources, so "
          + "every job would wait forever for a GPU. Remove " + TASK_GPU_AMOUNT
          + " (local mode then uses the driver's GPU, if any) or run on a cluster manager "
          + "(standalone, YARN, Kubernetes; local-cluster[N,C,M] for tests).");
    }
  }
}
