package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.DType;
import dev.gpucore.Layout;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.memory.HostArray;
import dev.gpucore.testkit.GemmSumContract;
import dev.gpucore.testkit.RequiresGpu;
import dev.gpucore.testkit.SoakCases;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The sum-of-products GEMM contract on a core with a GPU, host GEMMs routed to it: host sums of
 * fp32 and fp64 run on the native engine in one call each ({@code gpucore.gemm.hostEngine}'s
 * default), device sums pair by pair on cuBLAS. Beside it, larger host sums (thousands of rows,
 * 4 pairs, Java arrays and host arrays mixed, both layouts) at FP32, TF32, BF16 and FP64
 * against a float64 reference, C's padding unchanged.
 */
@RequiresGpu(config = {"gpucore.gemm.route=gpu"})
class GemmSumGpuTest extends GemmSumContract {
  private final List<AutoCloseable> res = new ArrayList<>();

  @AfterEach
  void release() throws Exception {
    for (AutoCloseable c : res) {
      c.close();
    }
    res.clear();
  }

  @ParameterizedTest
  @CsvSource({
    "FLOAT32, FP32, ROW_MAJOR, false, true, 2048, 1536, 1e-5, false",
    "FLOAT32, TF32, COLUMN_MAJOR, true, false, 1024, 2048, 5e-3, false",
    "FLOAT32, BF16, ROW_MAJOR, true, true, 1536, 1024, 2e-2, false",
    "FLOAT64, FP64, COLUMN_MAJOR, false, false, 2048, 1024, 1e-13, false",
    // an inner dimension of more than 8192: the engine sums it in parts with C on the GPU
    "FLOAT64, FP64, COLUMN_MAJOR, false, true, 512, 384, 1e-13, true",
    "FLOAT32, BF16, ROW_MAJOR, true, false, 384, 512, 2e-2, true",
  })
  void largeHostSumsMatchFloat64(DType t, Precision p, Layout l, boolean ta, boolean tb, int m,
      int n, double bound, boolean longK) {
    SplittableRandom r = new SplittableRandom(SEED);
    int[] k = longK ? new int[] {3000, 2, 4100, 1200} : new int[] {700, 1, 1300, 256};
    int kSum = 0;
    Operand[] oa = new Operand[k.length];
    Operand[] ob = new Operand[k.length];
    int[] lda = new int[k.length];
    int[] ldb = new int[k.length];
    double[][] a = new double[k.length][];
    double[][] b = new double[k.length][];
    boolean row = l == Layout.ROW_MAJOR;
    for (int q = 0; q < k.length; q++) {
      kSum += k[q];
      int aRows = ta ? k[q] : m;
      int aCols = ta ? m : k[q];
      int bRows = tb ? n : k[q];
      int bCols = tb ? k[q] : n;
      lda[q] = (row ? aCols : aRows) + q;
      ldb[q] = (row ? bCols : bRows) + 2 * q;
      a[q] = values(r, (int) SoakCases.span(l, aRows, aCols, lda[q]), t);
      b[q] = values(r, (int) SoakCases.span(l, bRows, bCols, ldb[q]), t);
      oa[q] = operand(a[q], t, q % 2 == 1);
      ob[q] = operand(b[q], t, q % 2 == 0);
    }
    int ldc = (row ? n : m) + 3;
    double[] c = values(r, (int) SoakCases.span(l, m, n, ldc) + 3, t);
    Object cData = t == DType.FLOAT32 ? SoakCases.floats(c) : c.clone();
    double beta = 0.5;
    double alpha = -1.5;

    core.blas().gemmSum(Gemm.of(m, n, kSum).layout(l).transA(ta).transB(tb).scale(alpha, beta)
        .precision(p), k, oa, lda, ob, ldb, SoakCases.operand(cData, 0), ldc);

    double[] got = SoakCases.read(cData);
    boolean ta0 = ta;
    boolean tb0 = tb;
    double[] errs = IntStream.range(0, m).parallel().mapToObj(i -> {
      double num = 0;
      double den = 0;
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int q = 0; q < k.length; q++) {
          for (int x = 0; x < k[q]; x++) {
            double av = a[q][(int) (ta0 ? SoakCases.at(l, 0, lda[q], x, i)
                : SoakCases.at(l, 0, lda[q], i, x))];
            double bv = b[q][(int) (tb0 ? SoakCases.at(l, 0, ldb[q], j, x)
                : SoakCases.at(l, 0, ldb[q], x, j))];
            s += av * bv;
          }
        }
        int at = (int) SoakCases.at(l, 0, ldc, i, j);
        double want = alpha * s + beta * c[at];
        num += (got[at] - want) * (got[at] - want);
        den += want * want;
      }
      return new double[] {num, den};
    }).reduce(new double[2], (x, y) -> new double[] {x[0] + y[0], x[1] + y[1]});
    double rel = Math.sqrt(errs[0] / errs[1]);
    assertTrue(rel <= bound, t + " " + p + " " + l + ": relative error " + rel + " > " + bound);
    // C's padding between its rows (columns) and after it: as it was
    for (int e = 0; e < got.length; e++) {
      int outer = e / ldc;
      int inner = e % ldc;
      boolean inC = outer < (row ? m : n) && inner < (row ? n : m);
      if (!inC) {
        assertEquals(c[e], got[e], "element " + e + " outside C changed");
      }
    }
    for (int q = 0; q < k.length; q++) {
      assertArrayEquals(a[q], SoakCases.read(oa[q].storage()), "a[" + q + "] changed");
    }
  }

  private static double[] values(SplittableRandom r, int len, DType t) {
    double[] x = new double[len];
    for (int i = 0; i < len; i++) {
      double v = r.nextDouble() * 2 - 1;
      x[i] = t == DType.FLOAT32 ? (float) v : v;
    }
    return x;
  }

  /** The values in a Java array, or (hostArray) a pageable host array. */
  private Operand operand(double[] v, DType t, boolean hostArray) {
    if (hostArray) {
      HostArray h = core.allocateHost(t, Math.max(1, v.length), false);
      res.add(h);
      SoakCases.put(h, v);
      return Operand.of(h, 0);
    }
    return SoakCases.operand(t == DType.FLOAT32 ? SoakCases.floats(v) : v.clone(), 0);
  }
}
