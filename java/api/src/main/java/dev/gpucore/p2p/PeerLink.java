package dev.gpucore.p2p;

/**
 * How copies from one device to another go, and why.
 *
 * @param src gpucore index of the source device
 * @param dst gpucore index of the destination device
 * @param path the path {@link Route#AUTO} copies take
 * @param reason one line: why (e.g. the probe's result, or CUDA's refusal of peer access)
 */
public record PeerLink(int src, int dst, CopyPath path, String reason) {
  /** Validates. */
  public PeerLink {
    if (path == null) {
      throw new IllegalArgumentException("path must not be null");
    }
    reason = reason == null ? "" : reason;
  }

  /** Whether copies go directly between the GPUs. */
  public boolean isPeer() {
    return path == CopyPath.PEER;
  }
}
