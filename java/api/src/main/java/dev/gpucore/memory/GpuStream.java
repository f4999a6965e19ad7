package dev.gpucore.memory;

/**
 * A CUDA stream on one device: work queued on it runs in order, asynchronously to the host.
 * Obtain one from {@code GpuCore.stream(device)}; close it when done.
 */
public abstract class GpuStream extends NativeResource {
  private final int device;

  /** A stream a backend created. */
  protected GpuStream(dev.gpucore.spi.StreamResource resource) {
    super(NativeMemory.Kind.HANDLE, 0, "GpuStream on device " + resource.device(),
        resource.free());
    this.device = resource.device();
  }

  /** gpucore index of the device this stream belongs to. */
  public final int device() {
    return device;
  }

  /**
   * The native handle ({@code cudaStream_t}) as an address (for queueing other CUDA work on
   * this stream).
   */
  public abstract long handle();

  /** Blocks until all work queued so far on this stream has finished. */
  public abstract void synchronize();

  /**
   * Times work on this stream as the GPU sees it: the nanoseconds from an event recorded on the
   * stream before {@code queue} runs (queueing its work here) to one recorded after it; waits
   * for the second. Where the backend has no GPU events ({@link #timesOnGpu()} false), the host's
   * time of {@code queue} and a {@link #synchronize()}.
   *
   * @param queue queues the work to time on this stream
   * @return nanoseconds
   */
  public long time(Runnable queue) {
    java.util.Objects.requireNonNull(queue, "queue");
    long t0 = System.nanoTime();
    queue.run();
    synchronize();
    return System.nanoTime() - t0;
  }

  /** Whether {@link #time(Runnable)} reads GPU events (else it times the host). */
  public boolean timesOnGpu() {
    return false;
  }
}
