package dev.gpucore.cli;

import dev.gpucore.GpuCoreException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * How the {@code gpucore} commands (and the benchmark suites behind {@code gpucore bench}) end on
 * an expected failure, a wrong argument or a {@link GpuCoreException}: one line
 * {@code gpucore: MESSAGE} on the command's error stream, never a stack trace, and exit code 2.
 * Any other exception propagates.
 */
public final class OneLineErrors implements IExecutionExceptionHandler {
  @Override
  public int handleExecutionException(Exception e, CommandLine cmd, ParseResult parsed)
      throws Exception {
    if (e instanceof IllegalArgumentException || e instanceof GpuCoreException) {
      cmd.getErr().println("gpucore: " + e.getMessage());
      cmd.getErr().flush();
      return 2;
    }
    throw e;
  }
}
