package dev.gpucore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Half conversions against exhaustive decoding and known values. */
class HalfTest {
  @Test
  void float16RoundTripsEveryValueAndRoundsToNearestEven() {
    for (int h = 0; h < 0x10000; h++) {
      float f = Half.fromFloat16((short) h);
      if (Float.isNaN(f)) {
        assertTrue(Float.isNaN(Half.fromFloat16(Half.toFloat16(f))));
        continue;
      }
      assertEquals((short) h, Half.toFloat16(f), "bits " + Integer.toHexString(h));
    }
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
    for (int h = 0; h < 0x10000; h++) {
      float f = Half.fromBfloat16((short) h);
      if (Float.isNaN(f)) {
        assertTrue(Float.isNaN(Half.fromBfloat16(Half.toBfloat16(f))));
        continue;
      }
      assertEquals((short) h, Half.toBfloat16(f), "bits " + Integer.toHexString(h));
    }
    assertEquals(1.0f, Half.fromBfloat16(Half.toBfloat16(1.0001f)));
    assertEquals(1.0078125f, Half.fromBfloat16(Half.toBfloat16(1.006f)));
    assertEquals(1.0f, Half.fromBfloat16(Half.toBfloat16(1 + 0x1p-8f))); // tie to even
  }
}
