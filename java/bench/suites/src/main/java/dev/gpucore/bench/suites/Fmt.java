package dev.gpucore.bench.suites;

import java.util.Locale;

/** Number formatting for the table and the chart. */
public final class Fmt {
  private Fmt() {}

  /** A duration in nanoseconds with a unit that keeps 3-4 significant digits: 812 ns, 3.21 ms. */
  public static String time(double ns) {
    if (Double.isNaN(ns)) {
      return "-";
    }
    if (ns < 1e3) {
      return String.format(Locale.ROOT, "%.0f ns", ns);
    }
    if (ns < 1e6) {
      return sig(ns / 1e3) + " us";
    }
    if (ns < 1e9) {
      return sig(ns / 1e6) + " ms";
    }
    return sig(ns / 1e9) + " s";
  }

  /** A value with 3 significant digits (at least 0 decimals): 3.21, 32.1, 321, 4321. */
  public static String sig(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return "-";
    }
    double a = Math.abs(v);
    String f = a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3g";
    return String.format(Locale.ROOT, f, v);
  }

  /** Bytes as 64 KiB, 16 MiB, 1 GiB (binary units; exact multiples print without decimals). */
  public static String bytes(double b) {
    String[] u = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (b >= 1024 && i < u.length - 1) {
      b /= 1024;
      i++;
    }
    return (b == Math.rint(b) ? String.format(Locale.ROOT, "%.0f", b) : sig(b)) + " " + u[i];
  }
}
