package dev.gpucore.cpu;

import dev.gpucore.DType;
import dev.gpucore.Layout;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.HostArray;
import dev.gpucore.reduce.Accumulation;
import dev.gpucore.reduce.Matrix;
import dev.gpucore.reduce.ReduceOp;
import dev.gpucore.spi.ReduceOps;

/**
 * Reductions on the CPU, in Java, with the semantics written down on
 * {@link dev.gpucore.reduce.Reduce}.
 *
 * <p>Every operation is an accumulator ({@link Acc}) fed with contiguous segments in increasing
 * index order. An accumulator's result does not depend on how the elements were cut into
 * segments (sums keep four partial sums chosen by the element's global index modulo 4), so a
 * {@link HostArray} read in chunks, a Java array read in one go and a matrix column gathered
 * block by block all give bitwise the same result as the same elements in one array.
 */
final class CpuReduce implements ReduceOps {
  /** Elements per chunk copied out of a HostArray. */
  static final int CHUNK = 8192;
  /** Columns per block and rows per block when gathering strided vectors. */
  static final int BLOCK_COLS = 64;
  static final int BLOCK_ROWS = 1024;

  // =============================================================== SPI

  @Override
  public double reduceHost(ReduceOp op, Accumulation acc, Object x, long xOffset, Object y,
      long yOffset, long count) {
    Acc a = Acc.of(op, acc, isFloat(x));
    feed(a, x, xOffset, y, yOffset, count, 0, new Scratch());
    return a.result(count);
  }

  @Override
  public void reduceHostMatrix(ReduceOp op, Accumulation acc, Object x, long xOffset, Object y,
      long yOffset, Matrix m, boolean perRow, Object out, long outOffset) {
    boolean f32 = isFloat(x);
    long outputs = perRow ? m.rows() : m.cols();
    long len = perRow ? m.cols() : m.rows();
    // in memory: contiguous vectors (result k reduces x[k*ld + i]) or strided ones (x[i*ld + k])
    boolean contiguous = perRow == (m.layout() == Layout.ROW_MAJOR);
    long ld = m.ld();
    Scratch sc = new Scratch();
    Output o = new Output(out, outOffset);
    if (contiguous) {
      Acc a = Acc.of(op, acc, f32);
      for (long k = 0; k < outputs; k++) {
        a.reset();
        feed(a, x, xOffset + k * ld, y, yOffset + k * ld, len, 0, sc);
        o.put(k, a.result(len));
      }
    } else {
      Acc[] accs = new Acc[BLOCK_COLS];
      for (int c = 0; c < accs.length; c++) {
        accs[c] = Acc.of(op, acc, f32);
      }
      for (long k0 = 0; k0 < outputs; k0 += BLOCK_COLS) {
        int bc = (int) Math.min(BLOCK_COLS, outputs - k0);
        for (int c = 0; c < bc; c++) {
          accs[c].reset();
        }
        for (long i0 = 0; i0 < len; i0 += BLOCK_ROWS) {
          int br = (int) Math.min(BLOCK_ROWS, len - i0);
          sc.gather(x, xOffset + i0 * ld + k0, ld, br, bc, false);
          if (y != null) {
            sc.gather(y, yOffset + i0 * ld + k0, ld, br, bc, true);
          }
          for (int c = 0; c < bc; c++) {
            if (f32) {
              accs[c].add(sc.gx, c * br, y == null ? null : sc.gy, c * br, br, i0);
            } else {
              accs[c].add(sc.gdx, c * br, y == null ? null : sc.gdy, c * br, br, i0);
            }
          }
        }
        for (int c = 0; c < bc; c++) {
          o.put(k0 + c, accs[c].result(len));
        }
      }
    }
    o.flush();
  }

  @Override
  public double reduceDevice(ReduceOp op, Accumulation acc, DeviceArray x, long xOffset,
      DeviceArray y, long yOffset, long count, GpuStream stream) {
    throw new UnsupportedOperationException("the CPU backend has no device arrays");
  }

