package dev.gpucore.memory;

import dev.gpucore.Check;
import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;

/**
 * A one-dimensional array in GPU memory. Arguments are checked here, before any native call;
 * a failed check leaves both sides untouched.
 *
 * <p>{@link DType#BFLOAT16} and {@link DType#FLOAT16} arrays are filled from and read into
 * {@code float[]}, rounded to nearest even on the way in; they take no host-array copies.
 *
 * <p>Copies from and to Java arrays are synchronous (the array may be changed as soon as the
 * call returns) and go through pinned staging buffers, chunked and overlapped. Copies from and
 * to {@link HostArray}s can be asynchronous on a {@link GpuStream}; the host array must then
 * stay open and unchanged until the stream has been synchronized.
 */
public abstract class DeviceArray extends NativeArray {
  private final int device;

  /** An array over the memory a backend allocated. */
  protected DeviceArray(dev.gpucore.spi.DeviceMemory memory) {
    super(NativeMemory.Kind.DEVICE, "DeviceArray of " + memory.length() + " "
        + memory.dtype() + " on device " + memory.device(), memory.free(), memory.dtype(),
        memory.length(), memory.address());
    this.device = memory.device();
  }

  /** gpucore index of the device holding the array. */
  public final int device() {
    return device;
  }

  // ---- Java arrays (synchronous) ----

  /** Copies all of {@code src} to the start of this array. */
  public final void copyFrom(float[] src) {
    copyFrom(src, 0, 0, src == null ? 0 : src.length);
  }

  /** Copies {@code count} floats from {@code src[srcOffset..]} to this array at {@code dstOffset}. */
  public final void copyFrom(float[] src, int srcOffset, long dstOffset, int count) {
    checkJava(DType.FLOAT32, src, src == null ? 0 : src.length, srcOffset, dstOffset, count, "src");
    if (count > 0) {
      fromJava(src, srcOffset, dstOffset, count);
    }
  }

  /** Copies all of {@code src} to the start of this array. */
  public final void copyFrom(double[] src) {
    copyFrom(src, 0, 0, src == null ? 0 : src.length);
  }

  /** Copies {@code count} doubles from {@code src[srcOffset..]} to this array at {@code dstOffset}. */
  public final void copyFrom(double[] src, int srcOffset, long dstOffset, int count) {
    checkJava(DType.FLOAT64, src, src == null ? 0 : src.length, srcOffset, dstOffset, count, "src");
    if (count > 0) {
      fromJava(src, srcOffset, dstOffset, count);
    }
  }

  /** Copies the start of this array into all of {@code dst}. */
  public final void copyTo(float[] dst) {
    copyTo(0, dst, 0, dst == null ? 0 : dst.length);
  }

  /** Copies {@code count} floats from this array at {@code srcOffset} to {@code dst[dstOffset..]}. */
  public final void copyTo(long srcOffset, float[] dst, int dstOffset, int count) {
    checkJava(DType.FLOAT32, dst, dst == null ? 0 : dst.length, dstOffset, srcOffset, count, "dst");
    if (count > 0) {
      toJava(srcOffset, dst, dstOffset, count);
    }
  }

  /** Copies the start of this array into all of {@code dst}. */
  public final void copyTo(double[] dst) {
    copyTo(0, dst, 0, dst == null ? 0 : dst.length);
  }

  /** Copies {@code count} doubles from this array at {@code srcOffset} to {@code dst[dstOffset..]}. */
  public final void copyTo(long srcOffset, double[] dst, int dstOffset, int count) {
    checkJava(DType.FLOAT64, dst, dst == null ? 0 : dst.length, dstOffset, srcOffset, count, "dst");
    if (count > 0) {
      toJava(srcOffset, dst, dstOffset, count);
    }
  }

  // ---- host arrays (asynchronous on a stream, or synchronous) ----

  /**
   * Queues a copy of {@code count} elements from {@code src} at {@code srcOffset} to this array
   * at {@code dstOffset} on {@code stream}. Truly asynchronous only when {@code src} is pinned.
   */
  public final void copyFromAsync(HostArray src, long srcOffset, long dstOffset, long count,
      GpuStream stream) {
    checkHost(src, srcOffset, dstOffset, count, stream, "src");
    if (count > 0) {
      hostCopy(src, srcOffset, dstOffset, count, stream, true);
    }
  }

  /**
   * Queues a copy of {@code count} elements from this array at {@code srcOffset} to {@code dst}
   * at {@code dstOffset} on {@code stream}.
   */
  public final void copyToAsync(long srcOffset, HostArray dst, long dstOffset, long count,
      GpuStream stream) {
    checkHost(dst, dstOffset, srcOffset, count, stream, "dst");
    if (count > 0) {
      hostCopy(dst, dstOffset, srcOffset, count, stream, false);
    }
  }

