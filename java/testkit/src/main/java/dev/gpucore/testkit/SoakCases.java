package dev.gpucore.testkit;

import dev.gpucore.DType;
import dev.gpucore.Layout;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.memory.HostArray;
import dev.gpucore.reduce.Accumulation;
import dev.gpucore.reduce.Matrix;
import dev.gpucore.reduce.Reduce;
import dev.gpucore.reduce.ReduceOp;
import java.util.SplittableRandom;

/**
 * Random GEMM and reduction cases for soak tests, with float64 references and error bounds.
 * Data lives in {@code double[]} mirrors (fp32 cases hold fp32-representable values); a test
 * copies a mirror into whatever storage it exercises and reads the result back into one.
 */
public final class SoakCases {
  private SoakCases() {}

  /** Fills padding, gaps and tails: a finite value no result can produce by chance. */
  public static final double SENTINEL = -7777.25;

  /**
   * One of {@code kinds}' constants at random, each with its share in thousandths given in
   * declaration order (the shares add up to 1000).
   */
  public static <E extends Enum<E>> E pick(SplittableRandom r, Class<E> kinds, int... perMille) {
    E[] all = kinds.getEnumConstants();
    if (perMille.length != all.length) {
      throw new IllegalArgumentException(all.length + " kinds but " + perMille.length
          + " shares");
    }
    int p = r.nextInt(1000);
    int upTo = 0;
    for (int i = 0; i < all.length; i++) {
      upTo += perMille[i];
      if (p < upTo) {
        return all[i];
      }
    }
    throw new IllegalArgumentException("the shares add up to " + upTo + ", not 1000");
  }
  /** Scales exactly representable in fp32, zero included. */
  private static final double[] SCALES = {1, -1, 0.5, 2, 0.75, -1.25};

  public static float[] floats(double[] m) {
    float[] f = new float[m.length];
    for (int i = 0; i < m.length; i++) {
      f[i] = (float) m[i];
    }
    return f;
  }

