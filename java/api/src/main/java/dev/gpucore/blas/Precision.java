package dev.gpucore.blas;

/**
 * Compute precision of a GEMM. Operands keep their storage type; the precision says how the
 * products are formed. The CPU backend computes every fp32 precision in strict fp32 (at least
 * as accurate as asked).
 *
 * <table>
 *   <caption>Precisions, their cuBLAS compute type, and the error bound gpucore tests them to
 *   (relative Frobenius error against a float64 reference)</caption>
 *   <tr><th>precision</th><th>operands</th><th>cuBLAS</th><th>bound</th></tr>
 *   <tr><td>DEFAULT</td><td>any</td><td>FP32 for float32, FP64 for float64</td><td></td></tr>
 *   <tr><td>FP32</td><td>float32</td><td>CUBLAS_COMPUTE_32F (pedantic-free, no tensor-core rounding)</td><td>1e-5·√k</td></tr>
 *   <tr><td>TF32</td><td>float32</td><td>CUBLAS_COMPUTE_32F_FAST_TF32</td><td>1e-3</td></tr>
 *   <tr><td>BF16</td><td>float32</td><td>CUBLAS_COMPUTE_32F_FAST_16BF (fp32 accumulate)</td><td>1e-2</td></tr>
 *   <tr><td>FP16</td><td>float32</td><td>CUBLAS_COMPUTE_32F_FAST_16F (fp32 accumulate)</td><td>1e-2</td></tr>
 *   <tr><td>FP64</td><td>float64</td><td>CUBLAS_COMPUTE_64F</td><td>1e-13·√k</td></tr>
 * </table>
 */
public enum Precision {
  /** FP32 for float32 operands, FP64 for float64 operands. */
  DEFAULT,
  /** Strict single precision. */
  FP32,
  /** TensorFloat-32 products (10-bit mantissa inputs), fp32 accumulate. */
  TF32,
  /** bfloat16 products, fp32 accumulate. */
  BF16,
  /** IEEE half products, fp32 accumulate. */
  FP16,
  /** Double precision. */
  FP64
}
