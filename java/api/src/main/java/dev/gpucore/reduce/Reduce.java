package dev.gpucore.reduce;

import dev.gpucore.Check;
import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.HostArray;
import dev.gpucore.spi.Backends;
import dev.gpucore.spi.Facades;
import dev.gpucore.spi.ReduceOps;

/**
 * Reductions — {@link ReduceOp sum, mean, min, max, argmin, argmax, L2 norm and dot} — over a
 * whole range, over each row or over each column of a matrix (row- or column-major, see
 * {@link Matrix}), for fp32 and fp64 data. Host data ({@code float[]}, {@code double[]},
 * {@link HostArray}) is reduced on the CPU (a reduction cannot pay for the copy to a GPU);
 * {@link DeviceArray}s are reduced on their GPU by gpucore's own CUDA kernels. Both backends have
 * the semantics below and are tested against each other.
 *
 * <h2>Semantics</h2>
 *
 * <ul>
 *   <li><b>Accumulation.</b> SUM, MEAN and DOT of fp32 data accumulate in fp64 by default
 *       ({@link Accumulation#FP64}: every element, or product, is added exactly to fp64 running
 *       sums and the result is the fp64 sum, not rounded to fp32), or in fp32 with
 *       {@link Accumulation#INPUT}. fp64 data always accumulates in fp64. MEAN is the sum divided
 *       by the count in the accumulation type.
 *   <li><b>Accuracy.</b> With fp64 accumulation, {@code |result - exact| <= (n - 1) * 2^-53 *
 *       sum|x_i|} (for DOT {@code n * 2^-53 * sum|x_i * y_i|}: the products are rounded too);
 *       with fp32 accumulation the same with {@code 2^-24}. These are the worst-case bounds of any summation order; the CPU backend
 *       sums with 4 interleaved partial sums, the GPU with one per thread and then a tree, so
 *       real errors are far smaller, and the two backends agree within twice the bound. A
 *       FLOAT32 output adds one rounding to fp32. NORM2 has a relative error below
 *       {@code (n + 2) * 2^-53}: fp32 data is squared and summed in fp64 (which can neither
 *       overflow nor underflow for fp32 data), fp64 data with Blue's scaled three-accumulator
 *       sum (as LAPACK's dnrm2), so the norm overflows or underflows only when its value does.
 *       MIN, MAX, ARGMIN and ARGMAX are exact and identical on both backends.
 *   <li><b>NaN and infinities.</b> Sums, means and dots follow IEEE arithmetic (a NaN, or
 *       {@code +Inf + -Inf}, gives NaN). NORM2 is NaN when any element is NaN, else +Inf when any
 *       is infinite. MIN and MAX are NaN when any element is NaN; ARGMIN and ARGMAX give the
 *       index of the first NaN when there is one. Ties give the first (lowest) index.
 *       {@code -0.0} and {@code +0.0} compare equal: ARGMIN/ARGMAX give the first of them; which
 *       of the two zeros MIN/MAX return is unspecified.
 *   <li><b>Empty input.</b> SUM, DOT and NORM2 of an empty range are 0; MEAN, MIN, MAX, ARGMIN
 *       and ARGMAX of an empty range throw {@link GpuCoreException.InvalidArgument}. A matrix
 *       reduction with no outputs does nothing; one whose rows (or columns) are empty follows the
 *       same rule per output.
 *   <li><b>Determinism.</b> The same input on the same device gives bitwise the same result run
 *       after run, on any stream: the GPU kernels use a grid fixed per device and size,
 *       fixed-order trees and integer tickets, never floating-point atomics. (Devices with
 *       different multiprocessor counts may round differently, within the bounds.)
 *   <li><b>Indices</b> count from the range's offset (whole range), are column indices (per row)
 *       or row indices (per column). Where an index travels as a double (the general
 *       {@code reduce} methods, {@code double[]} and FLOAT64 outputs) it is exact (below 2^53).
 *   <li><b>Synchronous or not.</b> Methods that return a value wait for it (on the given stream,
 *       or an internal one when it is null). Methods with a device {@code out} queue the work on
 *       the given stream and return at once: the result is in {@code out} once the stream is
 *       synchronized; with a null stream they run on an internal stream and wait.
 * </ul>
 *
 * <p>Every argument is checked before any native call (ranges, element types, devices, closed
 * resources, output lengths; outputs may not overlap inputs); a rejected call changes nothing.
 */
