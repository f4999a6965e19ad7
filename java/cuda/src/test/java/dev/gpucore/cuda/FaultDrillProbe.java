package dev.gpucore.cuda;

import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.memory.DeviceArray;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Child-process side of the real illegal-address drill (FaultGpuTest): provokes a real sticky
 * fault on GPU 0, then checks that the router keeps serving host GEMMs from the CPU with right
 * results, that device work fails loudly, and that closing survives the poisoned context.
 * Prints one line per step; exit status 0 only when every step behaved.
 */
public final class FaultDrillProbe {
  private FaultDrillProbe() {}

  public static void main(String[] args) {
    int n = 1024;
    try (GpuCore core = GpuCore.open(Config.from(Map.of(), Map.of()))) {
      if (!core.hasGpu()) {
        System.out.println("NOGPU " + core.noGpuReason());
        System.exit(3);
      }
      float[] a = rand(n * n, 1);
      float[] b = rand(n * n, 2);
      float[] c = new float[n * n];
      DeviceArray live = core.allocate(0, DType.FLOAT32, 1 << 20);
      boolean gpuBefore = core.blas().explain(Gemm.of(n, n, n), Operand.of(a), n, Operand.of(b), n,
          Operand.of(c), n).gpu();
      System.out.println("BEFORE gpu=" + gpuBefore);
      GpuCoreException e = ((CudaBackend) dev.gpucore.spi.Cores.backends(core).gpu())
          .drillIllegalAddress(0);
      System.out.println("DRILL " + e.getClass().getSimpleName() + ": " + e.getMessage());
      System.out.println("CODE " + e.code() + " " + e.codeName());
      if (!(e instanceof GpuCoreException.DeviceFaulted)) {
        System.exit(4);
      }
      System.out.println("FAULTED " + core.faulted(0));
      var d = core.blas().explain(Gemm.of(n, n, n), Operand.of(a), n, Operand.of(b), n,
          Operand.of(c), n);
      System.out.println("ROUTE gpu=" + d.gpu() + " " + d.reason());
      java.util.Arrays.fill(c, Float.NaN);
      core.blas().gemm(Gemm.of(n, n, n), Operand.of(a), n, Operand.of(b), n, Operand.of(c), n);
      double err = 0;
      for (int i = 0; i < n; i += 61) {
        for (int j = 0; j < n; j += 59) {
          double s = 0;
          for (int p = 0; p < n; p++) {
            s += (double) a[i * n + p] * b[p * n + j];
          }
          err = Math.max(err, Math.abs(s - c[i * n + j]));
        }
      }
      System.out.println("HOSTGEMM maxerr=" + err + (err < 1e-3 ? " ok" : " WRONG"));
      try {
        core.reduce().sum(live);
        System.out.println("DEVICE no error WRONG");
      } catch (GpuCoreException.DeviceFaulted f) {
        System.out.println("DEVICE DeviceFaulted: " + f.getMessage());
      }
      live.close();
      if (err >= 1e-3) {
        System.exit(5);
      }
    }
    System.out.println("CLOSED");
  }

  private static float[] rand(int len, long seed) {
    SplittableRandom r = new SplittableRandom(System.nanoTime() + seed);
    float[] x = new float[len];
    for (int i = 0; i < len; i++) {
      x[i] = (float) r.nextDouble(-1, 1);
    }
    return x;
  }
}
