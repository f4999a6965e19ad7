package dev.gpucore.bench.suites;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The gemm suite's inputs and result check, without running the suite. */
class GemmSuiteTest {
  @Test
  void fp64InputsHaveFullMantissasAndMatchThePythonPeer() {
    double[] d = new double[3];
    GemmSuite.fill64(d, 42);
    // peers_torch.gen64(np, 42, 3), printed with repr()
    assertEquals(0.7415648787718233, d[0]);
    assertEquals(0.15991039287692022, d[1]);
    assertEquals(0.27860113025513866, d[2]);
    double[] e = new double[2];
    GemmSuite.fill64(e, -5); // seeds are unsigned 64-bit in the peers: 2^64 - 5
    assertEquals(0.08865044484243623, e[0]);
    assertEquals(0.5575480192032959, e[1]);
    // the same leading bits as the fp32 sequence, and low bits a float cannot hold
    float[] f = new float[3];
    InputGen.fill(f, 42);
    for (int i = 0; i < 3; i++) {
      assertEquals(f[i], d[i], 1e-7);
      assertTrue(d[i] != (float) d[i], "full mantissa: " + d[i]);
    }
  }

  /** C = A·Bᵀ in double, row-major (C m×n, A m×k, B n×k). */
  static double[] product(double[] a, double[] b, int m, int n, int k) {
    double[] c = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int p = 0; p < k; p++) {
          s += a[i * k + p] * b[j * k + p];
        }
        c[i * n + j] = s;
      }
    }
    return c;
  }

  @Test
  void theCheckPassesTheProductAndCatchesOneWrongElement() {
    // square, as the device rows and host n x n x n; skinny (m >> n, k), as the host shapes
    for (int[] s : new int[][] {{24, 24, 24}, {200, 6, 9}}) {
      int m = s[0];
      int n = s[1];
      int k = s[2];
      String shape = m + "x" + n + "x" + k;
      double[] a = new double[m * k];
      double[] b = new double[n * k];
      GemmSuite.fill64(a, 1);
      GemmSuite.fill64(b, 2);
      double[] c = product(a, b, m, n, k);
      GemmSuite.Check ok = GemmSuite.verify(GemmSuite.Mat.of(a), GemmSuite.Mat.of(b),
          GemmSuite.Mat.of(c), m, n, k, 1e-12, 7);
      assertTrue(ok.ok(), shape + ": " + ok.text());
      double exact = 0;
      for (double v : c) {
        exact += v;
      }
      assertEquals(exact, ok.exactSum(), 1e-12 * exact, shape);
      // one element 1% off, in a row no sampled row covers: the row and column sums see it
      c[5 * n + n - 2] *= 1.01;
      GemmSuite.Check bad = GemmSuite.verify(GemmSuite.Mat.of(a), GemmSuite.Mat.of(b),
          GemmSuite.Mat.of(c), m, n, k, 1e-5, 7);
      assertFalse(bad.ok(), shape + ": " + bad.text());
      assertTrue(bad.sumRel() > 1e-4, shape + ": " + bad.text());
      // an element never written (NaN from the poisoning) fails
      c = product(a, b, m, n, k);
      c[3] = Double.NaN;
      assertFalse(GemmSuite.verify(GemmSuite.Mat.of(a), GemmSuite.Mat.of(b), GemmSuite.Mat.of(c),
          m, n, k, 1e-2, 7).ok(), shape);
    }
    // the square form is the same check
    int n = 24;
    double[] a = new double[n * n];
    GemmSuite.fill64(a, 1);
    double[] c = product(a, a, n, n, n);
    GemmSuite.Check sq = GemmSuite.verify(GemmSuite.Mat.of(a), GemmSuite.Mat.of(a),
        GemmSuite.Mat.of(c), n, 1e-12, 7);
    assertEquals(GemmSuite.verify(GemmSuite.Mat.of(a), GemmSuite.Mat.of(a), GemmSuite.Mat.of(c),
        n, n, n, 1e-12, 7), sq);
  }

  @Test
  void hostDiffComparesElementByElement() {
    float[] ref = {1, 2, 3, 4};
    assertEquals(0.0, GemmSuite.diff(GemmSuite.Mat.of(ref), GemmSuite.Mat.of(ref.clone()), ref.length)[0]);
    float[] got = {1, 2, 3, 4.04f};
    double[] d = GemmSuite.diff(GemmSuite.Mat.of(ref), GemmSuite.Mat.of(got), ref.length);
    assertTrue(d[0] > 1e-3 && d[1] > 9e-3 && d[1] < 1.1e-2, d[0] + " " + d[1]);
    got[0] = Float.NaN;
    assertEquals(Double.POSITIVE_INFINITY, GemmSuite.diff(GemmSuite.Mat.of(ref), GemmSuite.Mat.of(got), ref.length)[0]);
  }
}