public final class Reduce {
  static {
    Facades.registerReduce(Reduce::new);
  }

  private final Backends core;

  private Reduce(Backends core) {
    this.core = core;
  }

  // =============================================================== Java arrays (CPU)

  /** Sum of all elements, accumulated in fp64 (0 for an empty array). */
  public double sum(float[] x) {
    return cpu().reduceHost(ReduceOp.SUM, Accumulation.FP64, x, 0, null, 0, len(x));
  }

  /** Sum of all elements (0 for an empty array). */
  public double sum(double[] x) {
    return reduce(ReduceOp.SUM, x, 0, len(x));
  }

  /** Mean of all elements, accumulated in fp64; rejects an empty array. */
  public double mean(float[] x) {
    return reduce(ReduceOp.MEAN, x, 0, len(x), Accumulation.FP64);
  }

  /** Mean of all elements; rejects an empty array. */
  public double mean(double[] x) {
    return reduce(ReduceOp.MEAN, x, 0, len(x));
  }

  /** Smallest element (NaN if any is NaN); rejects an empty array. */
  public double min(float[] x) {
    return reduce(ReduceOp.MIN, x, 0, len(x), Accumulation.FP64);
  }

  /** Smallest element (NaN if any is NaN); rejects an empty array. */
  public double min(double[] x) {
    return reduce(ReduceOp.MIN, x, 0, len(x));
  }

  /** Largest element (NaN if any is NaN); rejects an empty array. */
  public double max(float[] x) {
    return reduce(ReduceOp.MAX, x, 0, len(x), Accumulation.FP64);
  }

  /** Largest element (NaN if any is NaN); rejects an empty array. */
  public double max(double[] x) {
    return reduce(ReduceOp.MAX, x, 0, len(x));
  }

  /** Index of the first smallest element, or of the first NaN; rejects an empty array. */
  public long argmin(float[] x) {
    return (long) reduce(ReduceOp.ARGMIN, x, 0, len(x), Accumulation.FP64);
  }

  /** Index of the first smallest element, or of the first NaN; rejects an empty array. */
  public long argmin(double[] x) {
    return (long) reduce(ReduceOp.ARGMIN, x, 0, len(x));
  }

  /** Index of the first largest element, or of the first NaN; rejects an empty array. */
  public long argmax(float[] x) {
    return (long) reduce(ReduceOp.ARGMAX, x, 0, len(x), Accumulation.FP64);
  }

  /** Index of the first largest element, or of the first NaN; rejects an empty array. */
  public long argmax(double[] x) {
    return (long) reduce(ReduceOp.ARGMAX, x, 0, len(x));
  }

  /** Euclidean norm (0 for an empty array). */
  public double norm2(float[] x) {
    return reduce(ReduceOp.NORM2, x, 0, len(x), Accumulation.FP64);
  }

  /** Euclidean norm (0 for an empty array). */
  public double norm2(double[] x) {
    return reduce(ReduceOp.NORM2, x, 0, len(x));
  }

  /** Dot product of two arrays of the same length, accumulated in fp64. */
  public double dot(float[] x, float[] y) {
    Check.notNull(x, "x");
    Check.notNull(y, "y");
    sameLength(x.length, y.length);
    return dot(x, 0, y, 0, x.length, Accumulation.FP64);
  }

  /** Dot product of two arrays of the same length. */
  public double dot(double[] x, double[] y) {
    Check.notNull(x, "x");
    Check.notNull(y, "y");
    sameLength(x.length, y.length);
    return dot(x, 0, y, 0, x.length);
  }

  /**
   * {@code op} (not DOT) over {@code x[offset .. offset + count)}; an index result (ARGMIN,
   * ARGMAX) is returned as an exact double, counted from {@code offset}.
   */
  public double reduce(ReduceOp op, float[] x, int offset, int count, Accumulation acc) {
    checkSingle(op);
    Check.notNull(x, "x");
    Check.notNull(acc, "acc");
    Check.range(offset, count, x.length, "x");
    checkCount(op, count);
    return cpu().reduceHost(op, acc, x, offset, null, 0, count);
  }

