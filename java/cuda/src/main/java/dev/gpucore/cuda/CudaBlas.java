package dev.gpucore.cuda;

import dev.gpucore.GpuCoreException;
import dev.gpucore.cuda.bindings.GpuCoreNative;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.spi.BlasOps;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;

/** BLAS on the GPU: cuBLAS, a handle per stream with its own workspace. */
final class CudaBlas implements BlasOps {
  private final CudaBackend backend;
  private volatile String cublasFailure;
  private volatile boolean cublasLoaded;

  CudaBlas(CudaBackend backend) {
    this.backend = backend;
  }

  private void ensureCublas(DeviceState dev) {
    if (cublasLoaded) {
      return;
    }
    synchronized (this) {
      if (cublasFailure == null && !cublasLoaded) {
        try {
          Loader.load(cublas.class);
          cublasLoaded = true;
        } catch (Throwable t) {
          cublasFailure = LoadErrors.describe(t);
        }
      }
    }
    if (!cublasLoaded) {
      throw new GpuCoreException.DeviceUnavailable("cuBLAS could not be loaded on device "
          + dev.index + ": " + cublasFailure);
    }
  }

  @Override
  public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a,
      int lda, float[] b, int ldb, float beta, float[] c, int ldc) {
    throw new UnsupportedOperationException(
        "host-array GEMM goes through the CPU backend in this version");
  }

  @Override
  public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
      DeviceArray a, int lda, DeviceArray b, int ldb, float beta, DeviceArray c, int ldc,
      GpuStream stream) {
    DeviceState dev = backend.device(c.device());
    ensureCublas(dev);
    dev.enter();
    CudaStream s = stream != null ? (CudaStream) stream : dev.acquire();
    try {
      if ((k == 0 || alpha == 0f) && beta == 0f) {
        // BLAS semantics: C = 0 without reading C (which may hold NaN)
        for (int i = 0; i < m; i++) {
          s.check(GpuCoreNative.gc_memset_async(c.address() + (long) i * ldc * 4, 0,
              (long) n * 4, s.handle()), "cudaMemsetAsync");
        }
      } else {
        // row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T
        // alpha and beta in the lane's pinned scratch (host pointer mode reads them at the call)
        long scalars = s.resultSlot();
        FloatPointer al = fp(scalars).put(0, alpha);
        FloatPointer be = fp(scalars + 4).put(0, beta);
        int st = cublas.cublasSgemm_v2(s.cublas(),
            transB ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N,
            transA ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N,
            n, m, k, al, fp(b.address()), ldb, fp(a.address()), lda, be, fp(c.address()), ldc);
        CudaErrors.checkCublas(st, "cublasSgemm", dev);
      }
      if (stream == null) {
        s.synchronize();
      }
    } finally {
      if (stream == null) {
        dev.release(s);
      }
    }
  }

  static FloatPointer fp(long address) {
    return new FloatPointer(Native.at(address));
  }
}
