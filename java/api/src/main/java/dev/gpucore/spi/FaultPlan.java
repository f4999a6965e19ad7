package dev.gpucore.spi;

import dev.gpucore.GpuCoreException;
import dev.gpucore.Setting;
import dev.gpucore.Settings;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Faults injected on purpose, so that every recovery path can be exercised on demand: in CI
 * without a GPU (against a simulated GPU backend) and on a GPU machine (in the CUDA backend, at
 * the same points where the real errors arise). Read from the setting {@code gpucore.fault}
 * (system property, or {@code GPUCORE_FAULT}); empty by default, and then every check here is a
 * read of a final field.
 *
 * <p>The value is a comma-separated list of:
 * <table>
 *   <caption>Injectable faults</caption>
 *   <tr><th>entry</th><th>effect</th></tr>
 *   <tr><td>{@code driver}</td><td>device discovery fails as with an NVIDIA driver older than
 *       the CUDA runtime ({@code cudaErrorInsufficientDriver}, 35): the core opens on the CPU
 *       and says why</td></tr>
 *   <tr><td>{@code oom:scratch} or {@code oom:scratch:MiB}</td><td>device scratch for host-operand
 *       GEMMs (panels of A, B, C) fails with out-of-memory: every allocation, or those larger
 *       than MiB (a device too small for the configured tile)</td></tr>
 *   <tr><td>{@code oom:alloc} or {@code oom:alloc:MiB}</td><td>the same for
 *       {@code GpuCore.allocate}</td></tr>
 *   <tr><td>{@code sticky:gemm} or {@code sticky:gemm:N}</td><td>the N-th cuBLAS launch from
 *       now (default the first; a host GEMM launches one per row panel) reports a sticky {@code cudaErrorIllegalAddress} (700) and the
 *       device is marked faulted</td></tr>
 *   <tr><td>{@code sticky:reduce} or {@code sticky:reduce:N}</td><td>the same for GPU
 *       reductions</td></tr>
 * </table>
 */
public final class FaultPlan {
  /** The sticky CUDA status injected ({@code cudaErrorIllegalAddress}). */
  public static final int ILLEGAL_ADDRESS = 700;
  /** The driver status injected ({@code cudaErrorInsufficientDriver}). */
  public static final int INSUFFICIENT_DRIVER = 35;

  private static final FaultPlan NONE = new FaultPlan("", false, -1, -1, 0, 0);

  private final String text;
  private final boolean driver;
  private final long oomScratchOver;
  private final long oomAllocOver;
  private final AtomicInteger stickyGemm;
  private final AtomicInteger stickyReduce;

  private FaultPlan(String text, boolean driver, long oomScratchOver, long oomAllocOver,
      int stickyGemm, int stickyReduce) {
    this.text = text;
    this.driver = driver;
    this.oomScratchOver = oomScratchOver;
    this.oomAllocOver = oomAllocOver;
    this.stickyGemm = new AtomicInteger(stickyGemm);
    this.stickyReduce = new AtomicInteger(stickyReduce);
  }

  /** No faults. */
  public static FaultPlan none() {
    return NONE;
  }

  /** The plan the settings name ({@code gpucore.fault}). */
  public static FaultPlan from(Settings s) {
    return parse(s.get(Setting.FAULT));
  }

  /**
   * Parses a plan.
   *
   * @throws GpuCoreException.InvalidArgument naming the entry that is not understood
   */
  public static FaultPlan parse(String value) {
    if (value == null || value.isBlank()) {
      return NONE;
    }
    boolean driver = false;
    long scratch = -1;
    long alloc = -1;
    int gemm = 0;
    int reduce = 0;
    for (String raw : value.split(",")) {
      String e = raw.trim().toLowerCase(Locale.ROOT);
      if (e.isEmpty()) {
        continue;
      }
      String[] p = e.split(":", -1);
      String what = p[0] + (p.length > 1 ? ":" + p[1] : "");
      String arg = p.length > 2 ? p[2] : null;
      if (p.length > 3 || (what.equals("driver") && p.length > 1)) {
        throw bad(e);
      }
      switch (what) {
        case "driver" -> driver = true;
        case "oom:scratch" -> scratch = arg == null ? 0 : mib(arg, e);
        case "oom:alloc" -> alloc = arg == null ? 0 : mib(arg, e);
        case "sticky:gemm" -> gemm = arg == null ? 1 : count(arg, e);
        case "sticky:reduce" -> reduce = arg == null ? 1 : count(arg, e);
        default -> throw bad(e);
      }
    }
    return new FaultPlan(value.trim(), driver, scratch, alloc, gemm, reduce);
  }

  private static GpuCoreException.InvalidArgument bad(String entry) {
    return new GpuCoreException.InvalidArgument("gpucore.fault: \"" + entry + "\" is not a fault;"
        + " expected driver, oom:scratch[:MiB], oom:alloc[:MiB], sticky:gemm[:N] or"
        + " sticky:reduce[:N], separated by commas");
  }

  private static long mib(String arg, String entry) {
    long v = number(arg, entry);
    if (v > (Long.MAX_VALUE >> 20)) {
      throw bad(entry);
    }
    return v << 20;
  }

  private static int count(String arg, String entry) {
    long v = number(arg, entry);
    if (v < 1 || v > Integer.MAX_VALUE) {
      throw bad(entry);
    }
    return (int) v;
  }

  private static long number(String arg, String entry) {
    try {
      long v = Long.parseLong(arg.trim());
      if (v < 0) {
        throw bad(entry);
      }
      return v;
    } catch (NumberFormatException ex) {
      throw bad(entry);
    }
  }

  /** Whether any fault is planned. */
  public boolean any() {
    return this != NONE;
  }

  /** Whether device discovery should fail as with a too-old driver. */
  public boolean driverMismatch() {
    return driver;
  }

  /** Whether a scratch allocation of {@code bytes} should fail with out-of-memory. */
  public boolean failScratch(long bytes) {
    return oomScratchOver >= 0 && bytes > oomScratchOver;
  }

  /** Whether a device-array allocation of {@code bytes} should fail with out-of-memory. */
  public boolean failAlloc(long bytes) {
    return oomAllocOver >= 0 && bytes > oomAllocOver;
  }

  /** Counts a GPU GEMM; true for the one that should report a sticky fault. */
  public boolean stickyGemmNow() {
    return stickyGemm.get() > 0 && stickyGemm.decrementAndGet() == 0;
  }

  /** Counts a GPU reduction; true for the one that should report a sticky fault. */
  public boolean stickyReduceNow() {
    return stickyReduce.get() > 0 && stickyReduce.decrementAndGet() == 0;
  }

  /** A marker for messages: where an injected fault came from. */
  public String describe() {
    return "injected by gpucore.fault=" + text;
  }

  @Override
  public String toString() {
    return any() ? text : "none";
  }
}
