package dev.gpucore.reduce;

/**
 * The reductions {@link Reduce} offers. Semantics (the same on every backend) are described on
 * {@link Reduce}.
 */
public enum ReduceOp {
  /** Sum of the elements; 0 for an empty range. */
  SUM,
  /** Sum divided by the count, in the accumulation type; undefined (rejected) for an empty range. */
  MEAN,
  /** Smallest element; NaN when any element is NaN; rejected for an empty range. */
  MIN,
  /** Largest element; NaN when any element is NaN; rejected for an empty range. */
  MAX,
  /** Index of the first smallest element, or of the first NaN; rejected for an empty range. */
  ARGMIN,
  /** Index of the first largest element, or of the first NaN; rejected for an empty range. */
  ARGMAX,
  /** Euclidean norm without overflow or underflow in the intermediates; 0 for an empty range. */
  NORM2,
  /** Sum of the products of two operands (the {@code dot} methods); 0 for an empty range. */
  DOT;

  /** Whether the result is an element index (ARGMIN, ARGMAX) rather than a value. */
  public boolean isIndex() {
    return this == ARGMIN || this == ARGMAX;
  }

  /** Whether an empty range has a result (SUM, NORM2, DOT: 0) instead of being rejected. */
  public boolean definedOnEmpty() {
    return this == SUM || this == NORM2 || this == DOT;
  }

  /** Whether {@link Accumulation} applies (SUM, MEAN, DOT of fp32 data). */
  public boolean usesAccumulation() {
    return this == SUM || this == MEAN || this == DOT;
  }
}
