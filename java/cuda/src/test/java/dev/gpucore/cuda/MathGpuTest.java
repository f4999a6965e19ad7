package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.testkit.GpuTests;
import dev.gpucore.testkit.RequiresGpu;
import dev.gpucore.testkit.UsesCore;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** SGEMM and the sum kernel against float64 references, outputs poisoned first. */
@RequiresGpu
class MathGpuTest extends UsesCore {
  @ParameterizedTest
  @CsvSource({"1,1,1,false,false", "7,5,3,false,true", "64,48,97,true,false",
      "131,67,29,true,true", "256,256,256,false,true", "1,300,17,false,false",
      "300,1,17,true,true"})
  void sgemmMatchesFloat64Reference(int m, int n, int k, boolean ta, boolean tb) {
    SplittableRandom r = new SplittableRandom(SEED + m * 31L + n * 7L + k);
    int lda = (ta ? m : k) + 3; // padded leading dimensions
    int ldb = (tb ? k : n) + 1;
    int ldc = n + 2;
    float[] a = rand(r, (ta ? k : m) * lda);
    float[] b = rand(r, (tb ? n : k) * ldb);
    float[] c0 = rand(r, m * ldc);
    float alpha = 1.5f;
    float beta = -0.5f;
    try (DeviceArray da = core.allocate(0, DType.FLOAT32, a.length);
        DeviceArray db = core.allocate(0, DType.FLOAT32, b.length);
        DeviceArray dc = core.allocate(0, DType.FLOAT32, c0.length)) {
      da.copyFrom(a);
      db.copyFrom(b);
      dc.copyFrom(c0);
      core.blas().sgemm(ta, tb, m, n, k, alpha, da, lda, db, ldb, beta, dc, ldc, null);
      float[] c = new float[c0.length];
      dc.copyTo(c);
      for (int i = 0; i < m; i++) {
        for (int j = n; j < ldc; j++) {
          assertEquals(c0[i * ldc + j], c[i * ldc + j], "padding of C must not be written");
        }
      }
      double rel = GemmGpuTest.relativeError(m, n, (i, j) -> c[i * ldc + j], (i, j) -> {
        double s = 0;
        for (int p = 0; p < k; p++) {
          double av = ta ? a[p * lda + i] : a[i * lda + p];
          double bv = tb ? b[j * ldb + p] : b[p * ldb + j];
          s += av * bv;
        }
        return alpha * s + beta * (double) c0[i * ldc + j];
      });
      assertTrue(rel <= 1e-5 * Math.sqrt(k), "relative error " + rel + " seed " + SEED);
    }
  }

  @Test
  void betaZeroIgnoresNaNInCAndKZeroGivesBetaC() {
    int m = 33;
    int n = 17;
    int k = 9;
    SplittableRandom r = new SplittableRandom(SEED);
    float[] a = rand(r, m * k);
    float[] b = rand(r, k * n);
    try (DeviceArray da = core.allocate(0, DType.FLOAT32, a.length);
        DeviceArray db = core.allocate(0, DType.FLOAT32, b.length);
        DeviceArray dc = core.allocate(0, DType.FLOAT32, (long) m * n)) {
      da.copyFrom(a);
      db.copyFrom(b);
      dc.fill(Double.NaN);
      core.blas().sgemm(false, false, m, n, k, 1f, da, k, db, n, 0f, dc, n, null);
      float[] c = new float[m * n];
      dc.copyTo(c);
      for (float v : c) {
        assertTrue(Float.isFinite(v), "beta = 0 must not read C");
      }
      dc.fill(2.0);
      core.blas().sgemm(false, false, m, n, 0, 1f, da, k, db, n, 3f, dc, n, null);
      dc.copyTo(c);
      for (float v : c) {
        assertEquals(6f, v, "k = 0 gives beta*C");
      }
      dc.fill(Double.NaN);
      core.blas().sgemm(false, false, m, n, 0, 1f, da, k, db, n, 0f, dc, n, null);
      dc.copyTo(c);
      for (float v : c) {
        assertEquals(0f, v, "k = 0, beta = 0 gives zeros even over NaN");
      }
      float[] before = c.clone();
      GpuCoreException e = assertThrows(GpuCoreException.InvalidArgument.class,
          () -> core.blas().sgemm(false, false, m, n, k, 1f, da, k - 1, db, n, 0f, dc, n, null));
      assertTrue(e.getMessage().contains("lda"), e.getMessage());
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> core.blas().sgemm(false, false, m + 1, n, k, 1f, da, k, db, n, 0f, dc, n, null));
      dc.copyTo(c);
      org.junit.jupiter.api.Assertions.assertArrayEquals(before, c, "C untouched after rejection");
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 3, 31, 1023, (1 << 20) + 1, 50_000_017})
  void sumMatchesFloat64ReferenceAndIsDeterministic(int n) {
    GpuTests.skipLargeUnderSanitizer(n);
    SplittableRandom r = new SplittableRandom(SEED + n);
    float[] x = rand(r, n + 1);
    double[] xd = r.doubles(n + 1).map(v -> v * 2 - 1).toArray();
    try (DeviceArray d = core.allocate(0, DType.FLOAT32, n + 1L);
        DeviceArray dd = core.allocate(0, DType.FLOAT64, n + 1L)) {
      d.copyFrom(x);
      dd.copyFrom(xd);
      for (int off = 0; off <= 1; off++) { // offset 1 takes the unaligned path
        int cnt = n + 1 - off;
        double ref = 0;
        double abs = 0;
        double refd = 0;
        double absd = 0;
        for (int i = off; i < n + 1; i++) {
          ref += x[i];
          abs += Math.abs(x[i]);
          refd += xd[i];
          absd += Math.abs(xd[i]);
        }
        double got = core.reduce().sum(d, off, cnt, null);
        // fp64 accumulation rounded once to fp32
        assertTrue(Math.abs(got - ref) <= 1e-6 * abs + 1e-7 * Math.abs(ref) + 1e-30,
            "n=" + n + " off=" + off + " got " + got + " ref " + ref);
        double gotd = core.reduce().sum(dd, off, cnt, null);
        assertTrue(Math.abs(gotd - refd) <= 1e-13 * absd + 1e-300,
            "fp64 n=" + n + " got " + gotd + " ref " + refd);
        for (int rep = 0; rep < 5; rep++) {
          assertEquals(Double.doubleToRawLongBits(got),
              Double.doubleToRawLongBits(core.reduce().sum(d, off, cnt, null)),
              "sum must be bitwise reproducible");
        }
      }
    }
  }

  static float[] rand(SplittableRandom r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return a;
  }
}
