package dev.gpucore.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The top level: help, the validation phase before every command, exit codes. */
class MainTest {
  /**
   * A stack frame or a Java exception's class name: never shown to a user (here, not in the fuzz
   * test, which the GPU bundle does not carry).
   */
  static final Pattern TRACE = Pattern.compile(
      "(?m)^\\s+at [\\w.$]+\\(|\\b(java|javax|picocli|dev)\\.[\\w.$]*(Exception|Error)\\b");

  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
    return new Result(code, out.toString(), err.toString());
  }

  static Result validate(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.validate(new PrintWriter(out), new PrintWriter(err), args);
    return new Result(code, out.toString(), err.toString());
  }

  /** Exit 2, nothing on stdout, one line on stderr naming the command and the argument. */
  static void assertArgumentError(Result r, String prefix) {
    assertEquals(2, r.code(), r.out() + r.err());
    assertEquals("", r.out());
    assertEquals(1, r.err().lines().count(), r.err());
    assertTrue(r.err().startsWith(prefix), r.err());
    assertFalse(TRACE.matcher(r.err()).find(), r.err());
  }

  @Test
  void helpListsTheCommands() {
    for (String[] args : new String[][] {{}, {"help"}, {"--help"}}) {
      Result r = run(args);
      assertEquals(0, r.code(), Arrays.toString(args) + r.err());
      assertTrue(r.out().startsWith("Usage: gpucore "), r.out());
      for (String c : new String[] {"help", "devices", "demo", "doctor", "topo"}) {
        assertTrue(r.out().contains("\n  " + c + " "), c + " in " + r.out());
      }
    }
  }

  @Test
  void helpOfACommandIsItsUsage() {
    for (String c : new String[] {"devices", "demo", "doctor", "topo"}) {
      Result r = run("help", c);
      assertEquals(0, r.code(), r.err());
      assertEquals(run(c, "--help").out(), r.out());
      assertTrue(r.out().startsWith("Usage: gpucore " + c), r.out());
    }
    assertArgumentError(run("help", "bogus"),
        "gpucore: Unknown subcommand 'bogus'; see 'gpucore --help'");
  }

  @Test
  void parseErrorsAreOneLine() {
    assertArgumentError(run("demo", "--n", "x"), "gpucore demo: Invalid value for option '--n'");
    Result typo = run("devics");
    assertArgumentError(typo, "gpucore: Unmatched argument at index 0: 'devics'");
    assertTrue(typo.err().contains("(did you mean devices or demo?)"), typo.err());
    assertTrue(typo.err().trim().endsWith("see 'gpucore --help'"), typo.err());
    assertArgumentError(run("devices", "--jsn"), "gpucore devices: Unknown option: '--jsn'");
  }

  @Test
  void demoSizesThatCannotBeIndexedAreRejectedFirst() {
    assertArgumentError(run("demo", "--n=46341"), "gpucore demo: --n gives A and C");
    assertArgumentError(run("demo", "--n", "2147483647"), "gpucore demo: --n ");
    assertArgumentError(run("demo", "--n", "0"), "gpucore demo: --n must be at least 1, got 0");
    assertArgumentError(run("demo", "--n=-5"), "gpucore demo: --n must be at least 1");
  }

  @Test
  void demoSizesThatCannotFitTheHeapAreRejectedFirst() {
    long need = 2L * Float.BYTES * 46340 * 46340; // A and C
    Result r = validate("demo", "--n=46340");
    Runtime rt = Runtime.getRuntime();
    if (need > rt.maxMemory()) {
      assertArgumentError(r, "gpucore demo: --n needs 16.0 GiB of Java heap for A and C");
      assertTrue(r.err().contains("-Xmx"), r.err());
      assertArgumentError(run("demo", "--n=46340"), "gpucore demo: --n needs");
    } else if (need + (1L << 30) + rt.totalMemory() < rt.maxMemory()) {
      assertEquals(0, r.code(), r.err()); // a machine with the heap for it: would run
    }
    assertEquals(0, validate("demo", "--n", "64").code());
  }

  @Test
  void validateRunsNoCommand() {
    Result r = validate("demo", "--n", "64");
    assertEquals(0, r.code(), r.err());
    assertEquals("", r.out()); // demo would print its header and rows
    assertEquals("", r.err());
    assertEquals(0, validate("doctor").code());
    assertEquals("", validate("doctor").out());
    // help and version are answered as they would be
    assertTrue(validate("help", "demo").out().startsWith("Usage: gpucore demo"));
    assertEquals("gpucore 0.1.0", validate("--version").out().trim());
    // parse errors are as with run
    Result bad = validate("demo", "--n", "x");
    assertEquals(2, bad.code());
    assertEquals(run("demo", "--n", "x").err(), bad.err());
  }

  @Test
  void doctorOptionsThatExcludeEachOtherAreRefusedFirst() {
    assertArgumentError(run("doctor", "--settings", "--seed", "5"),
        "gpucore doctor: --seed cannot be used with --settings");
    assertArgumentError(run("doctor", "--skip-selftest", "--settings"),
        "gpucore doctor: --skip-selftest cannot be used with --settings");
    assertArgumentError(run("doctor", "--settings", "--json", "--require-gpu"),
        "gpucore doctor: --require-gpu cannot be used with --settings");
    assertArgumentError(run("doctor", "--seed=-1", "--skip-selftest"),
        "gpucore doctor: --seed cannot be used with --skip-selftest (the seed is the "
            + "self-test's)");
    // validation alone gives the same line
    assertEquals(run("doctor", "--settings", "--seed", "5").err(),
        validate("doctor", "--settings", "--seed", "5").err());
    // any long is a seed; the options that go together pass
    for (String seed : List.of("0", "-9223372036854775808", "9223372036854775807")) {
      assertEquals(0, validate("doctor", "--seed", seed).code(), seed);
    }
    for (List<String> ok : List.of(List.of("doctor", "--settings", "--json"),
        List.of("doctor", "--skip-selftest", "--require-gpu", "--json"),
        List.of("doctor", "--seed", "7", "--require-gpu"),
        List.of("topo", "--json", "--no-probe"), List.of("topo"))) {
      Result r = validate(ok.toArray(String[]::new));
      assertEquals(0, r.code(), ok + ": " + r.err());
      assertEquals("", r.out() + r.err(), ok.toString());
    }
  }

  /** A command that records its steps: validation, then the work. */
  @Command(name = "probe", mixinStandardHelpOptions = true)
  static final class Probe implements Callable<Integer>, Validated {
    final List<String> steps = new ArrayList<>();

    @Option(names = "--bad")
    boolean bad;

    @Option(names = "--oom")
    boolean oom;

    @Override
    public void validate() {
      steps.add("validate");
      if (bad) {
        throw new ArgumentException("--bad", "is set");
      }
    }

    @Override
    public Integer call() {
      steps.add("call");
      if (oom) {
        throw new OutOfMemoryError("Java heap space");
      }
      return 0;
    }
  }

  static Result probe(Probe p, boolean validateOnly, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(new Main()).addSubcommand(p);
    String[] all = new String[args.length + 1];
    all[0] = "probe";
    System.arraycopy(args, 0, all, 1, args.length);
    int code = Main.execute(cl, new PrintWriter(out), new PrintWriter(err), validateOnly, all);
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void validationComesFirstAndAFailureStopsTheCommand() {
    Probe ok = new Probe();
    assertEquals(0, probe(ok, false).code());
    assertEquals(List.of("validate", "call"), ok.steps);
    Probe bad = new Probe();
    assertArgumentError(probe(bad, false, "--bad"), "gpucore probe: --bad is set");
    assertEquals(List.of("validate"), bad.steps);
    Probe only = new Probe();
    assertEquals(0, probe(only, true).code());
    assertEquals(List.of("validate"), only.steps);
    Probe help = new Probe();
    assertEquals(0, probe(help, false, "--bad", "--help").code()); // help before validation
    assertEquals(List.of(), help.steps);
  }

  @Test
  void runningOutOfHeapIsOneLine() {
    Result r = probe(new Probe(), false, "--oom");
    assertEquals(1, r.code());
    assertEquals(1, r.err().lines().count(), r.err());
    assertTrue(r.err().startsWith("gpucore probe: out of Java heap ("), r.err());
    assertTrue(r.err().contains("-Xmx"), r.err());
  }
}
