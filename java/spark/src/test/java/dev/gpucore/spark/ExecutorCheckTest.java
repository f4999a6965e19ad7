package dev.gpucore.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The GPU machine's check of the executor path, small and on the CPU here: both sides (netlib
 * JNIBLAS over libgpucore_blas.so with the plugin's binding, and over plain OpenBLAS) in their
 * child JVMs report JNIBLAS and results within their bounds.
 */
class ExecutorCheckTest {
  @Test
  void bothSidesRunThroughJniBlasAndCheck() throws Exception {
    assertEquals(0, ExecutorCheck.parent("0", 160, 1, 3, 3));
  }
}
