package dev.gpucore;

/** Conversions between {@code float} and the 16-bit types, rounding to nearest even. */
public final class Half {
  private Half() {}

  /** float to bfloat16 bits. NaN stays NaN (quiet). */
  public static short toBfloat16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if (Float.isNaN(f)) {
      return (short) ((bits >>> 16) | 0x0040);
    }
    bits += 0x7FFF + ((bits >>> 16) & 1);
    return (short) (bits >>> 16);
  }

  /** bfloat16 bits to float (exact). */
  public static float fromBfloat16(short h) {
    return Float.intBitsToFloat((h & 0xFFFF) << 16);
  }

  /** float to IEEE binary16 bits: overflow to infinity, subnormals kept, NaN stays NaN. */
  public static short toFloat16(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int exp = (bits >>> 23) & 0xFF;
    int mant = bits & 0x7FFFFF;
    if (exp == 0xFF) {
      return (short) (sign | 0x7C00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
    }
    int e = exp - 127 + 15;
    if (e >= 0x1F) {
      return (short) (sign | 0x7C00);
    }
    if (e <= 0) {
      if (e < -10) {
        return (short) sign; // rounds to zero
      }
      mant |= 0x800000; // implicit bit
      int shift = 14 - e;
      int half = mant >>> shift;
      int rest = mant & ((1 << shift) - 1);
      int mid = 1 << (shift - 1);
      if (rest > mid || (rest == mid && (half & 1) == 1)) {
        half++;
      }
      return (short) (sign | half);
    }
    int half = (e << 10) | (mant >>> 13);
    int rest = mant & 0x1FFF;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1)) {
      half++; // may carry into the exponent, up to infinity: still correct
    }
    return (short) (sign | half);
  }

  /** IEEE binary16 bits to float (exact). */
  public static float fromFloat16(short h) {
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1F;
    int mant = h & 0x3FF;
    if (exp == 0x1F) {
      return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
    }
    if (exp == 0) {
      float v = mant * 0x1p-24f;
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  }

  /** Converts {@code n} floats to bits of {@code t} ({@link DType#BFLOAT16} or FLOAT16). */
  public static void encode(DType t, float[] src, int srcOff, short[] dst, int dstOff, int n) {
    if (t == DType.BFLOAT16) {
      for (int i = 0; i < n; i++) {
        dst[dstOff + i] = toBfloat16(src[srcOff + i]);
      }
    } else {
      for (int i = 0; i < n; i++) {
        dst[dstOff + i] = toFloat16(src[srcOff + i]);
      }
    }
  }

  /** Converts {@code n} bits of {@code t} to floats. */
  public static void decode(DType t, short[] src, int srcOff, float[] dst, int dstOff, int n) {
    if (t == DType.BFLOAT16) {
      for (int i = 0; i < n; i++) {
        dst[dstOff + i] = fromBfloat16(src[srcOff + i]);
      }
    } else {
      for (int i = 0; i < n; i++) {
        dst[dstOff + i] = fromFloat16(src[srcOff + i]);
      }
    }
  }
}
