package dev.gpucore.spi;

import dev.gpucore.memory.GpuStream;

/**
 * A pointer-array batch of device operands that a backend prepared once ({@link
 * BlasOps#prepareBatched}) to run many times: whatever the batch needs on the device (the
 * pointer arrays of a batched GEMM) is in place, so that {@link #run} only queues the work.
 * {@code dev.gpucore.blas.BatchedGemm} owns it: it calls {@link #run} only while open, with its
 * operands open, and {@link #close} once.
 */
public interface PreparedGemmBatch extends AutoCloseable {
  /**
   * Queues the batch on {@code stream} (checked: open, on the batch's device), or, when it is
   * null, runs it on an internal stream and waits for it.
   */
  void run(GpuStream stream);

  /** Releases what the batch holds on the device. */
  @Override
  void close();
}
