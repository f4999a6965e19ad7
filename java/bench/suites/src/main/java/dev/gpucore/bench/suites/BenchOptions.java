package dev.gpucore.bench.suites;

import java.nio.file.Path;
import java.util.List;

/**
 * The options of {@code gpucore bench}, parsed.
 *
 * @param suites suite names, in order
 * @param sizes sizes for every suite, in each suite's unit, or null for the suite's own
 * @param mib transfer sizes in MiB, or null
 * @param n e2e matrix sizes, or null
 * @param dtype {@code fp32} or {@code fp64}
 * @param dtypeGiven whether {@code --dtype} was given (reduce runs both types otherwise)
 * @param precision GEMM compute precision, or null for the dtype's own
 * @param reps timed repetitions, or null for the suite's default
 * @param warmup warm-up runs, or null for the suite's default
 * @param device gpucore device index
 * @param seed input seed
 * @param peers {@code auto}, {@code none} or a list
 * @param python the Python interpreter for the torch peer
 * @param peerTimeoutS seconds each peer process may take
 * @param json where to write JSON, or null
 * @param plot where to write the SVG chart, or null
 * @param progress whether to draw the progress bar
 * @param command the command line, for the record
 * @param gemm the gemm suite's own options
 * @param reduce the reduce suite's own options
 * @param p2p the p2p suite's own options
 * @param blas the blas suite's own options, null for the defaults
 */
public record BenchOptions(List<String> suites, List<Long> sizes, List<Long> mib, List<Long> n,
    String dtype, boolean dtypeGiven, String precision, Integer reps, Integer warmup, int device, long seed,
    String peers, String python, int peerTimeoutS, Path json, Path plot, boolean progress,
    List<String> command, Gemm gemm, Reduce reduce, P2p p2p, Blas blas) {

  /**
   * gemm's options.
   *
   * @param deviceSizes n of the device rows, or null
   * @param hostSizes n of the host rows, or null
   * @param noDevice skip the device rows
   * @param noHost skip the host rows
   * @param hostDtypes {@code fp32} and/or {@code fp64} host rows, or null for both
   * @param hostShapes {@code MxNxK} shapes of more host rows, or null for the defaults
   * @param batched {@code BATCHxN} or {@code BATCHxMxNxK} cases of the batched rows, or null
   *     for the defaults
   * @param alternateSizes n of the rows alternating the CPU and GPU routes, or null for the
   *     defaults
   * @param hostMemory {@code array} (rows from Java arrays) and/or {@code pinned} (GPU rows
   *     from pinned host arrays), or null for the defaults
   * @param hostPrecisions precisions of the GPU rows from {@code float[]} ({@code fp32},
   *     {@code tf32}, {@code bf16}, {@code fp16}), or null for strict fp32 only
   * @param busMib MiB of the pinned copies each way that measure the bus, 0 to skip them, or
   *     null for the default
   */
  public record Gemm(List<Long> deviceSizes, List<Long> hostSizes, boolean noDevice,
      boolean noHost, List<String> hostDtypes, List<String> hostShapes, List<String> batched,
      List<String> alternateSizes, List<String> hostMemory, List<String> hostPrecisions,
      Integer busMib) {}

  /**
   * reduce's options.
   *
   * @param ops operations, or null for all
   * @param modes {@code sync} and/or {@code queued}, or null for both
   */
  public record Reduce(List<String> ops, List<String> modes) {}

  /**
   * p2p's options, null for the defaults.
   *
   * @param bigMib MiB of the large copy (0 skips it)
   * @param latencyBytes bytes of the latency copies
   * @param latencyReps copies per latency cell
   * @param devices GPUs to include
   * @param noVariants skip the latency per wait mode and mechanism
   */
  public record P2p(Integer bigMib, Integer latencyBytes, Integer latencyReps,
      List<Integer> devices, boolean noVariants) {}

  /**
   * blas's options; null fields for the defaults.
   *
   * @param vectorSizes n of the daxpy and ddot rows
   * @param gemvSizes n of the n x n dgemv rows
   * @param apiSizes n of the fp64 GEMM rows compared with the Java API on device arrays
   */
  public record Blas(List<Long> vectorSizes, List<Long> gemvSizes, List<Long> apiSizes) {}

  /** Sizes for a suite: {@code --sizes}, else the suite's own option, else its defaults. */
  public List<Long> sizesFor(Suite s, List<Long> own) {
    if (sizes != null) {
      return sizes;
    }
    return own != null ? own : s.defaultSizes();
  }

  /** Repetitions, or {@code def}. */
  public int repsOr(int def) {
    return reps != null ? reps : def;
  }

  /** Warm-ups, or {@code def}. */
  public int warmupOr(int def) {
    return warmup != null ? warmup : def;
  }
}
