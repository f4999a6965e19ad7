package dev.gpucore.cuda;

/**
 * How copies between Java arrays and the device are staged: through {@code buffers} pinned
 * buffers of {@code chunkBytes} each, per lane, with the host-side copy split over
 * {@code threads} threads. System properties {@code gpucore.staging.chunkMiB},
 * {@code gpucore.staging.buffers} and {@code gpucore.staging.threads} override the defaults.
 */
record StagingConfig(long chunkBytes, int buffers, int threads) {
  static StagingConfig fromSystemProperties() {
    long chunk = Long.getLong("gpucore.staging.chunkMiB", 8) << 20;
    int buffers = Integer.getInteger("gpucore.staging.buffers", 3);
    int cores = Runtime.getRuntime().availableProcessors();
    int threads = Integer.getInteger("gpucore.staging.threads", Math.max(1, Math.min(8, cores / 2)));
    return new StagingConfig(Math.max(1 << 20, chunk), Math.max(2, buffers), Math.max(1, threads));
  }
}
