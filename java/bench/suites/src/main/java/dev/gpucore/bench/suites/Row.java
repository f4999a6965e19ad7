package dev.gpucore.bench.suites;

import dev.gpucore.cli.JsonText;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One measured case at one size: gpucore's figure (or why it was skipped) and the peers'
 * figures for the same case, size and inputs. Throughput is {@code work} per median time in
 * units of 10^9 per second ({@code GB/s} for bytes, {@code GFLOP/s} for flops).
 */
public final class Row {
  private final String suite;
  private final String group;
  private final String caseId;
  private final String name;
  private final String who;
  private final double x;
  private final String sizeLabel;
  private final double work;
  private final String unit;
  private String timing = "";
  private Stats stats;
  private String skipped;
  private String check = "";
  private boolean failed;
  private final Map<String, Object> extra = new LinkedHashMap<>();
  private final List<PeerFigure> peers = new ArrayList<>();
  private Map<String, Object> telemetryBefore;
  private Map<String, Object> telemetryAfter;

  /**
   * @param suite the suite
   * @param group the kind of case, also the chart panel ({@code H2D}, {@code e2e})
   * @param caseId the case's short id, shared with the peers ({@code pinned}, {@code gpu})
   * @param name the case as printed
   * @param who which gpucore backend ran it ({@code gpucore cuda}, {@code gpucore cpu})
   * @param x the size on the chart's x axis (bytes, n)
   * @param sizeLabel the size as printed
   * @param work bytes or flops per run
   * @param unit {@code GB/s} or {@code GFLOP/s}
   */
  public Row(String suite, String group, String caseId, String name, String who, double x,
      String sizeLabel, double work, String unit) {
    this.suite = suite;
    this.group = group;
    this.caseId = caseId;
    this.name = name;
    this.who = who;
    this.x = x;
    this.sizeLabel = sizeLabel;
    this.work = work;
    this.unit = unit;
  }

  public String suite() {
    return suite;
  }

  public String group() {
    return group;
  }

  public String caseId() {
    return caseId;
  }

  public String name() {
    return name;
  }

  public String who() {
    return who;
  }

  public double x() {
    return x;
  }

  public String sizeLabel() {
    return sizeLabel;
  }

  public double work() {
    return work;
  }

  public String unit() {
    return unit;
  }

  public String timing() {
    return timing;
  }

  public Stats stats() {
    return stats;
  }

  public String skipped() {
    return skipped;
  }

  public String check() {
    return check;
  }

  public boolean failed() {
    return failed;
  }

  public Map<String, Object> extra() {
    return extra;
  }

  public List<PeerFigure> peers() {
    return peers;
  }

  public Map<String, Object> telemetryBefore() {
    return telemetryBefore;
  }

  public Map<String, Object> telemetryAfter() {
    return telemetryAfter;
  }

  /** Records the measurement and how it was timed. */
  public Row measured(Stats s, String how) {
    this.stats = s;
    this.timing = how;
    return this;
  }

  /** Marks the row skipped, with the reason. */
  public Row skip(String reason) {
    this.skipped = reason;
    return this;
  }

  /** Records the result check; {@code ok} false marks the row failed. */
  public Row check(String text, boolean ok) {
    this.check = text;
    this.failed |= !ok;
    return this;
  }

  /** Records the GPU telemetry read before and after the measurement. */
  public Row telemetry(Map<String, Object> before, Map<String, Object> after) {
    this.telemetryBefore = before;
    this.telemetryAfter = after;
    return this;
  }

  /** Throughput in {@link #unit()}, from the median; NaN without a measurement. */
  public double throughput() {
    return stats == null ? Double.NaN : work / stats.median();
  }

  /** Throughput of a peer's figure, in this row's unit. */
  public double throughput(PeerFigure p) {
    return p.stats() == null ? Double.NaN : work / p.stats().median();
  }

  /** Whether {@code m}, a peer's result line, is for this row's suite, group, case and size. */
  public boolean matches(Map<String, Object> m) {
    return suite.equals(m.get("suite")) && group.equals(m.get("group"))
        && caseId.equals(m.get("case")) && JsonText.num(m, "x") == x;
  }
}