  @Override
  public void reduceDeviceInto(ReduceOp op, Accumulation acc, DeviceArray x, long xOffset,
      DeviceArray y, long yOffset, long count, DeviceArray out, long outOffset,
      GpuStream stream) {
    throw new UnsupportedOperationException("the CPU backend has no device arrays");
  }

  @Override
  public void reduceDeviceMatrix(ReduceOp op, Accumulation acc, DeviceArray x, long xOffset,
      DeviceArray y, long yOffset, Matrix shape, boolean perRow, DeviceArray out,
      long outOffset, GpuStream stream) {
    throw new UnsupportedOperationException("the CPU backend has no device arrays");
  }

  // =============================================================== data access

  private static boolean isFloat(Object x) {
    if (x instanceof float[]) {
      return true;
    }
    if (x instanceof double[]) {
      return false;
    }
    return ((HostArray) x).dtype() == DType.FLOAT32;
  }

  /** Feeds {@code count} elements from the offsets to {@code a}; indices start at {@code base}. */
  private static void feed(Acc a, Object x, long xOffset, Object y, long yOffset, long count,
      long base, Scratch sc) {
    if (x instanceof float[] fx) {
      a.add(fx, (int) xOffset, (float[]) y, (int) yOffset, (int) count, base);
    } else if (x instanceof double[] dx) {
      a.add(dx, (int) xOffset, (double[]) y, (int) yOffset, (int) count, base);
    } else {
      HostArray hx = (HostArray) x;
      HostArray hy = (HostArray) y;
      boolean f32 = hx.dtype() == DType.FLOAT32;
      for (long c = 0; c < count; c += CHUNK) {
        int n = (int) Math.min(CHUNK, count - c);
        if (f32) {
          hx.get(xOffset + c, sc.fx(), 0, n);
          if (hy != null) {
            hy.get(yOffset + c, sc.fy(), 0, n);
          }
          a.add(sc.fx, 0, hy == null ? null : sc.fy, 0, n, base + c);
        } else {
          hx.get(xOffset + c, sc.dx(), 0, n);
          if (hy != null) {
            hy.get(yOffset + c, sc.dy(), 0, n);
          }
          a.add(sc.dx, 0, hy == null ? null : sc.dy, 0, n, base + c);
        }
      }
    }
  }

  /** Per-call scratch buffers. */
  private static final class Scratch {
    float[] fx;
    float[] fy;
    double[] dx;
    double[] dy;
    // gathered block, column by column: element (i, c) at c * rows + i
    float[] gx;
    float[] gy;
    double[] gdx;
    double[] gdy;
    float[] rowF;
    double[] rowD;

    float[] fx() {
      return fx != null ? fx : (fx = new float[CHUNK]);
    }

    float[] fy() {
      return fy != null ? fy : (fy = new float[CHUNK]);
    }

    double[] dx() {
      return dx != null ? dx : (dx = new double[CHUNK]);
    }

    double[] dy() {
      return dy != null ? dy : (dy = new double[CHUNK]);
    }

