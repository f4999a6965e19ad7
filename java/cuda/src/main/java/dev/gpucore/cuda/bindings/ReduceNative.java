package dev.gpucore.cuda.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP binding of {@code native/include/gpucore_reduce.h}: gpucore's reduction kernels.
 * Addresses (device, or page-locked host for outputs), workspaces and streams travel as
 * {@code long}s, so calls allocate nothing on the Java side. Every function but the two helpers
 * returns a status: 0, a CUDA runtime error code, or a negative gpucore code.
 *
 * <p>The constants mirror the header's {@code GC_REDUCE_*}, {@code GC_TYPE_*} and
 * {@code GC_ACC_*}. Load {@link GpuCoreNative} (and so the CUDA runtime) first.
 */
@Platform(include = "gpucore_reduce.h", link = "gpucore")
public final class ReduceNative {
  static {
    Loader.load();
  }

  private ReduceNative() {}

  /** Forces loading; throws {@link UnsatisfiedLinkError} when the libraries cannot load. */
  public static void load() {
    Loader.load(ReduceNative.class);
  }

  public static final int GC_REDUCE_SUM = 0;
  public static final int GC_REDUCE_MEAN = 1;
  public static final int GC_REDUCE_MIN = 2;
  public static final int GC_REDUCE_MAX = 3;
  public static final int GC_REDUCE_ARGMIN = 4;
  public static final int GC_REDUCE_ARGMAX = 5;
  public static final int GC_REDUCE_NORM2 = 6;
  public static final int GC_REDUCE_DOT = 7;

  public static final int GC_TYPE_F32 = 0;
  public static final int GC_TYPE_F64 = 1;
  public static final int GC_TYPE_I64 = 2;

  public static final int GC_ACC_INPUT = 0;
  public static final int GC_ACC_F64 = 1;

  public static native @Cast("size_t") long gc_reduce_workspace_bytes();

  public static native int gc_reduce(int op, int type, int acc, @Cast("const void*") long x,
      @Cast("const void*") long y, @Cast("size_t") long n, @Cast("void*") long out, int outType,
      @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes,
      @Cast("void*") long stream);

  public static native int gc_reduce_rows(int op, int type, int acc, @Cast("const void*") long x,
      @Cast("const void*") long y, @Cast("size_t") long rows, @Cast("size_t") long cols,
      @Cast("size_t") long ld, @Cast("void*") long out, int outType,
      @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes,
      @Cast("void*") long stream);

  public static native int gc_reduce_cols(int op, int type, int acc, @Cast("const void*") long x,
      @Cast("const void*") long y, @Cast("size_t") long rows, @Cast("size_t") long cols,
      @Cast("size_t") long ld, @Cast("void*") long out, int outType,
      @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes,
      @Cast("void*") long stream);

  /** Reads a double at a page-locked host address (a result a kernel wrote there). */
  public static native double gc_reduce_read_f64(@Cast("const void*") long hostAddress);

  /** Queues an empty kernel: the baseline of launch-overhead measurements. */
  public static native int gc_reduce_noop(@Cast("void*") long stream);
}
