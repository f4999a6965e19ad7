package dev.gpucore;

import java.util.Locale;
import java.util.Map;

/**
 * Settings of a {@link GpuCore}. Each setting is taken, first found wins, from: the value given
 * to the constructor; the Java system property; the environment variable; the configuration
 * file; the default (see {@link Settings}; the GEMM router's settings are listed on
 * {@link dev.gpucore.blas.Router}).
 *
 * <table>
 *   <caption>Settings</caption>
 *   <tr><th>setting</th><th>system property</th><th>environment</th><th>default</th></tr>
 *   <tr><td>backend: {@code auto}, {@code cpu} or {@code cuda}</td><td>{@code gpucore.backend}</td>
 *       <td>{@code GPUCORE_BACKEND}</td><td>{@code auto}: the GPU when one is usable</td></tr>
 *   <tr><td>CPU threads (0 = from the cgroup CPU quota, else the core count)</td>
 *       <td>{@code gpucore.cpu.threads}</td><td>{@code GPUCORE_CPU_THREADS}</td><td>0</td></tr>
 *   <tr><td>longest native CPU GEMM call (estimated in ms) on Java arrays in place, without
 *       copies (a longer item runs in panels of C, or on copies when panels would cost more);
 *       0 = always copy (such a call may hold off garbage collection while it runs)</td>
 *       <td>{@code gpucore.cpu.inPlaceMaxMs}</td><td>{@code GPUCORE_CPU_INPLACEMAXMS}</td>
 *       <td>20</td></tr>
 *   <tr><td>prompt exit on SIGINT/SIGTERM/SIGHUP with gpucore calls in flight (see
 *       {@link dev.gpucore.spi.PromptExit} for what it skips); read at the first
 *       {@link GpuCore#open}</td><td>{@code gpucore.exit.prompt}</td>
 *       <td>{@code GPUCORE_EXIT_PROMPT}</td><td>false (the CLI: true)</td></tr>
 * </table>
 *
 * <p>The CPU thread count is OpenBLAS's, which is process-wide: the last {@code GpuCore} opened
 * sets it for all.
 *
 * <p>{@code cuda} makes {@link GpuCore#open(Config)} fail with
 * {@link GpuCoreException.DeviceUnavailable} when no GPU is usable, instead of coming up on the
 * CPU.
 *
 * @param backend requested backend
 * @param cpuThreads CPU backend threads, 0 for automatic
 * @param settings every other setting
 */
public record Config(Backend backend, int cpuThreads, Settings settings) {
  /** Which backend to use. */
  public enum Backend {
    /** The GPU when one is usable, else the CPU. */
    AUTO,
    /** The CPU only; no native GPU library is loaded. */
    CPU,
    /** A GPU, or fail. */
    CUDA
  }

  /** Validates. */
  public Config {
    Check.notNull(backend, "backend");
    Check.nonNegative(cpuThreads, "cpuThreads");
    Check.notNull(settings, "settings");
  }

  /** A configuration with these two values and every other setting from the environment. */
  public Config(Backend backend, int cpuThreads) {
    this(backend, cpuThreads, Settings.fromEnvironment());
  }

  /** The configuration from system properties and the environment. */
  public static Config fromEnvironment() {
    return from(System.getProperties(), System.getenv());
  }

  /** The configuration from the given properties and environment (for tests). */
  public static Config from(Map<?, ?> props, Map<String, String> env) {
    Settings settings = Settings.from(props, env);
    String b = settings.get("gpucore.backend", "auto");
    Backend backend;
    try {
      backend = Backend.valueOf(b.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new GpuCoreException.InvalidArgument(
          "backend must be one of auto, cpu, cuda; got \"" + b + "\"");
    }
    String t = settings.get("gpucore.cpu.threads", "0");
    int threads;
    try {
      threads = Integer.parseInt(t.trim());
    } catch (NumberFormatException e) {
      throw new GpuCoreException.InvalidArgument(
          "cpu threads must be a non-negative integer; got \"" + t + "\"");
    }
    return new Config(backend, threads, settings);
  }

  /** Returns a copy with another backend. */
  public Config withBackend(Backend b) {
    return new Config(b, cpuThreads, settings);
  }
}
