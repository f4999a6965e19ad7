package dev.gpucore.spi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The calibration's operands: pseudo-random values in [0, 1), not constants. */
class RouteCalibrationNoiseTest {
  @Test
  void operandsVaryFromElementToElementAndRepeatTheirBlock() {
    int period = RouteCalibration.NOISE_PERIOD;
    int len = 2 * period + 123;
    double[] d = RouteCalibration.noise64(len, 7);
    assertEquals(len, d.length);
    long distinct = Arrays.stream(d, 0, period).distinct().count();
    assertTrue(distinct > period * 0.99, distinct + " distinct values of " + period);
    double sum = 0;
    for (double v : d) {
      assertTrue(v >= 0 && v < 1, "value " + v);
      sum += v;
    }
    assertEquals(0.5, sum / len, 0.01);
    assertArrayEquals(Arrays.copyOfRange(d, 0, period), Arrays.copyOfRange(d, period, 2 * period));
    assertArrayEquals(Arrays.copyOfRange(d, 0, 123), Arrays.copyOfRange(d, 2 * period, len));
    assertArrayEquals(d, RouteCalibration.noise64(len, 7), "the same for the same seed");
    double[] other = RouteCalibration.noise64(period, 8);
    int same = 0;
    for (int i = 0; i < period; i++) {
      same += other[i] == d[i] ? 1 : 0;
    }
    assertTrue(same < 10, "another seed, other values (A and B differ): " + same);

    float[] f = RouteCalibration.noise32(len, 7);
    assertEquals(len, f.length);
    for (int i = 0; i < len; i++) {
      assertEquals((float) d[i % period], f[i], "element " + i);
    }
  }

  @Test
  void shortAndEmptyOperands() {
    assertEquals(0, RouteCalibration.noise64(0, 7).length);
    assertEquals(0, RouteCalibration.noise32(0, 7).length);
    float[] f = RouteCalibration.noise32(5, 7);
    double[] d = RouteCalibration.noise64(5, 7);
    assertEquals(5, f.length);
    for (int i = 0; i < 5; i++) {
      assertEquals((float) d[i], f[i], "element " + i);
    }
    assertEquals(5, Arrays.stream(d).distinct().count(), Arrays.toString(d));
  }
}
