package dev.gpucore.p2p;

import dev.gpucore.GpuCoreException;
import dev.gpucore.Setting;
import dev.gpucore.Settings;
import java.util.Locale;

/**
 * The peer-copy settings: the {@code gpucore.p2p.*} entries of the {@link Setting} registry
 * (listed with their defaults and ranges in {@code docs/configuration.md}).
 *
 * @param enabled whether peer access may be used at all ({@code gpucore.p2p})
 * @param probe whether pairs are probed before they are trusted
 * @param probeTimeoutMs time limit of each probe step, milliseconds
 * @param stagedChunkBytes chunk of a staged copy, bytes
 * @param stagedBuffers page-locked buffers per direction of a pair
 * @param waitMode how synchronous copies wait
 * @param kernelMaxBytes largest synchronous peer copy done by a kernel, 0 for none
 */
public record PeerConfig(boolean enabled, boolean probe, int probeTimeoutMs,
    long stagedChunkBytes, int stagedBuffers, Wait waitMode, long kernelMaxBytes) {

  /** How a synchronous copy waits for its stream. */
  public enum Wait {
    /** Spin on {@code cudaStreamQuery}. */
    SPIN,
    /** Record an event and spin on {@code cudaEventQuery}. */
    EVENT,
    /** {@code cudaStreamSynchronize}. */
    BLOCK
  }

  /** Defaults: auto, probed, 2 s, 8 MiB chunks, 4 buffers, spin, no kernel copies. */
  public static final PeerConfig DEFAULT =
      new PeerConfig(true, true, 2000, 8L << 20, 4, Wait.SPIN, 0);

  /** Validates. */
  public PeerConfig {
    if (probeTimeoutMs < 1) {
      throw new GpuCoreException.InvalidArgument("probeTimeoutMs must be >= 1");
    }
    if (stagedChunkBytes < 4096) {
      throw new GpuCoreException.InvalidArgument("stagedChunkBytes must be >= 4096");
    }
    if (stagedBuffers < 2) {
      throw new GpuCoreException.InvalidArgument("stagedBuffers must be >= 2");
    }
    if (waitMode == null) {
      throw new GpuCoreException.InvalidArgument("waitMode must not be null");
    }
    if (kernelMaxBytes < 0) {
      throw new GpuCoreException.InvalidArgument("kernelMaxBytes must be >= 0");
    }
  }

  /**
   * Reads the settings.
   *
   * @throws GpuCoreException.InvalidArgument naming the setting whose value is not understood
   */
  public static PeerConfig from(Settings s) {
    boolean enabled = s.get(Setting.P2P);
    boolean probe = s.get(Setting.P2P_PROBE);
    int timeout = s.get(Setting.P2P_PROBE_TIMEOUT_MS);
    long chunk = (long) (s.get(Setting.P2P_STAGED_CHUNK_MIB) * (1 << 20));
    chunk = Math.max(4096, chunk & ~4095L);
    int buffers = s.get(Setting.P2P_STAGED_BUFFERS);
    Wait wait = Wait.valueOf(s.get(Setting.P2P_WAIT).toUpperCase(Locale.ROOT));
    long kernelMax = s.get(Setting.P2P_KERNEL_MAX_BYTES);
    return new PeerConfig(enabled, probe, timeout, chunk, buffers, wait, kernelMax);
  }
}
