package dev.gpucore.blas;

import dev.gpucore.Check;
import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Layout;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.HostArray;

/**
 * Where a GEMM operand lives: a Java array, an off-heap {@link HostArray} or a
 * {@link DeviceArray}, with the element offset of the matrix's first element. Together with the
 * call's leading dimension this describes dense matrices and sub-matrix views alike.
 */
public final class Operand {
  /** Where the data is. */
  public enum Kind {
    /** {@code float[]} or {@code double[]}. */
    JAVA,
    /** A {@link HostArray}. */
    HOST,
    /** A {@link DeviceArray}. */
    DEVICE
  }

  private final Object storage;
  private final long offset;
  private final Kind kind;
  private final DType dtype;
  private final long capacity;

  private Operand(Object storage, long offset, Kind kind, DType dtype, long capacity) {
    this.storage = storage;
    this.offset = offset;
    this.kind = kind;
    this.dtype = dtype;
    this.capacity = capacity;
  }

  /** A {@code float[]} from element {@code offset}. */
  public static Operand of(float[] data, int offset) {
    Check.notNull(data, "data");
    return checked(data, offset, Kind.JAVA, DType.FLOAT32, data.length);
  }

  /** A whole {@code float[]}. */
  public static Operand of(float[] data) {
    return of(data, 0);
  }

  /** A {@code double[]} from element {@code offset}. */
  public static Operand of(double[] data, int offset) {
    Check.notNull(data, "data");
    return checked(data, offset, Kind.JAVA, DType.FLOAT64, data.length);
  }

  /** A whole {@code double[]}. */
  public static Operand of(double[] data) {
    return of(data, 0);
  }

  /** A host array from element {@code offset}. */
  public static Operand of(HostArray data, long offset) {
    Check.notNull(data, "data");
    return checked(data, offset, Kind.HOST, data.dtype(), data.length());
  }

  /** A device array from element {@code offset}. */
  public static Operand of(DeviceArray data, long offset) {
    Check.notNull(data, "data");
    return checked(data, offset, Kind.DEVICE, data.dtype(), data.length());
  }

  /** The operand, once {@code offset} is checked against the storage's {@code capacity}. */
  private static Operand checked(Object data, long offset, Kind kind, DType dtype,
      long capacity) {
    Check.range(offset, 0, capacity, "offset");
    return new Operand(data, offset, kind, dtype, capacity);
  }

  /** A whole device array. */
  public static Operand of(DeviceArray data) {
    return of(data, 0);
  }

  /**
   * The sub-matrix starting at ({@code row}, {@code col}) of a matrix stored in {@code data} with
   * leading dimension {@code ld} in {@code layout}; pass the same {@code ld} to the GEMM.
   */
  public static Operand view(float[] data, Layout layout, int ld, int row, int col) {
    Check.notNull(layout, "layout");
    Check.nonNegative(row, "row");
    Check.nonNegative(col, "col");
    long off = layout == Layout.ROW_MAJOR ? (long) row * ld + col : row + (long) col * ld;
    if (off > Integer.MAX_VALUE) {
      throw new GpuCoreException.InvalidArgument("view offset " + off + " exceeds a Java array");
    }
    return of(data, (int) off);
  }

  /** The same storage {@code by} elements further on (for splitting a checked call). */
  Operand shifted(long by) {
    return new Operand(storage, offset + by, kind, dtype, capacity);
  }

  /** The backing {@code float[]}, {@code double[]}, {@link HostArray} or {@link DeviceArray}. */
  public Object storage() {
    return storage;
  }

  /** Element offset of the matrix's first element. */
  public long offset() {
    return offset;
  }

  /** Where the data lives. */
  public Kind kind() {
    return kind;
  }

  /** Element type. */
  public DType dtype() {
    return dtype;
  }

  /** Elements from the start of the storage. */
  public long capacity() {
    return capacity;
  }

  /** The device holding it, or -1 for host data. */
  public int device() {
    return kind == Kind.DEVICE ? ((DeviceArray) storage).device() : -1;
  }

  boolean isClosed() {
    return (kind == Kind.HOST && ((HostArray) storage).isClosed())
        || (kind == Kind.DEVICE && ((DeviceArray) storage).isClosed());
  }

  /** Whether the two operands share storage. */
  boolean sameStorage(Operand o) {
    return storage == o.storage;
  }
}
