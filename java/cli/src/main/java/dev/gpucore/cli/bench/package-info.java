/**
 * The benchmark harness behind {@code gpucore bench}: suites ({@link dev.gpucore.cli.bench.Suite},
 * registered in {@link dev.gpucore.cli.bench.Suites}), timing and statistics
 * ({@link dev.gpucore.cli.bench.Stats}), peers run side by side in the same process run
 * ({@link dev.gpucore.cli.bench.Peers}: PyTorch, OpenBLAS and nvBLAS from C, the CUDA runtime
 * from C), machine and GPU telemetry, and the outputs: a terminal table, JSON and an SVG chart.
 */
package dev.gpucore.cli.bench;