    /**
     * Copies {@code rows x cols} elements at {@code src[offset + i*ld + c]} into the gather
     * buffer (x or, with {@code second}, y) at {@code c * rows + i}.
     */
    void gather(Object src, long offset, long ld, int rows, int cols, boolean second) {
      int size = BLOCK_ROWS * BLOCK_COLS;
      if (src instanceof float[] || (src instanceof HostArray h && h.dtype() == DType.FLOAT32)) {
        float[] g;
        if (second) {
          g = gy != null ? gy : (gy = new float[size]);
        } else {
          g = gx != null ? gx : (gx = new float[size]);
        }
        if (src instanceof float[] a) {
          for (int i = 0; i < rows; i++) {
            int at = (int) (offset + i * ld);
            for (int c = 0; c < cols; c++) {
              g[c * rows + i] = a[at + c];
            }
          }
        } else {
          HostArray h = (HostArray) src;
          float[] row = rowF != null ? rowF : (rowF = new float[BLOCK_COLS]);
          for (int i = 0; i < rows; i++) {
            h.get(offset + i * ld, row, 0, cols);
            for (int c = 0; c < cols; c++) {
              g[c * rows + i] = row[c];
            }
          }
        }
      } else {
        double[] g;
        if (second) {
          g = gdy != null ? gdy : (gdy = new double[size]);
        } else {
          g = gdx != null ? gdx : (gdx = new double[size]);
        }
        if (src instanceof double[] a) {
          for (int i = 0; i < rows; i++) {
            int at = (int) (offset + i * ld);
            for (int c = 0; c < cols; c++) {
              g[c * rows + i] = a[at + c];
            }
          }
        } else {
          HostArray h = (HostArray) src;
          double[] row = rowD != null ? rowD : (rowD = new double[BLOCK_COLS]);
          for (int i = 0; i < rows; i++) {
            h.get(offset + i * ld, row, 0, cols);
            for (int c = 0; c < cols; c++) {
              g[c * rows + i] = row[c];
            }
          }
        }
      }
    }
  }

  /** Results of a matrix reduction, into a double[] or (in chunks) a HostArray. */
  private static final class Output {
    private final double[] array;
    private final HostArray host;
    private final long offset;
    private double[] buf;
    private float[] fbuf;
    private long bufStart;
    private int filled;

    Output(Object out, long offset) {
      this.array = out instanceof double[] d ? d : null;
      this.host = out instanceof HostArray h ? h : null;
      this.offset = offset;
    }

    void put(long k, double v) {
      if (array != null) {
        array[(int) (offset + k)] = v;
        return;
      }
      if (buf == null) {
        buf = new double[CHUNK];
        bufStart = k;
      }
      if (filled == CHUNK) {
        flush();
        bufStart = k;
      }
      buf[filled++] = v;
    }

    void flush() {
      if (host == null || filled == 0) {
        return;
      }
      if (host.dtype() == DType.FLOAT64) {
        host.put(offset + bufStart, buf, 0, filled);
      } else {
        if (fbuf == null) {
          fbuf = new float[CHUNK];
        }
        for (int i = 0; i < filled; i++) {
          fbuf[i] = (float) buf[i];
        }
        host.put(offset + bufStart, fbuf, 0, filled);
      }
      filled = 0;
    }
  }

  // =============================================================== accumulators

  /** One reduction, fed segment by segment in increasing index order. */
  abstract static class Acc {
    /** Adds {@code len} elements from the offsets (y null unless DOT); index of the first. */
    abstract void add(float[] x, int xo, float[] y, int yo, int len, long index);

    abstract void add(double[] x, int xo, double[] y, int yo, int len, long index);

    /** The value (or index, as a double) after {@code n} elements. */
    abstract double result(long n);

    abstract void reset();

    static Acc of(ReduceOp op, Accumulation acc, boolean f32) {
      switch (op) {
        case SUM:
        case MEAN:
        case DOT:
          return f32 && acc == Accumulation.INPUT ? new Sum32(op == ReduceOp.MEAN)
              : new Sum64(op == ReduceOp.MEAN);
        case MIN:
          return new MinMax(false);
        case MAX:
          return new MinMax(true);
        case ARGMIN:
          return new Arg(false);
        case ARGMAX:
          return new Arg(true);
        case NORM2:
          return f32 ? new Norm32() : new Norm64();
        default:
          throw new IllegalArgumentException(String.valueOf(op));
      }
    }
  }

  /** Sum (or dot, when y is given) in four fp64 partial sums, by global index mod 4. */
  static final class Sum64 extends Acc {
    private final boolean mean;
    private double s0;
    private double s1;
    private double s2;
    private double s3;

