package dev.gpucore.blas;

import dev.gpucore.Check;
import dev.gpucore.Layout;

/**
 * The shape and options of a GEMM, {@code C = alpha·op(A)·op(B) + beta·C}: {@code op(A)} is
 * m×k, {@code op(B)} is k×n, C is m×n. Immutable; each {@code with}-style method returns a copy.
 *
 * <pre>{@code
 * Gemm g = Gemm.of(m, n, k).transB(true).precision(Precision.TF32);
 * core.blas().gemm(g, Operand.of(a), lda, Operand.of(b), ldb, Operand.of(c), ldc);
 * }</pre>
 *
 * <p>Strided batches: {@link #batch(int, long, long, long)} runs {@code count} GEMMs with the
 * operands of batch {@code i} at {@code offset + i·stride}. Batch outputs must not overlap.
 *
 * @param m rows of op(A) and C
 * @param n columns of op(B) and C
 * @param k columns of op(A), rows of op(B)
 * @param layout storage order of all three matrices
 * @param transA whether A is stored transposed
 * @param transB whether B is stored transposed
 * @param alpha scale of the product
 * @param beta scale of C (0: C is not read, so it may hold NaN)
 * @param precision compute precision
 * @param batch number of GEMMs (1: a single one)
 * @param strideA elements between consecutive A matrices of a batch
 * @param strideB elements between consecutive B matrices
 * @param strideC elements between consecutive C matrices
 */
public record Gemm(int m, int n, int k, Layout layout, boolean transA, boolean transB,
    double alpha, double beta, Precision precision, int batch, long strideA, long strideB,
    long strideC) {

  /** Checks the values that need no operands. */
  public Gemm {
    Check.nonNegative(m, "m");
    Check.nonNegative(n, "n");
    Check.nonNegative(k, "k");
    Check.notNull(layout, "layout");
    Check.notNull(precision, "precision");
    Check.atLeast(batch, 1, "batch");
    Check.nonNegative(strideA, "strideA");
    Check.nonNegative(strideB, "strideB");
    Check.nonNegative(strideC, "strideC");
  }

  /** Row-major, no transposes, alpha 1, beta 0, default precision, one GEMM. */
  public static Gemm of(int m, int n, int k) {
    return new Gemm(m, n, k, Layout.ROW_MAJOR, false, false, 1, 0, Precision.DEFAULT, 1, 0, 0, 0);
  }

  /** With another layout. */
  public Gemm layout(Layout l) {
    return new Gemm(m, n, k, l, transA, transB, alpha, beta, precision, batch, strideA, strideB,
        strideC);
  }

  /** With A transposed or not. */
  public Gemm transA(boolean t) {
    return new Gemm(m, n, k, layout, t, transB, alpha, beta, precision, batch, strideA, strideB,
        strideC);
  }

  /** With B transposed or not. */
  public Gemm transB(boolean t) {
    return new Gemm(m, n, k, layout, transA, t, alpha, beta, precision, batch, strideA, strideB,
        strideC);
  }

  /** With alpha and beta. */
  public Gemm scale(double newAlpha, double newBeta) {
    return new Gemm(m, n, k, layout, transA, transB, newAlpha, newBeta, precision, batch, strideA,
        strideB, strideC);
  }

  /** With a compute precision. */
  public Gemm precision(Precision p) {
    return new Gemm(m, n, k, layout, transA, transB, alpha, beta, p, batch, strideA, strideB,
        strideC);
  }

  /** As a strided batch of {@code count} GEMMs. */
  public Gemm batch(int count, long sA, long sB, long sC) {
    return new Gemm(m, n, k, layout, transA, transB, alpha, beta, precision, count, sA, sB, sC);
  }

  /** Floating-point operations of the whole call, {@code 2·m·n·k·batch}. */
  public double flops() {
    return 2.0 * m * n * (double) k * batch;
  }
}
