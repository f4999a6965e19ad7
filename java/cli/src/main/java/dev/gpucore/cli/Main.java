package dev.gpucore.cli;

import dev.gpucore.GpuCoreException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code gpucore} command. */
@Command(name = "gpucore", mixinStandardHelpOptions = true, version = "gpucore 0.1.0",
    description = "Direct, fast GPU math for Java: devices and checks.",
    subcommands = {DevicesCommand.class, DemoCommand.class, BenchCommand.class,
        GemmSweepCommand.class, TopoCommand.class, P2pSweepCommand.class, DoctorCommand.class})
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Runs the command line and returns its exit code (for tests and embedding). */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cl = new CommandLine(new Main());
    cl.setExpandAtFiles(false); // "@/dev/zero" would be read for ever; no command takes @files
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
      // expected failures print one line, never a stack trace
      if (e instanceof IllegalArgumentException || e instanceof GpuCoreException) {
        cmd.getErr().println("gpucore: " + e.getMessage());
        cmd.getErr().flush();
        return 2;
      }
      throw e;
    });
    return cl.execute(args);
  }

  /** {@code gpucore.exit.prompt}, on unless the user turned it off. */
  private static boolean promptExit() {
    try {
      return dev.gpucore.Settings.fromEnvironment().getBoolean(dev.gpucore.spi.PromptExit.KEY, true);
    } catch (dev.gpucore.GpuCoreException e) {
      return true; // a bad value or gpucore.config is reported by the command
    }
  }

  /** Entry point. */
  public static void main(String[] args) {
    // Ctrl-C, docker stop, timeout: exit at once even with a native GEMM in flight
    if (promptExit()) {
      dev.gpucore.spi.PromptExit.install();
    }
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    System.exit(run(out, err, args));
  }
}
