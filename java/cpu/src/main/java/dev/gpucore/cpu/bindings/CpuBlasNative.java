package dev.gpucore.cpu.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.openblas.presets.openblas_nolapack;

/**
 * JavaCPP binding of {@code native/include/gpucore_cpu.h}: OpenBLAS GEMM on Java arrays inside
 * a JNI critical region ({@code GetPrimitiveArrayCritical}), so the arrays are neither copied in
 * nor written back whole. While a call runs, the JVM may hold off garbage collection (JDK 17's
 * G1 waits for the region to end), so callers keep these calls short. One GEMM per call,
 * row-major; offsets in elements.
 */
@Properties(inherit = openblas_nolapack.class, value = @Platform(include = "gpucore_cpu.h"))
public final class CpuBlasNative {
  static {
    // the presets' libraries first (inherited: loaded as the presets load them, nothing else)
    Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
    Loader.load();
  }

  private CpuBlasNative() {}

  /** Forces loading; throws {@link UnsatisfiedLinkError} when the libraries cannot load. */
  public static void load() {
    Loader.load(CpuBlasNative.class);
  }

  /**
   * OpenBLAS's build as it runs here: version, options and, for a DYNAMIC_ARCH build, the
   * kernels it picked for this CPU.
   */
  public static native String gc_cpu_openblas_config();

  @CriticalRegion
  public static native void gc_cpu_sgemm(int transA, int transB, int m, int n, int k,
      float alpha, float[] a, long offA, int lda, float[] b, long offB, int ldb, float beta,
      float[] c, long offC, int ldc);

  @CriticalRegion
  public static native void gc_cpu_dgemm(int transA, int transB, int m, int n, int k,
      double alpha, double[] a, long offA, int lda, double[] b, long offB, int ldb, double beta,
      double[] c, long offC, int ldc);

  /**
   * Copies {@code count} elements between {@code array} (from element {@code offset}) and the
   * memory at address {@code mem}: into the memory when {@code toMem} is 1, else back into the
   * array; with streaming stores (x86-64) when {@code nt} is 1. The caller keeps each copy short
   * (it holds a critical region) and the range inside the array and the memory.
   */
  @CriticalRegion
  public static native void gc_cpu_copy_f(float[] array, long offset, long mem, long count,
      int toMem, int nt);

  /** {@link #gc_cpu_copy_f} for {@code double[]}. */
  @CriticalRegion
  public static native void gc_cpu_copy_d(double[] array, long offset, long mem, long count,
      int toMem, int nt);

  /**
   * Has OpenBLAS's worker threads spin for 2^{@code exponent} clock ticks after a call before
   * they sleep (OPENBLAS_THREAD_TIMEOUT, applied by stopping its threads: the next threaded call
   * starts them anew). No BLAS call may run meanwhile. Returns the value OpenBLAS now holds, -1
   * when the variable could not be set.
   */
  public static native int gc_cpu_thread_timeout(int exponent);

  /** 1 when two critical views of {@code x} are the same memory: the JVM pins, not copies. */
  @CriticalRegion
  public static native int gc_cpu_same(float[] x, float[] y);
}
