package dev.gpucore.spi;

import dev.gpucore.DType;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.memory.GpuStream;

/**
 * A checked GEMM as backends receive it: always row-major (a column-major call arrives with
 * A and B, m and n swapped), precision resolved, every operand known to be large enough.
 *
 * @param transA A stored transposed
 * @param transB B stored transposed
 * @param m rows of C
 * @param n columns of C
 * @param k inner dimension
 * @param alpha product scale
 * @param beta C scale
 * @param precision resolved precision (never DEFAULT)
 * @param dtype element type of A and B (C's is {@code c.dtype()}: the same, or FLOAT32 for
 *     16-bit A and B)
 * @param a A
 * @param lda row-major leading dimension of A
 * @param b B
 * @param ldb leading dimension of B
 * @param c C
 * @param ldc leading dimension of C
 * @param batch number of GEMMs
 * @param strideA batch stride of A in elements
 * @param strideB batch stride of B
 * @param strideC batch stride of C
 * @param stream stream for device operands, or null (synchronous)
 * @param place where all three operands live, decided once when the call is checked
 */
public record GemmCall(boolean transA, boolean transB, int m, int n, int k, double alpha,
    double beta, Precision precision, DType dtype, Operand a, int lda, Operand b, int ldb,
    Operand c, int ldc, int batch, long strideA, long strideB, long strideC, GpuStream stream,
    Place place) {

  /** Where a checked call's operands live: all on one GPU, or all on the host. */
  public sealed interface Place permits OnDevice, OnHost {
    /** The place of operands of {@code kind} on {@code device} (-1 for the host). */
    static Place of(Operand.Kind kind, int device) {
      return kind == Operand.Kind.DEVICE ? new OnDevice(device) : OnHost.INSTANCE;
    }
  }

  /**
   * Device arrays of one GPU: the call runs there, queued on {@link #stream()} or synchronous.
   *
   * @param device the GPU's index
   */
  public record OnDevice(int device) implements Place {}

  /**
   * Java arrays and host arrays (mixed freely): the router sends the call to the CPU, or to
   * the GPU through device memory.
   */
  public enum OnHost implements Place {
    /** The one host place. */
    INSTANCE
  }

  /** Whether the operands are device arrays. */
  public boolean onDevice() {
    return place instanceof OnDevice;
  }

  /** Rows and columns of A as stored. */
  public int aRows() {
    return transA ? k : m;
  }

  /** Columns of A as stored. */
  public int aCols() {
    return transA ? m : k;
  }

  /** Rows of B as stored. */
  public int bRows() {
    return transB ? n : k;
  }

  /** Columns of B as stored. */
  public int bCols() {
    return transB ? k : n;
  }

  /** Elements one A matrix spans from its first element: {@code (rows-1)·ld + cols}. */
  public long spanA() {
    return span(aRows(), aCols(), lda);
  }

  /** Elements one B matrix spans. */
  public long spanB() {
    return span(bRows(), bCols(), ldb);
  }

  /** Elements one C matrix spans. */
  public long spanC() {
    return span(m, n, ldc);
  }

  static long span(int rows, int cols, int ld) {
    return spanOf(rows, cols, ld);
  }

  /** Elements a rows×cols row-major matrix with leading dimension ld spans. */
  public static long spanOf(int rows, int cols, int ld) {
    return rows == 0 || cols == 0 ? 0 : (long) (rows - 1) * ld + cols;
  }

  /** This call as a single GEMM (batch 1), for backends that loop over batch items. */
  public GemmCall single() {
    return batch == 1 ? this : new GemmCall(transA, transB, m, n, k, alpha, beta, precision,
        dtype, a, lda, b, ldb, c, ldc, 1, strideA, strideB, strideC, stream, place);
  }

  /**
   * This call's shape, scalars and first operands as a strided batch of {@code newBatch}
   * items, the item strides given in elements. For backends that found checked items lying at
   * these strides (each item's operands were checked on their own, perhaps in different
   * allocations): the strided call is valid for those addresses only.
   */
  public GemmCall strided(int newBatch, long newStrideA, long newStrideB, long newStrideC) {
    return new GemmCall(transA, transB, m, n, k, alpha, beta, precision, dtype, a, lda, b, ldb,
        c, ldc, newBatch, newStrideA, newStrideB, newStrideC, stream, place);
  }

  /** Floating-point operations, {@code 2·m·n·k·batch}. */
  public double flops() {
    return 2.0 * m * n * (double) k * batch;
  }

  /**
   * Whether a host-operand call can be split into row panels of A and C, whose size a backend
   * may shrink when device memory is short: one GEMM, A not transposed, a product to compute.
   */
  public boolean rowPanels() {
    return !transA && batch == 1 && !scaleOnly();
  }

  /** Whether the product term vanishes (k = 0 or alpha = 0): C = beta·C, A and B unread. */
  public boolean scaleOnly() {
    return k == 0 || alpha == 0;
  }

  /** The same call queued on {@code newStream} (null: synchronous). */
  public GemmCall on(GpuStream newStream) {
    return newStream == stream ? this : new GemmCall(transA, transB, m, n, k, alpha, beta,
        precision, dtype, a, lda, b, ldb, c, ldc, batch, strideA, strideB, strideC, newStream,
        place);
  }

  /** The same call on other operands (used to split work across devices and tiles). */
  public GemmCall with(int newM, Operand newA, Operand newC, int newBatch) {
    return new GemmCall(transA, transB, newM, n, k, alpha, beta, precision, dtype, newA, lda, b,
        ldb, newC, ldc, newBatch, strideA, strideB, strideC, stream, place);
  }
}
