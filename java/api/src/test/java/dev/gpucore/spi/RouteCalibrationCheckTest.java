package dev.gpucore.spi;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import org.junit.jupiter.api.Test;

/** The calibration's check of a GEMM's C against fp64 sums of the same noise operands. */
class RouteCalibrationCheckTest {
  /** C = A·B of the calibration's operands at n (row-major), summed in fp64 in order. */
  static double[] product(int n, boolean f64) {
    int len = n * n;
    double[] a = RouteCalibration.noise64(len, 1);
    double[] b = RouteCalibration.noise64(len, 2);
    double[] c = new double[len];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int p = 0; p < n; p++) {
          double x = a[i * n + p];
          double y = b[p * n + j];
          s += f64 ? x * y : (double) (float) x * (float) y;
        }
        c[i * n + j] = s;
      }
    }
    return c;
  }

  @Test
  void aRightProductPassesAndAWrongOneFailsNamingTheEntry() {
    // n = 300: n * n is past the noise's period, so its repetition is checked too
    for (int n : new int[] {1, 7, 300}) {
      double[] c64 = product(n, true);
      double[] c32 = product(n, false);
      assertDoesNotThrow(() -> RouteCalibration.check("x", DType.FLOAT64, n, e -> c64[(int) e]));
      // fp32 rounding of C itself is within the fp32 bound
      assertDoesNotThrow(() -> RouteCalibration.check("x", DType.FLOAT32, n,
          e -> (float) c32[(int) e]));
      GpuCoreException zeros = assertThrows(GpuCoreException.class,
          () -> RouteCalibration.check("the CPU backend's GEMM", DType.FLOAT32, n, e -> 0));
      assertTrue(zeros.getMessage().contains("the CPU backend's GEMM (fp32, n = " + n + ") gave C["),
          zeros.getMessage());
      assertThrows(GpuCoreException.class, () -> RouteCalibration.check("x", DType.FLOAT32, n,
          e -> c32[(int) e] * (1 + 2e-3)));
      assertThrows(GpuCoreException.class, () -> RouteCalibration.check("x", DType.FLOAT64, n,
          e -> c64[(int) e] * (1 + 1e-8)));
      assertThrows(GpuCoreException.class, () -> RouteCalibration.check("x", DType.FLOAT64, n,
          e -> Double.NaN));
    }
    // the entries of another product (the operands of other seeds) fail
    int n = 64;
    double[] a = RouteCalibration.noise64(n * n, 3);
    assertThrows(GpuCoreException.class, () -> RouteCalibration.check("x", DType.FLOAT64, n,
        e -> a[(int) e] * n / 4));
  }
}
