package dev.gpucore.reduce;

import dev.gpucore.Check;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;

/**
 * Reductions. Host data stays on the CPU (a reduction cannot pay for the copy); device data is
 * reduced by gpucore's own kernels. Sums are deterministic: the same input on the same device
 * gives bitwise the same result run after run. fp32 input is accumulated in fp64.
 */
public final class Reduce {
  private final GpuCore core;

  /** For {@link GpuCore}. */
  public Reduce(GpuCore core) {
    this.core = core;
  }

  /** Sum of all elements of {@code x} (0 for an empty array). */
  public double sum(float[] x) {
    Check.notNull(x, "x");
    return core.cpu().reductions().sum(x, 0, x.length);
  }

  /** Sum of all elements of a device array (0 for an empty array), brought to the host. */
  public double sum(DeviceArray x) {
    Check.notNull(x, "x");
    return sum(x, 0, x.length(), null);
  }

  /** Sum of {@code count} elements from {@code offset} of a device array, on {@code stream}. */
  public double sum(DeviceArray x, long offset, long count, GpuStream stream) {
    Check.notNull(x, "x");
    if (x.isClosed()) {
      throw new GpuCoreException.InvalidArgument("x is closed");
    }
    Check.range(offset, count, x.length(), "x");
    if (stream != null && (stream.isClosed() || stream.device() != x.device())) {
      throw new GpuCoreException.InvalidArgument("stream must be open and on device " + x.device());
    }
    return core.gpu().reductions().sum(x, offset, count, stream);
  }
}
