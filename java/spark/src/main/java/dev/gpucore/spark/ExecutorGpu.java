package dev.gpucore.spark;

import dev.gpucore.GpuCore;
import java.util.List;
import java.util.Map;

/**
 * The executor's gpucore state, one per JVM: the {@link GpuCore} (opened once, closed at exit)
 * and the {@link ExecutorPlan}. Spark-free: the plugin fills it on each executor, and
 * {@link GpuBlockMatrix}'s tasks read it (opening the core themselves where the plugin is not
 * configured).
 */
public final class ExecutorGpu {
  private static GpuCore core;
  private static ExecutorPlan plan;

  private ExecutorGpu() {}

  /** This JVM's core, opened at the first call. */
  public static synchronized GpuCore core() {
    if (core == null) {
      GpuCore c = GpuCore.open();
      core = c;
      Runtime.getRuntime().addShutdownHook(new Thread(c::close, "gpucore-spark-close"));
    }
    return core;
  }

  /**
   * Makes and remembers the plan for this executor.
   *
   * @param resources Spark's resources of the executor (name to addresses)
   * @param localMode whether the master is local mode
   */
  public static synchronized ExecutorPlan plan(Map<String, List<String>> resources, boolean localMode) {
    GpuCore c = core();
    plan = ExecutorPlan.of(resources, localMode, c.devices(), c.noGpuReason());
    return plan;
  }

  /** The plan made by {@link #plan}, or null. */
  public static synchronized ExecutorPlan currentPlan() {
    return plan;
  }

  /**
   * gpucore's device for a task given its GPU addresses: the task's address bound by the plan,
   * else the process's GPU, else the core's first GPU; -1 when the core has none.
   */
  public static synchronized int deviceFor(List<String> taskAddresses) {
    GpuCore c = core();
    if (!c.hasGpu()) {
      return -1;
    }
    if (plan != null) {
      int d = plan.deviceForTask(taskAddresses);
      if (d >= 0) {
        return d;
      }
    } else if (taskAddresses != null && !taskAddresses.isEmpty()) {
      return DeviceBinder.bind(taskAddresses.get(0), c.devices(), c.noGpuReason()).device();
    }
    return 0;
  }
}
