package dev.gpucore.memory;

import dev.gpucore.DType;

/**
 * What a {@link DeviceArray} and a {@link HostArray} have in common: elements of one type at a
 * native address, released by {@link #close()}.
 */
public abstract class NativeArray extends NativeResource {
  final DType dtype;
  final long length;
  final long address;

  /** Registers {@code length} elements of {@code dtype} at {@code address}. */
  NativeArray(NativeMemory.Kind kind, String what, Runnable free, DType dtype, long length,
      long address) {
    super(kind, length * dtype.bytes(), what, free);
    this.dtype = dtype;
    this.length = length;
    this.address = address;
  }

  /** Element type. */
  public final DType dtype() {
    return dtype;
  }

  /** Number of elements. */
  public final long length() {
    return length;
  }

  /** Size in bytes. */
  public final long byteSize() {
    return length * dtype.bytes();
  }

  /**
   * Address of element 0, in device memory for a {@link DeviceArray} and in host memory for a
   * {@link HostArray} (for passing the array to other native or CUDA code). Valid until
   * {@link #close()}.
   */
  public final long address() {
    ensureOpen();
    return address;
  }
}
