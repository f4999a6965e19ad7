package dev.gpucore.spark;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.Layout;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The block step of {@link GpuBlockMatrix}: one result block {@code C = Σ_t A_t·B_t} of
 * column-major blocks ({@code A_t} m×k_t, {@code B_t} k_t×n), through gpucore's GEMM.
 *
 * <p>On a GPU the sum stays on the device: each product is added into C there ({@code beta = 1}
 * after the first) and only C comes back. The blocks go up while the GEMMs run: two sets of
 * device buffers take alternate pairs, each pair's GEMM is cut into column slabs queued as soon
 * as their part of B has arrived, and several threads pack the blocks into small pinned staging
 * buffers (rounding to fp32 on the way for the fp32 precisions: half the bytes over the bus)
 * while the copies out of their other buffers run; C comes back the same way, widened on those
 * threads ({@link BlockPipeline}). The device buffers and staging are kept for the next call
 * on the same device (within {@code gpucore.spark.blockCacheMiB} MiB of device memory per JVM,
 * default 2048; {@link #releaseBuffers()} frees them). Without a GPU the same products run on
 * host arrays (gpucore's CPU backend). {@link Precision#FP64} (the default) keeps fp64;
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
   * @throws IllegalArgumentException when a block's length does not match its shape, m×n does
   *     not fit a Java array, the precision is not one of those, or (on a GPU)
   *     {@code gpucore.spark.blockCacheMiB} is not a number of MiB
   */
  public static double[] sumOfProducts(GpuCore core, int device, int m, int n, List<Pair> pairs,
      Precision precision) {
    return sumOfProducts(core, device, m, n, pairs, precision, false);
  }

  /**
   * As {@link #sumOfProducts(GpuCore, int, int, int, List, Precision)}; {@code viaSum} true runs
   * FP64 on a core of one GPU as one {@link dev.gpucore.blas.Blas#gemmSum} instead of the device
   * pipeline (for comparing the two: the pipeline measured faster).
   */
  static double[] sumOfProducts(GpuCore core, int device, int m, int n, List<Pair> pairs,
      Precision precision, boolean viaSum) {
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
    for (Pair p : pairs) {
      if (p.a().length != (long) m * p.k() || p.b().length != (long) p.k() * n) {
        throw new IllegalArgumentException("pairs: a block pair of k=" + p.k() + " has " + p.a().length
            + " and " + p.b().length + " values; expected " + (long) m * p.k() + " and " + (long) p.k() * n);
      }
    }
    if ((long) m * n > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("m×n must fit a Java array, got " + m + "×" + n);
    }
    List<Pair> live = new ArrayList<>(pairs.size());
    long maxA = 0;
    long maxB = 0;
    for (Pair q : pairs) {
      if (q.k() > 0) {
        live.add(q);
        maxA = Math.max(maxA, q.a().length);
        maxB = Math.max(maxB, q.b().length);
      }
    }
    if (live.isEmpty() || m == 0 || n == 0) {
      return new double[m * n];
    }
    boolean fp64 = precision == Precision.FP64 || precision == Precision.DEFAULT;
    Precision p = fp64 ? Precision.FP64 : precision;
    if (device < 0) {
      return onHost(core, m, n, live, p, fp64);
    }
    if (viaSum && fp64 && core.devices().size() == 1) {
      return summed(core, m, n, live);
    }
    BlockWorkspace w = BlockWorkspace.take(core, device, fp64 ? DType.FLOAT64 : DType.FLOAT32);
    boolean done = false;
    try {
      w.prepare(maxA, maxB, (long) m * n, live.size(), p);
      double[] c = BlockPipeline.run(w, HostCopy.pool(), HostCopy.pool(), m, n, live);
      done = true;
      return c;
    } finally {
      if (done) {
        BlockWorkspace.give(w);
      } else {
        w.close();
      }
    }
  }

  /**
   * Releases the device buffers and pinned staging that block steps keep for the next one (at
   * most {@code gpucore.spark.blockCacheMiB} MiB of device memory, default 2048, per JVM).
   *
   * @return how many sets of buffers were released
   */
  public static int releaseBuffers() {
    return BlockWorkspace.releaseIdle();
  }

  /**
   * FP64 on a core of one GPU as one {@link dev.gpucore.blas.Blas#gemmSum} on the blocks where
   * they are, which the native engine runs in one pass (the pairs laid along k, their pieces sent
   * up while earlier ones are multiplied, the sum kept on the GPU and C sent down once); the
   * router sends small sums to the CPU.
   */
  private static double[] summed(GpuCore core, int m, int n, List<Pair> pairs) {
    int t = pairs.size();
    int[] ks = new int[t];
    int[] lda = new int[t];
    int[] ldb = new int[t];
    Operand[] a = new Operand[t];
    Operand[] b = new Operand[t];
    int k = 0;
    for (int i = 0; i < t; i++) {
      Pair q = pairs.get(i);
      ks[i] = q.k();
      lda[i] = Math.max(1, m);
      ldb[i] = Math.max(1, q.k());
      a[i] = Operand.of(q.a());
      b[i] = Operand.of(q.b());
      k = Math.addExact(k, q.k());
    }
    double[] c = new double[m * n];
    Gemm g = Gemm.of(m, n, k).layout(Layout.COLUMN_MAJOR).scale(1, 0).precision(Precision.FP64);
    core.blas().gemmSum(g, ks, a, lda, b, ldb, Operand.of(c), Math.max(1, m));
    return c;
  }

  /** On the host: the products at the precision asked, fp32 operands converted in parallel. */
  private static double[] onHost(GpuCore core, int m, int n, List<Pair> pairs, Precision p,
      boolean fp64) {
    double[] c = new double[m * n];
    float[] cf = fp64 ? null : new float[m * n];
    boolean first = true;
    for (Pair q : pairs) {
      Gemm g = gemm(m, n, q.k(), first, p);
      if (fp64) {
        core.blas().gemm(g, Operand.of(q.a()), m, Operand.of(q.b()), q.k(), Operand.of(c), m);
      } else {
        core.blas().gemm(g, Operand.of(HostCopy.toFloat(q.a())), m,
            Operand.of(HostCopy.toFloat(q.b())), q.k(), Operand.of(cf), m);
      }
      first = false;
    }
    if (!fp64) {
      HostCopy.widen(cf, c);
    }
    return c;
  }

  private static Gemm gemm(int m, int n, int k, boolean first, Precision p) {
    return Gemm.of(m, n, k).layout(Layout.COLUMN_MAJOR).scale(1, first ? 0 : 1).precision(p);
  }
}
