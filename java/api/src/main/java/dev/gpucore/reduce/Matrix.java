package dev.gpucore.reduce;

import dev.gpucore.Check;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Layout;

/**
 * Shape and storage of a matrix for per-row and per-column reductions: {@code rows x cols}
 * elements, stored row by row ({@link Layout#ROW_MAJOR}: element (i, j) at {@code i*ld + j}) or
 * column by column ({@link Layout#COLUMN_MAJOR}: at {@code i + j*ld}), from an array offset
 * given with the call. The leading dimension {@code ld} is at least {@code max(1, cols)} for
 * row-major and {@code max(1, rows)} for column-major storage (as in BLAS).
 *
 * @param rows number of rows, {@code >= 0}
 * @param cols number of columns, {@code >= 0}
 * @param ld leading dimension (elements between the starts of consecutive rows, for row-major
 *     storage, or columns, for column-major)
 * @param layout storage order
 */
public record Matrix(long rows, long cols, long ld, Layout layout) {
  /** Checks the shape. */
  public Matrix {
    Check.nonNegative(rows, "rows");
    Check.nonNegative(cols, "cols");
    Check.notNull(layout, "layout");
    long inner = layout == Layout.ROW_MAJOR ? cols : rows;
    if (ld < Math.max(1, inner)) {
      throw new GpuCoreException.InvalidArgument("ld must be >= max(1, "
          + (layout == Layout.ROW_MAJOR ? "cols" : "rows") + ") = " + Math.max(1, inner)
          + " for " + layout + ", got " + ld);
    }
    long outer = layout == Layout.ROW_MAJOR ? rows : cols;
    if (outer > 0 && inner > 0) {
      Check.multiply(outer - 1, ld, "matrix extent");
      if ((outer - 1) * ld > Long.MAX_VALUE - inner) {
        throw new GpuCoreException.InvalidArgument("matrix extent overflows a 64-bit count");
      }
    }
  }

  /** A dense row-major matrix ({@code ld = max(1, cols)}). */
  public static Matrix rowMajor(long rows, long cols) {
    return new Matrix(rows, cols, Math.max(1, cols), Layout.ROW_MAJOR);
  }

  /** A row-major matrix with leading dimension {@code ld}. */
  public static Matrix rowMajor(long rows, long cols, long ld) {
    return new Matrix(rows, cols, ld, Layout.ROW_MAJOR);
  }

  /** A dense column-major matrix ({@code ld = max(1, rows)}). */
  public static Matrix columnMajor(long rows, long cols) {
    return new Matrix(rows, cols, Math.max(1, rows), Layout.COLUMN_MAJOR);
  }

  /** A column-major matrix with leading dimension {@code ld}. */
  public static Matrix columnMajor(long rows, long cols, long ld) {
    return new Matrix(rows, cols, ld, Layout.COLUMN_MAJOR);
  }

  /** Number of elements from the first to one past the last stored element (0 when empty). */
  public long span() {
    long outer = layout == Layout.ROW_MAJOR ? rows : cols;
    long inner = layout == Layout.ROW_MAJOR ? cols : rows;
    return outer == 0 || inner == 0 ? 0 : (outer - 1) * ld + inner;
  }

  /** Offset of element (i, j) from the matrix's first element. */
  public long index(long i, long j) {
    return layout == Layout.ROW_MAJOR ? i * ld + j : i + j * ld;
  }
}
