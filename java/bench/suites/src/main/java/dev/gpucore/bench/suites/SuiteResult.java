package dev.gpucore.bench.suites;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What a suite produced: a title, notes (skips, how to read it), rows, and a summary. */
public final class SuiteResult {
  private final String name;
  private final String title;
  private final List<String> notes = new ArrayList<>();
  private final List<Row> rows = new ArrayList<>();
  private final List<String> footer = new ArrayList<>();
  private final Map<String, Object> summary = new LinkedHashMap<>();
  private final Map<String, Object> settings = new LinkedHashMap<>();
  private final List<Map<String, Object>> peerTelemetry = new ArrayList<>();

  public SuiteResult(String name, String title) {
    this.name = name;
    this.title = title;
  }

  public String name() {
    return name;
  }

  public String title() {
    return title;
  }

  /** Lines printed above the table. */
  public List<String> notes() {
    return notes;
  }

  /** Lines printed below the table (speedups, agreement). */
  public List<String> footer() {
    return footer;
  }

  public List<Row> rows() {
    return rows;
  }

  /** Suite-level figures for the JSON (speedups, sums). */
  public Map<String, Object> summary() {
    return summary;
  }

  /** Sizes, repetitions, dtype and the like, for the JSON. */
  public Map<String, Object> settings() {
    return settings;
  }

  /** GPU telemetry read before and after each peer's run. */
  public List<Map<String, Object>> peerTelemetry() {
    return peerTelemetry;
  }

  /** Whether any row or peer figure failed its check. */
  public boolean failed() {
    for (Row r : rows) {
      if (r.failed() || r.peers().stream().anyMatch(PeerFigure::failed)) {
        return true;
      }
    }
    return false;
  }
}
