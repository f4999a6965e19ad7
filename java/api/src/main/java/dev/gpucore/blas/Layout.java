package dev.gpucore.blas;

/** Storage order of a GEMM's matrices (one order for all three). */
public enum Layout {
  /** Element (i, j) at {@code i * ld + j}: C, Java and NumPy's default. */
  ROW_MAJOR,
  /** Element (i, j) at {@code i + j * ld}: Fortran BLAS and cuBLAS's order. */
  COLUMN_MAJOR
}
