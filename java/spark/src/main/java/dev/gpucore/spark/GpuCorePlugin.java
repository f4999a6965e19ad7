package dev.gpucore.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.TaskContext;
import org.apache.spark.TaskFailedReason;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * gpucore on Spark: {@code spark.plugins=dev.gpucore.spark.GpuCorePlugin}.
 *
 * <ul>
 *   <li>Driver: refuses to start local mode with task GPU requests (Spark would wait forever).
 *   <li>Each executor, at start (before any task, so before MLlib first touches BLAS): binds the
 *       GPU address Spark assigned it to a device ({@link ExecutorPlan}), extracts
 *       {@code libgpucore_blas.so} and points netlib-java at it ({@link BlasSetup}), chooses
 *       that GPU in the library, and loads netlib's BLAS, logging which one it is.
 *   <li>With several GPUs per executor: each task's thread is bound to the GPU Spark gave the
 *       task ({@code TaskContext.resources()}) while it runs.
 * </ul>
 */
public final class GpuCorePlugin implements SparkPlugin {
  @Override
  public DriverPlugin driverPlugin() {
    return new Driver();
  }

  @Override
  public ExecutorPlugin executorPlugin() {
    return new Executor();
  }

  static Map<String, String> settings(SparkConf conf) {
    Map<String, String> m = new HashMap<>();
    for (Tuple2<String, String> t : conf.getAll()) {
      m.put(t._1(), t._2());
    }
    return m;
  }

  static Map<String, List<String>> addresses(Map<String, ResourceInformation> resources) {
    Map<String, List<String>> m = new HashMap<>();
    if (resources != null) {
      resources.forEach((k, v) -> m.put(k, Arrays.asList(v.addresses())));
    }
    return m;
  }

  /** The driver side: the local-mode check. */
  static final class Driver implements DriverPlugin {
    @Override
    public Map<String, String> init(SparkContext sc, PluginContext ctx) {
      LocalMode.check(sc.master(), settings(sc.getConf()));
      return Map.of();
    }
  }

  /** The executor side. */
  static final class Executor implements ExecutorPlugin {
    private static final Logger LOG = LoggerFactory.getLogger(GpuCorePlugin.class);
    private ExecutorPlan plan;

    @Override
    public void init(PluginContext ctx, Map<String, String> extraConf) {
      String master = ctx.conf().get("spark.master", "");
      boolean local = LocalMode.isLocal(master);
      // the core first: its CPU backend loads bytedeco's OpenBLAS, which the library then shares
      plan = ExecutorGpu.plan(addresses(ctx.resources()), local);
      BlasSetup.Result r;
      try {
        Path parent = Path.of(System.getProperty("java.io.tmpdir"));
        r = BlasSetup.install(Thread.currentThread().getContextClassLoader(), parent);
      } catch (IOException e) {
        throw new UncheckedIOException("gpucore: libgpucore_blas.so cannot be extracted", e);
      }
      if (r.userSet()) {
        LOG.warn("gpucore: {}", r.message());
      } else {
        LOG.info("gpucore: {}", r.message());
      }
      LOG.info("gpucore: executor {}: {}", ctx.executorID(), BlasSetup.apply(plan));
      LOG.info("gpucore: netlib BLAS is {}", BlasSetup.netlibInstance(
          Thread.currentThread().getContextClassLoader()));
    }

    @Override
    public void onTaskStart() {
      if (plan == null || plan.mode() != ExecutorPlan.Mode.PER_TASK) {
        return;
      }
      TaskContext tc = TaskContext.get();
      ResourceInformation gpu = tc == null ? null : tc.resourcesJMap().get(ExecutorPlan.GPU);
      BlasSetup.bindThread(plan.forTask(gpu == null ? null : Arrays.asList(gpu.addresses())));
    }

    @Override
    public void onTaskSucceeded() {
      release();
    }

    @Override
    public void onTaskFailed(TaskFailedReason reason) {
      release();
    }

    private void release() {
      if (plan != null && plan.mode() == ExecutorPlan.Mode.PER_TASK) {
        BlasSetup.bindThread(-1);
      }
    }
  }
}