    Sum64(boolean mean) {
      this.mean = mean;
    }

    private void lane(long i, double v) {
      switch ((int) (i & 3)) {
        case 0 -> s0 += v;
        case 1 -> s1 += v;
        case 2 -> s2 += v;
        default -> s3 += v;
      }
    }

    @Override
    void add(float[] x, int xo, float[] y, int yo, int len, long index) {
      int k = 0;
      for (; k < len && ((index + k) & 3) != 0; k++) {
        lane(index + k, y == null ? x[xo + k] : (double) x[xo + k] * y[yo + k]);
      }
      if (y == null) {
        for (; k + 3 < len; k += 4) {
          s0 += x[xo + k];
          s1 += x[xo + k + 1];
          s2 += x[xo + k + 2];
          s3 += x[xo + k + 3];
        }
      } else {
        // a product of two floats is exact in double
        for (; k + 3 < len; k += 4) {
          s0 += (double) x[xo + k] * y[yo + k];
          s1 += (double) x[xo + k + 1] * y[yo + k + 1];
          s2 += (double) x[xo + k + 2] * y[yo + k + 2];
          s3 += (double) x[xo + k + 3] * y[yo + k + 3];
        }
      }
      for (; k < len; k++) {
        lane(index + k, y == null ? x[xo + k] : (double) x[xo + k] * y[yo + k]);
      }
    }

    @Override
    void add(double[] x, int xo, double[] y, int yo, int len, long index) {
      int k = 0;
      for (; k < len && ((index + k) & 3) != 0; k++) {
        if (y == null) {
          lane(index + k, x[xo + k]);
        } else {
          fmaLane(index + k, x[xo + k], y[yo + k]);
        }
      }
      if (y == null) {
        for (; k + 3 < len; k += 4) {
          s0 += x[xo + k];
          s1 += x[xo + k + 1];
          s2 += x[xo + k + 2];
          s3 += x[xo + k + 3];
        }
      } else {
        for (; k + 3 < len; k += 4) {
          s0 = Math.fma(x[xo + k], y[yo + k], s0);
          s1 = Math.fma(x[xo + k + 1], y[yo + k + 1], s1);
          s2 = Math.fma(x[xo + k + 2], y[yo + k + 2], s2);
          s3 = Math.fma(x[xo + k + 3], y[yo + k + 3], s3);
        }
      }
      for (; k < len; k++) {
        if (y == null) {
          lane(index + k, x[xo + k]);
        } else {
          fmaLane(index + k, x[xo + k], y[yo + k]);
        }
      }
    }

    private void fmaLane(long i, double a, double b) {
      switch ((int) (i & 3)) {
        case 0 -> s0 = Math.fma(a, b, s0);
        case 1 -> s1 = Math.fma(a, b, s1);
        case 2 -> s2 = Math.fma(a, b, s2);
        default -> s3 = Math.fma(a, b, s3);
      }
    }

    @Override
    double result(long n) {
      double s = (s0 + s1) + (s2 + s3);
      return mean ? s / n : s;
    }

    @Override
    void reset() {
      s0 = s1 = s2 = s3 = 0;
    }
  }

  /** fp32 sum (or dot) in four fp32 partial sums, by global index mod 4. */
  static final class Sum32 extends Acc {
    private final boolean mean;
    private float s0;
    private float s1;
    private float s2;
    private float s3;

    Sum32(boolean mean) {
      this.mean = mean;
    }

    private void lane(long i, float v) {
      switch ((int) (i & 3)) {
        case 0 -> s0 += v;
        case 1 -> s1 += v;
        case 2 -> s2 += v;
        default -> s3 += v;
      }
    }

    private void fmaLane(long i, float a, float b) {
      switch ((int) (i & 3)) {
        case 0 -> s0 = Math.fma(a, b, s0);
        case 1 -> s1 = Math.fma(a, b, s1);
        case 2 -> s2 = Math.fma(a, b, s2);
        default -> s3 = Math.fma(a, b, s3);
      }
    }

