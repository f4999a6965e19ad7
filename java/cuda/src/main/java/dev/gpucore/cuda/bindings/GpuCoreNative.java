package dev.gpucore.cuda.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP binding of {@code native/include/gpucore.h}. Addresses (device or host), streams and
 * events travel as {@code long}s so hot paths allocate nothing on the Java side. Every function
 * returns a status: 0, a CUDA runtime error code, or a negative gpucore code.
 *
 * <p>Loading it needs the CUDA runtime ({@code libcudart.so.13}); callers load it only after the
 * CUDA runtime itself loaded.
 */
@Platform(include = "gpucore.h", link = "gpucore")
public final class GpuCoreNative {
  static {
    Loader.load();
  }

  private GpuCoreNative() {}

  /** Forces loading; throws {@link UnsatisfiedLinkError} when the libraries cannot load. */
  public static void load() {
    Loader.load(GpuCoreNative.class);
  }

  public static native int gc_api_version();

  public static native @Cast("const char*") String gc_status_name(int s);

  public static native @Cast("const char*") String gc_last_error();

  public static native int gc_versions(int[] driverVersion, int[] runtimeVersion);

  public static native int gc_device_count(int[] count);

  public static native int gc_scale2d_f32(@Cast("void*") long c, long rows, long cols, long ld,
      float beta, @Cast("void*") long stream);

  public static native int gc_scale2d_f64(@Cast("void*") long c, long rows, long cols, long ld,
      double beta, @Cast("void*") long stream);

  public static native int gc_fill_u16(@Cast("void*") long x, @Cast("size_t") long n,
      @Cast("unsigned short") short bits, @Cast("void*") long stream);

  public static native int gc_set_device(int ordinal);

  /** Fault drill: a kernel storing through a bad address; returns the sticky status (700). */
  public static native int gc_drill_illegal_address();

  public static native int gc_device_info(int ordinal, int[] ints,
      @Cast("size_t*") long[] totalMem, @Cast("char*") byte[] name, int nameLen,
      @Cast("char*") byte[] uuid, int uuidLen, @Cast("char*") byte[] busId, int busIdLen);

  public static native int gc_malloc(@Cast("void**") long[] out, @Cast("size_t") long bytes);

  public static native int gc_free(@Cast("void*") long p);

  /** Stream-ordered device allocation (cudaMallocAsync) on the current device. */
  public static native int gc_malloc_async(@Cast("void**") long[] out, @Cast("size_t") long bytes,
      @Cast("void*") long stream);

  /** Stream-ordered release (cudaFreeAsync): the memory goes after the stream's earlier work. */
  public static native int gc_free_async(@Cast("void*") long p, @Cast("void*") long stream);

  public static native int gc_malloc_host(@Cast("void**") long[] out, @Cast("size_t") long bytes);

  public static native int gc_free_host(@Cast("void*") long p);

  public static native int gc_memset_async(@Cast("void*") long p, int value,
      @Cast("size_t") long bytes, @Cast("void*") long stream);

  public static native int gc_stream_create(@Cast("void**") long[] out);

  public static native int gc_stream_destroy(@Cast("void*") long s);

  public static native int gc_stream_sync(@Cast("void*") long s);

  public static native int gc_event_create(@Cast("void**") long[] out);

  public static native int gc_event_destroy(@Cast("void*") long e);

  public static native int gc_event_record(@Cast("void*") long e, @Cast("void*") long stream);

  public static native int gc_event_sync(@Cast("void*") long e);

  public static native int gc_timing_event_create(@Cast("void**") long[] out);

  public static native int gc_event_elapsed(float[] ms, @Cast("void*") long from,
      @Cast("void*") long to);

  public static native int gc_fill_f32(@Cast("void*") long x, @Cast("size_t") long n, float v,
      @Cast("void*") long stream);

  public static native int gc_fill_f64(@Cast("void*") long x, @Cast("size_t") long n, double v,
      @Cast("void*") long stream);

  public static native @Cast("size_t") long gc_reduce_workspace_bytes();

  public static native int gc_memcpy_async(@Cast("void*") long dst, @Cast("const void*") long src,
      @Cast("size_t") long bytes, int kind, @Cast("void*") long stream);

  // Java arrays are passed in a JNI critical region (no copy of the array), for staging copies.
  // flags: 0 or HOST_COPY_STREAMING (stores that bypass the CPU caches).

  /** gc_host_copy_in/out flag GC_HOST_COPY_STREAMING. */
  public static final int HOST_COPY_STREAMING = 1;

  @CriticalRegion
  public static native int gc_host_copy_in(@Cast("void*") long dst,
      @Cast("const void*") float[] srcBase, @Cast("size_t") long srcOffset, @Cast("size_t") long bytes,
      int flags);

  @CriticalRegion
  public static native int gc_host_copy_in(@Cast("void*") long dst,
      @Cast("const void*") double[] srcBase, @Cast("size_t") long srcOffset, @Cast("size_t") long bytes,
      int flags);

  @CriticalRegion
  public static native int gc_host_copy_in(@Cast("void*") long dst,
      @Cast("const void*") short[] srcBase, @Cast("size_t") long srcOffset, @Cast("size_t") long bytes,
      int flags);

  @CriticalRegion
  public static native int gc_host_copy_out(@Cast("void*") short[] dstBase,
      @Cast("size_t") long dstOffset, @Cast("const void*") long src, @Cast("size_t") long bytes,
      int flags);

  @CriticalRegion
  public static native int gc_host_copy_out(@Cast("void*") float[] dstBase,
      @Cast("size_t") long dstOffset, @Cast("const void*") long src, @Cast("size_t") long bytes,
      int flags);

  @CriticalRegion
  public static native int gc_host_copy_out(@Cast("void*") double[] dstBase,
      @Cast("size_t") long dstOffset, @Cast("const void*") long src, @Cast("size_t") long bytes,
      int flags);

  public static native int gc_mem_info(@Cast("size_t*") long[] free, @Cast("size_t*") long[] total);
}
