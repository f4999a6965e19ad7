package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Layout;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.memory.HostArray;
import dev.gpucore.testkit.OnCpuBackend;
import dev.gpucore.testkit.UsesCore;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The general GEMM API on the CPU backend: layouts, fp64, strided batches, host arrays, views,
 * and the off-heap scratch path for large arrays, against a float64 reference.
 */
@OnCpuBackend
class CpuGemmApiTest extends UsesCore {
  /** Element (i, j) of a matrix at off with ld in layout l. */
  static long at(Layout l, long off, int ld, int i, int j) {
    return l == Layout.ROW_MAJOR ? off + (long) i * ld + j : off + i + (long) j * ld;
  }

  @ParameterizedTest
  @CsvSource({
      "ROW_MAJOR,false,false,1,33,17,9,0", "COLUMN_MAJOR,false,false,1,33,17,9,1",
      "COLUMN_MAJOR,true,false,3,20,30,40,2", "COLUMN_MAJOR,false,true,2,5,7,3,0",
      "ROW_MAJOR,true,true,4,12,13,14,3", "COLUMN_MAJOR,true,true,1,300,290,270,1",
      "ROW_MAJOR,false,true,1,400,300,200,0"})
  void doublesInBothLayoutsWithBatchesAndPadding(Layout l, boolean ta, boolean tb, int batch,
      int m, int n, int k, int pad) {
    SplittableRandom r = new SplittableRandom(SEED + m + n + k);
    int ar = ta ? k : m;
    int ac = ta ? m : k;
    int br = tb ? n : k;
    int bc = tb ? k : n;
    int lda = (l == Layout.ROW_MAJOR ? ac : ar) + pad;
    int ldb = (l == Layout.ROW_MAJOR ? bc : br) + pad;
    int ldc = (l == Layout.ROW_MAJOR ? n : m) + pad;
    long sa = (long) lda * (l == Layout.ROW_MAJOR ? ar : ac) + 5;
    long sb = (long) ldb * (l == Layout.ROW_MAJOR ? br : bc) + 1;
    long sc = (long) ldc * (l == Layout.ROW_MAJOR ? m : n) + 2;
    double[] a = r.doubles(3 + sa * batch).toArray();
    double[] b = r.doubles(1 + sb * batch).toArray();
    double[] c = r.doubles(7 + sc * batch).toArray();
    double[] c0 = c.clone();
    double alpha = 0.75;
    double beta = -1.25;
    Gemm g = Gemm.of(m, n, k).layout(l).transA(ta).transB(tb).scale(alpha, beta)
        .batch(batch, sa, sb, sc);
    core.blas().gemm(g, Operand.of(a, 3), lda, Operand.of(b, 1), ldb, Operand.of(c, 7), ldc);
    boolean[] inside = new boolean[c.length];
    for (int q = 0; q < batch; q++) {
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          double s = 0;
          for (int p = 0; p < k; p++) {
            double av = ta ? a[(int) at(l, 3 + q * sa, lda, p, i)] : a[(int) at(l, 3 + q * sa, lda, i, p)];
            double bv = tb ? b[(int) at(l, 1 + q * sb, ldb, j, p)] : b[(int) at(l, 1 + q * sb, ldb, p, j)];
            s += av * bv;
          }
          int idx = (int) at(l, 7 + q * sc, ldc, i, j);
          inside[idx] = true;
          double ref = alpha * s + beta * c0[idx];
          assertEquals(ref, c[idx], 1e-12 * Math.max(1, k), "item " + q + " (" + i + "," + j + ")");
        }
      }
    }
    for (int i = 0; i < c.length; i++) {
      if (!inside[i]) {
        assertEquals(c0[i], c[i], "element " + i + " outside C must not change");
      }
    }
  }

  @Test
  void theCpuLibrarySaysItsBuildKernelsAndThreads() {
    String lib = core.blas().cpuLibrary();
    // e.g. "OpenBLAS 0.3.31 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64; 2 threads"
    assertTrue(lib != null && lib.matches("OpenBLAS \\d+\\.\\d+\\.\\d+ .+; \\d+ threads?"), lib);
  }

  @Test
  void hostArraysAndViews() {
    int n = 300; // extent > the direct-array limit: the scratch path
    SplittableRandom r = new SplittableRandom(SEED);
    float[] big = new float[(n + 10) * (n + 10)];
    for (int i = 0; i < big.length; i++) {
      big[i] = (float) r.nextDouble();
    }
    try (HostArray hb = core.allocateHost(DType.FLOAT32, (long) n * n, true);
        HostArray hc = core.allocateHost(DType.FLOAT32, (long) n * n, false)) {
      float[] b = new float[n * n];
      for (int i = 0; i < b.length; i++) {
        b[i] = (float) r.nextDouble();
      }
      hb.put(0, b, 0, b.length);
      for (long i = 0; i < hc.length(); i++) {
        hc.setDouble(i, Double.NaN); // beta = 0: never read
      }
      // A is the n x n view at (5, 7) of a (n+10) x (n+10) row-major matrix
      Operand a = Operand.view(big, Layout.ROW_MAJOR, n + 10, 5, 7);
      core.blas().gemm(Gemm.of(n, n, n), a, n + 10, Operand.of(hb, 0), n, Operand.of(hc, 0), n);
      for (int i = 0; i < n; i += 37) {
        for (int j = 0; j < n; j += 41) {
          double s = 0;
          for (int p = 0; p < n; p++) {
            s += (double) big[(5 + i) * (n + 10) + 7 + p] * b[p * n + j];
          }
          assertEquals(s, hc.getDouble((long) i * n + j), 1e-4 * Math.sqrt(n));
        }
      }
    }
  }

  @Test
  void everyPrecisionRunsAsStrictFp32OnTheCpu() {
    float[] a = new float[64 * 64];
    Arrays.fill(a, 1.0001f);
    float[] c = new float[64 * 64];
    for (Precision p : new Precision[] {Precision.TF32, Precision.BF16, Precision.FP16}) {
      core.blas().gemm(Gemm.of(64, 64, 64).transB(true).precision(p), Operand.of(a), 64,
          Operand.of(a.clone()), 64, Operand.of(c), 64);
      assertEquals(64 * 1.0001f * 1.0001f, c[0], 1e-3, p + " on the CPU keeps fp32 accuracy");
    }
  }

  @Test
  void argumentChecksNameTheParameter() {
    float[] a = new float[100];
    float[] c = new float[100];
    c[3] = 42;
    float[] before = c.clone();
    GpuCoreException e = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> core.blas().gemm(Gemm.of(10, 10, 10).layout(Layout.COLUMN_MAJOR), Operand.of(a),
            9, Operand.of(a.clone()), 10, Operand.of(c), 10));
    assertTrue(e.getMessage().startsWith("lda"), e.getMessage());
    e = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> core.blas().gemm(Gemm.of(10, 10, 10).batch(2, 100, 100, 100), Operand.of(a), 10,
            Operand.of(a.clone()), 10, Operand.of(c), 10));
    assertTrue(e.getMessage().startsWith("a holds 100 elements but the call needs 200"),
        e.getMessage());
    e = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> core.blas().gemm(Gemm.of(10, 10, 10).precision(Precision.FP64), Operand.of(a), 10,
            Operand.of(a.clone()), 10, Operand.of(c), 10));
    assertTrue(e.getMessage().startsWith("precision FP64 does not apply"), e.getMessage());
    e = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> core.blas().gemm(Gemm.of(10, 10, 10), Operand.of(a), 10, Operand.of(new double[100]),
            10, Operand.of(c), 10));
    assertTrue(e.getMessage().startsWith("a, b and c must have one element type"), e.getMessage());
    e = assertThrows(GpuCoreException.InvalidArgument.class, () -> Gemm.of(10, -1, 10));
    assertTrue(e.getMessage().startsWith("n must be >= 0"), e.getMessage());
    e = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> Gemm.of(1, 1, 1).batch(0, 0, 0, 0));
    assertTrue(e.getMessage().startsWith("batch must be >= 1"), e.getMessage());
    assertEquals(Arrays.toString(before), Arrays.toString(c), "C untouched");
  }
}
