package dev.gpucore.cuda;

import dev.gpucore.DType;
import dev.gpucore.Layout;
import dev.gpucore.cuda.bindings.GpuCoreNative;
import dev.gpucore.cuda.bindings.ReduceNative;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.reduce.Accumulation;
import dev.gpucore.reduce.Matrix;
import dev.gpucore.reduce.ReduceOp;
import dev.gpucore.spi.ReduceOps;

/**
 * Reductions on the GPU: gpucore's own kernels (native/src/reduce*.cu) through
 * {@link ReduceNative}. A call is one kernel launch on the stream's own workspace; a result for
 * the host is written by the kernel straight into the stream's pinned result slot, so the
 * synchronous path is launch, stream synchronize, read: no copy launch, nothing allocated.
 */
final class CudaReduce implements ReduceOps {
  private final CudaBackend backend;

  CudaReduce(CudaBackend backend) {
    this.backend = backend;
  }

  /** Loaded on first use, after the backend itself loaded libgpucore. */
  private static final class Lib {
    static final long WORKSPACE_BYTES;

    static {
      ReduceNative.load();
      WORKSPACE_BYTES = ReduceNative.gc_reduce_workspace_bytes();
    }
  }

  private static volatile long workspace = -1;

  /** The reduction library's workspace size; its first use loads it, on a thread of its own. */
  private static long workspaceBytes() {
    long w = workspace;
    if (w < 0) {
      w = dev.gpucore.spi.Uninterruptible.onOwnThread("gpucore-reduce-load",
          () -> Lib.WORKSPACE_BYTES);
      workspace = w;
    }
    return w;
  }

  static int code(ReduceOp op) {
    return switch (op) {
      case SUM -> ReduceNative.GC_REDUCE_SUM;
      case MEAN -> ReduceNative.GC_REDUCE_MEAN;
      case MIN -> ReduceNative.GC_REDUCE_MIN;
      case MAX -> ReduceNative.GC_REDUCE_MAX;
      case ARGMIN -> ReduceNative.GC_REDUCE_ARGMIN;
      case ARGMAX -> ReduceNative.GC_REDUCE_ARGMAX;
      case NORM2 -> ReduceNative.GC_REDUCE_NORM2;
      case DOT -> ReduceNative.GC_REDUCE_DOT;
      default -> throw new IllegalArgumentException(String.valueOf(op));
    };
  }

  static int type(DType t) {
    return t == DType.FLOAT32 ? ReduceNative.GC_TYPE_F32 : ReduceNative.GC_TYPE_F64;
  }

  static int acc(Accumulation a) {
    return a == Accumulation.INPUT ? ReduceNative.GC_ACC_INPUT : ReduceNative.GC_ACC_F64;
  }

  private static long at(DeviceArray a, long offset) {
    return a == null ? 0 : a.address() + offset * a.dtype().bytes();
  }

  /**
   * Enters the device (injecting a sticky fault where the fault plan asks for one) and picks the
   * stream of the call: the caller's, or one of the device's pool when the caller gave none.
   */
  private static CudaStream begin(DeviceState dev, ReduceOp op, GpuStream stream) {
    dev.enter();
    if (dev.faults.stickyReduceNow()) {
      dev.injectSticky("gc_reduce(" + op + ")");
    }
    return stream != null ? (CudaStream) stream : dev.acquire();
  }

  /** Gives a pool stream back to the device; the caller's own stream stays with the caller. */
  private static void end(DeviceState dev, CudaStream s, GpuStream stream) {
    if (stream == null) {
      dev.release(s);
    }
  }

  /**
   * Checks a launch's status (naming {@code function(op)} on failure) and, on a pool stream,
   * waits for the result, since the caller has no stream to wait on.
   */
  private static void finish(CudaStream s, int st, String function, ReduceOp op,
      GpuStream stream) {
    if (st != 0) {
      s.check(st, function + "(" + op + ")");
    }
    if (stream == null) {
      s.synchronize();
    }
  }