  /** {@code op} (not DOT) over {@code x[offset .. offset + count)}, as above. */
  public double reduce(ReduceOp op, double[] x, int offset, int count) {
    checkSingle(op);
    Check.notNull(x, "x");
    Check.range(offset, count, x.length, "x");
    checkCount(op, count);
    return cpu().reduceHost(op, Accumulation.FP64, x, offset, null, 0, count);
  }

  /** Dot product of {@code count} elements of {@code x} and {@code y} from their offsets. */
  public double dot(float[] x, int xOffset, float[] y, int yOffset, int count,
      Accumulation acc) {
    Check.notNull(x, "x");
    Check.notNull(y, "y");
    Check.notNull(acc, "acc");
    Check.range(xOffset, count, x.length, "x");
    Check.range(yOffset, count, y.length, "y");
    return cpu().reduceHost(ReduceOp.DOT, acc, x, xOffset, y, yOffset, count);
  }

  /** Dot product of {@code count} elements of {@code x} and {@code y} from their offsets. */
  public double dot(double[] x, int xOffset, double[] y, int yOffset, int count) {
    Check.notNull(x, "x");
    Check.notNull(y, "y");
    Check.range(xOffset, count, x.length, "x");
    Check.range(yOffset, count, y.length, "y");
    return cpu().reduceHost(ReduceOp.DOT, Accumulation.FP64, x, xOffset, y, yOffset, count);
  }

  /**
   * {@code op} (not DOT) over each row of the matrix {@code shape} stored in {@code x} from
   * {@code offset}: {@code out[outOffset + i]} for row {@code i} (indices are column indices).
   */
  public void perRow(ReduceOp op, float[] x, int offset, Matrix shape, Accumulation acc,
      double[] out, int outOffset) {
    javaMatrix(op, x, len(x), offset, null, 0, 0, shape, acc, out, outOffset, true);
  }

  /** {@code op} (not DOT) over each row, as above. */
  public void perRow(ReduceOp op, double[] x, int offset, Matrix shape, double[] out,
      int outOffset) {
    javaMatrix(op, x, len(x), offset, null, 0, 0, shape, Accumulation.FP64, out, outOffset, true);
  }

  /**
   * {@code op} (not DOT) over each column of the matrix {@code shape} stored in {@code x} from
   * {@code offset}: {@code out[outOffset + j]} for column {@code j} (indices are row indices).
   */
  public void perColumn(ReduceOp op, float[] x, int offset, Matrix shape, Accumulation acc,
      double[] out, int outOffset) {
    javaMatrix(op, x, len(x), offset, null, 0, 0, shape, acc, out, outOffset, false);
  }

  /** {@code op} (not DOT) over each column, as above. */
  public void perColumn(ReduceOp op, double[] x, int offset, Matrix shape, double[] out,
      int outOffset) {
    javaMatrix(op, x, len(x), offset, null, 0, 0, shape, Accumulation.FP64, out, outOffset,
        false);
  }

  /** Dot product of each row of two matrices of the same {@code shape}. */
  public void dotPerRow(float[] x, int xOffset, float[] y, int yOffset, Matrix shape,
      Accumulation acc, double[] out, int outOffset) {
    Check.notNull(y, "y");
    javaMatrix(ReduceOp.DOT, x, len(x), xOffset, y, yOffset, y.length, shape, acc, out,
        outOffset, true);
  }

  /** Dot product of each row of two matrices of the same {@code shape}. */
  public void dotPerRow(double[] x, int xOffset, double[] y, int yOffset, Matrix shape,
      double[] out, int outOffset) {
    Check.notNull(y, "y");
    javaMatrix(ReduceOp.DOT, x, len(x), xOffset, y, yOffset, y.length, shape, Accumulation.FP64,
        out, outOffset, true);
  }

  /** Dot product of each column of two matrices of the same {@code shape}. */
  public void dotPerColumn(float[] x, int xOffset, float[] y, int yOffset, Matrix shape,
      Accumulation acc, double[] out, int outOffset) {
    Check.notNull(y, "y");
    javaMatrix(ReduceOp.DOT, x, len(x), xOffset, y, yOffset, y.length, shape, acc, out,
        outOffset, false);
  }

  /** Dot product of each column of two matrices of the same {@code shape}. */
  public void dotPerColumn(double[] x, int xOffset, double[] y, int yOffset, Matrix shape,
      double[] out, int outOffset) {
    Check.notNull(y, "y");
    javaMatrix(ReduceOp.DOT, x, len(x), xOffset, y, yOffset, y.length, shape, Accumulation.FP64,
        out, outOffset, false);
  }

