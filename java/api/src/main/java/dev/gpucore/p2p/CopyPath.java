package dev.gpucore.p2p;

/** How a copy between two devices travels. */
public enum CopyPath {
  /** Both arrays on one device: a device-to-device copy. */
  SAME_DEVICE,
  /**
   * Directly between the GPUs (NVLink or PCIe peer-to-peer), after peer access was enabled and
   * a write-then-checksum probe showed that it works.
   */
  PEER,
  /**
   * Through page-locked host memory: chunks go down from the source and up to the destination,
   * the two hops overlapped.
   */
  STAGED
}
