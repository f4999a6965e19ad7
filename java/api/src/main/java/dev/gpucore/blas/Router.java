package dev.gpucore.blas;

import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Settings;
import dev.gpucore.device.DeviceInfo;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Decides where a GEMM on host operands runs, in the manner of nvBLAS but from a cost model:
 * the CPU's time ({@code flops / CPU rate}) against the GPU's (moving A, B and C over the bus,
 * overlapped with the multiply, plus a fixed overhead). Device operands always run on their GPU.
 *
 * <p>Settings (see {@link Settings} for where they are read and their precedence):
 * <table>
 *   <caption>Router settings</caption>
 *   <tr><th>key</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>gpucore.gemm.route</td><td>{@code auto}, {@code cpu} or {@code gpu}</td><td>auto</td></tr>
 *   <tr><td>gpucore.gemm.disable</td><td>routines kept on the CPU: {@code sgemm}, {@code dgemm},
 *       {@code sgemm_batched}, {@code dgemm_batched} (like nvBLAS's per-routine disable)</td><td></td></tr>
 *   <tr><td>gpucore.gpu.list</td><td>GPUs for host GEMMs: {@code all} or indices {@code 0,1}</td><td>all</td></tr>
 *   <tr><td>gpucore.gemm.panelMiB</td><td>size of the row panels of A streamed to the GPU (tile size)</td><td>16</td></tr>
 *   <tr><td>gpucore.gemm.cpuRatio</td><td>share of C's rows (0 to 0.99) that a host GEMM sent to
 *       the GPU computes on the CPU at the same time (nvBLAS's {@code NVBLAS_CPU_RATIO})</td><td>0</td></tr>
 *   <tr><td>gpucore.gemm.fallback</td><td>rerun on the CPU when the GPU runs out of memory (after retries with tiles
 *       1/4 and 1/16 of panelMiB) or faults</td><td>true</td></tr>
 *   <tr><td>gpucore.trace</td><td>log every decision (System.Logger {@code dev.gpucore.router})</td><td>false</td></tr>
 *   <tr><td>gpucore.log.file</td><td>append every decision to this file (opened once per JVM; when it cannot be opened or written, one line on stderr and no more logging)</td><td></td></tr>
 *   <tr><td>gpucore.gemm.cpuGflops, .gpuGflops, .busGBs, .overheadMs</td><td>override the model's
 *       CPU rate, GPU rate, host-device bandwidth and fixed GPU overhead</td><td>measured defaults</td></tr>
 * </table>
 *
 * <p>The model's defaults were measured on an H100 host (16 cores) with {@code gpucore bench gemm}
 * (host SGEMM per route, n = 64 to 16384, two runs, 2026-11-23): OpenBLAS about 69 GFLOP/s per
 * core in fp32 (half in fp64) on large calls, less on small ones (the rate falls as the fourth
 * root of the work below about 0.26 GFLOP per thread: SGEMM from C ran 22-24 us at n = 128,
 * 74-84 us at 256, 366-464 us at 512, 2.3 ms at 1024, 15 ms at 2048; gpucore's CPU path, which
 * now runs on Java arrays in place, took 0.75-1.02 of OpenBLAS's time from C at n = 128 to 1024
 * on that host, commit 0b017e7), so that the crossover lands between n = 512 (GPU route
 * 482-623 us) and n = 1024 (GPU route 1.74-2.08 ms); the GPU rate by architecture and
 * precision (Hopper: fp32 48 TFLOP/s, TF32 250, BF16/FP16 300, fp64 50); Java arrays through the
 * staging pipeline at about 35 GB/s each way; about 0.5 ms of fixed overhead per host GEMM.
 */
public final class Router {
  /**
   * A routing decision.
   *
   * @param gpu whether the call runs on the GPU
   * @param devices how many GPUs share it (0 for the CPU; -1 for device operands)
   * @param reason why, in one line
   */
  public record Decision(boolean gpu, int devices, String reason) {}

  private static final System.Logger LOG = System.getLogger("dev.gpucore.router");

  private final String route;
  private final List<String> disabled;
  private final int gpus;
  private final int[] gpuIndices;
  private final java.util.function.IntFunction<String> faulted;
  private final DeviceInfo gpu0;
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
   * {@code gpu0}, null without a GPU) and {@code cpuThreads} CPU threads.
   */
  public Router(Settings s, int gpus, DeviceInfo gpu0, int cpuThreads) {
    this(s, java.util.stream.IntStream.range(0, gpus).boxed().toList(), i -> null, gpu0,
        cpuThreads);
  }

  /**
   * A router for the GPUs {@code gpuIndices} (from {@link #gpuList}), whose health is asked of
   * {@code faulted} on every decision (a reason when the device is faulted, else null): a
   * faulted GPU gets no more host GEMMs, and with none healthy they run on the CPU.
   */
  public Router(Settings s, List<Integer> gpuIndices, java.util.function.IntFunction<String> faulted,
      DeviceInfo gpu0, int cpuThreads) {
    int gpus = gpuIndices.size();
    this.route = s.get("gpucore.gemm.route", "auto").toLowerCase(Locale.ROOT);
    if (!List.of("auto", "cpu", "gpu").contains(route)) {
      throw new GpuCoreException.InvalidArgument(
          "gpucore.gemm.route must be auto, cpu or gpu; got \"" + route + "\"");
    }
    List<String> dis = new ArrayList<>();
    for (String r : s.get("gpucore.gemm.disable", "").split(",")) {
      String t = r.trim().toLowerCase(Locale.ROOT);
      if (t.isEmpty()) {
        continue;
      }
      if (!List.of("sgemm", "dgemm", "sgemm_batched", "dgemm_batched").contains(t)) {
        throw new GpuCoreException.InvalidArgument("gpucore.gemm.disable: unknown routine \"" + t
            + "\"; expected sgemm, dgemm, sgemm_batched, dgemm_batched");
      }
      dis.add(t);
    }
    this.disabled = List.copyOf(dis);
    this.gpus = gpus;
    this.gpuIndices = gpuIndices.stream().mapToInt(Integer::intValue).toArray();
    this.faulted = faulted;
    this.gpu0 = gpu0;
    this.cpuThreads = Math.max(1, cpuThreads);
    this.fallback = s.getBoolean("gpucore.gemm.fallback", true);
    this.cpuRatio = s.getDouble("gpucore.gemm.cpuRatio", 0, 0, 0.99);
    this.trace = s.getBoolean("gpucore.trace", false);
    String lf = s.get("gpucore.log.file", null);
    try {
      this.logFile = lf == null ? null : LogFile.of(Path.of(lf));
    } catch (InvalidPathException e) {
      throw new GpuCoreException.InvalidArgument(
          "gpucore.log.file is not a path: " + e.getMessage());
    }
    this.cpuGflops = s.getDouble("gpucore.gemm.cpuGflops", 0, 0, 1e9);
    this.gpuGflops = s.getDouble("gpucore.gemm.gpuGflops", 0, 0, 1e9);
    this.busGBs = s.getDouble("gpucore.gemm.busGBs", 35, 0.001, 1e6);
    this.overheadMs = s.getDouble("gpucore.gemm.overheadMs", 0.5, 0, 1e6);
  }

  /**
   * The GPUs {@code gpucore.gpu.list} names for host GEMMs ({@code all}, or indices), checked
   * against the {@code deviceCount} usable ones.
   */
  public static List<Integer> gpuList(Settings s, int deviceCount) {
    String v = s.get("gpucore.gpu.list", "all").trim();
    List<Integer> out = new ArrayList<>();
    if (v.equalsIgnoreCase("all")) {
      for (int i = 0; i < deviceCount; i++) {
        out.add(i);
      }
      return out;
    }
    for (String e : v.split(",")) {
      String t = e.trim();
      int i;
      try {
        i = Integer.parseInt(t);
      } catch (NumberFormatException ex) {
        throw new GpuCoreException.InvalidArgument(
            "gpucore.gpu.list must be all or GPU indices like 0,1; got \"" + v + "\"");
      }
      if (i < 0 || i >= deviceCount) {
        throw new GpuCoreException.InvalidArgument("gpucore.gpu.list names GPU " + i + " but "
            + deviceCount + " GPU(s) are usable");
      }
      if (!out.contains(i)) {
        out.add(i);
      }
    }
    return out;
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
    String line = Instant.now() + " " + routine(call) + " m=" + call.m() + " n=" + call.n()
        + " k=" + call.k() + " batch=" + call.batch() + " " + call.precision() + " -> " + what;
    if (trace) {
      LOG.log(System.Logger.Level.INFO, line);
    }
    if (logFile != null) {
      logFile.append(line, System.err); // never throws: a failure is reported once, then dropped
    }
  }

  static String routine(GemmCall call) {
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
    double cpuRate = cpuRate(call.dtype(), flops) * 1e9;
    double tCpu = flops / cpuRate;
    int eb = call.dtype().bytes();
    double bytesA = (double) call.spanA() * eb * call.batch();
    double bytesB = (double) call.spanB() * eb * (call.transA() ? call.batch() : 1);
    double bytesC = (double) call.spanC() * eb * call.batch();
    double bus = busGBs * 1e9;
    double gpuRate = gpuRate(call.precision()) * 1e9 * gpus;
    double tUp = (bytesA + (call.beta() != 0 ? bytesC : 0)) / (bus * Math.min(gpus, 2));
    double tCompute = flops / gpuRate;
    double tDown = bytesC / (bus * Math.min(gpus, 2));
    double tB = bytesB / bus;
    double tGpu = overheadMs / 1e3 + tB + Math.max(tCompute, Math.max(tUp, tDown))
        + Math.min(tUp, tDown) / 8;
    boolean gpu = tGpu < tCpu;
    if (!withReason) {
      return new Decision(gpu, gpu ? gpus : 0, "");
    }
    String why = String.format(Locale.ROOT,
        "estimated GPU %.3f ms (B up %.3f, A/C up %.3f, multiply %.3f at %.0f GFLOP/s, C down %.3f,"
            + " overhead %.1f, %d GPU%s) vs CPU %.3f ms at %.0f GFLOP/s",
        tGpu * 1e3, tB * 1e3, tUp * 1e3, tCompute * 1e3, gpuRate / 1e9, tDown * 1e3, overheadMs,
        gpus, gpus > 1 ? "s" : "", tCpu * 1e3, cpuRate / 1e9);
    return new Decision(gpu, gpu ? gpus : 0, why);
  }

  /** CPU GFLOP/s for this type at full speed: the override, else 69 (fp32) or 34 (fp64) per thread. */
  double cpuRate(DType t) {
    if (cpuGflops > 0) {
      return t == DType.FLOAT64 ? cpuGflops / 2 : cpuGflops;
    }
    return cpuThreads * (t == DType.FLOAT64 ? 34.0 : 69.0);
  }

  /**
   * CPU GFLOP/s for a call of {@code flops}: OpenBLAS reaches its full rate only on large
   * calls; below about 0.26 GFLOP of work per thread the rate falls as the fourth root of the
   * work (fitted to OpenBLAS SGEMM from C on 16 cores: about 180, 425, 650, 925, 1130 GFLOP/s at
   * n = 128, 256, 512, 1024, 2048; the model gives 197, 331, 556, 936, 1104: below the
   * measured rate at n = 256 and 512, where the GPU route is still about 20% slower than the CPU,
   * so it leans towards the GPU there).
   */
  double cpuRate(DType t, double flops) {
    double full = cpuRate(t);
    if (cpuGflops > 0) {
      return full; // an explicit rate is taken as it is
    }
    double saturate = 2.6e8 * cpuThreads;
    return flops >= saturate ? full : full * Math.sqrt(Math.sqrt(flops / saturate));
  }

  /** GPU GFLOP/s for this precision on one device: the override, else by architecture. */
  double gpuRate(Precision p) {
    if (gpuGflops > 0) {
      return gpuGflops;
    }
    int cc = gpu0 == null ? 0 : gpu0.ccMajor();
    double sms = gpu0 == null ? 0 : gpu0.multiprocessors();
    double[] rate; // fp32, tf32, bf16/fp16, fp64 in GFLOP/s
    if (cc >= 9) {
      rate = new double[] {48_000, 250_000, 300_000, 50_000};
      sms /= 132;
    } else if (cc == 8) {
      rate = new double[] {18_000, 120_000, 200_000, 18_000};
      sms /= 108;
    } else {
      rate = new double[] {8_000, 8_000, 8_000, 4_000};
      sms = 1;
    }
    double scale = sms > 0 ? sms : 1;
    switch (p) {
      case TF32:
        return rate[1] * scale;
      case BF16:
      case FP16:
        return rate[2] * scale;
      case FP64:
        return rate[3] * scale;
      default:
        return rate[0] * scale;
    }
  }
}
