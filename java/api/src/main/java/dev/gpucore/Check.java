package dev.gpucore;

/**
 * Argument checks shared by every module: each throws {@link GpuCoreException.InvalidArgument}
 * naming the parameter and what was expected, before any native call.
 */
public final class Check {
  private Check() {}

  /** Requires a non-null argument. */
  public static <T> T notNull(T value, String name) {
    if (value == null) {
      throw new GpuCoreException.InvalidArgument(name + " must not be null");
    }
    return value;
  }

  /** Requires {@code value >= 0}. */
  public static long nonNegative(long value, String name) {
    if (value < 0) {
      throw new GpuCoreException.InvalidArgument(name + " must be >= 0, got " + value);
    }
    return value;
  }

  /** Requires {@code value >= min}. */
  public static long atLeast(long value, long min, String name) {
    if (value < min) {
      throw new GpuCoreException.InvalidArgument(
          name + " must be >= " + min + ", got " + value);
    }
    return value;
  }

  /**
   * Requires the range [offset, offset + length) to lie inside [0, capacity): both
   * non-negative and no overflow.
   */
  public static void range(long offset, long length, long capacity, String what) {
    if (offset < 0 || length < 0 || offset > capacity || length > capacity - offset) {
      throw new GpuCoreException.InvalidArgument(
          what + ": range [" + offset + ", " + offset + " + " + length
              + ") is outside [0, " + capacity + ")");
    }
  }

  /** Multiplies without overflow, or throws naming what overflowed. */
  public static long multiply(long a, long b, String what) {
    try {
      return Math.multiplyExact(a, b);
    } catch (ArithmeticException e) {
      throw new GpuCoreException.InvalidArgument(what + " overflows a 64-bit count: " + a + " * " + b);
    }
  }
}
