package dev.gpucore.spi;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;

/**
 * Cores over backends built by hand (backend implementations, fault drills, test kits), and the
 * backends of an open core. {@code GpuCore.open()} is the way for applications. {@code GpuCore}
 * registers the access once, when it is initialized.
 */
public final class Cores {
  /** What {@code GpuCore} provides. */
  public interface Access {
    /** A core over the given backends. */
    GpuCore of(Config config, Backend cpu, GpuBackend gpu, String noGpuReason);

    /** The backends of {@code core}. */
    Backends backends(GpuCore core);
  }

  private static volatile Access access;

  private Cores() {}

  /** For {@code GpuCore}'s initializer; a second registration is refused. */
  public static synchronized void register(Access a) {
    access = Facades.once(access, a, "access", "the core access is registered once, by GpuCore");
  }

  /**
   * A core over backends the caller built.
   *
   * @param gpu the GPU backend, or null for a CPU-only core
   * @param noGpuReason why there is no GPU (used when {@code gpu} is null)
   */
  public static GpuCore of(Config config, Backend cpu, GpuBackend gpu, String noGpuReason) {
    Facades.init(GpuCore.class);
    return access.of(config, cpu, gpu, noGpuReason);
  }

  /** The backends of an open core. */
  public static Backends backends(GpuCore core) {
    Facades.init(GpuCore.class);
    return access.backends(java.util.Objects.requireNonNull(core, "core"));
  }
}
