package dev.gpucore.spark;

import dev.gpucore.device.DeviceInfo;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Which GPU an executor's BLAS uses, from the GPU addresses Spark assigned to it.
 *
 * <ul>
 *   <li>{@link Mode#ONE_GPU}: one address (or, in local mode, the driver's first GPU): the
 *       process's GPU;
 *   <li>{@link Mode#PER_TASK}: several addresses: each task binds its thread to the GPU Spark
 *       gave the task ({@link #forTask}), the first address being the process's GPU meanwhile;
 *   <li>{@link Mode#CPU}: local mode and gpucore sees no GPU;
 *   <li>{@link Mode#UNASSIGNED}: a cluster executor Spark assigned no GPU: nothing is chosen and
 *       the library follows its own settings ({@code gpucore.gpu.list}, else GPU 0 if visible).
 * </ul>
 *
 * <p>Spark-free; unit-tested against fake resource maps.
 *
 * @param mode see above
 * @param gpus every assigned address bound, in Spark's order (empty for CPU and UNASSIGNED)
 * @param processGpu the process's GPU, or null
 * @param summary one line for the executor's log
 */
public record ExecutorPlan(Mode mode, Map<String, DeviceBinder.Bound> gpus,
    DeviceBinder.Bound processGpu, String summary) {

  /** See {@link ExecutorPlan}. */
  public enum Mode { ONE_GPU, PER_TASK, CPU, UNASSIGNED }

  /** The name of Spark's GPU resource. */
  public static final String GPU = "gpu";

  /** Copies the map. */
  public ExecutorPlan {
    Objects.requireNonNull(mode, "mode");
    gpus = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(gpus));
  }

  /**
   * The plan for an executor.
   *
   * @param resources Spark's resources of the executor: name to addresses
   *     ({@code PluginContext.resources()}); may lack {@code gpu}
   * @param localMode whether the master is {@code local[...]} (the executor is the driver)
   * @param devices gpucore's devices in this process
   * @param noGpuReason why gpucore sees none, when {@code devices} is empty
   * @throws IllegalArgumentException when an address is malformed or names no GPU here
   */
  public static ExecutorPlan of(Map<String, List<String>> resources, boolean localMode,
      List<DeviceInfo> devices, String noGpuReason) {
    Objects.requireNonNull(resources, "resources");
    Objects.requireNonNull(devices, "devices");
    List<String> addresses = resources.getOrDefault(GPU, List.of());
    if (addresses == null || addresses.isEmpty()) {
      if (!localMode) {
        return new ExecutorPlan(Mode.UNASSIGNED, Map.of(), null,
            "Spark assigned no GPU to this executor (spark.executor.resource.gpu.amount is not set): "
                + "GEMMs follow the library's own settings (gpucore.gpu.list, else GPU 0 if visible)");
      }
      if (devices.isEmpty()) {
        return new ExecutorPlan(Mode.CPU, Map.of(), null,
            "local mode, no GPU visible" + (noGpuReason == null || noGpuReason.isEmpty() ? ""
                : " (" + noGpuReason + ")") + ": BLAS runs on the CPU (OpenBLAS)");
      }
      DeviceInfo first = DeviceBinder.pciOrder(devices).get(0);
      DeviceBinder.Bound b = DeviceBinder.bind("0", devices, noGpuReason);
      return new ExecutorPlan(Mode.ONE_GPU, Map.of("0", b), b,
          "local mode: the driver's GPU " + first.name() + ", " + b.how());
    }
    Map<String, DeviceBinder.Bound> bound = new LinkedHashMap<>();
    for (String a : addresses) {
      bound.put(a, DeviceBinder.bind(a, devices, noGpuReason));
    }
    DeviceBinder.Bound first = bound.values().iterator().next();
    if (bound.size() == 1) {
      return new ExecutorPlan(Mode.ONE_GPU, bound, first,
          "GPU address " + first.address() + ": " + first.how());
    }
    StringBuilder s = new StringBuilder(bound.size() + " GPU addresses, each task binds the one Spark gives it:");
    for (DeviceBinder.Bound b : bound.values()) {
      s.append(' ').append(b.address()).append(" -> CUDA ").append(b.cudaOrdinal()).append(';');
    }
    s.setLength(s.length() - 1);
    return new ExecutorPlan(Mode.PER_TASK, bound, first, s.toString());
  }

  /**
   * The CUDA ordinal a task's thread binds, from the GPU addresses Spark gave the task
   * ({@code TaskContext.resources()}): its first one; -1 (the process's GPU) when the task has
   * none or the executor has one GPU.
   *
   * @throws IllegalArgumentException when the task's address is not one of the executor's
   */
  public int forTask(List<String> taskAddresses) {
    if (mode != Mode.PER_TASK || taskAddresses == null || taskAddresses.isEmpty()) {
      return -1;
    }
    String a = taskAddresses.get(0);
    DeviceBinder.Bound b = gpus.get(a);
    if (b == null) {
      throw new IllegalArgumentException("task GPU address " + a + " is not one of the executor's "
          + gpus.keySet());
    }
    return b.cudaOrdinal();
  }

  /** gpucore's device index for a task (its first GPU address, else the process's), or -1. */
  public int deviceForTask(List<String> taskAddresses) {
    if (taskAddresses != null && !taskAddresses.isEmpty() && gpus.containsKey(taskAddresses.get(0))) {
      return gpus.get(taskAddresses.get(0)).device();
    }
    return processGpu == null ? -1 : processGpu.device();
  }
}