    @Override
    void add(float[] x, int xo, float[] y, int yo, int len, long index) {
      int k = 0;
      for (; k < len && ((index + k) & 3) != 0; k++) {
        if (y == null) {
          lane(index + k, x[xo + k]);
        } else {
          fmaLane(index + k, x[xo + k], y[yo + k]);
        }
      }
      if (y == null) {
        for (; k + 3 < len; k += 4) {
          s0 += x[xo + k];
          s1 += x[xo + k + 1];
          s2 += x[xo + k + 2];
          s3 += x[xo + k + 3];
        }
      } else {
        for (; k + 3 < len; k += 4) {
          s0 = Math.fma(x[xo + k], y[yo + k], s0);
          s1 = Math.fma(x[xo + k + 1], y[yo + k + 1], s1);
          s2 = Math.fma(x[xo + k + 2], y[yo + k + 2], s2);
          s3 = Math.fma(x[xo + k + 3], y[yo + k + 3], s3);
        }
      }
      for (; k < len; k++) {
        if (y == null) {
          lane(index + k, x[xo + k]);
        } else {
          fmaLane(index + k, x[xo + k], y[yo + k]);
        }
      }
    }

    @Override
    void add(double[] x, int xo, double[] y, int yo, int len, long index) {
      throw new IllegalStateException("fp32 accumulation of fp64 data");
    }

    @Override
    double result(long n) {
      float s = (s0 + s1) + (s2 + s3);
      return mean ? s / (float) n : s;
    }

    @Override
    void reset() {
      s0 = s1 = s2 = s3 = 0;
    }
  }

  /** Min or max; NaN is sticky. */
  static final class MinMax extends Acc {
    private final boolean max;
    private double m;
    private boolean nan;

    MinMax(boolean max) {
      this.max = max;
      reset();
    }

    @Override
    void add(float[] x, int xo, float[] y, int yo, int len, long index) {
      if (nan) {
        return;
      }
      double m = this.m;
      int end = xo + len;
      if (max) {
        for (int i = xo; i < end; i++) {
          float v = x[i];
          if (v > m) {
            m = v;
          } else if (v != v) {
            nan = true;
            return;
          }
        }
      } else {
        for (int i = xo; i < end; i++) {
          float v = x[i];
          if (v < m) {
            m = v;
          } else if (v != v) {
            nan = true;
            return;
          }
        }
      }
      this.m = m;
    }

    @Override
    void add(double[] x, int xo, double[] y, int yo, int len, long index) {
      if (nan) {
        return;
      }
      double m = this.m;
      int end = xo + len;
      if (max) {
        for (int i = xo; i < end; i++) {
          double v = x[i];
          if (v > m) {
            m = v;
          } else if (v != v) {
            nan = true;
            return;
          }
        }
      } else {
        for (int i = xo; i < end; i++) {
          double v = x[i];
          if (v < m) {
            m = v;
          } else if (v != v) {
            nan = true;
            return;
          }
        }
      }
      this.m = m;
    }

    @Override
    double result(long n) {
      return nan ? Double.NaN : m;
    }

    @Override
    void reset() {
      m = max ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
      nan = false;
    }
  }

  /** Index of the first min/max, or of the first NaN. */
  static final class Arg extends Acc {
    private final boolean max;
    private double best;
    private long at;
    private boolean nan;

    Arg(boolean max) {
      this.max = max;
      reset();
    }

    @Override
    void add(float[] x, int xo, float[] y, int yo, int len, long index) {
      if (nan || len == 0) {
        return;
      }
      int k = 0;
      if (at < 0) {
        best = x[xo];
        at = index;
        if (best != best) {
          nan = true;
          return;
        }
        k = 1;
      }
      double b = best;
      long a = at;
      for (; k < len; k++) {
        float v = x[xo + k];
        if (max ? v > b : v < b) {
          b = v;
          a = index + k;
        } else if (v != v) {
          nan = true;
          a = index + k;
          break;
        }
      }
      best = b;
      at = a;
    }

