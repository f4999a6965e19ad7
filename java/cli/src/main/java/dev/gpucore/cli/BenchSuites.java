package dev.gpucore.cli;

import java.io.PrintWriter;
import java.util.List;

/**
 * The benchmark suites behind {@code gpucore bench}, found through {@link java.util.ServiceLoader}.
 * The CLI carries no benchmark: the {@code gpucore-bench-suites} jar provides this service, and
 * {@code gpucore bench} hands it every argument. Without that jar on the class path the command
 * says so and exits 2.
 */
public interface BenchSuites {
  /**
   * Runs {@code gpucore bench ARGS...}.
   *
   * @param args the arguments after {@code bench}, as typed
   * @param out where tables and reports go
   * @param err where errors and progress go
   * @return the exit code: 0, 1 when a suite failed to run, 2 for a wrong argument or a result
   *     that disagrees with its reference
   */
  int run(List<String> args, PrintWriter out, PrintWriter err);
}
