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
 * column-major blocks ({@code A_t} m×k_t, {@code B_t} k_t×n), or a grid of result blocks that
 * share their blocks ({@code C_ij = Σ_t A_t,i·B_t,j}), through gpucore's GEMM.
 *
 * <p>On a GPU the sums stay on the device: each product is added into C there ({@code beta = 1}
 * after the first) and only C comes back; in a grid each block goes up once per step, for every
 * result block of its row or column. The blocks go up while the GEMMs run: two sets of device
 * buffers take alternate steps, each step's GEMMs are cut into column slabs queued as soon as
 * their part of B has arrived, and several threads pack the blocks into small pinned staging
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
   * One step of a grid: the blocks of one k, column-major.
   *
   * @param a the m×k block of each row of result blocks
   * @param b the k×n block of each column of result blocks
   * @param k the inner dimension
   */
  public record Step(List<double[]> a, List<double[]> b, int k) {
    /** Checks the blocks are there; keeps copies of the lists. */
    public Step {
      a = List.copyOf(Objects.requireNonNull(a, "a"));
      b = List.copyOf(Objects.requireNonNull(b, "b"));
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
   * The grid of result blocks {@code C_ij = Σ_t steps[t].a[i] · steps[t].b[j]} for i below
   * {@code rows} and j below {@code cols}, each m×n, column-major.
   *
   * @param core gpucore
   * @param device gpucore's device index, or -1 for the host (the router decides where host
   *     GEMMs run)
   * @param m rows of each result block
   * @param n columns of each result block
   * @param rows result blocks per column of the grid (A blocks per step)
   * @param cols result blocks per row of the grid (B blocks per step)
   * @param steps the blocks of each k
   * @param precision {@code FP64} (or {@code DEFAULT}), {@code FP32}, {@code TF32} or {@code BF16}
   * @return the result blocks in row-major block order: block (i, j) at {@code i·cols + j}
   * @throws IllegalArgumentException when rows or cols is below 1, a step has not rows A blocks
   *     and cols B blocks, a block's length does not match its shape, m×n does not fit a Java
   *     array, the precision is not one of those, or (on a GPU)
   *     {@code gpucore.spark.blockCacheMiB} is not a number of MiB
   */
  public static double[][] gridOfProducts(GpuCore core, int device, int m, int n, int rows,
      int cols, List<Step> steps, Precision precision) {
    Objects.requireNonNull(steps, "steps");
    check(core, device, m, n, precision);
    if (rows < 1 || cols < 1) {
      throw new IllegalArgumentException("rows and cols must be 1 or more, got " + rows + ", "
          + cols);
    }
    for (Step st : steps) {
      if (st.a().size() != rows || st.b().size() != cols) {
        throw new IllegalArgumentException("steps: the step of k=" + st.k() + " has "
            + st.a().size() + " A blocks and " + st.b().size() + " B blocks; expected " + rows
            + " and " + cols);
      }
      for (double[] x : st.a()) {
        blockLength(x, m, st.k(), "an A block");
      }
      for (double[] x : st.b()) {
        blockLength(x, st.k(), n, "a B block");
      }
    }
    if ((long) n * cols > Integer.MAX_VALUE || (long) m * n * rows * cols > Long.MAX_VALUE / 8) {
      throw new IllegalArgumentException("the grid's " + rows + "×" + cols + " result blocks of "
          + m + "×" + n + " are too large");
    }
    return grid(core, device, m, n, rows, cols, steps, precision);
  }

  /**
   * As {@link #sumOfProducts(GpuCore, int, int, int, List, Precision)}; {@code viaSum} true runs
   * FP64 on a core of one GPU as one {@link dev.gpucore.blas.Blas#gemmSum} instead of the device
   * pipeline (for comparing the two: the pipeline measured faster).
   */
  static double[] sumOfProducts(GpuCore core, int device, int m, int n, List<Pair> pairs,
      Precision precision, boolean viaSum) {
    Objects.requireNonNull(pairs, "pairs");
    check(core, device, m, n, precision);
    for (Pair p : pairs) {
      if (p.a().length != (long) m * p.k() || p.b().length != (long) p.k() * n) {
        throw new IllegalArgumentException("pairs: a block pair of k=" + p.k() + " has " + p.a().length
            + " and " + p.b().length + " values; expected " + (long) m * p.k() + " and " + (long) p.k() * n);
      }
    }
    boolean fp64 = precision == Precision.FP64 || precision == Precision.DEFAULT;
    if (viaSum && fp64 && device >= 0 && core.devices().size() == 1 && m > 0 && n > 0) {
      List<Pair> live = pairs.stream().filter(q -> q.k() > 0).toList();
      if (!live.isEmpty()) {
        return summed(core, m, n, live);
      }
    }
    List<Step> steps = new ArrayList<>(pairs.size());
    for (Pair p : pairs) {
      steps.add(new Step(List.of(p.a()), List.of(p.b()), p.k()));
    }
    return grid(core, device, m, n, 1, 1, steps, precision)[0];
  }

  /** The checks both forms share, before anything else. */
  private static void check(GpuCore core, int device, int m, int n, Precision precision) {
    Objects.requireNonNull(core, "core");
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
    if ((long) m * n > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("m×n must fit a Java array, got " + m + "×" + n);
    }
  }

  private static void blockLength(double[] x, int rows, int cols, String what) {
    if (x.length != (long) rows * cols) {
      throw new IllegalArgumentException("steps: " + what + " of " + rows + "×" + cols + " has "
          + x.length + " values");
    }
  }

  /** The grid, arguments checked. */
  private static double[][] grid(GpuCore core, int device, int m, int n, int rows, int cols,
      List<Step> steps, Precision precision) {
    List<Step> live = new ArrayList<>(steps.size());
    long maxK = 0;
    for (Step q : steps) {
      if (q.k() > 0) {
        live.add(q);
        maxK = Math.max(maxK, q.k());
      }
    }
    if (live.isEmpty() || m == 0 || n == 0) {
      return new double[rows * cols][m * n];
    }
    boolean fp64 = precision == Precision.FP64 || precision == Precision.DEFAULT;
    Precision p = fp64 ? Precision.FP64 : precision;
    if (device < 0) {
      return onHost(core, m, n, rows, cols, live, p, fp64);
    }
    BlockWorkspace w = BlockWorkspace.take(core, device, fp64 ? DType.FLOAT64 : DType.FLOAT32);
    boolean done = false;
    try {
      w.prepare(rows * (long) m * maxK, maxK * n * cols, (long) m * n * rows * cols, live.size(),
          p);
      double[][] c = BlockPipeline.run(w, HostCopy.pool(), HostCopy.pool(), m, n, rows, cols,
          live);
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

  /**
   * On the host: the products at the precision asked, fp32 operands converted in parallel (each
   * block once).
   */
  private static double[][] onHost(GpuCore core, int m, int n, int rows, int cols,
      List<Step> steps, Precision p, boolean fp64) {
    double[][] c = new double[rows * cols][m * n];
    float[][] cf = fp64 ? null : new float[rows * cols][m * n];
    boolean first = true;
    for (Step q : steps) {
      List<float[]> af = fp64 ? null : q.a().stream().map(HostCopy::toFloat).toList();
      List<float[]> bf = fp64 ? null : q.b().stream().map(HostCopy::toFloat).toList();
      Gemm g = gemm(m, n, q.k(), first, p);
      for (int i = 0; i < rows; i++) {
        for (int j = 0; j < cols; j++) {
          int x = i * cols + j;
          if (fp64) {
            core.blas().gemm(g, Operand.of(q.a().get(i)), m, Operand.of(q.b().get(j)), q.k(),
                Operand.of(c[x]), m);
          } else {
            core.blas().gemm(g, Operand.of(af.get(i)), m, Operand.of(bf.get(j)), q.k(),
                Operand.of(cf[x]), m);
          }
        }
      }
      first = false;
    }
    if (!fp64) {
      for (int x = 0; x < c.length; x++) {
        HostCopy.widen(cf[x], c[x]);
      }
    }
    return c;
  }

  private static Gemm gemm(int m, int n, int k, boolean first, Precision p) {
    return Gemm.of(m, n, k).layout(Layout.COLUMN_MAJOR).scale(1, first ? 0 : 1).precision(p);
  }
}
