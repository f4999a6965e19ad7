package dev.gpucore.blas;

import dev.gpucore.GpuCoreException;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.NativeArray;
import dev.gpucore.spi.Backends;
import dev.gpucore.spi.GemmCall;
import dev.gpucore.spi.PreparedGemmBatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A pointer-array batch of GEMMs checked once and run many times: what
 * {@link Blas#gemmBatched(Gemm, Operand[], int, Operand[], int, Operand[], int, GpuStream)}
 * does on every call, with the per-item work done once by {@link Blas#prepareBatched}. Obtain
 * one there; close it when done.
 *
 * <p>Device operands: the preparation builds the batch's three arrays of device addresses on
 * the operands' GPU once; each {@link #run(GpuStream)} then queues one batched cuBLAS call
 * ({@code cublasGemmBatchedEx}) that reads them, with no work per item on the host, no
 * allocation and no upload. Where an operand is not 16-byte aligned, or the product term
 * vanishes ({@code k = 0} or {@code alpha = 0}), each run queues the items one by one instead,
 * as {@code gemmBatched} does. Host operands: each run does what {@code gemmBatched} does
 * (every item through the routed {@link Blas#gemm} path, in order).
 *
 * <p>What a run checks: that this batch is open, the stream (open, on the operands' GPU; none
 * for host operands), that the core is open, and that none of the batch's {@link
 * dev.gpucore.memory.DeviceArray}s or {@link dev.gpucore.memory.HostArray}s was closed since
 * the preparation — once per distinct array, not per item, so a batch of views into a few
 * arrays checks a few flags. A run that finds one closed throws {@link
 * GpuCoreException.InvalidArgument} naming the first operand in it and queues nothing: a
 * closed array's device memory may belong to another allocation by then, and the batch would
 * write into it. The operands' contents are read when the work runs, so changes to them
 * between runs are seen; their shapes, offsets and places were fixed by the preparation.
 *
 * <p>As with {@code gemmBatched} on a stream, a run queued on a stream may still run when
 * {@link #run(GpuStream)} returns: the operands and this batch must stay open until the stream
 * has been synchronized. Every run writes the same C matrices: runs of one batch must follow one
 * another (one stream, or synchronized between them), as two GEMMs into one C must; different
 * batches may run from several threads at once. {@link #close()} must not overlap a run.
 */
public final class BatchedGemm implements AutoCloseable {
  private final Backends core;
  private final Blas blas;
  private final int size;
  private final int device;
  /** The host items, run through the router at each run; null for device operands. */
  private final GemmCall[] hostItems;
  /** The backend's prepared device batch; null for host operands or nothing to compute. */
  private final PreparedGemmBatch prepared;
  /** Every distinct array the operands live in, and the first operand in each. */
  private final NativeArray[] arrays;
  private final String[] arrayNames;
  private final AtomicBoolean closed = new AtomicBoolean();

  BatchedGemm(Backends core, Blas blas, int size, int device, GemmCall[] hostItems,
      PreparedGemmBatch prepared, NativeArray[] arrays, String[] arrayNames) {
    this.core = core;
    this.blas = blas;
    this.size = size;
    this.device = device;
    this.hostItems = hostItems;
    this.prepared = prepared;
    this.arrays = arrays;
    this.arrayNames = arrayNames;
  }

  /** The number of items (the length of the operand arrays it was prepared from). */
  public int size() {
    return size;
  }

  /** The GPU its operands are on, or -1 for host operands (and for an empty batch). */
  public int device() {
    return device;
  }

  /** Whether {@link #close()} has been called. */
  public boolean isClosed() {
    return closed.get();
  }

  /** Runs the batch and returns when every C holds its result. */
  public void run() {
    run(null);
  }

  /**
   * Runs the batch; with device operands and a {@code stream} it is queued there and may still
   * run when this returns (see the class comment). Host operands ({@code stream} must be null)
   * always complete before it returns; if item {@code i} fails, items before it have been
   * computed and the others are untouched.
   *
   * @throws GpuCoreException.InvalidArgument when this batch or one of its operands' arrays is
   *     closed, or the stream does not fit; nothing has been queued then
   */
  public void run(GpuStream stream) {
    if (closed.get()) {
      throw new GpuCoreException.InvalidArgument("this BatchedGemm is closed");
    }
    if (stream != null) {
      if (device < 0 && size > 0) {
        throw new GpuCoreException.InvalidArgument("stream is only for device operands");
      }
      if (device >= 0 && (stream.isClosed() || stream.device() != device)) {
        throw new GpuCoreException.InvalidArgument(
            "stream must be open and on device " + device);
      } // (an empty batch queues nothing, as gemmBatched with empty arrays)
    }
    core.ensureOpen();
    for (int i = 0; i < arrays.length; i++) {
      if (arrays[i].isClosed()) {
        throw new GpuCoreException.InvalidArgument(arrayNames[i] + " is closed: its "
            + (arrays[i] instanceof dev.gpucore.memory.DeviceArray ? "DeviceArray" : "HostArray")
            + " was closed after prepareBatched; nothing was run");
      }
    }
    if (prepared == null && hostItems == null) {
      return; // nothing to compute (no items, m = 0 or n = 0)
    }
    boolean counted = dev.gpucore.spi.PromptExit.enter();
    try {
      if (prepared != null) {
        prepared.run(stream);
      } else {
        blas.runHostBatch(hostItems);
      }
    } finally {
      dev.gpucore.spi.PromptExit.leave(counted);
      java.lang.ref.Reference.reachabilityFence(this);
    }
  }

  /**
   * Releases the device pointer arrays (nothing else: the operands stay the caller's). Later
   * calls do nothing; a run after it throws.
   */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true) && prepared != null) {
      prepared.close();
    }
  }
}
