package dev.gpucore.testkit;

/**
 * The shape of a GEMM case, {@code C(m×n) = op(A) op(B)} with {@code op(A)} m×k: the stored
 * rows and columns of A and B follow from the transposes. Test cases (records with these
 * components) implement it.
 */
public interface GemmShape {
  /** Whether A is stored transposed. */
  boolean ta();

  /** Whether B is stored transposed. */
  boolean tb();

  /** Rows of C. */
  int m();

  /** Columns of C. */
  int n();

  /** The inner dimension. */
  int k();

  /** Stored rows of A. */
  default int aRows() {
    return ta() ? k() : m();
  }

  /** Stored columns of A. */
  default int aCols() {
    return ta() ? m() : k();
  }

  /** Stored rows of B. */
  default int bRows() {
    return tb() ? n() : k();
  }

  /** Stored columns of B. */
  default int bCols() {
    return tb() ? k() : n();
  }
}