  // =============================================================== host arrays (CPU)

  /**
   * {@code op} (not DOT) over {@code count} elements of a host array from {@code offset}, on the
   * CPU; index results as exact doubles. {@code acc} matters for FLOAT32 data only.
   */
  public double reduce(ReduceOp op, HostArray x, long offset, long count, Accumulation acc) {
    checkSingle(op);
    openHost(x, "x");
    Check.notNull(acc, "acc");
    Check.range(offset, count, x.length(), "x");
    checkCount(op, count);
    return cpu().reduceHost(op, acc, x, offset, null, 0, count);
  }

  /** Dot product of {@code count} elements of two host arrays of the same type, on the CPU. */
  public double dot(HostArray x, long xOffset, HostArray y, long yOffset, long count,
      Accumulation acc) {
    openHost(x, "x");
    openHost(y, "y");
    Check.notNull(acc, "acc");
    sameType(x.dtype(), y.dtype());
    Check.range(xOffset, count, x.length(), "x");
    Check.range(yOffset, count, y.length(), "y");
    return cpu().reduceHost(ReduceOp.DOT, acc, x, xOffset, y, yOffset, count);
  }

  /**
   * {@code op} (not DOT) over each row of a host matrix into host array {@code out} (FLOAT32 or
   * FLOAT64; FLOAT64 for ARGMIN/ARGMAX, whose indices it holds as exact doubles).
   */
  public void perRow(ReduceOp op, HostArray x, long offset, Matrix shape, Accumulation acc,
      HostArray out, long outOffset) {
    hostMatrix(op, x, offset, null, 0, shape, acc, out, outOffset, true);
  }

  /** {@code op} (not DOT) over each column of a host matrix into {@code out}, as above. */
  public void perColumn(ReduceOp op, HostArray x, long offset, Matrix shape, Accumulation acc,
      HostArray out, long outOffset) {
    hostMatrix(op, x, offset, null, 0, shape, acc, out, outOffset, false);
  }

  /** Dot product of each row of two host matrices of the same {@code shape} and type. */
  public void dotPerRow(HostArray x, long xOffset, HostArray y, long yOffset, Matrix shape,
      Accumulation acc, HostArray out, long outOffset) {
    openHost(y, "y");
    hostMatrix(ReduceOp.DOT, x, xOffset, y, yOffset, shape, acc, out, outOffset, true);
  }

  /** Dot product of each column of two host matrices of the same {@code shape} and type. */
  public void dotPerColumn(HostArray x, long xOffset, HostArray y, long yOffset, Matrix shape,
      Accumulation acc, HostArray out, long outOffset) {
    openHost(y, "y");
    hostMatrix(ReduceOp.DOT, x, xOffset, y, yOffset, shape, acc, out, outOffset, false);
  }

  // =============================================================== device arrays (GPU)

  /** Sum of all elements of a device array (fp32 accumulated in fp64; 0 when empty). */
  public double sum(DeviceArray x) {
    return sum(x, 0, devLen(x), null);
  }

  /**
   * Sum of {@code count} elements from {@code offset} of a device array (fp32 accumulated in
   * fp64), queued on {@code stream} (an internal stream when null) and waited for.
   */
  public double sum(DeviceArray x, long offset, long count, GpuStream stream) {
    openDevice(x, "x");
    Check.range(offset, count, x.length(), "x");
    checkStream(stream, x.device());
    return gpu().reduceDevice(ReduceOp.SUM, Accumulation.FP64, x, offset, null, 0, count,
        stream);
  }

  /** Mean of all elements of a device array (fp32 accumulated in fp64); rejects an empty one. */
  public double mean(DeviceArray x) {
    return reduce(ReduceOp.MEAN, x, 0, devLen(x), Accumulation.FP64, null);
  }

  /** Smallest element of a device array (NaN if any is NaN); rejects an empty one. */
  public double min(DeviceArray x) {
    return reduce(ReduceOp.MIN, x, 0, devLen(x), Accumulation.FP64, null);
  }

