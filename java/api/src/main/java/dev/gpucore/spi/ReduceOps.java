package dev.gpucore.spi;

import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.reduce.Accumulation;
import dev.gpucore.reduce.Matrix;
import dev.gpucore.reduce.ReduceOp;

/**
 * Reductions a backend provides, with the semantics written down on
 * {@link dev.gpucore.reduce.Reduce}. Arguments arrive checked by {@code Reduce}: ranges inside
 * their arrays, matching element types and devices, {@code y} non-null exactly for
 * {@link ReduceOp#DOT}, empty ranges only for operations defined on them, outputs of the right
 * type and length. Host operands are {@code float[]}, {@code double[]} or
 * {@link dev.gpucore.memory.HostArray} (both operands of one kind and type); offsets and counts
 * are in elements.
 *
 * <p>The CPU backend implements the host methods and the GPU backend the device ones; the others
 * throw {@link UnsupportedOperationException}, as the defaults here do.
 */
public interface ReduceOps {
  /**
   * Whole-range reduction of host data; an index result (ARGMIN, ARGMAX) is returned as an exact
   * double.
   */
  default double reduceHost(ReduceOp op, Accumulation acc, Object x, long xOffset, Object y,
      long yOffset, long count) {
    throw new UnsupportedOperationException(
        "host reductions are not supported by this backend");
  }

  /**
   * Per-row ({@code perRow}) or per-column reduction of a host matrix into {@code out}: a
   * {@code double[]} for Java-array operands, a {@code HostArray} (FLOAT32 or FLOAT64) for host
   * arrays; indices are written as exact doubles.
   */
  default void reduceHostMatrix(ReduceOp op, Accumulation acc, Object x, long xOffset, Object y,
      long yOffset, Matrix shape, boolean perRow, Object out, long outOffset) {
    throw new UnsupportedOperationException(
        "host reductions are not supported by this backend");
  }

  /**
   * Whole-range reduction of device data, brought to the host: queued on {@code stream} (an
   * internal one when null) and waited for.
   */
  default double reduceDevice(ReduceOp op, Accumulation acc, DeviceArray x, long xOffset,
      DeviceArray y, long yOffset, long count, GpuStream stream) {
    throw new UnsupportedOperationException(
        "device reductions are not supported by this backend");
  }

  /**
   * Whole-range reduction of device data into {@code out[outOffset]} (same device; FLOAT32 or
   * FLOAT64, indices as exact doubles), queued on {@code stream}; with a null stream, on an
   * internal one and waited for.
   */
  default void reduceDeviceInto(ReduceOp op, Accumulation acc, DeviceArray x, long xOffset,
      DeviceArray y, long yOffset, long count, DeviceArray out, long outOffset, GpuStream stream) {
    throw new UnsupportedOperationException(
        "device reductions are not supported by this backend");
  }

  /** Per-row or per-column reduction of a device matrix into {@code out}, as above. */
  default void reduceDeviceMatrix(ReduceOp op, Accumulation acc, DeviceArray x, long xOffset,
      DeviceArray y, long yOffset, Matrix shape, boolean perRow, DeviceArray out, long outOffset,
      GpuStream stream) {
    throw new UnsupportedOperationException(
        "device reductions are not supported by this backend");
  }
}
