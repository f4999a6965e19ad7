/**
 * The benchmark harness behind {@code gpucore bench}: suites ({@link dev.gpucore.bench.suites.Suite},
 * registered in {@link dev.gpucore.bench.suites.Suites}), timing and statistics
 * ({@link dev.gpucore.bench.suites.Stats}), peers run side by side in the same process run
 * ({@link dev.gpucore.bench.suites.Peers}: PyTorch, OpenBLAS and nvBLAS from C, the CUDA runtime
 * from C), machine and GPU telemetry, and the outputs: a terminal table, JSON and an SVG chart.
 */
package dev.gpucore.bench.suites;
