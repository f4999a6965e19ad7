package dev.gpucore.memory;

import dev.gpucore.Check;
import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Off-heap host memory: pinned (page-locked, the fast path for transfers and the only one that
 * can be truly asynchronous) or pageable. Element access by index is for convenience; bulk
 * copies to and from Java arrays are the fast path.
 */
public final class HostArray extends NativeArray {
  private final boolean pinned;
  private final Pointer view;

  static {
    dev.gpucore.spi.HostMemory.register(HostArray::new);
  }

  /** Wraps {@code length} elements at {@code address}; {@code free} releases it. */
  private HostArray(DType dtype, long length, long address, boolean pinned, Runnable free) {
    super(pinned ? NativeMemory.Kind.PINNED : NativeMemory.Kind.PAGEABLE,
        (pinned ? "pinned" : "pageable") + " HostArray of " + length + " " + dtype, free, dtype,
        length, address);
    this.pinned = pinned;
    Pointer base = at(address);
    this.view = dtype == DType.FLOAT32 ? new FloatPointer(base).capacity(length)
        : new DoublePointer(base).capacity(length);
  }

  /**
   * Allocates {@code length} elements of pageable off-heap memory (zeroed).
   *
   * @throws GpuCoreException.OutOfMemory when the host has no room
   */
  public static HostArray allocatePageable(DType dtype, long length) {
    Check.notNull(dtype, "dtype");
    requireHostType(dtype);
    Check.nonNegative(length, "length");
    long bytes = Check.multiply(length, dtype.bytes(), "length in bytes");
    Pointer p = Pointer.calloc(Math.max(1, length), dtype.bytes());
    if (p == null || p.isNull()) {
      throw new GpuCoreException.OutOfMemory("host allocation of " + bytes + " bytes failed");
    }
    long addr = p.address();
    return new HostArray(dtype, length, addr, false, () -> Pointer.free(p));
  }

  /** Whether the memory is page-locked. */
  public final boolean isPinned() {
    return pinned;
  }

  /** Copies {@code count} floats from {@code src[srcOffset..]} to this array at {@code offset}. */
  public final void put(long offset, float[] src, int srcOffset, int count) {
    checkJava(DType.FLOAT32, src == null ? -1 : src.length, srcOffset, offset, count, "src");
    putFloats(offset, src, srcOffset, count);
  }

  /** Copies {@code count} doubles from {@code src[srcOffset..]} to this array at {@code offset}. */
  public final void put(long offset, double[] src, int srcOffset, int count) {
    checkJava(DType.FLOAT64, src == null ? -1 : src.length, srcOffset, offset, count, "src");
    putDoubles(offset, src, srcOffset, count);
  }

  /** Copies {@code count} floats from this array at {@code offset} to {@code dst[dstOffset..]}. */
  public final void get(long offset, float[] dst, int dstOffset, int count) {
    checkJava(DType.FLOAT32, dst == null ? -1 : dst.length, dstOffset, offset, count, "dst");
    getFloats(offset, dst, dstOffset, count);
  }

  /** Copies {@code count} doubles from this array at {@code offset} to {@code dst[dstOffset..]}. */
  public final void get(long offset, double[] dst, int dstOffset, int count) {
    checkJava(DType.FLOAT64, dst == null ? -1 : dst.length, dstOffset, offset, count, "dst");
    getDoubles(offset, dst, dstOffset, count);
  }

  /** Reads one element as a double. */
  public final double getDouble(long index) {
    ensureOpen();
    Check.range(index, 1, length, "index");
    return read(index);
  }

  /** Writes one element (rounded to the array's type). */
  public final void setDouble(long index, double value) {
    ensureOpen();
    Check.range(index, 1, length, "index");
    write(index, value);
  }

  private void checkJava(DType want, int javaLength, int javaOffset, long offset, int count,
      String name) {
    ensureOpen();
    if (javaLength < 0) {
      throw new GpuCoreException.InvalidArgument(name + " must not be null");
    }
    if (dtype != want) {
      throw new GpuCoreException.InvalidArgument(
          name + " is a " + want + " array but this HostArray holds " + dtype);
    }
    Check.range(javaOffset, count, javaLength, name);
    Check.range(offset, count, length, "HostArray offset");
  }

  /** Host arrays hold FLOAT32 or FLOAT64; the 16-bit types are device-only. */
  public static void requireHostType(DType dtype) {
    if (dtype.isHalf()) {
      throw new GpuCoreException.InvalidArgument("dtype " + dtype + " is a device-array type: "
          + "host arrays hold FLOAT32 or FLOAT64 (fill 16-bit device arrays from float[])");
    }
  }

  private static Pointer at(long addr) {
    return new Pointer() {
      {
        this.address = addr;
      }
    };
  }

  private void putFloats(long offset, float[] src, int srcOffset, int count) {
    new FloatPointer(view).position(offset).put(src, srcOffset, count);
  }

  private void putDoubles(long offset, double[] src, int srcOffset, int count) {
    new DoublePointer(view).position(offset).put(src, srcOffset, count);
  }

  private void getFloats(long offset, float[] dst, int dstOffset, int count) {
    new FloatPointer(view).position(offset).get(dst, dstOffset, count);
  }

  private void getDoubles(long offset, double[] dst, int dstOffset, int count) {
    new DoublePointer(view).position(offset).get(dst, dstOffset, count);
  }

  private double read(long index) {
    return dtype == DType.FLOAT32 ? ((FloatPointer) view).get(index)
        : ((DoublePointer) view).get(index);
  }

  private void write(long index, double value) {
    if (dtype == DType.FLOAT32) {
      ((FloatPointer) view).put(index, (float) value);
    } else {
      ((DoublePointer) view).put(index, value);
    }
  }
}
