package dev.gpucore.cuda;

import dev.gpucore.Setting;
import dev.gpucore.Settings;

/**
 * How copies between Java arrays and the device are staged: up to {@code threads} sub-lanes
 * (threads, each with its own stream and two pinned buffers of {@code chunkBytes}) taking chunks
 * in turn; {@code streaming}: copies of {@link #STREAMING_MIN_BYTES} and more store around the
 * CPU caches. The settings {@code gpucore.staging.chunkMiB}, {@code gpucore.staging.threads} and
 * {@code gpucore.staging.streaming} override the defaults (2 MiB; the core count, at most 16;
 * off: on the H100 host the C library's memcpy staged faster both ways).
 *
 * <p>Threads: one thread's host copy moves about 9 GB/s, a PCIe 5 link about 50 GB/s each way,
 * and copies on many threads scale below linearly (on a 16-core host 16 threads reach about
 * 60 GB/s with streaming stores, fewer fall short of the link), so every core takes part, up to
 * 16: beyond that the memory, not the threads, bounds the copy. Chunks: one chunk is what a
 * thread copies in one JNI critical region, so the garbage collector waits at most one chunk's
 * copy (about 0.5 ms at 2 MiB); 2 MiB is also large enough for a DMA to run at the link's rate.
 */
record StagingConfig(long chunkBytes, int threads, boolean streaming) {
  /** Copies from this many bytes on use streaming stores (when {@link #streaming}). */
  static final long STREAMING_MIN_BYTES = 1L << 20;
  static StagingConfig from(Settings s) {
    long chunk = (long) s.get(Setting.STAGING_CHUNK_MIB) << 20;
    return new StagingConfig(chunk, Setting.stagingThreads(s), s.get(Setting.STAGING_STREAMING));
  }

  /** The default thread count for {@code cores} available processors. */
  static int defaultThreads(int cores) {
    return Setting.defaultStagingThreads(cores);
  }

  /** Whether a copy of {@code bytes} in all stores around the caches. */
  boolean streams(long bytes) {
    return streaming && bytes >= STREAMING_MIN_BYTES;
  }
}
