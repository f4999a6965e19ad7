package dev.gpucore.p2p;

import dev.gpucore.Check;
import dev.gpucore.memory.DeviceArray;

/**
 * One copy of a batch ({@link PeerCopy#copyAll}): {@code count} elements from {@code src} at
 * {@code srcOffset} to {@code dst} at {@code dstOffset}; the arrays may be on any devices.
 *
 * @param src the source array
 * @param srcOffset first element read
 * @param dst the destination array
 * @param dstOffset first element written
 * @param count number of elements
 */
public record Transfer(DeviceArray src, long srcOffset, DeviceArray dst, long dstOffset,
    long count) {
  /** Checks that the arrays are given (ranges are checked by the copy). */
  public Transfer {
    Check.notNull(src, "src");
    Check.notNull(dst, "dst");
  }

  /** All of {@code src} to the start of {@code dst}. */
  public static Transfer of(DeviceArray src, DeviceArray dst) {
    Check.notNull(src, "src");
    return new Transfer(src, 0, dst, 0, src.length());
  }

  /** Bytes copied. */
  public long bytes() {
    return count * src.dtype().bytes();
  }
}
