/**
 * JMH benchmarks of gpucore's Java-side costs. Run them through {@link dev.gpucore.bench.BenchMain}
 * (the jar's main class), which skips the GPU benchmarks, saying why, where no GPU is visible.
 */
package dev.gpucore.bench;
