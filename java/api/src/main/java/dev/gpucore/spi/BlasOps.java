package dev.gpucore.spi;

import dev.gpucore.GpuCoreException;
import java.util.List;

/** BLAS a backend provides. Calls arrive checked and in row-major form. */
public interface BlasOps {
  /**
   * Runs a GEMM on the operands this backend computes on directly: host operands for the CPU
   * backend ({@link GemmCall.OnHost}), device operands for a GPU backend
   * ({@link GemmCall.OnDevice}: queued on the call's stream, or synchronous).
   */
  void gemm(GemmCall call);

  /**
   * Runs a GEMM on host operands ({@link GemmCall.OnHost}) on a GPU backend, through device
   * memory, and returns when C holds the result. Where device memory is short the backend
   * retries with smaller tiles itself; it throws {@link dev.gpucore.GpuCoreException.OutOfMemory}
   * when that failed too, and like {@link dev.gpucore.GpuCoreException.DeviceFaulted} with
   * {@code outputPartlyWritten} set once any of C was written. The default runs
   * {@link #gemm(GemmCall)} (a backend that computes on host operands directly).
   *
   * @return null, or one line for the router's trace on how the call ran (e.g. with smaller
   *     tiles after running out of device memory)
   */
  default String gemmFromHost(GemmCall call) {
    gemm(call);
    return null;
  }

  /**
   * Runs a sum of products on host operands on a GPU backend, {@code C = alpha·Σ_t
   * op(A_t)·op(B_t) + beta·C} (see {@code Blas.gemmSum}), and returns when C holds the result.
   * The pairs arrive checked, in row-major form, on the host, in order, at least two: one C,
   * m, n, ldc, transposes, alpha, precision and element type for all, each pair's k at least 1,
   * the sum's beta on the first pair and 1 on the others (so that running them one after the
   * other gives the sum). Failures as {@link #gemmFromHost}: {@code outputPartlyWritten} once
   * any of C was written, and a {@link dev.gpucore.GpuCoreException.DeviceUnavailable} only
   * when nothing of it was. The default runs the pairs one by one through
   * {@link #gemmFromHost}; a failure after the first pair is reported as having written C.
   *
   * @return null, or one line for the router's trace on how the sum ran
   */
  default String gemmSumFromHost(List<GemmCall> pairs) {
    String notes = null;
    for (int t = 0; t < pairs.size(); t++) {
      String note;
      try {
        note = gemmFromHost(pairs.get(t));
      } catch (GpuCoreException.OutOfMemory e) {
        if (t == 0 || e.outputPartlyWritten()) {
          throw e;
        }
        throw new GpuCoreException.OutOfMemory(e.getMessage() + " (pair " + t + " of a sum: "
            + "the pairs before it had written C)", true, e.code(), e.codeName());
      } catch (GpuCoreException.DeviceFaulted e) {
        if (t == 0 || e.outputPartlyWritten()) {
          throw e;
        }
        throw new GpuCoreException.DeviceFaulted(e.getMessage() + " (pair " + t + " of a sum: "
            + "the pairs before it had written C)", true, e.code(), e.codeName());
      } catch (GpuCoreException.DeviceUnavailable e) {
        if (t == 0) {
          throw e;
        }
        throw new GpuCoreException.DeviceFaulted(e.getMessage() + " (pair " + t + " of a sum: "
            + "the pairs before it had written C)", true, e.code(), e.codeName());
      }
      if (note != null) {
        notes = (notes == null ? "" : notes + "; ") + "pair " + t + ": " + note;
      }
    }
    return notes;
  }

  /**
   * Runs a pointer-array batch of device operands: independent GEMMs of one shape, options and
   * leading dimensions on operands that may each be anywhere on one GPU (see
   * {@code Blas.gemmBatched}; host batches run item by item through the router). The items
   * arrive checked, in row-major form, on one GPU and one stream, with no C overlapping another
   * item's operands. The default runs {@link #gemm(GemmCall)} on each item in order.
   */
  default void gemmBatched(GemmCall[] items) {
    for (GemmCall item : items) {
      gemm(item);
    }
  }

  /**
   * Prepares a pointer-array batch of device operands (items as {@link #gemmBatched} receives
   * them, their stream null) to be run many times, each run on a stream given then. The default
   * keeps the items and runs {@link #gemmBatched} on them at each run; a backend that can do
   * the per-call work once (the pointer arrays on the device) does it here.
   */
  default PreparedGemmBatch prepareBatched(GemmCall[] items) {
    GemmCall[] kept = items.clone();
    return new PreparedGemmBatch() {
      @Override
      public void run(dev.gpucore.memory.GpuStream stream) {
        GemmCall[] now = new GemmCall[kept.length];
        for (int i = 0; i < now.length; i++) {
          now[i] = kept[i].on(stream);
        }
        gemmBatched(now);
      }

      @Override
      public void close() {}
    };
  }

  /** How GEMMs on Java arrays reach this BLAS; null when the backend has nothing to say. */
  default dev.gpucore.blas.JavaArrayPath javaArrayPath() {
    return null;
  }

  /**
   * The BLAS library behind this backend as it runs here (build, the kernels it picked for this
   * CPU, threads); null when the backend has nothing to say.
   */
  default String library() {
    return null;
  }
}
