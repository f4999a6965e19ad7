package dev.gpucore.bench.suites;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The run as JSON: every figure, the machine, the peers, the commit and the date. */
public final class Report {
  /** Version of the JSON layout; bump when a field changes meaning. */
  public static final String SCHEMA = "gpucore-bench/1";

  private Report() {}

  /** The whole run. */
  public static Map<String, Object> toJson(String date, Map<String, Object> commit,
      BenchOptions o, Map<String, Object> machine, String telemetrySource,
      List<Peers.Status> peers, List<SuiteResult> results, int exitCode) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("schema", SCHEMA);
    m.put("date", date);
    m.put("commit", commit);
    m.put("command", o.command());
    Map<String, Object> opts = new LinkedHashMap<>();
    opts.put("suites", o.suites());
    opts.put("dtype", o.dtype());
    opts.put("precision", o.precision());
    opts.put("device", o.device());
    opts.put("seed", o.seed());
    opts.put("peers", o.peers());
    m.put("options", opts);
    m.put("machine", machine);
    m.put("telemetry_source", telemetrySource);
    List<Object> ps = new ArrayList<>();
    for (Peers.Status s : peers) {
      Map<String, Object> p = new LinkedHashMap<>();
      p.put("name", s.name());
      p.put("available", s.available());
      p.put(s.available() ? "version" : "reason", s.detail());
      ps.add(p);
    }
    m.put("peers", ps);
    List<Object> suites = new ArrayList<>();
    boolean failed = false;
    for (SuiteResult r : results) {
      failed |= r.failed();
      suites.add(suite(r));
    }
    m.put("suites", suites);
    m.put("checks_failed", failed);
    m.put("exit_code", exitCode);
    return m;
  }

  static Map<String, Object> suite(SuiteResult r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", r.name());
    m.put("title", r.title());
    m.put("settings", r.settings());
    m.put("notes", r.notes());
    m.put("footer", r.footer());
    m.put("summary", r.summary());
    m.put("peer_telemetry", r.peerTelemetry());
    List<Object> rows = new ArrayList<>();
    for (Row row : r.rows()) {
      rows.add(row(row));
    }
    m.put("rows", rows);
    return m;
  }

  /** One row with its peers. */
  public static Map<String, Object> row(Row row) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("suite", row.suite());
    m.put("group", row.group());
    m.put("case", row.caseId());
    m.put("name", row.name());
    m.put("who", row.who());
    m.put("size", row.sizeLabel());
    m.put("x", row.x());
    m.put("work", row.work());
    m.put("unit", row.unit());
    m.put("skipped", row.skipped());
    m.put("timing", row.timing());
    stats(m, row.stats(), row.work());
    m.put("check", row.check());
    m.put("ok", !row.failed());
    m.put("extra", row.extra());
    if (row.telemetryBefore() != null) {
      Map<String, Object> t = new LinkedHashMap<>();
      t.put("before", row.telemetryBefore());
      t.put("after", row.telemetryAfter());
      m.put("telemetry", t);
    }
    List<Object> peers = new ArrayList<>();
    for (PeerFigure p : row.peers()) {
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("peer", p.peer());
      o.put("label", p.label());
      o.put("skipped", p.skipped());
      o.put("timing", p.timing());
      stats(o, p.stats(), row.work());
      o.put("ratio_peer_time_over_gpucore", p.ratio(row));
      o.put("check", p.check());
      o.put("ok", !p.failed());
      o.put("extra", p.extra());
      peers.add(o);
    }
    m.put("peers", peers);
    return m;
  }

  private static void stats(Map<String, Object> m, Stats s, double work) {
    if (s == null) {
      return;
    }
    m.put("reps", s.count());
    m.put("median_ns", s.median());
    m.put("min_ns", s.min());
    m.put("max_ns", s.max());
    m.put("mean_ns", s.mean());
    m.put("mad_ns", s.mad());
    m.put("samples_ns", s.samples());
    m.put("throughput", work / s.median());
    m.put("throughput_best", work / s.min());
  }
}
