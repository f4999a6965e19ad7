package dev.gpucore.testkit;

import dev.gpucore.GpuCore;
import org.junit.jupiter.api.BeforeEach;

/**
 * A test class whose tests use the core its extension ({@link RequiresGpu}, {@link OnCpuBackend})
 * opened for the class, as {@link #core}, and seeds from {@link #SEED}.
 */
public abstract class UsesCore {
  /** The base of the tests' random seeds, new for each run (tests name it when they fail). */
  protected static final long SEED = System.nanoTime();

  /** The core of the test class. */
  protected GpuCore core;

  @BeforeEach
  void useCore(GpuCore given) {
    core = given;
  }
}
