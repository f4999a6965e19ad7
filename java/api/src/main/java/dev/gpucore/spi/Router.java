package dev.gpucore.spi;

import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Setting;
import dev.gpucore.Settings;
import dev.gpucore.blas.Decision;
import dev.gpucore.device.DeviceInfo;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Decides where a GEMM on host operands runs, in the manner of nvBLAS but from a cost model
 * ({@link RouteModel}, the GPU backend's): the CPU's time ({@code flops / CPU rate}) against the
 * GPU's (moving A, B and C over the bus, overlapped with the multiply, plus a fixed overhead).
 * The settings, the GPUs' health and the forced routes are decided here; the times come from the
 * model. Device operands always run on their GPU.
 *
 * <p>Its settings are the {@code gpucore.gemm.*} entries, {@code gpucore.gpu.list},
 * {@code gpucore.trace} and {@code gpucore.log.file} of the {@link Setting} registry (listed
 * with their defaults and ranges in {@code docs/configuration.md}).
 *
 * <p>The CUDA backend's model is the one in libgpucore_blas.so that its sgemm_/dgemm_ route by
 * ({@code native/include/gpucore_engine.h} states its rates); with the defaults of
 * {@code gpucore.gemm.busGBs} (35 GB/s each way) and {@code gpucore.gemm.overheadMs} (0.5 ms)
 * it was fitted to {@code gpucore bench gemm} (host SGEMM per route against OpenBLAS from C);
 * the measurements are in docs/benchmarks.md.
 */
public final class Router {
  private static final System.Logger LOG = System.getLogger("dev.gpucore.router");

  private final String route;
  private final List<String> disabled;
  private final int gpus;
  private final int[] gpuIndices;
  private final java.util.function.IntFunction<String> faulted;
  private final DeviceInfo gpu0;
  private final RouteModel model;
  private final int cpuThreads;
  private final boolean fallback;
  private final double cpuRatio;
  private final boolean trace;
  private final LogFile logFile;
  private final double cpuGflops;
  private final double gpuGflops;
  private final double busGBs;
  private final double overheadMs;

  /**
   * A router for a core with {@code gpus} GPUs usable for host GEMMs (the first described by
   * {@code gpu0}, null without a GPU), estimated by {@code model} (null without a GPU), and
   * {@code cpuThreads} CPU threads.
   */
  public Router(Settings s, int gpus, DeviceInfo gpu0, RouteModel model, int cpuThreads) {
    this(s, java.util.stream.IntStream.range(0, gpus).boxed().toList(), i -> null, gpu0, model,
        cpuThreads);
  }

  /**
   * A router for the GPUs {@code gpuIndices} (from {@link #gpuList}), whose health is asked of
   * {@code faulted} on every decision (a reason when the device is faulted, else null): a
   * faulted GPU gets no more host GEMMs, and with none healthy they run on the CPU.
   */
  public Router(Settings s, List<Integer> gpuIndices, java.util.function.IntFunction<String> faulted,
      DeviceInfo gpu0, RouteModel model, int cpuThreads) {
    int gpus = gpuIndices.size();
    this.route = s.get(Setting.GEMM_ROUTE);
    this.disabled = s.get(Setting.GEMM_DISABLE);
    this.gpus = gpus;
    this.gpuIndices = gpuIndices.stream().mapToInt(Integer::intValue).toArray();
    this.faulted = faulted;
    this.gpu0 = gpu0;
    this.model = gpus == 0 ? null : java.util.Objects.requireNonNull(model, "model");
    this.cpuThreads = Math.max(1, cpuThreads);
    this.fallback = s.get(Setting.GEMM_FALLBACK);
    this.cpuRatio = s.get(Setting.GEMM_CPU_RATIO);
    this.trace = s.get(Setting.TRACE);
    String lf = s.get(Setting.LOG_FILE);
    try {
      // opened here, at GpuCore.open, not in a GEMM: a failure is reported once, now
      this.logFile = lf == null ? null : LogFile.open(Path.of(lf),
          s.value(Setting.LOG_FILE).where() + " is \"" + lf + "\"", System.err);
    } catch (InvalidPathException e) {
      throw new GpuCoreException.InvalidArgument(
          "gpucore.log.file is not a path: " + e.getMessage());
    }
    this.cpuGflops = s.get(Setting.GEMM_CPU_GFLOPS);
    this.gpuGflops = s.get(Setting.GEMM_GPU_GFLOPS);
    this.busGBs = s.get(Setting.GEMM_BUS_GBS);
    this.overheadMs = s.get(Setting.GEMM_OVERHEAD_MS);
  }

  /**
   * The GPUs {@code gpucore.gpu.list} names for host GEMMs ({@code all}, or indices) among the
   * {@code deviceCount} usable ones. An index of a GPU that is not present is a warning
   * ({@link Settings#warn}) and is ignored; when it leaves no GPU named, the setting is ignored
   * and every GPU is used.
   */
  public static List<Integer> gpuList(Settings s, int deviceCount) {
    List<Integer> named = s.get(Setting.GPU_LIST);
    List<Integer> all = java.util.stream.IntStream.range(0, deviceCount).boxed().toList();
    if (named.isEmpty()) {
      return all;
    }
    List<Integer> out = new ArrayList<>();
    List<Integer> absent = new ArrayList<>();
    for (int i : named) {
      (i < deviceCount ? out : absent).add(i);
    }
    if (!absent.isEmpty()) {
      s.warn(s.value(Setting.GPU_LIST).where() + " names GPU" + (absent.size() > 1 ? "s " : " ")
          + absent.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(","))
          + " but " + (deviceCount == 0 ? "no GPU is" : deviceCount == 1 ? "only GPU 0 is"
              : "only GPUs 0 to " + (deviceCount - 1) + " are") + " usable; "
          + (out.isEmpty() ? (deviceCount == 0 ? "ignored" : "the setting is ignored (all GPUs)")
              : "ignored"));
    }
    return out.isEmpty() ? all : out;
  }

  /**
   * Rows of C that a host GEMM sent to the GPU computes on the CPU meanwhile
   * ({@code gpucore.gemm.cpuRatio} of them, as nvBLAS's {@code NVBLAS_CPU_RATIO}): 0 when the
   * ratio is 0, for batches and for calls with nothing to multiply.
   */
  public int cpuRows(GemmCall call) {
    if (cpuRatio <= 0 || call.batch() != 1 || call.scaleOnly()) {
      return 0;
    }
    int rows = (int) Math.floor(call.m() * cpuRatio);
    return rows >= call.m() ? 0 : rows;
  }

  /** Whether a failed GPU call is rerun on the CPU. */
  public boolean fallbackToCpu() {
    return fallback;
  }

  /** The decision for a checked call, logged when tracing. */
  public Decision decide(GemmCall call) {
    boolean log = trace || (logFile != null && logFile.usable());
    Decision d = decision(call, log); // the reason text only when someone reads it
    if (log) {
      d = withSplit(d, call);
    }
    if (log) {
      record(call, (d.gpu() ? "gpu" : "cpu") + ": " + d.reason());
    }
    return d;
  }

  /** Writes one line about a call to the trace and the log file. */
  public void record(GemmCall call, String what) {
    boolean toFile = logFile != null && logFile.usable();
    if (!trace && !toFile) {
      return;
    }
    String line = Instant.now() + " " + routine(call) + " m=" + call.m() + " n=" + call.n()
        + " k=" + call.k() + " batch=" + call.batch() + " " + call.precision() + " -> " + what;
    if (trace) {
      LOG.log(System.Logger.Level.INFO, line);
    }
    if (toFile) {
      logFile.append(line, System.err); // never throws: a failure is reported once, then dropped
    }
  }

  public static String routine(GemmCall call) {
    return (call.dtype() == DType.FLOAT64 ? "dgemm" : "sgemm")
        + (call.batch() > 1 ? "_batched" : "");
  }

  /** The decision for a checked call with host operands, and why. */
  public Decision explain(GemmCall call) {
    return withSplit(decision(call, true), call);
  }

  private Decision withSplit(Decision d, GemmCall call) {
    int rows = d.gpu() ? cpuRows(call) : 0;
    return rows == 0 ? d : new Decision(true, d.devices(), d.reason() + "; gpucore.gemm.cpuRatio="
        + cpuRatio + ": " + rows + " of " + call.m() + " rows of C on the CPU meanwhile");
  }

  /** GPUs for host GEMMs that are not faulted; {@code why[0]} gets a fault reason. */
  private int healthy(String[] why) {
    int n = 0;
    for (int i : gpuIndices) {
      String f = faulted.apply(i);
      if (f == null) {
        n++;
      } else if (why[0] == null) {
        why[0] = "GPU " + i + " is faulted (" + f + ")";
      }
    }
    return n;
  }

  private Decision decision(GemmCall call, boolean withReason) {
    if (gpus == 0) {
      return new Decision(false, 0, "no GPU is usable");
    }
    String[] sick = new String[1];
    int gpus = healthy(sick);
    if (gpus == 0) {
      return new Decision(false, 0, "no healthy GPU: " + sick[0]);
    }
    String r = routine(call);
    if (disabled.contains(r)) {
      return new Decision(false, 0, r + " is disabled for the GPU by gpucore.gemm.disable");
    }
    if (route.equals("cpu")) {
      return new Decision(false, 0, "gpucore.gemm.route=cpu");
    }
    if (route.equals("gpu")) {
      return new Decision(true, gpus, "gpucore.gemm.route=gpu");
    }
    if (call.scaleOnly()) {
      return new Decision(false, 0, "nothing to multiply (k = 0 or alpha = 0): C = beta*C on the CPU");
    }
    double flops = call.flops();
    int eb = call.dtype().bytes();
    double bytesA = (double) call.spanA() * eb * call.batch();
    double bytesB = (double) call.spanB() * eb * (call.transA() ? call.batch() : 1);
    double bytesC = (double) call.spanC() * eb * call.batch();
    RouteModel.Estimate e = model.estimate(new RouteModel.Input(call.precision(), flops, bytesA,
        bytesB, bytesC, call.beta() != 0, gpus, gpu0 == null ? 0 : gpu0.ccMajor(),
        gpu0 == null ? 0 : gpu0.multiprocessors(), cpuThreads, cpuGflops, gpuGflops, busGBs,
        overheadMs));
    if (!withReason) {
      return new Decision(e.gpu(), e.gpu() ? gpus : 0, "");
    }
    String why = String.format(Locale.ROOT,
        "estimated GPU %.3f ms (B up %.3f, A/C up %.3f, multiply %.3f at %.0f GFLOP/s, C down %.3f,"
            + " overhead %.1f, %d GPU%s) vs CPU %.3f ms at %.0f GFLOP/s",
        e.gpuMs(), e.bUpMs(), e.acUpMs(), e.multiplyMs(), e.gpuGflops(), e.cDownMs(), overheadMs,
        gpus, gpus > 1 ? "s" : "", e.cpuMs(), e.cpuGflops());
    return new Decision(e.gpu(), e.gpu() ? gpus : 0, why);
  }
}
