package dev.gpucore.blas;

/**
 * How GEMMs on Java arrays reach the CPU's BLAS ({@link Blas#javaArrayPath()}; shown by
 * {@code gpucore doctor}).
 *
 * @param inPlace whether they run on the arrays themselves, without copies
 * @param degraded whether they are copied although configured to run in place (the JVM or
 *     the native glue does not allow it)
 * @param detail one line: the path, its limits, or why it is not taken
 */
public record JavaArrayPath(boolean inPlace, boolean degraded, String detail) {}
