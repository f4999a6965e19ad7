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
}
