package dev.gpucore.bench.suites;

import dev.gpucore.cli.BenchSuites;
import dev.gpucore.cli.OneLineErrors;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;

/**
 * The {@link BenchSuites} service: {@code gpucore bench ARGS} parsed by {@link BenchCommand}.
 * A wrong argument, or an expected failure, is one line on stderr and exit code 2.
 */
public final class BenchSuitesProvider implements BenchSuites {
  @Override
  public int run(List<String> args, PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(new BenchCommand());
    cl.setExpandAtFiles(false);
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler(new OneLineErrors());
    return cl.execute(args.toArray(new String[0]));
  }
}
