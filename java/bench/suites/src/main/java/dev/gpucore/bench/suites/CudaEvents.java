package dev.gpucore.bench.suites;

import dev.gpucore.GpuCore;
import dev.gpucore.memory.GpuStream;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Pointer;

/**
 * A pair of CUDA events around work queued on a gpucore stream, through the CUDA runtime's Java
 * presets (gpucore's API has no events): the GPU's time from the first queued call to the end
 * of the last, as PyTorch's {@code torch.cuda.Event} figures are taken.
 */
final class CudaEvents implements AutoCloseable {
  /** The events, or why there are none. */
  record Opened(CudaEvents events, String why) {}

  private final int ordinal;
  private final CUevent_st start = new CUevent_st();
  private final CUevent_st end = new CUevent_st();

  private CudaEvents(int ordinal) {
    this.ordinal = ordinal;
  }

  /**
   * Events on CUDA device {@code ordinal} when {@code core}'s device work goes to CUDA; else,
   * or when the CUDA runtime does not load, none and the reason.
   */
  static Opened open(GpuCore core, int ordinal) {
    if (!core.backendName().equals("cuda")) {
      return new Opened(null, "the GPU backend is " + core.backendName() + ", not CUDA");
    }
    try {
      CudaEvents e = new CudaEvents(ordinal);
      check(cudart.cudaSetDevice(ordinal), "cudaSetDevice");
      check(cudart.cudaEventCreate(e.start), "cudaEventCreate");
      check(cudart.cudaEventCreate(e.end), "cudaEventCreate");
      return new Opened(e, null);
    } catch (LinkageError | IllegalStateException e) {
      return new Opened(null, "CUDA events unavailable: " + e.getMessage());
    }
  }

  /**
   * Nanoseconds of GPU time between an event recorded on {@code s} before {@code queue} queues
   * its work there and one recorded after; waits for the second.
   */
  long time(GpuStream s, Runnable queue) {
    CUstream_st st = new CUstream_st(at(s.handle()));
    check(cudart.cudaSetDevice(ordinal), "cudaSetDevice");
    check(cudart.cudaEventRecord(start, st), "cudaEventRecord");
    queue.run();
    check(cudart.cudaEventRecord(end, st), "cudaEventRecord");
    check(cudart.cudaEventSynchronize(end), "cudaEventSynchronize");
    float[] ms = new float[1];
    check(cudart.cudaEventElapsedTime(ms, start, end), "cudaEventElapsedTime");
    return Math.round(ms[0] * 1e6);
  }

  @Override
  public void close() {
    cudart.cudaEventDestroy(start);
    cudart.cudaEventDestroy(end);
  }

  private static Pointer at(long addr) {
    return new Pointer() {
      {
        this.address = addr;
      }
    };
  }

  private static void check(int status, String what) {
    if (status != 0) {
      throw new IllegalStateException(what + " failed: "
          + cudart.cudaGetErrorString(status).getString() + " (" + status + ")");
    }
  }
}