  public static double[] doubles(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  /** A random value in [-1, 1), rounded to fp32 when {@code f32}. */
  public static double value(SplittableRandom r, boolean f32) {
    double v = r.nextDouble(-1, 1);
    return f32 ? (float) v : v;
  }

  /** Element (i, j) of a matrix at {@code off} with leading dimension {@code ld}. */
  public static long at(Layout l, long off, int ld, int i, int j) {
    return l == Layout.ROW_MAJOR ? off + (long) i * ld + j : off + i + (long) j * ld;
  }

  /** Elements from a stored rows x cols matrix's first element to one past its last. */
  public static long span(Layout l, int rows, int cols, int ld) {
    if (rows == 0 || cols == 0) {
      return 0;
    }
    return l == Layout.ROW_MAJOR ? (long) (rows - 1) * ld + cols : (long) (cols - 1) * ld + rows;
  }

  /**
   * One random GEMM: shape, layout, transposes, padded leading dimensions, offsets into the
   * storage (views), scales, sometimes a strided batch; A and B fresh random, C random when
   * beta != 0 and NaN (poison) when beta = 0; padding, gaps and tails hold {@link #SENTINEL}.
   */
  public static final class GemmCase {
    public final DType dtype;
    public final Layout layout;
    public final boolean ta;
    public final boolean tb;
    public final int m;
    public final int n;
    public final int k;
    public final int lda;
    public final int ldb;
    public final int ldc;
    public final int batch;
    public final long strideA;
    public final long strideB;
    public final long strideC;
    public final double alpha;
    public final double beta;
    public final int offA;
    public final int offB;
    public final int offC;
    public final double[] a;
    public final double[] b;
    public final double[] c0;
    public final boolean[] inC;

    /**
     * @param rowMajorOnly row-major, one matrix, offsets 0 (the classic sgemm/dgemm calls)
     * @param maxDim largest m, n, k
     */
    public GemmCase(SplittableRandom r, DType dtype, boolean rowMajorOnly, int maxDim) {
      this.dtype = dtype;
      boolean f32 = dtype == DType.FLOAT32;
      layout = rowMajorOnly || r.nextBoolean() ? Layout.ROW_MAJOR : Layout.COLUMN_MAJOR;
      ta = r.nextBoolean();
      tb = r.nextBoolean();
      m = dim(r, maxDim);
      n = dim(r, maxDim);
      k = r.nextInt(100) == 0 ? 0 : dim(r, maxDim);
      batch = rowMajorOnly || r.nextInt(6) != 0 ? 1 : 2 + r.nextInt(2);
      alpha = r.nextInt(50) == 0 ? 0 : SCALES[r.nextInt(SCALES.length)];
      beta = r.nextInt(3) == 0 ? 0 : SCALES[r.nextInt(SCALES.length)];
      int aRows = ta ? k : m;
      int aCols = ta ? m : k;
      int bRows = tb ? n : k;
      int bCols = tb ? k : n;
      boolean rm = layout == Layout.ROW_MAJOR;
      lda = Math.max(1, rm ? aCols : aRows) + pad(r);
      ldb = Math.max(1, rm ? bCols : bRows) + pad(r);
      ldc = Math.max(1, rm ? n : m) + pad(r);
      long spanA = span(layout, aRows, aCols, lda);
      long spanB = span(layout, bRows, bCols, ldb);
      long spanC = span(layout, m, n, ldc);
      strideA = spanA + r.nextInt(4);
      strideB = spanB + r.nextInt(4);
      strideC = spanC + r.nextInt(4);
      offA = rowMajorOnly || r.nextBoolean() ? 0 : 1 + r.nextInt(7);
      offB = rowMajorOnly || r.nextBoolean() ? 0 : 1 + r.nextInt(7);
      offC = rowMajorOnly || r.nextBoolean() ? 0 : 1 + r.nextInt(7);
      a = storage(offA, strideA, spanA, r);
      b = storage(offB, strideB, spanB, r);
      c0 = storage(offC, strideC, spanC, r);
      java.util.Arrays.fill(a, SENTINEL);
      java.util.Arrays.fill(b, SENTINEL);
      java.util.Arrays.fill(c0, SENTINEL);
      inC = new boolean[c0.length];
      for (int q = 0; q < batch; q++) {
        for (int i = 0; i < aRows; i++) {
          for (int j = 0; j < aCols; j++) {
            a[(int) at(layout, offA + q * strideA, lda, i, j)] = value(r, f32);
          }
        }
        for (int i = 0; i < bRows; i++) {
          for (int j = 0; j < bCols; j++) {
            b[(int) at(layout, offB + q * strideB, ldb, i, j)] = value(r, f32);
          }
        }
        for (int i = 0; i < m; i++) {
          for (int j = 0; j < n; j++) {
            int p = (int) at(layout, offC + q * strideC, ldc, i, j);
            c0[p] = beta == 0 ? Double.NaN : value(r, f32);
            inC[p] = true;
          }
        }
      }
    }

    private static int dim(SplittableRandom r, int max) {
      // mostly small, sometimes up to max
      return r.nextInt(4) == 0 ? 1 + r.nextInt(max) : 1 + r.nextInt(Math.min(max, 16));
    }

    private static int pad(SplittableRandom r) {
      return r.nextBoolean() ? 0 : r.nextInt(4);
    }

    private double[] storage(int off, long stride, long span, SplittableRandom r) {
      long len = off + (span == 0 ? 0 : stride * (batch - 1) + span) + r.nextInt(3);
      return new double[(int) len];
    }

    public Gemm gemm() {
      Gemm g = Gemm.of(m, n, k).layout(layout).transA(ta).transB(tb).scale(alpha, beta);
      return batch > 1 ? g.batch(batch, strideA, strideB, strideC) : g;
    }

    private double opA(int q, int i, int p) {
      return ta ? a[(int) at(layout, offA + q * strideA, lda, p, i)]
          : a[(int) at(layout, offA + q * strideA, lda, i, p)];
    }

    private double opB(int q, int p, int j) {
      return tb ? b[(int) at(layout, offB + q * strideB, ldb, j, p)]
          : b[(int) at(layout, offB + q * strideB, ldb, p, j)];
    }

    /**
     * Checks C read back after the call: every element of the result within the error bound
     * of the float64 reference, every other element of C's storage unchanged.
     */
    public void check(double[] c, String what) {
      if (c.length != c0.length) {
        throw new AssertionError(what + ": C has " + c.length + " elements, expected " + c0.length);
      }
      double u = dtype == DType.FLOAT32 ? 0x1p-24 : 0x1p-53;
      for (int q = 0; q < batch; q++) {
        for (int i = 0; i < m; i++) {
          for (int j = 0; j < n; j++) {
            int pc = (int) at(layout, offC + q * strideC, ldc, i, j);
            double s = 0;
            double abs = 0;
            if (alpha != 0) {
              for (int p = 0; p < k; p++) {
                double x = opA(q, i, p) * opB(q, p, j);
                s += x;
                abs += Math.abs(x);
              }
            }
            double ref = alpha * s + (beta == 0 ? 0 : beta * c0[pc]);
            double bound = Math.abs(alpha) * abs + (beta == 0 ? 0 : Math.abs(beta * c0[pc]));
            double tol = 2 * (k + 3) * u * bound + 1e-300;
            if (!(Math.abs(c[pc] - ref) <= tol)) {
              throw new AssertionError(what + ": C(" + i + "," + j + ") of item " + q + " is "
                  + c[pc] + ", expected " + ref + " within " + tol + " [" + this + "]");
            }
          }
        }
      }
      for (int p = 0; p < c.length; p++) {
        if (!inC[p] && Double.compare(c[p], c0[p]) != 0) {
          throw new AssertionError(what + ": element " + p + " of C's storage outside the result "
              + "changed from " + c0[p] + " to " + c[p] + " [" + this + "]");
        }
      }
    }

    /** Checks that an input's storage, read back after the call, was not changed. */
    public static void checkUnchanged(double[] before, double[] after, String what) {
      for (int p = 0; p < before.length; p++) {
        if (Double.compare(before[p], after[p]) != 0) {
          throw new AssertionError(what + ": input element " + p + " changed from " + before[p]
              + " to " + after[p]);
        }
      }
    }

    @Override
    public String toString() {
      return dtype + " " + layout + " ta=" + ta + " tb=" + tb + " m=" + m + " n=" + n + " k=" + k
          + " lda=" + lda + " ldb=" + ldb + " ldc=" + ldc + " batch=" + batch + " strides="
          + strideA          + "/" + strideB + "/" + strideC + " alpha=" + alpha + " beta=" + beta + " offsets="
          + offA + "/" + offB + "/" + offC;
    }
  }

  // =============================================================== storage

  /** Copies a mirror into the start of a host array of its type. */
  public static void put(HostArray h, double[] mirror) {
    if (h.dtype() == DType.FLOAT32) {
      h.put(0, SoakCases.floats(mirror), 0, mirror.length);
    } else {
      h.put(0, mirror, 0, mirror.length);
    }
  }

  /** An operand over a Java array or a host array, from {@code offset}. */
  public static Operand operand(Object s, int offset) {
    if (s instanceof HostArray h) {
      return Operand.of(h, offset);
    }
    return s instanceof float[] f ? Operand.of(f, offset) : Operand.of((double[]) s, offset);
  }

  /** Reads storage back into a mirror. */
  public static double[] read(Object s) {
    if (s instanceof HostArray h) {
      double[] d = new double[(int) h.length()];
      if (h.dtype() == DType.FLOAT32) {
        float[] f = new float[d.length];
        h.get(0, f, 0, f.length);
        return SoakCases.doubles(f);
      }
      h.get(0, d, 0, d.length);
      return d;
    }
    return s instanceof float[] f ? SoakCases.doubles(f) : ((double[]) s).clone();
  }

  // =============================================================== reductions

  public static final ReduceOp[] SINGLE_OPS = {ReduceOp.SUM, ReduceOp.MEAN, ReduceOp.MIN, ReduceOp.MAX,
      ReduceOp.ARGMIN, ReduceOp.ARGMAX, ReduceOp.NORM2};

  /** A random vector of {@code len} values with {@link #SENTINEL} nowhere. */
  public static double[] vector(SplittableRandom r, int len, boolean f32) {
    double[] v = new double[len];
    for (int i = 0; i < len; i++) {
      v[i] = value(r, f32);
    }
    return v;
  }

  /**
   * The reference result of {@code op} over {@code count} elements {@code x[xo + t*stride]}
   * (and {@code y[yo + t*stride]} for DOT), with its error bound: {@code {value, tolerance}}.
   * Indices and MIN/MAX are exact (tolerance 0).
   *
   * @param f32Acc fp32 data accumulated in fp32 ({@link Accumulation#INPUT})
   * @param f32Out the result is stored as fp32
   */
  public static double[] reference(ReduceOp op, double[] x, long xo, double[] y, long yo, long count,
      long stride, boolean f32Acc, boolean f32Out) {
    double u = f32Acc && op.usesAccumulation() ? 0x1p-24 : 0x1p-53;
    double outU = f32Out ? 0x1p-24 : 0;
    double sum = 0;
    double abs = 0;
    double sq = 0;
    double best = Double.NaN;
    long bestAt = -1;
    for (long t = 0; t < count; t++) {
      double v = x[(int) (xo + t * stride)];
      switch (op) {
        case DOT -> {
          double p = v * y[(int) (yo + t * stride)];
          sum += p;
          abs += Math.abs(p);
        }
        case SUM, MEAN -> {
          sum += v;
          abs += Math.abs(v);
        }
        case NORM2 -> sq += v * v;
        case MIN, ARGMIN -> {
          if (bestAt < 0 || v < best) {
            best = v;
            bestAt = t;
          }
        }
        case MAX, ARGMAX -> {
          if (bestAt < 0 || v > best) {
            best = v;
            bestAt = t;
          }
        }
        default -> throw new IllegalArgumentException(op.toString());
      }
    }
    return switch (op) {
      case SUM, DOT -> new double[] {sum,
          2 * (count + 2) * u * abs + outU * Math.abs(sum) + 1e-300};
      case MEAN -> {
        double mean = sum / count;
        yield new double[] {mean, (2 * (count + 2) * u * abs) / count
            + (2 * u + outU) * Math.abs(mean) + 1e-300};
      }
      case NORM2 -> {
        double norm = Math.sqrt(sq);
        yield new double[] {norm, (4 * (count + 2) * 0x1p-53 + 2 * outU) * norm + 1e-300};
      }
      case MIN, MAX -> new double[] {f32Out ? (float) best : best, 0};
      case ARGMIN, ARGMAX -> new double[] {bestAt, 0};
    };
  }

  /** Fails unless {@code got} is within the reference's bound (exactly equal when it is 0). */
  public static void checkValue(String what, double got, double[] ref) {
    boolean ok = ref[1] == 0 ? got == ref[0] : Math.abs(got - ref[0]) <= ref[1];
    if (!ok) {
      throw new AssertionError(what + ": got " + got + ", expected " + ref[0]
          + (ref[1] == 0 ? " exactly" : " within " + ref[1]));
    }
  }

  /** A random matrix shape for per-row and per-column reductions (rows, cols >= 1). */
  public static Matrix matrix(SplittableRandom r, int maxDim) {
    int rows = 1 + r.nextInt(maxDim);
    int cols = 1 + r.nextInt(maxDim);
    int pad = r.nextBoolean() ? 0 : r.nextInt(4);
    return r.nextBoolean() ? Matrix.rowMajor(rows, cols, cols + pad)
        : Matrix.columnMajor(rows, cols, rows + pad);
  }

  /**
   * Reference for output {@code o} of a per-row ({@code perRow}) or per-column reduction of
   * {@code shape} stored from {@code xo} (and {@code yo}).
   */
  public static double[] matrixReference(ReduceOp op, double[] x, long xo, double[] y, long yo,
      Matrix shape, boolean perRow, long o, boolean f32Acc, boolean f32Out) {
    long len = perRow ? shape.cols() : shape.rows();
    long first = perRow ? shape.index(o, 0) : shape.index(0, o);
    long step = perRow ? shape.index(0, 1) : shape.index(1, 0);
    return reference(op, x, xo + first, y, yo + first, len, step, f32Acc, f32Out);
  }

  /** A matrix's storage: values inside the shape, {@link #SENTINEL} in its padding. */
  public static double[] matrixData(SplittableRandom r, Matrix shape, int off, boolean f32) {
    double[] d = new double[(int) (off + shape.span() + r.nextInt(3))];
    java.util.Arrays.fill(d, SENTINEL);
    for (long i = 0; i < shape.rows(); i++) {
      for (long j = 0; j < shape.cols(); j++) {
        d[(int) (off + shape.index(i, j))] = value(r, f32);
      }
    }
    return d;
  }

  /**
   * Random data for a per-row ({@code perRow}) or per-column reduction: {@code x} and {@code y}
   * hold {@code shape} from {@code xo} and {@code yo} ({@link #SENTINEL} in the padding), and the
   * {@code outputs} results go from {@code oo} of an output array.
   */
  public record MatrixCase(Matrix shape, boolean perRow, int xo, int yo, double[] x, double[] y,
      int outputs, int oo) {
    /**
     * Fails unless {@code out} holds the right result at each output and {@link #SENTINEL}
     * everywhere else; {@code what} names the case in the message.
     */
    public void check(String what, ReduceOp op, boolean f32Acc, boolean f32Out, double[] out) {
      for (int o = 0; o < out.length; o++) {
        if (o < oo || o >= oo + outputs) {
          if (Double.compare(out[o], SENTINEL) != 0) {
            throw new AssertionError(what + ": out[" + o + "] outside the outputs changed to "
                + out[o]);
          }
        } else {
          checkValue(what + " output " + (o - oo), out[o],
              matrixReference(op, x, xo, y, yo, shape, perRow, o - oo, f32Acc, f32Out));
        }
      }
    }

    /** The case in words: direction and shape. */
    public String describe() {
      return (perRow ? "per row " : "per column ") + shape;
    }
  }

  /** A random {@link MatrixCase} of at most {@code maxDim} rows and columns. */
  public static MatrixCase matrixCase(SplittableRandom r, int maxDim, boolean f32) {
    Matrix shape = matrix(r, maxDim);
    boolean perRow = r.nextBoolean();
    int xo = r.nextInt(8);
    int yo = r.nextInt(8);
    double[] x = matrixData(r, shape, xo, f32);
    double[] y = matrixData(r, shape, yo, f32);
    int outputs = (int) (perRow ? shape.rows() : shape.cols());
    return new MatrixCase(shape, perRow, xo, yo, x, y, outputs, r.nextInt(4));
  }

  /**
   * Random data for a reduction of {@code count} elements of {@code x} from {@code xo} (and of
   * {@code y} from {@code yo}).
   */
  public record VectorCase(int count, int xo, int yo, double[] x, double[] y) {
    /** The reference for the case ({@link #reference}), fp32-rounded when {@code f32Out}. */
    public double[] reference(ReduceOp op, boolean f32Acc, boolean f32Out) {
      return SoakCases.reference(op, x, xo, y, yo, count, 1, f32Acc, f32Out);
    }

    /** The case's reduction of Java arrays by {@code red}, on fp32 data when {@code f32}. */
    public double reduceArrays(Reduce red, ReduceOp op, boolean f32, Accumulation acc) {
      return ReduceCalls.whole(red, op, f32 ? floats(x) : x, xo, f32 ? floats(y) : y, yo, count,
          acc);
    }

    /** Fails unless {@code got} is the case's reduction within its bound. */
    public void check(String what, ReduceOp op, boolean f32Acc, double got) {
      checkValue(what + " n=" + count, got, reference(op, f32Acc, false));
    }
  }

  /**
   * A random {@link VectorCase} of 1 to 64 or 1 to {@code maxCount} elements; with {@code slack}
   * the arrays may run up to 2 elements past the range.
   */
  public static VectorCase vectorCase(SplittableRandom r, int maxCount, boolean slack,
      boolean f32) {
    int count = 1 + r.nextInt(r.nextBoolean() ? 64 : maxCount);
    int xo = r.nextInt(8);
    int yo = r.nextInt(8);
    double[] x = vector(r, xo + count + (slack ? r.nextInt(3) : 0), f32);
    double[] y = vector(r, yo + count + (slack ? r.nextInt(3) : 0), f32);
    return new VectorCase(count, xo, yo, x, y);
  }

  /** Whether accumulation {@code acc} makes fp32 data accumulate in fp32. */
  public static boolean f32Acc(boolean f32, Accumulation acc) {
    return f32 && acc == Accumulation.INPUT;
  }
}
