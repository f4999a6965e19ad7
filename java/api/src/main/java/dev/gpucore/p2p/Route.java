package dev.gpucore.p2p;

/** Which path a copy between two devices should take. Copies on one device ignore it. */
public enum Route {
  /** {@link CopyPath#PEER} where the pair allows it and its probe passed, else staged. */
  AUTO,
  /**
   * Only the direct path: a pair without working peer access is an error
   * ({@link dev.gpucore.GpuCoreException.InvalidArgument} naming the reason).
   */
  PEER,
  /** Always through page-locked host memory, even where peer access works. */
  STAGED
}