    @Override
    void add(double[] x, int xo, double[] y, int yo, int len, long index) {
      if (nan || len == 0) {
        return;
      }
      int k = 0;
      if (at < 0) {
        best = x[xo];
        at = index;
        if (best != best) {
          nan = true;
          return;
        }
        k = 1;
      }
      double b = best;
      long a = at;
      for (; k < len; k++) {
        double v = x[xo + k];
        if (max ? v > b : v < b) {
          b = v;
          a = index + k;
        } else if (v != v) {
          nan = true;
          a = index + k;
          break;
        }
      }
      best = b;
      at = a;
    }

    @Override
    double result(long n) {
      return at;
    }

    @Override
    void reset() {
      best = 0;
      at = -1;
      nan = false;
    }
  }

  /** fp32 norm: squares summed in fp64 (four partial sums by index mod 4); no scaling needed. */
  static final class Norm32 extends Acc {
    private final Sum64 sum = new Sum64(false);

    @Override
    void add(float[] x, int xo, float[] y, int yo, int len, long index) {
      sum.add(x, xo, x, xo, len, index);
    }

    @Override
    void add(double[] x, int xo, double[] y, int yo, int len, long index) {
      throw new IllegalStateException("fp32 norm of fp64 data");
    }

    @Override
    double result(long n) {
      return Math.sqrt(sum.result(n));
    }

    @Override
    void reset() {
      sum.reset();
    }
  }

  /**
   * fp64 norm: Blue's algorithm with LAPACK 3.10 dnrm2's constants (tsml = 2^-511,
   * tbig = 2^486, ssml = 2^537, sbig = 2^-538): three sums of scaled squares, combined at the end.
   */
  static final class Norm64 extends Acc {
    static final double TSML = 0x1p-511;
    static final double TBIG = 0x1p486;
    static final double SSML = 0x1p537;
    static final double SBIG = 0x1p-538;
    private double big;
    private double med;
    private double sml;

    @Override
    void add(float[] x, int xo, float[] y, int yo, int len, long index) {
      throw new IllegalStateException("fp64 norm of fp32 data");
    }

    @Override
    void add(double[] x, int xo, double[] y, int yo, int len, long index) {
      double b = big;
      double m = med;
      double s = sml;
      int end = xo + len;
      for (int i = xo; i < end; i++) {
        double ax = Math.abs(x[i]);
        if (ax > TBIG) {
          double t = ax * SBIG;
          b = Math.fma(t, t, b);
        } else if (ax < TSML) {
          double t = ax * SSML;
          s = Math.fma(t, t, s);
        } else {
          m = Math.fma(ax, ax, m); // NaN lands here
        }
      }
      big = b;
      med = m;
      sml = s;
    }

    @Override
    double result(long n) {
      return combine(big, med, sml);
    }

    static double combine(double abig, double amed, double asml) {
      double scl;
      double sumsq;
      if (abig > 0) {
        if (amed > 0 || amed != amed) {
          abig += (amed * SBIG) * SBIG;
        }
        scl = 1 / SBIG;
        sumsq = abig;
      } else if (asml > 0) {
        if (amed > 0 || amed != amed) {
          amed = Math.sqrt(amed);
          asml = Math.sqrt(asml) / SSML;
          double ymin = asml > amed ? amed : asml;
          double ymax = asml > amed ? asml : amed;
          scl = 1;
          double q = ymin / ymax;
          sumsq = ymax * ymax * (1 + q * q);
        } else {
          scl = 1 / SSML;
          sumsq = asml;
        }
      } else {
        scl = 1;
        sumsq = amed;
      }
      return scl * Math.sqrt(sumsq);
    }

    @Override
    void reset() {
      big = med = sml = 0;
    }
  }
}
