package dev.gpucore.bench.suites;

import dev.gpucore.GpuCore;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a suite runs with: the GpuCore opened as configured ({@link #core()}, GPU work), one
 * pinned to the CPU backend ({@link #cpuCore()}, CPU rows: never routed to a GPU), the options,
 * the peers, telemetry and progress.
 */
public record BenchContext(GpuCore core, GpuCore cpuCore, BenchOptions options, Peers peers,
    Telemetry telemetry, Progress progress, long cacheBytes, int cpuThreads) {

  /** Whether GPU rows can run; when not, {@link #noGpu()} says why. */
  public boolean gpu() {
    return core.hasGpu();
  }

  /**
   * Whether GPU rows can run; when not, marks each of {@code rows} skipped with
   * {@link #noGpu()}.
   */
  boolean gpuOrSkip(Row... rows) {
    if (gpu()) {
      return true;
    }
    for (Row r : rows) {
      r.skip(noGpu());
    }
    return false;
  }

  /** The reason GPU rows are skipped. */
  public String noGpu() {
    return "No GPU visible: " + core.noGpuReason();
  }

  /** The device's name, or empty. */
  public String deviceName() {
    return gpu() ? core.devices().get(options.device()).name() : "";
  }

  /** The CUDA ordinal of the selected device (what peers use), 0 without a GPU. */
  public int cudaOrdinal() {
    return gpu() ? Math.max(0, core.devices().get(options.device()).cudaOrdinal()) : 0;
  }

  /**
   * A request to the peers holding what every suite sends: its sizes, the samples and warm-up
   * runs per case, and the seed of the inputs; the suite adds its own keys.
   */
  public Map<String, Object> peerRequest(List<?> sizes, int reps, int warmup) {
    Map<String, Object> req = new LinkedHashMap<>();
    req.put("sizes", sizes);
    req.put("reps", reps);
    req.put("warmup", warmup);
    req.put("seed", options.seed());
    return req;
  }

  /**
   * Runs the peers for {@code result}'s suite as one progress step ("SUITE: peers"), reading GPU
   * telemetry around them, and attaches their figures to the matching rows; peer lines that
   * match no row are kept in the result's summary.
   */
  public List<Map<String, Object>> runPeers(SuiteResult result, Map<String, Object> request,
      PeerMerge.Checker checker) throws java.io.IOException {
    if (peers == null) {
      return List.of();
    }
    progress.step(result.name() + ": peers");
    Map<String, Object> before = telemetry.sample(options.device());
    List<Map<String, Object>> lines = peers.run(result.name(), request, progress::detail);
    Map<String, Object> after = telemetry.sample(options.device());
    if (!before.isEmpty()) {
      result.peerTelemetry().add(Map.of("before", before, "after", after));
    }
    PeerMerge.attach(result, lines, peers, checker);
    progress.stepDone();
    return lines;
  }
}
