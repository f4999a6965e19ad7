package dev.gpucore.cuda;

import dev.gpucore.DType;
import dev.gpucore.spi.GemmCall;
import org.bytedeco.cuda.cublas.cublasLtContext;
import org.bytedeco.cuda.cublas.cublasLtMatmulDescOpaque_t;
import org.bytedeco.cuda.cublas.cublasLtMatmulHeuristicResult_t;
import org.bytedeco.cuda.cublas.cublasLtMatmulPreferenceOpaque_t;
import org.bytedeco.cuda.cublas.cublasLtMatrixLayoutOpaque_t;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * GEMM through cuBLASLt ({@code cublasLtMatmul} with the heuristic's first algorithm), used where
 * it is the faster path: fp64 by default ({@code gpucore.gemm.lt}; PyTorch's default path too;
 * figures in docs/benchmarks.md). A plan (descriptors, layouts, algorithm) is made
 * once per shape on each stream and reused, so repeated calls allocate nothing.
 */
final class CudaLt {
  private static final int NOT_SUPPORTED =
      org.bytedeco.cuda.global.cublas.CUBLAS_STATUS_NOT_SUPPORTED;

  private CudaLt() {}

  /** What a plan depends on. */
  record Key(int opA, int opB, int m, int n, int k, int lda, int ldb, int ldc, int abType,
      int cType, int compute, int scaleType) {}

  /** A prepared cublasLtMatmul. */
  static final class Plan implements AutoCloseable {
    cublasLtMatmulDescOpaque_t desc;
    cublasLtMatrixLayoutOpaque_t a;
    cublasLtMatrixLayoutOpaque_t b;
    cublasLtMatrixLayoutOpaque_t c;
    cublasLtMatmulHeuristicResult_t result;
    boolean ok;

    @Override
    public void close() {
      if (desc != null) {
        cublas.cublasLtMatmulDescDestroy(desc);
      }
      for (cublasLtMatrixLayoutOpaque_t l : new cublasLtMatrixLayoutOpaque_t[] {a, b, c}) {
        if (l != null) {
          cublas.cublasLtMatrixLayoutDestroy(l);
        }
      }
      if (result != null) {
        result.close();
      }
    }
  }

  /**
   * Queues the column-major {@code C(m×n) = op(A) op(B)} (already swapped from row-major by the
   * caller) on {@code s}. Returns false, queuing nothing, when cuBLASLt offers no algorithm.
   */
  static boolean matmul(CudaStream s, Key key, Pointer alpha, long a, long b, Pointer beta,
      long c) {
    Plan p = s.ltPlans.get(key);
    if (p == null) {
      p = plan(s, key);
      s.ltPlans.put(key, p);
    }
    if (!p.ok) {
      return false;
    }
    cublasLtContext lt = new cublasLtContext(s.cublas()); // a cuBLAS handle is a cuBLASLt handle
    int st = cublas.cublasLtMatmul(lt, p.desc, alpha, Native.at(a), p.a, Native.at(b), p.b, beta,
        Native.at(c), p.c, Native.at(c), p.c, p.result.algo(), Native.at(s.cublasWorkspace()),
        CudaStream.cublasWorkspaceBytes(), new CUstream_st(Native.at(s.handle())));
    if (st == NOT_SUPPORTED) {
      // the heuristic's algorithm refused these pointers (alignment): remember, use cublasGemmEx
      p.ok = false;
      return false;
    }
    CudaErrors.checkCublas(st, "cublasLtMatmul", s.dev);
    return true;
  }

  private static Plan plan(CudaStream s, Key k) {
    Plan p = new Plan();
    try (PointerPointer<?> out = new PointerPointer<>(1);
        IntPointer v = new IntPointer(1);
        LongPointer ws = new LongPointer(1);
        IntPointer found = new IntPointer(1)) {
      CudaErrors.checkCublas(cublas.cublasLtMatmulDescCreate(out, k.compute(), k.scaleType()),
          "cublasLtMatmulDescCreate", s.dev);
      p.desc = new cublasLtMatmulDescOpaque_t(out.get(0));
      v.put(k.opA());
      CudaErrors.checkCublas(cublas.cublasLtMatmulDescSetAttribute(p.desc,
          cublas.CUBLASLT_MATMUL_DESC_TRANSA, v, 4), "cublasLtMatmulDescSetAttribute", s.dev);
      v.put(k.opB());
      CudaErrors.checkCublas(cublas.cublasLtMatmulDescSetAttribute(p.desc,
          cublas.CUBLASLT_MATMUL_DESC_TRANSB, v, 4), "cublasLtMatmulDescSetAttribute", s.dev);
      boolean ta = k.opA() != cublas.CUBLAS_OP_N;
      boolean tb = k.opB() != cublas.CUBLAS_OP_N;
      p.a = layout(s, out, k.abType(), ta ? k.k() : k.m(), ta ? k.m() : k.k(), k.lda());
      p.b = layout(s, out, k.abType(), tb ? k.n() : k.k(), tb ? k.k() : k.n(), k.ldb());
      p.c = layout(s, out, k.cType(), k.m(), k.n(), k.ldc());
      CudaErrors.checkCublas(cublas.cublasLtMatmulPreferenceCreate(out),
          "cublasLtMatmulPreferenceCreate", s.dev);
      cublasLtMatmulPreferenceOpaque_t pref = new cublasLtMatmulPreferenceOpaque_t(out.get(0));
      try {
        ws.put(CudaStream.cublasWorkspaceBytes());
        CudaErrors.checkCublas(cublas.cublasLtMatmulPreferenceSetAttribute(pref,
            cublas.CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, ws, 8),
            "cublasLtMatmulPreferenceSetAttribute", s.dev);
        p.result = new cublasLtMatmulHeuristicResult_t(1);
        int st = cublas.cublasLtMatmulAlgoGetHeuristic(new cublasLtContext(s.cublas()), p.desc,
            p.a, p.b, p.c, p.c, pref, 1, p.result, found);
        p.ok = st == 0 && found.get() > 0;
      } finally {
        cublas.cublasLtMatmulPreferenceDestroy(pref);
      }
    } catch (RuntimeException e) {
      p.close();
      throw e;
    }
    return p;
  }

  private static cublasLtMatrixLayoutOpaque_t layout(CudaStream s, PointerPointer<?> out,
      int type, long rows, long cols, long ld) {
    CudaErrors.checkCublas(cublas.cublasLtMatrixLayoutCreate(out, type, rows, cols, ld),
        "cublasLtMatrixLayoutCreate", s.dev);
    return new cublasLtMatrixLayoutOpaque_t(out.get(0));
  }

  /** Whether calls of this type go through cuBLASLt ({@code gpucore.gemm.lt}: fp64, all, none). */
  static boolean wanted(String mode, GemmCall call) {
    return call.batch() == 1 && switch (mode) {
      case "all" -> true;
      case "none" -> false;
      default -> call.dtype() == DType.FLOAT64;
    };
  }
}