  /** Largest element of a device array (NaN if any is NaN); rejects an empty one. */
  public double max(DeviceArray x) {
    return reduce(ReduceOp.MAX, x, 0, devLen(x), Accumulation.FP64, null);
  }

  /** Index of the first smallest element (or first NaN) of a device array. */
  public long argmin(DeviceArray x) {
    return (long) reduce(ReduceOp.ARGMIN, x, 0, devLen(x), Accumulation.FP64, null);
  }

  /** Index of the first largest element (or first NaN) of a device array. */
  public long argmax(DeviceArray x) {
    return (long) reduce(ReduceOp.ARGMAX, x, 0, devLen(x), Accumulation.FP64, null);
  }

  /** Euclidean norm of a device array (0 when empty). */
  public double norm2(DeviceArray x) {
    return reduce(ReduceOp.NORM2, x, 0, devLen(x), Accumulation.FP64, null);
  }

  /** Dot product of two device arrays of the same length, type and device. */
  public double dot(DeviceArray x, DeviceArray y) {
    long n = devLen(x);
    sameLength(n, devLen(y));
    return dot(x, 0, y, 0, n, Accumulation.FP64, (GpuStream) null);
  }

  /**
   * {@code op} (not DOT) over {@code count} elements of a device array from {@code offset},
   * brought to the host: queued on {@code stream} (an internal stream when null) and waited for.
   * Index results as exact doubles.
   */
  public double reduce(ReduceOp op, DeviceArray x, long offset, long count, Accumulation acc,
      GpuStream stream) {
    checkSingle(op);
    openDevice(x, "x");
    Check.notNull(acc, "acc");
    Check.range(offset, count, x.length(), "x");
    checkStream(stream, x.device());
    checkCount(op, count);
    return gpu().reduceDevice(op, acc, x, offset, null, 0, count, stream);
  }

  /**
   * {@code op} (not DOT) over {@code count} elements of a device array into
   * {@code out[outOffset]} (same device; FLOAT32 or FLOAT64, FLOAT64 for ARGMIN/ARGMAX), queued
   * on {@code stream}; with a null stream, on an internal stream and waited for.
   */
  public void reduce(ReduceOp op, DeviceArray x, long offset, long count, Accumulation acc,
      DeviceArray out, long outOffset, GpuStream stream) {
    checkSingle(op);
    openDevice(x, "x");
    Check.notNull(acc, "acc");
    Check.range(offset, count, x.length(), "x");
    checkDeviceOut(op, out, outOffset, 1, x.device());
    checkStream(stream, x.device());
    noOverlap(out, outOffset, 1, x, offset, count, "x");
    checkCount(op, count);
    gpu().reduceDeviceInto(op, acc, x, offset, null, 0, count, out, outOffset, stream);
  }

  /** Dot product of {@code count} elements of two device arrays, brought to the host. */
  public double dot(DeviceArray x, long xOffset, DeviceArray y, long yOffset, long count,
      Accumulation acc, GpuStream stream) {
    checkDevicePair(x, xOffset, y, yOffset, count);
    Check.notNull(acc, "acc");
    checkStream(stream, x.device());
    return gpu().reduceDevice(ReduceOp.DOT, acc, x, xOffset, y, yOffset, count, stream);
  }

  /** Dot product of two device ranges into {@code out[outOffset]}, queued on {@code stream}. */
  public void dot(DeviceArray x, long xOffset, DeviceArray y, long yOffset, long count,
      Accumulation acc, DeviceArray out, long outOffset, GpuStream stream) {
    checkDevicePair(x, xOffset, y, yOffset, count);
    Check.notNull(acc, "acc");
    checkDeviceOut(ReduceOp.DOT, out, outOffset, 1, x.device());
    checkStream(stream, x.device());
    noOverlap(out, outOffset, 1, x, xOffset, count, "x");
    noOverlap(out, outOffset, 1, y, yOffset, count, "y");
    gpu().reduceDeviceInto(ReduceOp.DOT, acc, x, xOffset, y, yOffset, count, out, outOffset,
        stream);
  }

  /**
   * {@code op} (not DOT) over each row of a device matrix into {@code out[outOffset + i]} (same
   * device; FLOAT32 or FLOAT64, FLOAT64 for ARGMIN/ARGMAX), queued on {@code stream}; with a
   * null stream, on an internal stream and waited for.
   */
  public void perRow(ReduceOp op, DeviceArray x, long offset, Matrix shape, Accumulation acc,
      DeviceArray out, long outOffset, GpuStream stream) {
    deviceMatrix(op, x, offset, null, 0, shape, acc, out, outOffset, stream, true);
  }

