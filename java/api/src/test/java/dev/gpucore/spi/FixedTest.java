package dev.gpucore.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link Fixed} writes what String.format("%.Nf") writes. */
class FixedTest {
  private static String fixed(double x, int d) {
    return Fixed.append(new StringBuilder(), x, d).toString();
  }

  @Test
  void asTheFormatterOnRandomValuesOfEveryMagnitude() {
    SplittableRandom r = new SplittableRandom(7);
    int compared = 0;
    for (int i = 0; i < 200_000; i++) {
      double x = Math.pow(10, r.nextDouble(-8, 11)) * (r.nextBoolean() ? 1 : -1);
      int d = r.nextInt(7);
      // near a tie the two may differ by the last digit: such values are skipped
      double scaled = Math.abs(x) * Math.pow(10, d);
      double toTie = Math.abs(scaled - Math.floor(scaled) - 0.5);
      if (toTie < 1e-9 + 64 * Math.ulp(scaled) || scaled > 1e15) {
        continue;
      }
      assertEquals(String.format(Locale.ROOT, "%." + d + "f", x), fixed(x, d), x + " at " + d);
      compared++;
    }
    assertEquals(true, compared > 180_000, "compared " + compared);
  }

  @Test
  void theValuesTheRouterWrites() {
    for (double x : new double[] {0, 0.0004, 0.0005, 0.475, 1, 2, 6, 9998.4, 9998.5, 12.25,
        0.999, 0.9995, 1e-300, 123456789.0}) {
      for (int d = 0; d <= 3; d++) {
        String want = new BigDecimal(Double.toString(x)).setScale(d, java.math.RoundingMode.HALF_UP)
            .toPlainString();
        assertEquals(String.format(Locale.ROOT, "%." + d + "f", x), want, "the formatter, " + x);
        assertEquals(want, fixed(x, d), x + " at " + d);
      }
    }
    assertEquals("-0.000", fixed(-0.0001, 3));
    assertEquals("-0.000", fixed(-0.0, 3));
    assertEquals("NaN", fixed(Double.NaN, 2));
    assertEquals("Infinity", fixed(Double.POSITIVE_INFINITY, 1));
    assertEquals(String.format(Locale.ROOT, "%.3f", 3e14), fixed(3e14, 3));
    assertThrows(IllegalArgumentException.class, () -> fixed(1, 7));
  }
}
