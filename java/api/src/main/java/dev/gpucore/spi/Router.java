package dev.gpucore.spi;

import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Setting;
import dev.gpucore.Settings;
import dev.gpucore.blas.Decision;
import dev.gpucore.blas.Precision;
import dev.gpucore.blas.Routing;
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
 * <p>The figures the model is given, each from the first of: the setting given explicitly
 * ({@code gpucore.gemm.cpuGflops}, {@code gpuGflops}, {@code busGBs}, {@code overheadMs}); the
 * calibration of this machine ({@link RouteCalibration}: read from its cache file or measured,
 * once, when the first call needs the model, with {@code gpucore.gemm.calibrate=auto} and a
 * backend whose times are real); the built-in model (the engine's rates by architecture and CPU
 * threads, and the settings' defaults). With {@code gpucore.gemm.learn} the estimates are then
 * corrected by the times of the calls routed so far ({@link RouteLearning}). {@link #routing()}
 * and every explanation say which figure came from where.
 *
 * <p>Small calls are cheap: a call whose CPU time at these figures is under 1/{@link
 * #FAST_MARGIN} of the GPU's fixed cost goes to the CPU without the model, the GPUs' health or
 * any allocation (the model would send it there too, whatever it learns).
 */
public final class Router {
  private static final System.Logger LOG = System.getLogger("dev.gpucore.router");
  /**
   * How far under the GPU's fixed cost a call's CPU time must be for the short way to the CPU:
   * the most the learnt factors can move the CPU's and the GPU's estimates, multiplied.
   */
  static final double FAST_MARGIN = RouteLearning.MAX_FACTOR * RouteLearning.MAX_FACTOR;
  private static final Decision CPU_QUIET = new Decision(false, 0, "");
  /**
   * How far above the chosen route's learnt time the other route's estimate may be for the
   * router to time the other route ({@link #probes}).
   */
  static final double PROBE_MARGIN = 2;
  /**
   * A route not learnt in a class is tried, however slow its estimate, once the class has
   * spent this many times what the try would take at that estimate on the other route
   * ({@link #probes}): at most 1/EXPLORE of the time, once, where the estimate was right.
   */
  static final double EXPLORE = 32;
  private static final Decision NO_GPU = new Decision(false, 0, "no GPU is usable");

  /** Measures the figures on this machine ({@link RouteCalibration#measure}). */
  @FunctionalInterface
  public interface Calibrator {
    /** The figures, measured now, for {@code key}. */
    RouteRates measure(String key);
  }

  private final String route;
  private final boolean routeAuto;
  private final boolean routeGpu;
  private final List<String> disabled;
  private final int gpus;
  private final int[] gpuIndices;
  private final java.util.function.IntFunction<String> faulted;
  private final DeviceInfo gpu0;
  private final List<DeviceInfo> gpuInfos;
  private final RouteModel model;
  private final int cpuThreads;
  private final boolean fallback;
  private final double cpuRatio;
  private final boolean trace;
  private final LogFile logFile;
  /** Explicit settings (0 / NaN when not given), and where they were given. */
  private final double cpuGflops;
  private final double gpuGflops;
  private final double busGBs;
  private final double overheadMs;
  private final String cpuWhere;
  private final String gpuWhere;
  private final String busWhere;
  private final String overheadWhere;
  private final double busDefault;
  private final double overheadDefault;
  private final Calibrator calibrator;
  private final boolean autoCalibrate;
  private final String calibrationFile;
  private final boolean learn;
  private final Object calibrating = new Object();
  /**
   * Calibrations measured in this process whose file could not be written, by key and file:
   * where the cache cannot be written, a process measures once, not once per core.
   */
  private static final java.util.Map<String, RouteRates> UNCACHED =
      new java.util.concurrent.ConcurrentHashMap<>();
  private volatile boolean calibrationTried;
  private volatile State state;

  /**
   * The figures in force: the calibration (null: none), what to say about it, the learning
   * from the calls timed with these figures, and the largest call that surely runs on the CPU.
   */
  private record State(RouteRates rates, String origin, String calibration,
      RouteLearning learning, double fastFlops32, double fastFlops64) {
    /** The short way's limit for calls of {@code t} (fp64, or the fp32 family). */
    double fastFlops(DType t) {
      return t == DType.FLOAT64 ? fastFlops64 : fastFlops32;
    }
  }

  /**
   * A router for a core with {@code gpus} GPUs usable for host GEMMs (the first described by
   * {@code gpu0}, null without a GPU), estimated by {@code model} (null without a GPU), and
   * {@code cpuThreads} CPU threads. It neither calibrates nor learns.
   */
  public Router(Settings s, int gpus, DeviceInfo gpu0, RouteModel model, int cpuThreads) {
    this(s, java.util.stream.IntStream.range(0, gpus).boxed().toList(), i -> null, gpu0, model,
        cpuThreads);
  }

  /**
   * A router for the GPUs {@code gpuIndices} (from {@link #gpuList}), whose health is asked of
   * {@code faulted} on every decision (a reason when the device is faulted, else null): a
   * faulted GPU gets no more host GEMMs, and with none healthy they run on the CPU. It neither
   * calibrates nor learns.
   */
  public Router(Settings s, List<Integer> gpuIndices, java.util.function.IntFunction<String> faulted,
      DeviceInfo gpu0, RouteModel model, int cpuThreads) {
    this(s, gpuIndices, faulted, gpu0 == null ? List.of() : List.of(gpu0), model, cpuThreads,
        null);
  }

  /**
   * A router as {@link #Router(Settings, List, java.util.function.IntFunction, DeviceInfo,
   * RouteModel, int)}, for the GPUs {@code gpuInfos} (the first as {@code gpu0}), that
   * calibrates with {@code calibrator} and learns from the calls timed by the API (as the
   * settings allow); a null calibrator (a backend whose times mean nothing) does neither.
   */
  public Router(Settings s, List<Integer> gpuIndices, java.util.function.IntFunction<String> faulted,
      List<DeviceInfo> gpuInfos, RouteModel model, int cpuThreads, Calibrator calibrator) {
    int gpus = gpuIndices.size();
    this.route = s.get(Setting.GEMM_ROUTE);
    this.routeAuto = route.equals("auto");
    this.routeGpu = route.equals("gpu");
    this.disabled = s.get(Setting.GEMM_DISABLE);
    this.gpus = gpus;
    this.gpuIndices = gpuIndices.stream().mapToInt(Integer::intValue).toArray();
    this.faulted = faulted;
    this.gpuInfos = List.copyOf(gpuInfos);
    this.gpu0 = gpuInfos.isEmpty() ? null : gpuInfos.get(0);
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
    this.cpuWhere = given(s, Setting.GEMM_CPU_GFLOPS, true);
    this.gpuWhere = given(s, Setting.GEMM_GPU_GFLOPS, true);
    this.busWhere = given(s, Setting.GEMM_BUS_GBS, false);
    this.overheadWhere = given(s, Setting.GEMM_OVERHEAD_MS, false);
    this.cpuGflops = cpuWhere == null ? 0 : s.get(Setting.GEMM_CPU_GFLOPS);
    this.gpuGflops = gpuWhere == null ? 0 : s.get(Setting.GEMM_GPU_GFLOPS);
    this.busGBs = busWhere == null ? Double.NaN : s.get(Setting.GEMM_BUS_GBS);
    this.overheadMs = overheadWhere == null ? Double.NaN : s.get(Setting.GEMM_OVERHEAD_MS);
    this.busDefault = Setting.GEMM_BUS_GBS.defaultValue();
    this.overheadDefault = Setting.GEMM_OVERHEAD_MS.defaultValue();
    this.calibrator = gpus == 0 ? null : calibrator;
    // injected faults are for the calls under test: no calibration runs into them unasked
    this.autoCalibrate = s.get(Setting.GEMM_CALIBRATE).equals("auto")
        && s.get(Setting.FAULT).isBlank();
    this.calibrationFile = s.get(Setting.GEMM_CALIBRATION_FILE);
    this.learn = this.calibrator != null && s.get(Setting.GEMM_LEARN);
    String why = gpus == 0 ? "no GPU: host GEMMs run on the CPU"
        : this.calibrator == null ? "not measured: this GPU backend's times are not measured"
        : !s.get(Setting.FAULT).isBlank() ? "off while gpucore.fault injects faults"
        : !autoCalibrate ? "off (" + s.value(Setting.GEMM_CALIBRATE).where() + ")"
        : allGiven() ? "not needed: every figure is set"
        : "not measured yet (at the first host GEMM that needs the model)";
    this.state = state(null, null, why);
  }

  /** Where {@code setting} was given explicitly (a rate: and not 0), or null. */
  private static String given(Settings s, Setting<Double> setting, boolean zeroIsUnset) {
    Settings.Value v = s.value(setting);
    if (v.source() == Settings.Source.DEFAULT || (zeroIsUnset && s.get(setting) == 0)) {
      return null;
    }
    return v.where();
  }

  private boolean allGiven() {
    return cpuWhere != null && gpuWhere != null && busWhere != null && overheadWhere != null;
  }

  /**
   * The state for {@code rates} (null: none), whose {@code origin} says in a few words where
   * they came from (the file and the date), and {@code calibration} in full.
   */
  private State state(RouteRates rates, String origin, String calibration) {
    State st = new State(rates, origin, calibration, learn ? new RouteLearning() : null, 0, 0);
    return new State(rates, origin, calibration, st.learning(), fastFlops(st, Precision.FP32),
        fastFlops(st, Precision.FP64));
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
    if (!log) {
      // the short way: nothing to say, and a call the model would keep on the CPU anyway
      if (gpus == 0 || (!routeGpu && call.batch() == 1
          && call.flops() <= state.fastFlops(call.dtype()))) {
        return CPU_QUIET;
      }
      return decision(call, false, true);
    }
    Decision d = withSplit(decision(call, true, true), call); // the reason text only when read
    record(call, (d.gpu() ? "gpu" : "cpu") + ": " + d.reason());
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

  /** The routine's name as {@code gpucore.gemm.disable} writes it. */
  public static String routine(GemmCall call) {
    boolean batched = call.batch() > 1;
    return call.dtype() == DType.FLOAT64 ? (batched ? "dgemm_batched" : "dgemm")
        : (batched ? "sgemm_batched" : "sgemm");
  }

  /** The decision for a checked call with host operands, and why. */
  public Decision explain(GemmCall call) {
    return withSplit(decision(call, true, false), call);
  }

  private Decision withSplit(Decision d, GemmCall call) {
    int rows = d.gpu() ? cpuRows(call) : 0;
    return rows == 0 ? d : new Decision(true, d.devices(), d.reason() + "; gpucore.gemm.cpuRatio="
        + cpuRatio + ": " + rows + " of " + call.m() + " rows of C on the CPU meanwhile");
  }

  /** GPUs for host GEMMs that are not faulted. */
  private int healthy() {
    int n = 0;
    for (int i : gpuIndices) {
      if (faulted.apply(i) == null) {
        n++;
      }
    }
    return n;
  }

  /** Why the first faulted GPU is faulted. */
  private String sick() {
    for (int i : gpuIndices) {
      String f = faulted.apply(i);
      if (f != null) {
        return "GPU " + i + " is faulted (" + f + ")";
      }
    }
    return "every GPU is faulted";
  }

  /** The decision; {@code forCall}: a call will run on it (a probe counts), else an explanation. */
  private Decision decision(GemmCall call, boolean withReason, boolean forCall) {
    if (gpus == 0) {
      return NO_GPU;
    }
    int gpus = healthy();
    if (gpus == 0) {
      return withReason ? new Decision(false, 0, "no healthy GPU: " + sick()) : CPU_QUIET;
    }
    String r = routine(call);
    if (disabled.contains(r)) {
      return withReason
          ? new Decision(false, 0, r + " is disabled for the GPU by gpucore.gemm.disable")
          : CPU_QUIET;
    }
    if (!routeAuto) {
      return routeGpu ? new Decision(true, gpus, "gpucore.gemm.route=gpu")
          : new Decision(false, 0, "gpucore.gemm.route=cpu");
    }
    if (call.scaleOnly()) {
      return withReason ? new Decision(false, 0,
          "nothing to multiply (k = 0 or alpha = 0): C = beta*C on the CPU") : CPU_QUIET;
    }
    State st = calibrated();
    RouteModel.Estimate e = model.estimate(input(call, gpus, st));
    RouteLearning.View v = null;
    if (st.learning() != null) {
      Last last = lastEstimate.get();
      if (forCall) {
        last.set(st, call, e); // for learn(), which then needs no estimate of its own
      }
      v = last.view;
      st.learning().read(call.precision(), perItem(call), v);
    }
    double cpuFactor = v == null ? 1 : v.cpuFactor;
    double gpuFactor = v == null ? 1 : v.gpuFactor;
    double cpuMs = e.cpuMs() * cpuFactor;
    double gpuMs = e.gpuMs() * gpuFactor;
    boolean gpu = cpuFactor != 1 || gpuFactor != 1 ? gpuMs < cpuMs : e.gpu();
    boolean stay = v != null && stays(v, call, gpu, cpuMs, gpuMs);
    if (stay) {
      gpu = !gpu;
    }
    int probe = v == null ? NO_TRY : probes(st.learning(), v, call, gpu, cpuMs, gpuMs, forCall);
    if (probe != NO_TRY) {
      gpu = !gpu;
    }
    if (!withReason) {
      return gpu ? new Decision(true, gpus, "") : CPU_QUIET;
    }
    // built by hand: with gpucore.log.file or the trace this runs on every call
    StringBuilder why = new StringBuilder(400);
    String chosen = gpu ? "GPU" : "CPU";
    String other = gpu ? "CPU" : "GPU";
    if (probe == FIRST_TRY) {
      why.append("trying the ").append(chosen).append(": its estimate, ");
      Fixed.append(why, gpu ? gpuMs : cpuMs, 3).append(" ms, is within ");
      Fixed.append(why, PROBE_MARGIN, 0).append("x of the ").append(other)
          .append("'s time learnt from its calls, ");
      Fixed.append(why, gpu ? cpuMs : gpuMs, 3).append(" ms, and too few ").append(chosen)
          .append(" calls of this size and precision were timed to correct it; ");
    } else if (probe == EXPLORE_TRY) {
      why.append("trying the ").append(chosen).append(": its estimate, ");
      Fixed.append(why, gpu ? gpuMs : cpuMs, 3).append(" ms, is not learnt from calls of this"
          + " size and precision, and the ").append(other).append("'s calls of this size and"
          + " precision have taken ");
      Fixed.append(why, v.spentMs(!gpu), 1).append(" ms, over ");
      Fixed.append(why, EXPLORE, 0).append(" times what ").append(RouteLearning.PROBES)
          .append(" calls would take at that estimate; ");
    } else if (probe == EXPLORE_RETRY) {
      why.append("trying the ").append(chosen).append(" again: its time learnt from its calls, ");
      Fixed.append(why, gpu ? gpuMs : cpuMs, 3).append(" ms, is beyond ");
      Fixed.append(why, PROBE_MARGIN, 0).append("x the ").append(other).append("'s, ");
      Fixed.append(why, gpu ? cpuMs : gpuMs, 3).append(" ms, but the ").append(other)
          .append("'s calls since its last call have taken over ");
      Fixed.append(why, EXPLORE, 0).append(" times what the try would, and it may be out of"
          + " date; ");
    } else if (probe == RETRY) {
      why.append("trying the ").append(chosen).append(" again: its time learnt from its calls, ");
      Fixed.append(why, gpu ? gpuMs : cpuMs, 3).append(" ms, is within ");
      Fixed.append(why, PROBE_MARGIN, 0).append("x of the ").append(other).append("'s, ");
      Fixed.append(why, gpu ? cpuMs : gpuMs, 3).append(" ms, and may be out of date; ");
    }
    why.append("estimated GPU ");
    Fixed.append(why, e.gpuMs(), 3).append(" ms (B up ");
    Fixed.append(why, e.bUpMs(), 3).append(", A/C up ");
    Fixed.append(why, e.acUpMs(), 3).append(", multiply ");
    Fixed.append(why, e.multiplyMs(), 3).append(" at ");
    Fixed.append(why, e.gpuGflops(), 0).append(" GFLOP/s, C down ");
    Fixed.append(why, e.cDownMs(), 3).append(", overhead ");
    Fixed.append(why, overheadMs(st), 1).append(", ").append(gpus).append(" GPU")
        .append(gpus > 1 ? "s" : "").append(") vs CPU ");
    Fixed.append(why, e.cpuMs(), 3).append(" ms at ");
    Fixed.append(why, e.cpuGflops(), 0).append(" GFLOP/s");
    if (cpuFactor != 1 || gpuFactor != 1) {
      why.append("; learnt from ").append(v.cpuCalls).append(" CPU and ").append(v.gpuCalls)
          .append(" GPU calls of this size and precision: CPU ");
      Fixed.append(why, cpuMs, 3).append(" ms (x");
      Fixed.append(why, cpuFactor, 2).append("), GPU ");
      Fixed.append(why, gpuMs, 3).append(" ms (x");
      Fixed.append(why, gpuFactor, 2).append(')');
    }
    if (probe == NO_TRY && stay) {
      why.append("; stays on the ").append(chosen).append(", where the last timed call of this"
          + " size and precision ran: the ").append(other).append(" is not ");
      Fixed.append(why, 100 * RouteLearning.STICK, 0).append("% faster");
    }
    why.append("; figures: ").append(sources(call.precision(), st));
    return new Decision(gpu, gpu ? gpus : 0, why.toString());
  }

  /**
   * Whether the call goes to the route the estimates did not choose, to time it: the chosen
   * route's time is learnt (its class has {@link RouteLearning#MIN_CALLS} calls), the other's
   * is not, its estimate is within {@link #PROBE_MARGIN} of the chosen one's (or, however far,
   * the class's calls on the chosen route have taken {@link #EXPLORE} times what the try would
   * take at the other's estimate: a figure measured in a bad moment, say a calibration that
   * shared the cores, would otherwise keep a fast route out for good), a try of the GPU
   * would run whole there (no {@code cpuRatio} split, whose calls are not timed) and the class
   * has tried the other route fewer than {@link RouteLearning#PROBES} times. Learning corrects
   * only the route calls take; a route whose figures make it look slower than it is would never
   * be taken, and so never corrected. A class tries the other route at most for the warm-up call
   * and {@link RouteLearning#MIN_CALLS} more (fewer timed when some of them fail or are retried,
   * which are not timed); then the learnt times decide. Once both are learnt, the other route,
   * while within {@link #PROBE_MARGIN}, is tried again at growing intervals
   * ({@link RouteLearning#retry}), and beyond it once the class's calls since the other's last
   * call have taken {@link #EXPLORE} times what the try would at its learnt time, twice that
   * after each try ({@link RouteLearning#startTry}): a figure learnt in a bad moment (a stall, a
   * switch, a process's first seconds) would otherwise stand for good. {@code forCall}: the try counts (an explanation only says what the
   * next call would do, and never announces a try again).
   */
  private int probes(RouteLearning l, RouteLearning.View v, GemmCall call, boolean gpu,
      double cpuMs, double gpuMs, boolean forCall) {
    double perItem = perItem(call);
    Precision p = call.precision();
    double other = gpu ? cpuMs : gpuMs;
    boolean near = other < PROBE_MARGIN * (gpu ? gpuMs : cpuMs);
    boolean learnt = v.calls(!gpu) >= RouteLearning.MIN_CALLS;
    // out of reach, but paid for: never learnt, once the class's calls on its route have taken
    // EXPLORE times what the first tries would at the other's estimate; learnt, once its calls
    // since the other's last call have taken EXPLORE times what a try again would, doubling
    // with each try (as the tries again within reach)
    boolean paidFor = !near && (learnt
        ? v.lastRoute == (gpu ? 1 : 0) && v.runMs >= EXPLORE * RouteLearning.RETRY_CALLS * other
            * (1L << Math.min(v.retries, RouteLearning.RETRY_MAX_SHIFT))
        : v.spentMs(gpu) >= EXPLORE * RouteLearning.PROBES * other);
    if ((!gpu && cpuRows(call) > 0) || v.calls(gpu) < RouteLearning.MIN_CALLS
        || !(near || paidFor || v.exploring)) {
      if (v.retrying && forCall) {
        l.endRetry(p, perItem); // out of reach now: the rest of that try is not sent later
      }
      return NO_TRY;
    }
    if (learnt) {
      if (!forCall) {
        return NO_TRY; // an explanation never announces a try again
      }
      if (paidFor && !v.retrying) {
        l.startTry(gpu, p, perItem);
        return EXPLORE_RETRY;
      }
      return l.retry(gpu, p, perItem) ? (v.exploring ? EXPLORE_RETRY : RETRY) : NO_TRY;
    }
    boolean left = forCall ? l.tryProbe(!gpu, p, perItem) : l.probesLeft(!gpu, p, perItem);
    return !left ? NO_TRY : near ? FIRST_TRY : EXPLORE_TRY;
  }

  /**
   * Whether the call stays on the route of its class's last timed call, which the learnt times
   * do not choose ({@code gpu}): both routes are learnt and the chosen one is less than
   * {@link RouteLearning#STICK} faster; a switch costs more than that. Not towards the GPU while
   * {@code gpucore.gemm.cpuRatio} would split the call (its calls are not timed, so the class
   * would not learn its way back).
   */
  private boolean stays(RouteLearning.View v, GemmCall call, boolean gpu, double cpuMs,
      double gpuMs) {
    int last = v.lastRoute;
    if (last < 0 || (last == 1) == gpu || v.gpuCalls < RouteLearning.MIN_CALLS
        || v.cpuCalls < RouteLearning.MIN_CALLS || (last == 1 && cpuRows(call) > 0)) {
      return false;
    }
    double kept = last == 1 ? gpuMs : cpuMs;
    double other = last == 1 ? cpuMs : gpuMs;
    return !(other < (1 - RouteLearning.STICK) * kept);
  }

  /** What {@link #probes} answers: no try, one of the first tries, a try again. */
  private static final int NO_TRY = 0;
  private static final int FIRST_TRY = 1;
  private static final int RETRY = 2;
  private static final int EXPLORE_TRY = 3;
  private static final int EXPLORE_RETRY = 4;

  // ---- the figures ----

  private static double perItem(GemmCall call) {
    return 2.0 * call.m() * call.n() * (double) call.k();
  }

  /** The model's input for a call: its sizes, and the figures in force. */
  private RouteModel.Input input(GemmCall call, int gpus, State st) {
    int eb = call.dtype().bytes();
    double bytesA = (double) call.spanA() * eb * call.batch();
    double bytesB = (double) call.spanB() * eb * (call.transA() ? call.batch() : 1);
    double bytesC = (double) call.spanC() * eb * call.batch();
    return input(call.precision(), call.flops(), perItem(call), bytesA, bytesB, bytesC,
        call.beta() != 0, gpus, st);
  }

  private RouteModel.Input input(Precision p, double flops, double perItem, double bytesA,
      double bytesB, double bytesC, boolean betaNonZero, int gpus, State st) {
    return new RouteModel.Input(p, flops, bytesA, bytesB, bytesC, betaNonZero, gpus,
        gpu0 == null ? 0 : gpu0.ccMajor(), gpu0 == null ? 0 : gpu0.multiprocessors(), cpuThreads,
        cpuRate(p, perItem, st), gpuRate(p, perItem, st), busGBs(st), overheadMs(st));
  }

  /**
   * The CPU rate given to the model (0: the model's own). As the setting, an fp32 rate: the
   * model halves it for fp64, so the calibration's fp64 rate is given doubled.
   */
  private double cpuRate(Precision p, double perItem, State st) {
    if (cpuWhere != null) {
      return cpuGflops;
    }
    if (st.rates() != null) {
      return p == Precision.FP64 ? 2 * st.rates().cpuFp64().at(perItem)
          : st.rates().cpuFp32().at(perItem);
    }
    return 0;
  }

  /** One GPU's rate given to the model (0: the model's own, by architecture and precision). */
  private double gpuRate(Precision p, double perItem, State st) {
    if (gpuWhere != null) {
      return gpuGflops;
    }
    if (st.rates() != null && (p == Precision.FP32 || p == Precision.FP64)) {
      return (p == Precision.FP64 ? st.rates().gpuFp64() : st.rates().gpuFp32()).at(perItem);
    }
    return 0;
  }

  private double busGBs(State st) {
    return busWhere != null ? busGBs : st.rates() != null ? st.rates().busGBs() : busDefault;
  }

  private double overheadMs(State st) {
    return overheadWhere != null ? overheadMs
        : st.rates() != null ? st.rates().overheadMs() : overheadDefault;
  }

  /**
   * Where each figure of a call of precision {@code p} came from, in one line: the figures of
   * each source together, e.g. {@code CPU rate from gpucore.gemm.cpuGflops (system property);
   * GPU rate, bus and overhead from the calibration file F of D}.
   */
  private String sources(Precision p, State st) {
    boolean gpuCal = p == Precision.FP32 || p == Precision.FP64;
    Sources c = sourcesCache;
    if (c == null || c.state != st) {
      c = new Sources(st, sourcesOf(true, st), sourcesOf(false, st));
      sourcesCache = c;
    }
    return gpuCal ? c.gpuCalibrated : c.other;
  }

  /** {@link #sources} of one state, for the calibrated GPU precisions and for the others. */
  private record Sources(State state, String gpuCalibrated, String other) {}

  private volatile Sources sourcesCache;

  private String sourcesOf(boolean gpuCal, State st) {
    String cal = st.origin();
    java.util.Map<String, List<String>> by = new java.util.LinkedHashMap<>();
    by.computeIfAbsent(cpuWhere != null ? cpuWhere : cal != null ? cal : "the built-in model",
        k -> new ArrayList<>()).add("CPU rate");
    by.computeIfAbsent(gpuWhere != null ? gpuWhere : cal != null && gpuCal ? cal
        : "the built-in model", k -> new ArrayList<>()).add("GPU rate");
    by.computeIfAbsent(busWhere != null ? busWhere : cal != null ? cal : "the defaults",
        k -> new ArrayList<>()).add("bus");
    by.computeIfAbsent(overheadWhere != null ? overheadWhere : cal != null ? cal
        : "the defaults", k -> new ArrayList<>()).add("overhead");
    List<String> parts = new ArrayList<>();
    by.forEach((source, names) -> {
      int n = names.size();
      String list = n == 1 ? names.get(0)
          : String.join(", ", names.subList(0, n - 1)) + " and " + names.get(n - 1);
      parts.add(list + " from " + source);
    });
    return String.join("; ", parts);
  }

  /**
   * The largest call (in flops, a power of 2) whose CPU time at {@code p} (FP32 for the fp32
   * family, whose every precision the CPU computes in fp32; FP64 for doubles) is under
   * 1/{@link #FAST_MARGIN} of the GPU's fixed cost: it and every smaller one of that type surely
   * run on the CPU. 0 when there is no GPU or no fixed cost.
   */
  private double fastFlops(State st, Precision p) {
    double overhead = overheadMs(st);
    if (gpus == 0 || !(overhead > 0)) {
      return 0;
    }
    double fast = 0;
    for (double f = 1024; f <= 0x1p50; f *= 2) {
      double cpuMs = model.estimate(input(p, f, f, 0, 0, 0, false, gpus, st)).cpuMs();
      if (!(cpuMs * FAST_MARGIN < overhead)) {
        break;
      }
      fast = f;
    }
    return fast;
  }

  /** The largest call of type {@code t} that surely runs on the CPU, in flops (for tests). */
  double fastFlops(DType t) {
    return state.fastFlops(t);
  }

  // ---- calibration ----

  /** The state, calibrated first when the settings ask for it and it has not been tried. */
  private State calibrated() {
    if (calibrationTried || calibrator == null || !autoCalibrate || allGiven()) {
      return state;
    }
    synchronized (calibrating) {
      if (!calibrationTried) {
        try {
          calibrate(false);
        } catch (RuntimeException e) {
          state = state(null, null, "failed (" + e.getMessage() + "): the built-in model's"
              + " figures");
          LOG.log(System.Logger.Level.WARNING, "gpucore: the router's calibration failed, it"
              + " uses the built-in model's figures: " + e);
        }
        calibrationTried = true;
      }
    }
    return state;
  }

  /**
   * Measures the figures now (whatever {@code gpucore.gemm.calibrate} says) and writes them to
   * the cache file; a file that cannot be written is logged and the figures are used all the
   * same.
   *
   * @throws GpuCoreException.DeviceUnavailable when there is no GPU, or its backend's times are
   *     not real
   * @throws GpuCoreException when a measurement fails
   */
  public Routing calibrate() {
    if (calibrator == null) {
      throw new GpuCoreException.DeviceUnavailable(gpus == 0
          ? "no GPU is usable: nothing to calibrate (host GEMMs run on the CPU)"
          : "this GPU backend's times are not measured: nothing to calibrate");
    }
    synchronized (calibrating) {
      calibrate(true);
      calibrationTried = true;
    }
    return routing();
  }

  /** Adopts the cache file if it holds this machine's figures; under {@link #calibrating}. */
  private void peek() {
    String key = key();
    Path file = file(key);
    RouteRates.Loaded l = file == null ? new RouteRates.Loaded(null, "no cache file")
        : RouteRates.read(file, key);
    if (l.rates() != null) {
      state = state(l.rates(), "the calibration file " + file + " of " + l.rates().measured(),
          "file " + file + ", measured " + l.rates().measured());
      calibrationTried = true;
    } else {
      state = state(null, null, "not measured yet (" + l.why() + "): at the first host GEMM that"
          + " needs the model, or by gpucore calibrate");
    }
  }

  private String key() {
    return RouteCalibration.key(RouteCalibration.hostName(), gpuInfos, cpuThreads,
        RouteCalibration.version());
  }

  /** The cache file for {@code key}, or null when the setting names no usable path. */
  private Path file(String key) {
    try {
      return calibrationFile != null ? Path.of(calibrationFile)
          : RouteCalibration.defaultFile(System.getenv(), System.getProperty("user.home"), key);
    } catch (InvalidPathException e) {
      return null;
    }
  }

  /** Reads the cache file, else (or when {@code force}) measures; under {@link #calibrating}. */
  private void calibrate(boolean force) {
    String key = key();
    Path file = file(key);
    String why = "asked for";
    if (!force && file != null) {
      RouteRates.Loaded l = RouteRates.read(file, key);
      if (l.rates() != null) {
        state = state(l.rates(), "the calibration file " + file + " of " + l.rates().measured(),
            "file " + file + ", measured " + l.rates().measured());
        return;
      }
      why = l.why();
    }
    String memo = key + "\n" + file;
    RouteRates earlier = force ? null : UNCACHED.get(memo);
    if (earlier != null) {
      state = state(earlier, "the calibration of " + earlier.measured() + " (not cached)",
          "measured " + earlier.measured() + " earlier in this process, not cached (" + why
              + ")");
      return;
    }
    RouteRates r = calibrator.measure(key);
    String cached;
    String origin;
    if (file == null) {
      cached = "not cached: no cache file";
      origin = "the calibration of " + r.measured() + " (not cached)";
      UNCACHED.put(memo, r);
    } else {
      try {
        r.write(file);
        cached = "cached in " + file;
        origin = "the calibration file " + file + " of " + r.measured();
        UNCACHED.remove(memo);
      } catch (java.io.IOException | RuntimeException e) {
        cached = "not cached: " + e;
        origin = "the calibration of " + r.measured() + " (not cached)";
        UNCACHED.put(memo, r);
        LOG.log(System.Logger.Level.WARNING, "gpucore: the router's calibration could not be"
            + " written to " + file + ": " + e);
      }
    }
    state = state(r, origin, "measured " + r.measured() + " (" + why + "), " + cached);
    LOG.log(System.Logger.Level.DEBUG, "gpucore: router calibration " + state.calibration());
  }

  /**
   * The figures in force and where each came from. Measures nothing: where the calibration is
   * still to come, its cache file is read now, as the first call that needs it would.
   */
  public Routing routing() {
    if (!calibrationTried && calibrator != null && autoCalibrate && !allGiven()) {
      synchronized (calibrating) {
        if (!calibrationTried) {
          peek();
        }
      }
    }
    State st = state;
    if (gpus == 0) {
      return new Routing(st.calibration(), List.of(), 0);
    }
    RouteRates r = st.rates();
    String cal = r == null ? null : "calibration " + st.calibration();
    List<Routing.Figure> f = new ArrayList<>();
    f.add(cpuWhere != null
        ? new Routing.Figure("cpu rate", num(cpuGflops) + " GFLOP/s (fp32; fp64 half)",
            Routing.Source.SETTING, cpuWhere)
        : r != null ? new Routing.Figure("cpu rate", "fp32 " + r.cpuFp32().describe() + "; fp64 "
            + r.cpuFp64().describe(), Routing.Source.CALIBRATION, cal)
        : new Routing.Figure("cpu rate", "by size of call and " + cpuThreads + " threads",
            Routing.Source.MODEL, "built-in model"));
    String arch = gpu0 == null ? "" : " (cc " + gpu0.ccMajor() + "." + gpu0.ccMinor() + ", "
        + gpu0.multiprocessors() + " SMs)";
    f.add(gpuWhere != null
        ? new Routing.Figure("gpu rate", num(gpuGflops) + " GFLOP/s per GPU",
            Routing.Source.SETTING, gpuWhere)
        : r != null ? new Routing.Figure("gpu rate", "fp32 " + r.gpuFp32().describe() + "; fp64 "
            + r.gpuFp64().describe() + "; tf32, bf16, fp16 by architecture" + arch,
            Routing.Source.CALIBRATION, cal)
        : new Routing.Figure("gpu rate", "by architecture and precision" + arch,
            Routing.Source.MODEL, "built-in model"));
    double bus = busGBs(st);
    f.add(new Routing.Figure("bus", num(bus) + " GB/s each way",
        busWhere != null ? Routing.Source.SETTING : r != null ? Routing.Source.CALIBRATION
            : Routing.Source.MODEL,
        busWhere != null ? busWhere : r != null ? cal : "default of gpucore.gemm.busGBs"));
    double ovh = overheadMs(st);
    f.add(new Routing.Figure("overhead", num(ovh) + " ms per host GEMM on the GPU",
        overheadWhere != null ? Routing.Source.SETTING : r != null ? Routing.Source.CALIBRATION
            : Routing.Source.MODEL,
        overheadWhere != null ? overheadWhere
            : r != null ? cal : "default of gpucore.gemm.overheadMs"));
    return new Routing(st.calibration(), f, st.learning() == null ? 0 : st.learning().total());
  }

  private static String num(double d) {
    return d >= 100 ? String.format(Locale.ROOT, "%.0f", d)
        : String.format(Locale.ROOT, "%.3g", d);
  }

  // ---- learning ----

  /**
   * Whether the API should time this call for {@link #learn}: learning is on, the route was the
   * model's to choose, and the call is not one of the small ones that surely run on the CPU.
   */
  public boolean learns(GemmCall call) {
    return learn && routeAuto && call.flops() > state.fastFlops(call.dtype())
        && !call.scaleOnly();
  }

  /**
   * The time of a call that ran whole on the route chosen ({@code gpu} or the CPU), from
   * {@code startNanos} to {@code endNanos} ({@code System.nanoTime}); a call that started after
   * a pause since the previous timed call is not counted ({@link RouteLearning#PAUSE_NS}).
   */
  public void learn(GemmCall call, boolean gpu, long startNanos, long endNanos) {
    State st = state;
    if (st.learning() == null) {
      return;
    }
    Last l = lastEstimate.get();
    double estimated;
    if (l.state == st && l.isFor(call)) { // the estimate this call's decision made, on this thread
      estimated = gpu ? l.gpuMs : l.cpuMs;
      l.state = null; // used once, and no old figures kept alive by the thread
    } else {
      RouteModel.Estimate e = model.estimate(input(call, Math.max(1, healthy()), st));
      estimated = gpu ? e.gpuMs() : e.cpuMs();
    }
    st.learning().add(gpu, call.precision(), perItem(call), endNanos - startNanos, endNanos,
        estimated);
  }

  /**
   * A host GEMM that {@link #learns} would time but that was not learnt from (split by
   * {@code gpucore.gemm.cpuRatio}, failed over) ended at {@code endNanos}: the next timed call
   * that follows it closely is not taken for one after a pause.
   */
  public void ended(long endNanos) {
    RouteLearning l = state.learning();
    if (l != null) {
      l.ended(endNanos);
    }
  }

  /**
   * The model's estimates for the last call decided on a thread (learnt from once it ran), with
   * what they depend on: the call's shape, not the call (which holds the caller's arrays).
   */
  private static final class Last {
    /** What the thread's last decision read of the learning (reused, not kept). */
    final RouteLearning.View view = new RouteLearning.View();
    /** The figures the estimates came from. */
    State state;
    int m;
    int n;
    int k;
    int batch;
    long spanA;
    long spanB;
    long spanC;
    boolean transA;
    boolean betaNonZero;
    Precision precision;
    DType dtype;
    double cpuMs;
    double gpuMs;

    void set(State st, GemmCall call, RouteModel.Estimate e) {
      state = st;
      m = call.m();
      n = call.n();
      k = call.k();
      batch = call.batch();
      spanA = call.spanA();
      spanB = call.spanB();
      spanC = call.spanC();
      transA = call.transA();
      betaNonZero = call.beta() != 0;
      precision = call.precision();
      dtype = call.dtype();
      cpuMs = e.cpuMs();
      gpuMs = e.gpuMs();
    }

    boolean isFor(GemmCall call) {
      return precision == call.precision() && dtype == call.dtype() && m == call.m()
          && n == call.n() && k == call.k() && batch == call.batch() && spanA == call.spanA()
          && spanB == call.spanB() && spanC == call.spanC() && transA == call.transA()
          && betaNonZero == (call.beta() != 0);
    }
  }

  private final ThreadLocal<Last> lastEstimate = ThreadLocal.withInitial(Last::new);
}
