package dev.gpucore.cpu.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * JavaCPP binding of {@code native/include/gpucore_cpu.h}: OpenBLAS GEMM on Java arrays inside
 * a JNI critical region ({@code GetPrimitiveArrayCritical}), so the arrays are neither copied in
 * nor written back whole. While a call runs, the JVM may hold off garbage collection (JDK 17's
 * G1 waits for the region to end), so callers keep these calls short.
 */
@Platform(include = "gpucore_cpu.h", link = "openblas@.0")
public final class CpuBlasNative {
  static {
    // OpenBLAS as the presets load it (their libopenblas.so.0), which this glue then links to
    Loader.load(openblas_nolapack.class);
    Loader.load();
  }

  private CpuBlasNative() {}

  /** Forces loading; throws {@link UnsatisfiedLinkError} when the libraries cannot load. */
  public static void load() {
    Loader.load(CpuBlasNative.class);
  }

  @CriticalRegion
  public static native void gc_cpu_sgemm(int transA, int transB, int m, int n, int k,
      float alpha, float[] a, long offA, int lda, long strideA, float[] b, long offB, int ldb,
      long strideB, float beta, float[] c, long offC, int ldc, long strideC, int batch);

  @CriticalRegion
  public static native void gc_cpu_dgemm(int transA, int transB, int m, int n, int k,
      double alpha, double[] a, long offA, int lda, long strideA, double[] b, long offB, int ldb,
      long strideB, double beta, double[] c, long offC, int ldc, long strideC, int batch);

  /** 1 when two critical views of {@code x} are the same memory: the JVM pins, not copies. */
  @CriticalRegion
  public static native int gc_cpu_same(float[] x, float[] y);
}
