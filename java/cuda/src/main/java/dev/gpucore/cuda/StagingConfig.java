package dev.gpucore.cuda;

import dev.gpucore.Setting;
import dev.gpucore.Settings;

/**
 * How copies between Java arrays and the device are staged: {@code threads} sub-lanes (threads,
 * each with its own stream and two pinned buffers of {@code chunkBytes}). The settings
 * {@code gpucore.staging.chunkMiB} and {@code gpucore.staging.threads} override the defaults
 * (2 MiB; half the cores, at most 8). Small chunks keep the staging buffers in the CPU's
 * last-level cache, so the host copy and the DMA read them there rather than from DRAM. How
 * close that comes to the pinned-buffer bandwidth: docs/benchmarks.md.
 */
record StagingConfig(long chunkBytes, int threads) {
  static StagingConfig from(Settings s) {
    long chunk = (long) s.get(Setting.STAGING_CHUNK_MIB) << 20;
    int cores = Runtime.getRuntime().availableProcessors();
    int threads = s.get(Setting.STAGING_THREADS);
    if (threads == 0) {
      threads = Math.max(1, Math.min(8, cores / 2));
    }
    return new StagingConfig(chunk, threads);
  }
}
