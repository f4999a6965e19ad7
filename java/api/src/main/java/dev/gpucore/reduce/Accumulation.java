package dev.gpucore.reduce;

/**
 * Precision of the running sums of {@link ReduceOp#SUM}, {@link ReduceOp#MEAN} and
 * {@link ReduceOp#DOT} over fp32 data. fp64 data is always accumulated in fp64, and
 * {@link ReduceOp#NORM2} of fp32 data always squares and sums in fp64 (which can neither
 * overflow nor underflow for fp32 data); the other operations do no arithmetic.
 */
public enum Accumulation {
  /** In the input's precision: fp32 running sums for fp32 data; the result is an fp32 value. */
  INPUT,
  /** In fp64: each fp32 element (or product) is added exactly to fp64 running sums; the result
   * is the fp64 sum, not rounded to fp32. The default. */
  FP64
}
