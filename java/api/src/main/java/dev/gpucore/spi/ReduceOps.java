package dev.gpucore.spi;

import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;

/**
 * Reductions a backend provides. Arguments arrive checked by {@link dev.gpucore.reduce.Reduce}.
 * A backend without GPUs throws {@link UnsupportedOperationException} from the device methods.
 */
public interface ReduceOps {
  /** Sum of {@code count} floats of a Java array from {@code offset}, accumulated in double. */
  double sum(float[] x, int offset, int count);

  /** Deterministic sum of {@code count} elements from {@code offset}, brought to the host. */
  double sum(DeviceArray x, long offset, long count, GpuStream stream);
}