  /** {@code op} (not DOT) over each column of a device matrix, as {@link #perRow}. */
  public void perColumn(ReduceOp op, DeviceArray x, long offset, Matrix shape,
      Accumulation acc, DeviceArray out, long outOffset, GpuStream stream) {
    deviceMatrix(op, x, offset, null, 0, shape, acc, out, outOffset, stream, false);
  }

  /** Dot product of each row of two device matrices of the same {@code shape}. */
  public void dotPerRow(DeviceArray x, long xOffset, DeviceArray y, long yOffset, Matrix shape,
      Accumulation acc, DeviceArray out, long outOffset, GpuStream stream) {
    openDevice(y, "y");
    deviceMatrix(ReduceOp.DOT, x, xOffset, y, yOffset, shape, acc, out, outOffset, stream, true);
  }

  /** Dot product of each column of two device matrices of the same {@code shape}. */
  public void dotPerColumn(DeviceArray x, long xOffset, DeviceArray y, long yOffset,
      Matrix shape, Accumulation acc, DeviceArray out, long outOffset, GpuStream stream) {
    openDevice(y, "y");
    deviceMatrix(ReduceOp.DOT, x, xOffset, y, yOffset, shape, acc, out, outOffset, stream,
        false);
  }

  // =============================================================== checks

  private ReduceOps cpu() {
    return core.cpu().reductions();
  }

  private ReduceOps gpu() {
    return core.gpu().reductions();
  }

  private static int len(float[] x) {
    return Check.notNull(x, "x").length;
  }

  private static int len(double[] x) {
    return Check.notNull(x, "x").length;
  }

  private static long devLen(DeviceArray x) {
    openDevice(x, "x");
    return x.length();
  }

  private static void sameLength(long a, long b) {
    if (a != b) {
      throw new GpuCoreException.InvalidArgument(
          "x and y must have the same length, got " + a + " and " + b);
    }
  }

  private static void sameType(DType a, DType b) {
    if (a != b) {
      throw new GpuCoreException.InvalidArgument("x holds " + a + " but y holds " + b);
    }
  }

  private static void checkSingle(ReduceOp op) {
    Check.notNull(op, "op");
    if (op == ReduceOp.DOT) {
      throw new GpuCoreException.InvalidArgument(
          "op DOT needs two operands: use dot, dotPerRow or dotPerColumn");
    }
  }

  private static void checkCount(ReduceOp op, long count) {
    if (count == 0 && !op.definedOnEmpty()) {
      throw new GpuCoreException.InvalidArgument(op + " of an empty range is undefined "
          + "(only SUM, DOT and NORM2 are defined there: 0)");
    }
  }

  private static void openHost(HostArray a, String name) {
    Check.notNull(a, name);
    if (a.isClosed()) {
      throw new GpuCoreException.InvalidArgument(name + " is closed");
    }
  }

  private static void openDevice(DeviceArray a, String name) {
    Check.notNull(a, name);
    if (a.isClosed()) {
      throw new GpuCoreException.InvalidArgument(name + " is closed");
    }
    if (a.dtype() != DType.FLOAT32 && a.dtype() != DType.FLOAT64) {
      throw new GpuCoreException.InvalidArgument(
          name + " holds " + a.dtype() + ": reductions take FLOAT32 or FLOAT64 arrays");
    }
  }

  private static void checkStream(GpuStream stream, int device) {
    if (stream != null && (stream.isClosed() || stream.device() != device)) {
      throw new GpuCoreException.InvalidArgument(
          "stream must be open and on device " + device);
    }
  }

  private static void checkOutType(ReduceOp op, DType t, String name) {
    if (op.isIndex() && t != DType.FLOAT64) {
      throw new GpuCoreException.InvalidArgument(name + " must hold FLOAT64 for " + op
          + " (indices are written as exact doubles), got " + t);
    }
  }

  private static void checkDeviceOut(ReduceOp op, DeviceArray out, long outOffset, long count,
      int device) {
    openDevice(out, "out");
    if (out.device() != device) {
      throw new GpuCoreException.InvalidArgument(
          "out is on device " + out.device() + " but x is on device " + device);
    }
    checkOutType(op, out.dtype(), "out");
    Check.range(outOffset, count, out.length(), "out");
  }