  /** Copies all of {@code src} to the start of this array and waits for it. */
  public final void copyFrom(HostArray src) {
    Check.notNull(src, "src");
    checkHost(src, 0, 0, src.length(), null, "src");
    if (src.length() > 0) {
      hostCopy(src, 0, 0, src.length(), null, true);
    }
  }

  /** Copies the start of this array into all of {@code dst} and waits for it. */
  public final void copyTo(HostArray dst) {
    Check.notNull(dst, "dst");
    checkHost(dst, 0, 0, dst.length(), null, "dst");
    if (dst.length() > 0) {
      hostCopy(dst, 0, 0, dst.length(), null, false);
    }
  }

  // ---- device to device ----

  /**
   * Queues a copy of {@code count} elements from {@code src} (on the same device) at
   * {@code srcOffset} to this array at {@code dstOffset}; {@code stream} null means
   * synchronous. Overlapping ranges of the same array are rejected.
   */
  public final void copyFrom(DeviceArray src, long srcOffset, long dstOffset, long count,
      GpuStream stream) {
    ensureOpen();
    Check.notNull(src, "src");
    src.ensureOpen();
    if (src.dtype != dtype) {
      throw new GpuCoreException.InvalidArgument(
          "src holds " + src.dtype + " but this array holds " + dtype);
    }
    if (src.device != device) {
      throw new GpuCoreException.InvalidArgument("src is on device " + src.device
          + " but this array is on device " + device + "; use a peer copy");
    }
    checkStream(stream);
    Check.range(srcOffset, count, src.length, "src");
    Check.range(dstOffset, count, length, "this array");
    if (src == this && count > 0 && srcOffset < dstOffset + count && dstOffset < srcOffset + count
        && srcOffset != dstOffset) {
      throw new GpuCoreException.InvalidArgument("src and destination ranges overlap");
    }
    if (count > 0) {
      deviceCopy(src, srcOffset, dstOffset, count, stream);
    }
  }

  /** Sets every element to {@code value} (rounded to the array's type) and waits. */
  public final void fill(double value) {
    ensureOpen();
    fill(value, null);
  }

  /** Queues a fill of every element on {@code stream} (null: synchronous). */
  public final void fill(double value, GpuStream stream) {
    ensureOpen();
    checkStream(stream);
    doFill(value, stream);
  }

  private void checkJava(DType want, Object array, int javaLength, int javaOffset, long offset,
      int count, String name) {
    ensureOpen();
    Check.notNull(array, name);
    // float[] also fills and reads the 16-bit types (converted on the host)
    if (dtype != want && !(want == DType.FLOAT32 && dtype.isHalf())) {
      throw new GpuCoreException.InvalidArgument(
          name + " is a " + want + " array but this DeviceArray holds " + dtype);
    }
    Check.range(javaOffset, count, javaLength, name);
    Check.range(offset, count, length, "DeviceArray offset");
  }

  private void checkHost(HostArray h, long hostOffset, long devOffset, long count,
      GpuStream stream, String name) {
    ensureOpen();
    Check.notNull(h, name);
    if (h.isClosed()) {
      throw new GpuCoreException.InvalidArgument(name + " is closed");
    }
    if (h.dtype() != dtype) {
      throw new GpuCoreException.InvalidArgument(
          name + " holds " + h.dtype() + " but this DeviceArray holds " + dtype
              + (dtype.isHalf() ? " (16-bit arrays are copied from and to float[])" : ""));
    }
    checkStream(stream);
    Check.range(hostOffset, count, h.length(), name);
    Check.range(devOffset, count, length, "DeviceArray offset");
  }

  private void checkStream(GpuStream stream) {
    if (stream == null) {
      return;
    }
    if (stream.isClosed()) {
      throw new GpuCoreException.InvalidArgument("stream is closed");
    }
    if (stream.device() != device) {
      throw new GpuCoreException.InvalidArgument("stream belongs to device " + stream.device()
          + " but this array is on device " + device);
    }
  }

  /** Unchecked: copies from a Java array ({@code float[]} or {@code double[]}). */
  protected abstract void fromJava(Object src, int srcOffset, long dstOffset, int count);

  /** Unchecked: copies to a Java array ({@code float[]} or {@code double[]}). */
  protected abstract void toJava(long srcOffset, Object dst, int dstOffset, int count);

  /** Unchecked host copy; {@code stream} null means synchronous. */
  protected abstract void hostCopy(HostArray host, long hostOffset, long devOffset, long count,
      GpuStream stream, boolean toDevice);

  /** Unchecked device copy; {@code stream} null means synchronous. */
  protected abstract void deviceCopy(DeviceArray src, long srcOffset, long dstOffset, long count,
      GpuStream stream);

  /** Unchecked fill; {@code stream} null means synchronous. */
  protected abstract void doFill(double value, GpuStream stream);
}
