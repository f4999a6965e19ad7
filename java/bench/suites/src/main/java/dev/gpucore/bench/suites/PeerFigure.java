package dev.gpucore.bench.suites;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A peer's figure for the same case and size as a {@link Row}: measured (with {@link #stats()})
 * or skipped (with {@link #skipped()}, the peer's reason).
 *
 * @param peer the peer's name ({@code torch}, {@code numpy}, {@code openblas}, {@code nvblas},
 *     {@code cudart})
 * @param label what the peer did, in a few words
 * @param timing how it was timed
 * @param stats its samples, or null when skipped
 * @param skipped why it has no figure, or null
 * @param check agreement with gpucore's result where one was compared, else empty
 * @param failed whether that check failed
 * @param extra anything else the peer reported (stages, event samples, sums)
 */
public record PeerFigure(String peer, String label, String timing, Stats stats, String skipped,
    String check, boolean failed, Map<String, Object> extra) {

  /** Normalises nulls. */
  public PeerFigure {
    label = label == null ? "" : label;
    timing = timing == null ? "" : timing;
    check = check == null ? "" : check;
    extra = extra == null ? new LinkedHashMap<>() : extra;
  }

  /** Peer time over gpucore time for {@code row}: above 1, gpucore is faster. NaN when either is missing. */
  public double ratio(Row row) {
    if (stats == null || row.stats() == null) {
      return Double.NaN;
    }
    return stats.median() / row.stats().median();
  }
}
