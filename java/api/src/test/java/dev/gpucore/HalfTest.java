package dev.gpucore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.IntToDoubleFunction;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.Test;

/** Half conversions against exhaustive decoding and known values. */
class HalfTest {
  /** Every 16-bit pattern decodes and encodes back to itself; NaNs stay NaN. */
  private static void roundTripsEveryBitPattern(IntToDoubleFunction decode,
      ToIntFunction<Float> encode) {
    for (int h = 0; h < 0x10000; h++) {
      float f = (float) decode.applyAsDouble(h);
      if (Float.isNaN(f)) {
        assertTrue(Float.isNaN((float) decode.applyAsDouble(encode.applyAsInt(f))));
        continue;
      }
      assertEquals((short) h, (short) encode.applyAsInt(f), "bits " + Integer.toHexString(h));
    }
  }

  @Test
  void float16RoundTripsEveryValueAndRoundsToNearestEven() {
    roundTripsEveryBitPattern(h -> Half.fromFloat16((short) h), Half::toFloat16);
    assertEquals(1.0f, Half.fromFloat16(Half.toFloat16(1.0004f)));      // below half an ulp
    assertEquals(1.0009765625f, Half.fromFloat16(Half.toFloat16(1.0006f))); // above
    assertEquals(Float.POSITIVE_INFINITY, Half.fromFloat16(Half.toFloat16(70000f)));
    assertEquals(65504f, Half.fromFloat16(Half.toFloat16(65504f)));
    assertEquals(0x1p-24f, Half.fromFloat16(Half.toFloat16(0x1p-24f)));  // smallest subnormal
    assertEquals(0f, Half.fromFloat16(Half.toFloat16(0x1p-26f)));
    // ties to even: 1 + 2^-11 is halfway between 1 and 1 + 2^-10
    assertEquals(1.0f, Half.fromFloat16(Half.toFloat16(1 + 0x1p-11f)));
  }

  @Test
  void bfloat16RoundTripsAndRounds() {
    roundTripsEveryBitPattern(h -> Half.fromBfloat16((short) h), Half::toBfloat16);
    assertEquals(1.0f, Half.fromBfloat16(Half.toBfloat16(1.0001f)));
    assertEquals(1.0078125f, Half.fromBfloat16(Half.toBfloat16(1.006f)));
    assertEquals(1.0f, Half.fromBfloat16(Half.toBfloat16(1 + 0x1p-8f))); // tie to even
  }
}
