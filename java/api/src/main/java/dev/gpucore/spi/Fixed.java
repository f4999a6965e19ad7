package dev.gpucore.spi;

import java.util.Locale;

/**
 * Numbers with a fixed count of decimals, as {@code String.format("%.Nf")} writes them (half up,
 * no grouping, {@code Locale.ROOT}), for text built on every routed call: the router's reasons,
 * which its log writes once a call. A few tens of nanoseconds, where the formatter takes
 * microseconds. A value that lies within rounding error of a tie may round the other way.
 */
final class Fixed {
  private static final long[] SCALE = {1, 10, 100, 1000, 10000, 100000, 1000000};

  private Fixed() {}

  /** Appends {@code x} with {@code decimals} decimals (0 to 6). */
  static StringBuilder append(StringBuilder sb, double x, int decimals) {
    if (decimals < 0 || decimals >= SCALE.length) {
      throw new IllegalArgumentException("decimals must be 0 to " + (SCALE.length - 1)
          + ", got " + decimals);
    }
    if (!(Math.abs(x) < 1e12)) { // NaN, infinities and the very large: as the formatter has it
      return sb.append(String.format(Locale.ROOT, "%." + decimals + "f", x));
    }
    long scale = SCALE[decimals];
    long r = Math.round(Math.abs(x) * scale);
    if (x < 0 || Double.doubleToRawLongBits(x) == Long.MIN_VALUE) {
      sb.append('-'); // as the formatter: "-0.000" for a negative value that rounds to zero
    }
    sb.append(r / scale);
    if (decimals > 0) {
      sb.append('.');
      long frac = r % scale;
      for (long p = scale / 10; p > 1 && frac < p; p /= 10) {
        sb.append('0');
      }
      sb.append(frac);
    }
    return sb;
  }
}
