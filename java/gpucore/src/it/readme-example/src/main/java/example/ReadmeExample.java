package example;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.memory.DeviceArray;

/** The README's example, checked against a plain loop; exits 1 on a wrong result. */
public final class ReadmeExample {
  public static void main(String[] args) {
    int n = 128;
    try (GpuCore core = GpuCore.open()) {
      if (!core.hasGpu()) System.out.println("CPU only: " + core.noGpuReason());
      float[] a = new float[n * n]; // n*n, row-major
      for (int i = 0; i < a.length; i++) {
        a[i] = (i % 13) * 0.125f;
      }
      float[] c = new float[n * n];
      core.blas().sgemm(false, true, n, n, n, 1f, a, n, a, n, 0f, c, n);  // CPU (OpenBLAS)
      double want = 0;
      double got = 0;
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          double s = 0;
          for (int k = 0; k < n; k++) {
            s += (double) a[i * n + k] * a[j * n + k];
          }
          want += s;
          got += c[i * n + j];
        }
      }
      if (Math.abs(got - want) > 1e-5 * Math.abs(want)) {
        System.out.println("wrong result: sum(C) = " + got + ", expected " + want);
        System.exit(1);
      }
      if (core.hasGpu()) {
        try (DeviceArray da = core.allocate(0, DType.FLOAT32, (long) n * n);
             DeviceArray dc = core.allocate(0, DType.FLOAT32, (long) n * n)) {
          da.copyFrom(a);
          core.blas().sgemm(false, true, n, n, n, 1f, da, n, da, n, 0f, dc, n, null);
          double sum = core.reduce().sum(dc);
          if (Math.abs(sum - want) > 1e-4 * Math.abs(want)) {
            System.out.println("wrong GPU result: sum(C) = " + sum + ", expected " + want);
            System.exit(1);
          }
        }
      }
      System.out.println("readme example: OK on " + core.backendName() + ", sum(C) = " + got);
    }
  }
}
