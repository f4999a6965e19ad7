package dev.gpucore.cuda.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP binding of {@code native/include/gpucore_p2p.h}: peer access, the write-then-checksum
 * probe, and copies between GPUs (direct, or staged through page-locked host memory). Devices are
 * CUDA ordinals; addresses, streams and events travel as {@code long}s, so the copy calls
 * allocate nothing on the Java side. Every function returns a status: 0, a CUDA runtime error
 * code, or a negative gpucore code ({@link GpuCoreNative#gc_status_name}).
 *
 * <p>Load {@link GpuCoreNative} (and so the CUDA runtime) first.
 */
@Platform(include = "gpucore_p2p.h", link = "gpucore")
public final class PeerNative {
  static {
    Loader.load();
  }

  private PeerNative() {}

  /** Forces loading; throws {@link UnsatisfiedLinkError} when the libraries cannot load. */
  public static void load() {
    Loader.load(PeerNative.class);
  }

  public static final int GC_P2P_WAIT_BLOCK = 0;
  public static final int GC_P2P_WAIT_SPIN_STREAM = 1;
  public static final int GC_P2P_WAIT_SPIN_EVENT = 2;

  public static final int GC_P2P_PROBE_OK = 0;
  public static final int GC_P2P_PROBE_MISMATCH = 1;
  public static final int GC_P2P_PROBE_COPY_TIMEOUT = 2;
  public static final int GC_P2P_PROBE_CHECK_TIMEOUT = 3;

  public static final int GC_P2P_ATTR_PERFORMANCE_RANK = 0;
  public static final int GC_P2P_ATTR_ACCESS_SUPPORTED = 1;
  public static final int GC_P2P_ATTR_NATIVE_ATOMICS = 2;
  public static final int GC_P2P_ATTR_ARRAY_ACCESS = 3;
  public static final int GC_P2P_ATTR_COUNT = 4;

  public static native int gc_p2p_can_access(int device, int peer, int[] can);

  public static native int gc_p2p_attributes(int src, int dst, int[] attrs);

  public static native int gc_p2p_enable(int device, int peer);

  public static native int gc_p2p_disable(int device, int peer);

  public static native int gc_p2p_probe(int src, int dst, @Cast("size_t") long bytes,
      int timeoutMs, int[] verdict, @Cast("long long*") long[] detail);

  public static native int gc_p2p_stream_create(int device, @Cast("void**") long[] out);

  public static native int gc_p2p_event_create(int device, @Cast("void**") long[] out);

  public static native int gc_p2p_stream_destroy(int device, @Cast("void*") long stream);

  public static native int gc_p2p_event_destroy(int device, @Cast("void*") long event);

  public static native int gc_p2p_stream_wait_event(@Cast("void*") long stream,
      @Cast("void*") long event);

  public static native int gc_p2p_event_record(@Cast("void*") long event,
      @Cast("void*") long stream);

  public static native int gc_p2p_copy(@Cast("void*") long dst, int dstDevice,
      @Cast("const void*") long src, int srcDevice, @Cast("size_t") long bytes, int issueDevice,
      @Cast("void*") long stream);

  public static native int gc_p2p_kernel_copy(@Cast("void*") long dst,
      @Cast("const void*") long src, @Cast("size_t") long bytes, int issueDevice,
      @Cast("void*") long stream);

  public static native int gc_p2p_copy_wait(@Cast("void*") long dst, int dstDevice,
      @Cast("const void*") long src, int srcDevice, @Cast("size_t") long bytes, int issueDevice,
      @Cast("void*") long stream, @Cast("void*") long event, int waitMode,
      @Cast("size_t") long kernelMaxBytes);

  public static native int gc_p2p_wait(int device, @Cast("void*") long stream,
      @Cast("void*") long event, int waitMode);

  public static native int gc_p2p_staged(@Cast("void*") long dst, int dstDevice,
      @Cast("void*") long dstStream, @Cast("const void*") long src, int srcDevice,
      @Cast("void*") long srcStream, @Cast("size_t") long bytes,
      @Cast("void* const*") long[] buffers, @Cast("void* const*") long[] d2hEvents,
      @Cast("void* const*") long[] h2dEvents, int nbuf, @Cast("size_t") long chunkBytes,
      int afterDevice, @Cast("void*") long afterStream, @Cast("void*") long afterEvent,
      @Cast("void*") long doneEvent);
}
