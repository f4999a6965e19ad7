package dev.gpucore.p2p;

import dev.gpucore.GpuCoreException;
import dev.gpucore.Settings;
import java.util.Locale;

/**
 * The peer-copy settings, read through {@link Settings} (system property, environment variable,
 * configuration file, default):
 *
 * <table>
 *   <caption>Peer-copy settings</caption>
 *   <tr><th>setting</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@code gpucore.p2p}</td><td>{@code auto}: direct copies where a pair allows peer
 *       access and its probe passes; {@code off}: every copy between GPUs is staged through
 *       host memory and peer access is never enabled</td><td>{@code auto}</td></tr>
 *   <tr><td>{@code gpucore.p2p.probe}</td><td>write-then-checksum probe before a pair is
 *       trusted ({@code false}: trust CUDA's word)</td><td>{@code true}</td></tr>
 *   <tr><td>{@code gpucore.p2p.probeTimeoutMs}</td><td>how long each step of the probe may
 *       take before the pair is staged</td><td>2000</td></tr>
 *   <tr><td>{@code gpucore.p2p.stagedChunkMiB}</td><td>chunk of a staged copy</td><td>8</td></tr>
 *   <tr><td>{@code gpucore.p2p.stagedBuffers}</td><td>page-locked buffers per direction of a
 *       pair (2 = double buffering)</td><td>4</td></tr>
 *   <tr><td>{@code gpucore.p2p.wait}</td><td>how synchronous copies wait: {@code spin}
 *       ({@code cudaStreamQuery} in a loop), {@code event} ({@code cudaEventQuery} in a loop),
 *       {@code block} ({@code cudaStreamSynchronize})</td><td>{@code spin}</td></tr>
 *   <tr><td>{@code gpucore.p2p.kernelMaxBytes}</td><td>synchronous peer copies up to this size
 *       are done by a kernel reading and writing through the peer mapping instead of a copy
 *       engine (0: never)</td><td>0</td></tr>
 * </table>
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
    String mode = s.get("gpucore.p2p", "auto").toLowerCase(Locale.ROOT);
    boolean enabled;
    switch (mode) {
      case "auto", "on", "true", "1", "yes" -> enabled = true;
      case "off", "false", "0", "no" -> enabled = false;
      default -> throw new GpuCoreException.InvalidArgument(
          "gpucore.p2p must be auto or off; got \"" + mode + "\"");
    }
    boolean probe = s.getBoolean("gpucore.p2p.probe", true);
    int timeout = (int) s.getDouble("gpucore.p2p.probeTimeoutMs", DEFAULT.probeTimeoutMs, 1,
        600_000);
    long chunk = (long) (s.getDouble("gpucore.p2p.stagedChunkMiB", 8, 0.0625, 1024)
        * (1 << 20));
    chunk = Math.max(4096, chunk & ~4095L);
    int buffers = (int) s.getDouble("gpucore.p2p.stagedBuffers", DEFAULT.stagedBuffers, 2, 64);
    String w = s.get("gpucore.p2p.wait", "spin").toLowerCase(Locale.ROOT);
    Wait wait;
    switch (w) {
      case "spin" -> wait = Wait.SPIN;
      case "event" -> wait = Wait.EVENT;
      case "block" -> wait = Wait.BLOCK;
      default -> throw new GpuCoreException.InvalidArgument(
          "gpucore.p2p.wait must be spin, event or block; got \"" + w + "\"");
    }
    long kernelMax = (long) s.getDouble("gpucore.p2p.kernelMaxBytes", 0, 0, 1L << 30);
    return new PeerConfig(enabled, probe, timeout, chunk, buffers, wait, kernelMax);
  }
}
