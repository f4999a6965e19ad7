package dev.gpucore.memory;

/**
 * A CUDA stream on one device: work queued on it runs in order, asynchronously to the host.
 * Obtain one from {@code GpuCore.stream(device)}; close it when done.
 */
public abstract class GpuStream extends NativeResource {
  private final int device;

  /** For backends. */
  protected GpuStream(int device, Runnable free) {
    super(NativeMemory.Kind.HANDLE, 0, "GpuStream on device " + device, free);
    this.device = device;
  }

  /** gpucore index of the device this stream belongs to. */
  public final int device() {
    return device;
  }

  /** The native handle ({@code cudaStream_t}) as an address, for backends. */
  public abstract long handle();

  /** Blocks until all work queued so far on this stream has finished. */
  public abstract void synchronize();
}