  private static void noOverlap(DeviceArray out, long outOffset, long outCount, DeviceArray in,
      long inOffset, long inCount, String name) {
    if (out == in && outCount > 0 && inCount > 0 && outOffset < inOffset + inCount
        && inOffset < outOffset + outCount) {
      throw new GpuCoreException.InvalidArgument("out overlaps " + name);
    }
  }

  private static void checkDevicePair(DeviceArray x, long xOffset, DeviceArray y, long yOffset,
      long count) {
    openDevice(x, "x");
    openDevice(y, "y");
    sameType(x.dtype(), y.dtype());
    if (x.device() != y.device()) {
      throw new GpuCoreException.InvalidArgument(
          "x is on device " + x.device() + " but y is on device " + y.device());
    }
    Check.range(xOffset, count, x.length(), "x");
    Check.range(yOffset, count, y.length(), "y");
  }

  private void javaMatrix(ReduceOp op, Object x, int xLength, int xOffset, Object y, int yOffset,
      int yLength, Matrix shape, Accumulation acc, double[] out, int outOffset, boolean perRow) {
    Check.notNull(op, "op");
    if (y == null) {
      checkSingle(op);
    }
    Check.notNull(shape, "shape");
    Check.notNull(acc, "acc");
    Check.notNull(out, "out");
    Check.range(xOffset, shape.span(), xLength, "x");
    if (y != null) {
      Check.range(yOffset, shape.span(), yLength, "y");
    }
    long outputs = perRow ? shape.rows() : shape.cols();
    Check.range(outOffset, outputs, out.length, "out");
    if (outputs == 0) {
      return;
    }
    checkCount(op, perRow ? shape.cols() : shape.rows());
    cpu().reduceHostMatrix(op, acc, x, xOffset, y, yOffset, shape, perRow, out, outOffset);
  }

  private void hostMatrix(ReduceOp op, HostArray x, long xOffset, HostArray y, long yOffset,
      Matrix shape, Accumulation acc, HostArray out, long outOffset, boolean perRow) {
    Check.notNull(op, "op");
    if (y == null) {
      checkSingle(op);
    }
    openHost(x, "x");
    Check.notNull(shape, "shape");
    Check.notNull(acc, "acc");
    openHost(out, "out");
    Check.range(xOffset, shape.span(), x.length(), "x");
    if (y != null) {
      sameType(x.dtype(), y.dtype());
      Check.range(yOffset, shape.span(), y.length(), "y");
    }
    checkOutType(op, out.dtype(), "out");
    long outputs = perRow ? shape.rows() : shape.cols();
    Check.range(outOffset, outputs, out.length(), "out");
    if (outputs == 0) {
      return;
    }
    checkCount(op, perRow ? shape.cols() : shape.rows());
    cpu().reduceHostMatrix(op, acc, x, xOffset, y, yOffset, shape, perRow, out, outOffset);
  }

  private void deviceMatrix(ReduceOp op, DeviceArray x, long xOffset, DeviceArray y,
      long yOffset, Matrix shape, Accumulation acc, DeviceArray out, long outOffset,
      GpuStream stream, boolean perRow) {
    Check.notNull(op, "op");
    if (y == null) {
      checkSingle(op);
    }
    openDevice(x, "x");
    Check.notNull(shape, "shape");
    Check.notNull(acc, "acc");
    Check.range(xOffset, shape.span(), x.length(), "x");
    if (y != null) {
      checkDevicePair(x, xOffset, y, yOffset, shape.span());
    }
    long outputs = perRow ? shape.rows() : shape.cols();
    checkDeviceOut(op, out, outOffset, outputs, x.device());
    checkStream(stream, x.device());
    noOverlap(out, outOffset, outputs, x, xOffset, shape.span(), "x");
    if (y != null) {
      noOverlap(out, outOffset, outputs, y, yOffset, shape.span(), "y");
    }
    if (outputs == 0) {
      return;
    }
    checkCount(op, perRow ? shape.cols() : shape.rows());
    gpu().reduceDeviceMatrix(op, acc, x, xOffset, y, yOffset, shape, perRow, out, outOffset,
        stream);
  }
}
