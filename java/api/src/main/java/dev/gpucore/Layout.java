package dev.gpucore;

/**
 * Storage order of a matrix, for GEMM operands ({@code dev.gpucore.blas.Gemm}) and reduction
 * shapes ({@code dev.gpucore.reduce.Matrix}) alike.
 */
public enum Layout {
  /** Element (i, j) at {@code i * ld + j}: rows are contiguous (C, Java and NumPy's default). */
  ROW_MAJOR,
  /** Element (i, j) at {@code i + j * ld}: columns are contiguous (Fortran BLAS and cuBLAS). */
  COLUMN_MAJOR
}
