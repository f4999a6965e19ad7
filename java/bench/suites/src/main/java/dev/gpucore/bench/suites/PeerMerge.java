package dev.gpucore.bench.suites;

import dev.gpucore.cli.JsonText;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Attaches the peers' result lines to the rows they belong to. */
public final class PeerMerge {
  /** A suite's check of a peer's result against gpucore's (null: nothing to check). */
  @FunctionalInterface
  public interface Checker {
    /** The check's text and verdict, or null. */
    Verdict check(Row row, Map<String, Object> line);
  }

  /** A check's outcome. */
  public record Verdict(String text, boolean ok) {}

  private static final Set<String> KNOWN = Set.of("peer", "suite", "group", "case", "x", "label",
      "timing", "samples_ns", "skipped", "check");

  private PeerMerge() {}

  /**
   * Adds a {@link PeerFigure} to each row a line matches; lines saying a peer failed as a whole
   * ({@code unavailable}) become notes of the result. Lines of peers not selected or missing
   * are ignored: a missing peer is named once, in the header, with its reason.
   */
  public static void attach(SuiteResult result, List<Map<String, Object>> lines, Peers peers,
      Checker checker) {
    for (Map<String, Object> line : lines) {
      String peer = JsonText.str(line, "peer", "?");
      if (peers != null && !peers.available(peer)) {
        continue; // not asked for, or missing: named in the header with the reason
      }
      if (line.containsKey("unavailable")) {
        result.notes().add("peer " + peer + " failed: " + line.get("unavailable"));
        continue;
      }
      for (Row row : result.rows()) {
        if (!row.matches(line)) {
          continue;
        }
        long[] samples = JsonText.longs(line, "samples_ns");
        String skipped = line.containsKey("skipped") ? JsonText.str(line, "skipped", "") : null;
        if (samples == null && skipped == null) {
          skipped = "the peer reported no samples";
        }
        Map<String, Object> extra = new LinkedHashMap<>();
        line.forEach((k, v) -> {
          if (!KNOWN.contains(k)) {
            extra.put(k, v);
          }
        });
        Verdict v = skipped == null && checker != null ? checker.check(row, line) : null;
        String check = v != null ? v.text() : JsonText.str(line, "check", "");
        boolean failed = v != null ? !v.ok() : check.startsWith("MISMATCH");
        row.peers().add(new PeerFigure(peer, JsonText.str(line, "label", ""),
            JsonText.str(line, "timing", ""), skipped == null ? Stats.of(samples) : null, skipped,
            check, failed, extra));
      }
    }
  }
}
