package dev.gpucore.cuda.bindings;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Raw;

/**
 * JavaCPP binding of the GEMM engine of {@code libgpucore_blas.so}
 * ({@code native/include/gpucore_engine.h}, through {@code gpucore_engine_jni.h}): the tiled,
 * pipelined GPU GEMM on host operands that the drop-in BLAS library runs, reached by the Java API
 * when {@code gpucore.gemm.hostEngine=native}. Operands are Java arrays ({@code float[]} or
 * {@code double[]}, held in a JNI critical region one staging chunk at a time) or host memory
 * at an address (the array argument null); offsets are in bytes.
 */
@Platform(include = {"gpucore_engine.h", "gpucore_engine_jni.h"}, link = "gpucore_blas")
public final class EngineNative {
  static {
    Loader.load();
  }

  private EngineNative() {}

  /** Forces loading; throws {@link UnsatisfiedLinkError} when the library cannot load. */
  public static void load() {
    Loader.load(EngineNative.class);
  }

  /** The engine interface these bindings are built for ({@code GPUCORE_ENGINE_VERSION}). */
  public static final int VERSION = 2;

  /** Result of {@link #gc_engine_gemm} ({@code result[0]}): done. */
  public static final int OK = 0;
  /** Out of device memory, also with the smallest tiles. */
  public static final int E_MEMORY = 1;
  /** A CUDA or cuBLAS failure: the engine stops using the GPU. */
  public static final int E_FAULT = 2;
  /** An operand could not be read or written. */
  public static final int E_COPY = 3;
  /** No GPU, or the device named is not visible. */
  public static final int E_UNUSABLE = 4;

  public static native int gpucore_engine_version();

  public static native int gpucore_engine_usable(@Cast("char*") byte[] why, int whyLen);

  /** Sets a setting before the engine first reads them: 0, 1 when too late, 2 when refused. */
  public static native int gpucore_engine_configure(String key, String value);

  /**
   * The routing model ({@code gpucore_engine_model}): {@code ints} = precision (0 fp32, 1 tf32,
   * 2 bf16/fp16, 3 fp64), beta nonzero, gpus, cc major, SMs, CPU threads; {@code doubles} =
   * flops, bytes of A, B, C, CPU and GPU rate overrides, bus GB/s, overhead ms; {@code out} =
   * gpu (1/0), GPU ms, CPU ms, B up ms, A/C up ms, multiply ms, C down ms, CPU and GPU GFLOP/s.
   */
  @CriticalRegion
  public static native void gc_engine_model(@Cast("const int*") int[] ints,
      @Cast("const double*") double[] doubles, double[] out);

  /** Precision of a float GEMM: strict fp32 (doubles always multiply in fp64). */
  public static final int PREC_NATIVE = 0;
  /** TF32 tensor cores on fp32 operands. */
  public static final int PREC_TF32 = 1;
  /** A and B sent and multiplied as bfloat16, fp32 sums and C. */
  public static final int PREC_BF16 = 2;
  /** A and B sent and multiplied as IEEE half, fp32 sums and C. */
  public static final int PREC_FP16 = 3;

  /**
   * Column-major {@code C = alpha·op(A)·op(B) + beta·C} on CUDA device {@code device} at
   * {@code precision} ({@code PREC_*}); see {@code gpucore_engine.h}. {@code result[0]} gets the
   * result ({@link #OK} or an error), {@code result[1]} 1 when any of C was written.
   */
  @Raw(withEnv = true)
  public static native void gc_engine_gemm(int elemBytes, int precision, int ta, int tb, int m,
      int n, int k,
      double alpha, @Raw Object a, long aAddress, long aOffset, int lda, @Raw Object b,
      long bAddress, long bOffset, int ldb, double beta, @Raw Object c, long cAddress,
      long cOffset, int ldc, int device, int[] result, @Cast("char*") byte[] err, int errLen);
  /**
   * Column-major {@code C = alpha·Σ_t op(A_t)·op(B_t) + beta·C} on CUDA device {@code device}
   * in one engine call: pair {@code t} has inner dimension {@code ks[t]} (they add up to
   * {@code k}); {@code aArrays}/{@code bArrays} are {@code Object[]}s of Java arrays (an element
   * null for host memory at {@code aAddress[t]}/{@code bAddress[t]}), with byte offsets and
   * leading dimensions {@code lda[t]}/{@code ldb[t]}; C as in {@link #gc_engine_gemm}. The engine
   * sees one m×n×k GEMM whose operands are the pairs laid along k (the sum is formed on the
   * GPU). {@code result[0]} gets the result, {@code result[1]} 1 when any of C was written.
   */
  @Raw(withEnv = true)
  public static native void gc_engine_gemm_sum(int elemBytes, int precision, int ta, int tb,
      int m, int n, int k, double alpha, int parts, @Raw Object aArrays,
      @Cast("const long long*") long[] aAddress, @Cast("const long long*") long[] aOffset,
      @Cast("const int*") int[] lda, @Raw Object bArrays,
      @Cast("const long long*") long[] bAddress, @Cast("const long long*") long[] bOffset,
      @Cast("const int*") int[] ldb, @Cast("const int*") int[] ks, double beta, @Raw Object c,
      long cAddress, long cOffset, int ldc, int device, int[] result, @Cast("char*") byte[] err,
      int errLen);
}
