package dev.gpucore;

/**
 * Element types of gpucore arrays. {@link #BFLOAT16} and {@link #FLOAT16} are device-array
 * types for half-precision GEMM operands: they are filled from and read into {@code float[]}
 * (rounded to nearest even on the way in) and have no host-array or CPU form.
 */
public enum DType {
  /** IEEE 754 binary32. */
  FLOAT32(4),
  /** IEEE 754 binary64. */
  FLOAT64(8),
  /** bfloat16: binary32's exponent with a 7-bit mantissa. */
  BFLOAT16(2),
  /** IEEE 754 binary16. */
  FLOAT16(2);

  private final int bytes;

  DType(int bytes) {
    this.bytes = bytes;
  }

  /** Size of one element in bytes. */
  public int bytes() {
    return bytes;
  }

  /** Whether this is one of the 16-bit types. */
  public boolean isHalf() {
    return bytes == 2;
  }
}