  @Override
  public double reduceHost(ReduceOp op, Accumulation acc, Object x, long xOffset, Object y,
      long yOffset, long count) {
    throw new UnsupportedOperationException("host-array reductions go through the CPU backend");
  }

  @Override
  public void reduceHostMatrix(ReduceOp op, Accumulation acc, Object x, long xOffset, Object y,
      long yOffset, Matrix shape, boolean perRow, Object out, long outOffset) {
    throw new UnsupportedOperationException("host-array reductions go through the CPU backend");
  }

  @Override
  public double reduceDevice(ReduceOp op, Accumulation acc, DeviceArray x, long xOffset,
      DeviceArray y, long yOffset, long count, GpuStream stream) {
    long wsBytes = workspaceBytes();
    DeviceState dev = backend.device(x.device());
    CudaStream s = begin(dev, op, stream);
    try {
      long slot = s.resultSlot();
      long h = s.handle();
      int st = ReduceNative.gc_reduce(code(op), type(x.dtype()), acc(acc), at(x, xOffset),
          at(y, yOffset), count, slot, ReduceNative.GC_TYPE_F64, s.workspace(), wsBytes, h);
      if (st != 0) {
        s.check(st, "gc_reduce(" + op + ")");
      }
      st = GpuCoreNative.gc_stream_sync(h);
      if (st != 0) {
        s.check(st, "cudaStreamSynchronize(gc_reduce " + op + ")");
      }
      return ReduceNative.gc_reduce_read_f64(slot);
    } finally {
      end(dev, s, stream);
    }
  }

  @Override
  public void reduceDeviceInto(ReduceOp op, Accumulation acc, DeviceArray x, long xOffset,
      DeviceArray y, long yOffset, long count, DeviceArray out, long outOffset,
      GpuStream stream) {
    long wsBytes = workspaceBytes();
    DeviceState dev = backend.device(x.device());
    CudaStream s = begin(dev, op, stream);
    try {
      int st = ReduceNative.gc_reduce(code(op), type(x.dtype()), acc(acc), at(x, xOffset),
          at(y, yOffset), count, at(out, outOffset), type(out.dtype()), s.workspace(), wsBytes,
          s.handle());
      finish(s, st, "gc_reduce", op, stream);
    } finally {
      end(dev, s, stream);
    }
  }

  @Override
  public void reduceDeviceMatrix(ReduceOp op, Accumulation acc, DeviceArray x, long xOffset,
      DeviceArray y, long yOffset, Matrix shape, boolean perRow, DeviceArray out,
      long outOffset, GpuStream stream) {
    long wsBytes = workspaceBytes();
    // gc_reduce_rows / _cols take a row-major matrix: a column-major one is its transpose
    boolean rowMajor = shape.layout() == Layout.ROW_MAJOR;
    long rows = rowMajor ? shape.rows() : shape.cols();
    long cols = rowMajor ? shape.cols() : shape.rows();
    boolean contiguous = perRow == rowMajor;
    DeviceState dev = backend.device(x.device());
    CudaStream s = begin(dev, op, stream);
    try {
      int st = contiguous
          ? ReduceNative.gc_reduce_rows(code(op), type(x.dtype()), acc(acc), at(x, xOffset),
              at(y, yOffset), rows, cols, shape.ld(), at(out, outOffset), type(out.dtype()),
              s.workspace(), wsBytes, s.handle())
          : ReduceNative.gc_reduce_cols(code(op), type(x.dtype()), acc(acc), at(x, xOffset),
              at(y, yOffset), rows, cols, shape.ld(), at(out, outOffset), type(out.dtype()),
              s.workspace(), wsBytes, s.handle());
      finish(s, st, contiguous ? "gc_reduce_rows" : "gc_reduce_cols", op, stream);
    } finally {
      end(dev, s, stream);
    }
  }
}
