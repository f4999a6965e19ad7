package dev.gpucore.cpu;

import dev.gpucore.DType;
import dev.gpucore.blas.GemmCall;
import dev.gpucore.blas.Operand;
import dev.gpucore.memory.HostArray;
import dev.gpucore.spi.BlasOps;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * BLAS on the CPU: OpenBLAS's {@code cblas_sgemm}/{@code cblas_dgemm}, one call per batch item.
 * Every fp32 precision is computed in strict fp32. Java arrays at offset 0 go to OpenBLAS
 * directly; arrays at an offset are copied to an off-heap scratch covering just the matrices'
 * extent (JavaCPP cannot pass an array offset), and C's extent is copied back.
 */
final class CpuBlas implements BlasOps {
  @Override
  public void gemm(GemmCall call) {
    if (call.c().kind() == Operand.Kind.DEVICE) {
      throw new UnsupportedOperationException("the CPU backend has no device arrays");
    }
    boolean f64 = call.dtype() == DType.FLOAT64;
    if (call.scaleOnly()) {
      scale(call);
      return;
    }
    long extA = extent(call.spanA(), call.strideA(), call.batch());
    long extB = extent(call.spanB(), call.strideB(), call.batch());
    long extC = extent(call.spanC(), call.strideC(), call.batch());
    boolean single = call.batch() == 1;
    try (Buf a = Buf.of(call.a(), extA, f64, false, single);
        Buf b = Buf.of(call.b(), extB, f64, false, single);
        Buf c = Buf.of(call.c(), extC, f64, true, single)) {
      int ta = call.transA() ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans;
      int tb = call.transB() ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans;
      for (int i = 0; i < call.batch(); i++) {
        long oa = i * call.strideA();
        long ob = i * call.strideB();
        long oc = i * call.strideC();
        if (f64) {
          if (a.d != null) {
            openblas_nolapack.cblas_dgemm(openblas_nolapack.CblasRowMajor, ta, tb, call.m(),
                call.n(), call.k(), call.alpha(), a.d, call.lda(), b.d, call.ldb(), call.beta(),
                c.d, call.ldc());
          } else {
            openblas_nolapack.cblas_dgemm(openblas_nolapack.CblasRowMajor, ta, tb, call.m(),
                call.n(), call.k(), call.alpha(), a.dp(oa), call.lda(), b.dp(ob), call.ldb(),
                call.beta(), c.dp(oc), call.ldc());
          }
        } else if (a.f != null) {
          openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, ta, tb, call.m(),
              call.n(), call.k(), (float) call.alpha(), a.f, call.lda(), b.f, call.ldb(),
              (float) call.beta(), c.f, call.ldc());
        } else {
          openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, ta, tb, call.m(),
              call.n(), call.k(), (float) call.alpha(), a.fp(oa), call.lda(), b.fp(ob), call.ldb(),
              (float) call.beta(), c.fp(oc), call.ldc());
        }
      }
      c.writeBack();
    }
  }

  private static long extent(long span, long stride, int batch) {
    return span == 0 ? 0 : stride * (batch - 1L) + span;
  }

  /**
   * An operand as OpenBLAS takes it: the Java array itself (offset 0, one GEMM), or a pointer
   * (a host array's memory, or an off-heap copy of a Java array's extent).
   */
  private static final class Buf implements AutoCloseable {
    float[] f;
    double[] d;
    Pointer base;
    Pointer owned;
    Operand src;
    long extent;
    boolean out;

    static Buf of(Operand o, long extent, boolean f64, boolean out, boolean single) {
      Buf b = new Buf();
      b.src = o;
      b.extent = extent;
      b.out = out;
      Object s = o.storage();
      if (s instanceof HostArray h) {
        b.base = at(h.address() + o.offset() * (f64 ? 8 : 4));
      } else if (o.offset() == 0 && single && s instanceof float[] fa) {
        b.f = fa;
      } else if (o.offset() == 0 && single && s instanceof double[] da) {
        b.d = da;
      } else if (s instanceof float[] fa) {
        FloatPointer p = new FloatPointer(Math.max(1, extent));
        p.put(fa, (int) o.offset(), (int) extent);
        b.owned = p;
        b.base = p;
      } else {
        DoublePointer p = new DoublePointer(Math.max(1, extent));
        p.put((double[]) s, (int) o.offset(), (int) extent);
        b.owned = p;
        b.base = p;
      }
      return b;
    }

    FloatPointer fp(long off) {
      return new FloatPointer(at(base.address() + off * 4));
    }

    DoublePointer dp(long off) {
      return new DoublePointer(at(base.address() + off * 8));
    }

    void writeBack() {
      if (out && owned != null) {
        if (src.storage() instanceof float[] fa) {
          ((FloatPointer) owned).position(0).get(fa, (int) src.offset(), (int) extent);
        } else {
          ((DoublePointer) owned).position(0).get((double[]) src.storage(), (int) src.offset(),
              (int) extent);
        }
      }
    }

    @Override
    public void close() {
      if (owned != null) {
        owned.close();
      }
    }
  }

  static Pointer at(long addr) {
    return new Pointer() {
      {
        this.address = addr;
      }
    };
  }

  /** C = beta*C for every batch item, without reading C when beta = 0 (BLAS semantics). */
  private static void scale(GemmCall call) {
    Object s = call.c().storage();
    for (int bi = 0; bi < call.batch(); bi++) {
      long base = call.c().offset() + bi * call.strideC();
      for (int i = 0; i < call.m(); i++) {
        long row = base + (long) i * call.ldc();
        for (int j = 0; j < call.n(); j++) {
          long idx = row + j;
          if (s instanceof float[] f) {
            f[(int) idx] = call.beta() == 0 ? 0f : (float) (call.beta() * f[(int) idx]);
          } else if (s instanceof double[] d) {
            d[(int) idx] = call.beta() == 0 ? 0 : call.beta() * d[(int) idx];
          } else {
            HostArray h = (HostArray) s;
            h.setDouble(idx, call.beta() == 0 ? 0 : call.beta() * h.getDouble(idx));
          }
        }
      }
    }
  }
}
