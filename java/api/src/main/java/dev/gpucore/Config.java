package dev.gpucore;

import java.util.Map;

/**
 * Settings of a {@link GpuCore}: the backend, the CPU thread count and every other setting of
 * the {@link Setting} registry. The backend and thread count given to the constructor win;
 * {@link #from} and {@link #fromEnvironment()} read them, like every setting, from the system
 * property, the environment variable, the configuration file or the default (see
 * {@link Settings} and {@code docs/configuration.md}).
 *
 * <p>The CPU thread count is OpenBLAS's, which is process-wide: the last {@code GpuCore} opened
 * sets it for all.
 *
 * <p>{@code cuda} makes {@link GpuCore#open(Config)} fail with
 * {@link GpuCoreException.DeviceUnavailable} when no GPU is usable, instead of coming up on the
 * CPU.
 *
 * @param backend requested backend ({@link Setting#BACKEND})
 * @param cpuThreads CPU backend threads, 0 for automatic ({@link Setting#CPU_THREADS})
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
    if (cpuThreads < 0 || cpuThreads > Setting.MAX_CPU_THREADS) {
      throw new GpuCoreException.InvalidArgument("cpuThreads must be from 0 to "
          + Setting.MAX_CPU_THREADS + "; got " + cpuThreads);
    }
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
    return new Config(settings.get(Setting.BACKEND), settings.get(Setting.CPU_THREADS), settings);
  }

  /** Returns a copy with another backend. */
  public Config withBackend(Backend b) {
    return new Config(b, cpuThreads, settings);
  }
}
