package dev.gpucore.bench.suites;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.DoubleFunction;

/**
 * A hand-written SVG chart: one panel per kind of case (transfer H2D, D2H, host copies; e2e),
 * throughput against size, one line per gpucore path and per peer (gpucore solid with circles,
 * peers dashed with squares). Log axes where the values span a wide range. No dependencies.
 */
public final class SvgPlot {
  /** A point; {@code y} NaN means no figure at that size. */
  public record Point(double x, double y) {}

  /** A line. */
  public record Series(String name, boolean peer, List<Point> points) {}

  /** A panel: title, axis labels, whether x is bytes (formatted as KiB/MiB/GiB), lines. */
  public record Panel(String title, String xLabel, String yLabel, boolean bytesX,
      List<Series> series) {}

  private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
      "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939"};
  private static final int W = 1000;
  private static final int PH = 400;
  private static final int PX0 = 80;
  private static final int PX1 = 640;
  private static final int PY0 = 50;
  private static final int PY1 = 340;

  private SvgPlot() {}

  /** The panels for a run's results: one per suite and group, series per case and who. */
  public static List<Panel> panels(List<SuiteResult> results) {
    List<Panel> out = new ArrayList<>();
    for (SuiteResult r : results) {
      Map<String, List<Row>> groups = new LinkedHashMap<>();
      for (Row row : r.rows()) {
        groups.computeIfAbsent(row.group(), g -> new ArrayList<>()).add(row);
      }
      for (Map.Entry<String, List<Row>> g : groups.entrySet()) {
        Map<String, Series> series = new LinkedHashMap<>();
        for (Row row : g.getValue()) {
          String ours = "gpucore " + row.name();
          series.computeIfAbsent(ours, k -> new Series(k, false, new ArrayList<>()))
              .points().add(new Point(row.x(), row.throughput()));
          for (PeerFigure p : row.peers()) {
            String name = p.peer() + " " + row.caseId()
                + (p.label().isEmpty() ? "" : ": " + p.label());
            series.computeIfAbsent(name, k -> new Series(k, true, new ArrayList<>()))
                .points().add(new Point(row.x(), row.throughput(p)));
          }
        }
        Row first = g.getValue().get(0);
        boolean bytes = r.name().equals("transfer");
        String title = r.name().equals("e2e") ? "e2e: C = A*A^T then sum(C), end to end from host"
            : r.name() + " " + switch (g.getKey()) {
              case "H2D" -> "host to device";
              case "D2H" -> "device to host";
              case "host" -> "host copies (Java array <-> off-heap)";
              default -> g.getKey();
            };
        out.add(new Panel(title, bytes ? "size" : "n", first.unit(), bytes,
            new ArrayList<>(series.values())));
      }
    }
    return out;
  }

  /** The whole chart as an SVG document. */
  public static String render(String title, String subtitle, List<Panel> panels) {
    int h = 70 + Math.max(1, panels.size()) * PH;
    StringBuilder sb = new StringBuilder();
    sb.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
        + "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Arial, sans-serif\" "
        + "font-size=\"12\">%n", W, h, W, h));
    sb.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", W, h));
    text(sb, 20, 28, 18, "start", "bold", title);
    text(sb, 20, 50, 12, "start", "normal", subtitle);
    if (panels.isEmpty()) {
      text(sb, 20, 100, 14, "start", "normal", "no figures to plot");
    }
    for (int i = 0; i < panels.size(); i++) {
      sb.append(String.format(Locale.ROOT, "<g transform=\"translate(0,%d)\">%n", 70 + i * PH));
      panel(sb, panels.get(i));
      sb.append("</g>\n");
    }
    sb.append("</svg>\n");
    return sb.toString();
  }

  private static void panel(StringBuilder sb, Panel p) {
    text(sb, PX0, PY0 - 18, 14, "start", "bold", p.title());
    TreeSet<Double> xs = new TreeSet<>();
    double ymin = Double.POSITIVE_INFINITY;
    double ymax = 0;
    for (Series s : p.series()) {
      for (Point pt : s.points()) {
        xs.add(pt.x());
        if (!Double.isNaN(pt.y()) && pt.y() > 0 && !Double.isInfinite(pt.y())) {
          ymin = Math.min(ymin, pt.y());
          ymax = Math.max(ymax, pt.y());
        }
      }
    }
    sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
        + "fill=\"none\" stroke=\"#444\"/>%n", PX0, PY0, PX1 - PX0, PY1 - PY0));
    DoubleFunction<String> xfmt = p.bytesX() ? Fmt::bytes : v -> String.format(Locale.ROOT, "%.0f", v);
    // x axis: log when the sizes span a factor of 4 or more; ticks at the sizes measured
    double xlo = xs.isEmpty() ? 0 : xs.first();
    double xhi = xs.isEmpty() ? 1 : xs.last();
    boolean logX = xlo > 0 && xhi / xlo >= 4;
    Axis ax = new Axis(logX, xlo, xhi, PX0 + 30, PX1 - 30);
    for (double x : xs) {
      double px = ax.map(x);
      line(sb, px, PY1, px, PY1 + 5, "#444", 1, null);
      line(sb, px, PY0, px, PY1, "#eee", 1, null);
      text(sb, px, PY1 + 18, 11, "middle", "normal", xfmt.apply(x));
    }
    text(sb, (PX0 + PX1) / 2.0, PY1 + 36, 12, "middle", "normal",
        p.xLabel() + (logX ? " (log scale)" : ""));
    boolean haveY = ymax > 0;
    Axis ay;
    if (haveY) {
      boolean logY = ymin > 0 && ymax / ymin > 30;
      double lo;
      double hi;
      if (logY) {
        lo = Math.pow(10, Math.floor(Math.log10(ymin)));
        hi = Math.pow(10, Math.ceil(Math.log10(ymax)));
      } else {
        lo = 0;
        hi = nice(ymax * 1.08);
      }
      ay = new Axis(logY, lo, hi, PY1, PY0);
      List<Double> ticks = new ArrayList<>();
      if (logY) {
        for (double d = lo; d <= hi * 1.0001; d *= 10) {
          for (double m : new double[] {1, 2, 5}) {
            if (d * m <= hi * 1.0001) {
              ticks.add(d * m);
            }
          }
        }
      } else {
        double step = nice(hi / 5);
        for (double v = 0; v <= hi * 1.0001; v += step) {
          ticks.add(v);
        }
      }
      for (double t : ticks) {
        double py = ay.map(t);
        line(sb, PX0 - 5, py, PX0, py, "#444", 1, null);
        line(sb, PX0, py, PX1, py, "#eee", 1, null);
        text(sb, PX0 - 8, py + 4, 11, "end", "normal", Fmt.sig(t));
      }
      sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"12\" "
          + "text-anchor=\"middle\" transform=\"rotate(-90 %d %d)\">%s</text>%n", 22,
          (PY0 + PY1) / 2, 22, (PY0 + PY1) / 2, esc(p.yLabel() + (logY ? " (log scale)" : ""))));
    } else {
      ay = null;
      text(sb, (PX0 + PX1) / 2.0, (PY0 + PY1) / 2.0, 13, "middle", "normal",
          "no figures: every case here was skipped");
    }
    // lines and legend
    int ly = PY0 + 4;
    for (int i = 0; i < p.series().size(); i++) {
      Series s = p.series().get(i);
      String color = COLORS[i % COLORS.length];
      String dash = s.peer() ? "6,4" : null;
      double width = s.peer() ? 1.6 : 2.6;
      boolean any = false;
      if (ay != null) {
        StringBuilder path = new StringBuilder();
        for (Point pt : s.points()) {
          if (Double.isNaN(pt.y()) || pt.y() <= 0 || Double.isInfinite(pt.y())) {
            continue;
          }
          any = true;
          path.append(path.length() == 0 ? "M" : " L").append(String.format(Locale.ROOT,
              "%.1f %.1f", ax.map(pt.x()), ay.map(pt.y())));
        }
        if (path.length() > 0) {
          sb.append(String.format(Locale.ROOT, "<path d=\"%s\" fill=\"none\" stroke=\"%s\" "
              + "stroke-width=\"%.1f\"%s/>%n", path, color, width,
              dash == null ? "" : " stroke-dasharray=\"" + dash + "\""));
          for (Point pt : s.points()) {
            if (!Double.isNaN(pt.y()) && pt.y() > 0 && !Double.isInfinite(pt.y())) {
              marker(sb, ax.map(pt.x()), ay.map(pt.y()), color, s.peer());
            }
          }
        }
      }
      // legend entry
      double lx = PX1 + 20;
      line(sb, lx, ly + 6, lx + 26, ly + 6, any ? color : "#bbb", width, dash);
      marker(sb, lx + 13, ly + 6, any ? color : "#bbb", s.peer());
      String name = s.name().length() > 52 ? s.name().substring(0, 51) + "~" : s.name();
      text(sb, lx + 32, ly + 10, 11, "start", "normal", name + (any ? "" : " (no figure)"));
      ly += 18;
    }
  }

  /** The smallest 1, 2, 2.5 or 5 times a power of ten that is at least {@code v}. */
  static double nice(double v) {
    if (!(v > 0)) {
      return 1;
    }
    double e = Math.pow(10, Math.floor(Math.log10(v)));
    for (double m : new double[] {1, 2, 2.5, 5, 10}) {
      if (m * e >= v * 0.9999) {
        return m * e;
      }
    }
    return 10 * e;
  }

  private record Axis(boolean log, double lo, double hi, double p0, double p1) {
    double map(double v) {
      if (hi == lo) {
        return (p0 + p1) / 2;
      }
      double t = log ? (Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))
          : (v - lo) / (hi - lo);
      return p0 + t * (p1 - p0);
    }
  }

  private static void marker(StringBuilder sb, double x, double y, String color, boolean square) {
    if (square) {
      sb.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"7\" height=\"7\" "
          + "fill=\"white\" stroke=\"%s\" stroke-width=\"1.5\"/>%n", x - 3.5, y - 3.5, color));
    } else {
      sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>%n",
          x, y, color));
    }
  }

  private static void line(StringBuilder sb, double x1, double y1, double x2, double y2,
      String color, double width, String dash) {
    sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
        + "stroke=\"%s\" stroke-width=\"%.1f\"%s/>%n", x1, y1, x2, y2, color, width,
        dash == null ? "" : " stroke-dasharray=\"" + dash + "\""));
  }

  private static void text(StringBuilder sb, double x, double y, int size, String anchor,
      String weight, String s) {
    sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" "
        + "text-anchor=\"%s\" font-weight=\"%s\">%s</text>%n", x, y, size, anchor, weight, esc(s)));
  }

  /** Escapes text for XML. */
  static String esc(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&apos;");
        default -> {
          if (c >= 0x20 || c == '\t' || c == '\n') {
            b.append(c);
          }
        }
      }
    }
    return b.toString();
  }
}
