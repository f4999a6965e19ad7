package dev.gpucore.spark;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.Layout;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.memory.DeviceArray;
import java.util.List;
import java.util.Objects;

/**
 * The block step of {@link GpuBlockMatrix}: one result block {@code C = Σ_t A_t·B_t} of
 * column-major blocks ({@code A_t} m×k_t, {@code B_t} k_t×n), through gpucore's GEMM.
 *
 * <p>On a GPU the sum stays on the device: C is allocated there once, each product is added into
 * it ({@code beta = 1} after the first), and only C comes back. Without a GPU the same calls run
 * on host arrays (gpucore's CPU backend). {@link Precision#FP64} (the default) keeps fp64;
 * {@link Precision#FP32}, {@link Precision#TF32} and {@link Precision#BF16} convert the blocks
 * to fp32 and multiply at that precision (fp32 sums). Spark-free.
 */
public final class BlockKernel {
  private BlockKernel() {}

  /**
   * One pair of blocks, column-major.
   *
   * @param a m×k values
   * @param b k×n values
   * @param k the inner dimension
   */
  public record Pair(double[] a, double[] b, int k) {
    /** Checks the arrays are there. */
    public Pair {
      Objects.requireNonNull(a, "a");
      Objects.requireNonNull(b, "b");
      if (k < 0) {
        throw new IllegalArgumentException("k must be 0 or more, got " + k);
      }
    }
  }

  /**
   * {@code C = Σ pairs[t].a · pairs[t].b}, m×n, column-major.
   *
   * @param core gpucore
   * @param device gpucore's device index, or -1 for the host (the router decides where host
   *     GEMMs run)
   * @param m rows of C
   * @param n columns of C
   * @param pairs the products to add
   * @param precision {@code FP64} (or {@code DEFAULT}), {@code FP32}, {@code TF32} or {@code BF16}
   * @return C
   * @throws IllegalArgumentException when a block's length does not match its shape, or the
   *     precision is not one of those
   */
  public static double[] sumOfProducts(GpuCore core, int device, int m, int n, List<Pair> pairs,
      Precision precision) {
    Objects.requireNonNull(core, "core");
    Objects.requireNonNull(pairs, "pairs");
    Objects.requireNonNull(precision, "precision");
    if (m < 0 || n < 0) {
      throw new IllegalArgumentException("m and n must be 0 or more, got " + m + ", " + n);
    }
    if (precision == Precision.FP16) {
      throw new IllegalArgumentException("precision must be FP64, FP32, TF32 or BF16, got FP16");
    }
    if (device < -1 || device >= Math.max(0, core.devices().size())) {
      throw new IllegalArgumentException("device must be -1 or a gpucore device index below "
          + core.devices().size() + ", got " + device);
    }
    long maxAB = 0;
    for (Pair p : pairs) {
      if (p.a().length != (long) m * p.k() || p.b().length != (long) p.k() * n) {
        throw new IllegalArgumentException("pairs: a block pair of k=" + p.k() + " has " + p.a().length
            + " and " + p.b().length + " values; expected " + (long) m * p.k() + " and " + (long) p.k() * n);
      }
      maxAB = Math.max(maxAB, Math.max(p.a().length, p.b().length));
    }
    double[] c = new double[m * n];
    if (pairs.isEmpty() || m == 0 || n == 0) {
      return c;
    }
    boolean fp64 = precision == Precision.FP64 || precision == Precision.DEFAULT;
    Precision p = fp64 ? Precision.FP64 : precision;
    if (device < 0) {
      return onHost(core, m, n, pairs, p, fp64, c);
    }
    DType t = fp64 ? DType.FLOAT64 : DType.FLOAT32;
    try (DeviceArray da = core.allocate(device, t, Math.max(1, maxAB));
         DeviceArray db = core.allocate(device, t, Math.max(1, maxAB));
         DeviceArray dc = core.allocate(device, t, (long) m * n)) {
      boolean first = true;
      for (Pair q : pairs) {
        if (q.k() == 0) {
          continue;
        }
        if (fp64) {
          da.copyFrom(q.a());
          db.copyFrom(q.b());
        } else {
          da.copyFrom(toFloat(q.a()));
          db.copyFrom(toFloat(q.b()));
        }
        core.blas().gemm(gemm(m, n, q.k(), first, p), Operand.of(da), m, Operand.of(db), q.k(),
            Operand.of(dc), m);
        first = false;
      }
      if (first) {
        return c;
      }
      if (fp64) {
        dc.copyTo(0, c, 0, m * n);
      } else {
        float[] f = new float[m * n];
        dc.copyTo(0, f, 0, m * n);
        for (int i = 0; i < f.length; i++) {
          c[i] = f[i];
        }
      }
    }
    return c;
  }

  private static double[] onHost(GpuCore core, int m, int n, List<Pair> pairs, Precision p,
      boolean fp64, double[] c) {
    float[] cf = fp64 ? null : new float[m * n];
    boolean first = true;
    for (Pair q : pairs) {
      if (q.k() == 0) {
        continue;
      }
      Gemm g = gemm(m, n, q.k(), first, p);
      if (fp64) {
        core.blas().gemm(g, Operand.of(q.a()), m, Operand.of(q.b()), q.k(), Operand.of(c), m);
      } else {
        core.blas().gemm(g, Operand.of(toFloat(q.a())), m, Operand.of(toFloat(q.b())), q.k(),
            Operand.of(cf), m);
      }
      first = false;
    }
    if (!fp64 && !first) {
      for (int i = 0; i < cf.length; i++) {
        c[i] = cf[i];
      }
    }
    return c;
  }

  private static Gemm gemm(int m, int n, int k, boolean first, Precision p) {
    return Gemm.of(m, n, k).layout(Layout.COLUMN_MAJOR).scale(1, first ? 0 : 1).precision(p);
  }

  private static float[] toFloat(double[] d) {
    float[] f = new float[d.length];
    for (int i = 0; i < d.length; i++) {
      f[i] = (float) d[i];
    }
    return f;
  }
}
