package dev.gpucore.cli;

import dev.gpucore.GpuCoreException;
import dev.gpucore.Setting;
import dev.gpucore.Settings;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.ParseResult;

/**
 * The {@code gpucore} command.
 *
 * <p>Every command line goes through the same steps: picocli parses it (a parse error prints
 * one line, with picocli's suggestions, exit 2); {@code --help}, {@code --version} and
 * {@code help [COMMAND]}
 * are answered; every command of the chain that is {@link Validated} checks its arguments (one
 * line, exit 2); only then does the command run. Exit statuses: 0 success, 1 a failed check or a
 * required GPU missing (each command's help says which), 2 invalid arguments or an error.
 */
@Command(name = "gpucore", mixinStandardHelpOptions = true, version = "gpucore 0.1.0",
    description = "Direct, fast GPU math for Java: devices and checks.",
    subcommands = {HelpCommand.class, DevicesCommand.class, DemoCommand.class,
        BenchCommand.class, TopoCommand.class, DoctorCommand.class, CalibrateCommand.class})
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Runs the command line and returns its exit code (for tests and embedding). */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    return execute(out, err, false, args);
  }

  /**
   * Parses the command line and runs its validation (help and version are answered), but runs
   * no command: 0 when the command would run, else the exit code and message {@link #run} would
   * give. For tests that feed arbitrary arguments to every command.
   */
  public static int validate(PrintWriter out, PrintWriter err, String... args) {
    return execute(out, err, true, args);
  }

  private static int execute(PrintWriter out, PrintWriter err, boolean validateOnly,
      String... args) {
    return execute(new CommandLine(new Main()), out, err, validateOnly, args);
  }

  /** Runs {@code args} on {@code cl}, a {@code Main} with any further subcommands (tests). */
  static int execute(CommandLine cl, PrintWriter out, PrintWriter err, boolean validateOnly,
      String... args) {
    cl.setExpandAtFiles(false); // "@/dev/zero" would be read for ever; no command takes @files
    cl.setOut(out);
    cl.setErr(err);
    // bench passes every argument, options included, to the suites jar
    cl.getSubcommands().get("bench").setUnmatchedOptionsArePositionalParams(true);
    cl.setParameterExceptionHandler(Main::parseError);
    cl.setExecutionStrategy(parsed -> {
      Integer help = CommandLine.executeHelpRequest(parsed);
      if (help != null) {
        return help;
      }
      Integer invalid = validateAll(parsed);
      if (invalid != null || validateOnly) {
        return invalid == null ? 0 : invalid;
      }
      try {
        return new CommandLine.RunLast().execute(parsed);
      } catch (OutOfMemoryError e) {
        CommandLine last = parsed.asCommandLineList().get(parsed.asCommandLineList().size() - 1);
        last.getErr().println(last.getCommandSpec().qualifiedName() + ": out of Java heap ("
            + Arguments.size(Runtime.getRuntime().maxMemory()) + "): give the JVM more with "
            + "-Xmx, or choose smaller sizes");
        last.getErr().flush();
        return 1;
      }
    });
    cl.setExecutionExceptionHandler(new OneLineErrors());
    return cl.execute(args);
  }

  /** A parse error in one line: the command, picocli's message, its suggestions, where to look. */
  private static int parseError(CommandLine.ParameterException e, String[] args) {
    CommandLine c = e.getCommandLine();
    String name = c.getCommandSpec().qualifiedName();
    String msg = String.valueOf(e.getMessage()).strip().replaceAll("\\R", " ");
    if (msg.endsWith(".")) {
      msg = msg.substring(0, msg.length() - 1);
    }
    if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
      msg += " (did you mean " + String.join(" or ", u.getSuggestions()) + "?)";
    }
    c.getErr().println(name + ": " + msg + "; see '" + name + " --help'");
    c.getErr().flush();
    return c.getCommandSpec().exitCodeOnInvalidInput();
  }

  /** Validates each command of the chain, outermost first; the exit code of a failure or null. */
  private static Integer validateAll(ParseResult parsed) {
    for (CommandLine c : parsed.asCommandLineList()) {
      if (c.getCommand() instanceof Validated v) {
        try {
          v.validate();
        } catch (IllegalArgumentException | GpuCoreException e) {
          c.getErr().println(c.getCommandSpec().qualifiedName() + ": " + e.getMessage());
          c.getErr().flush();
          return 2;
        }
      }
    }
    return null;
  }

  /** Turns {@code gpucore.exit.prompt} on for the CLI unless the user set it either way. */
  private static void promptExitByDefault() {
    try {
      if (Settings.fromEnvironment().value(Setting.EXIT_PROMPT).source()
          == Settings.Source.DEFAULT) {
        System.setProperty(Setting.EXIT_PROMPT.key(), "true");
      }
    } catch (GpuCoreException e) {
      // an unreadable configuration file is reported by the command that opens the core
    }
  }

  /** Entry point. */
  public static void main(String[] args) {
    // Ctrl-C, docker stop, timeout: exit at once even with a native GEMM in flight
    // (installed when the first core opens)
    promptExitByDefault();
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    System.exit(run(out, err, args));
  }
}
