package dev.gpucore.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

/**
 * Fuzzes the command line of {@link Main}. Every argument list is parsed by picocli, which must
 * end in a parse result or a {@link CommandLine.ParameterException} with a message. Then every
 * argument list goes through {@link Main}: cheap commands run in full through {@link Main#run}
 * ({@code devices} with any options, {@code topo}, {@code demo} with {@code --n} up to 64,
 * {@code doctor --skip-selftest}, help, version and {@code bench} (its suites are not on this
 * module's class path: it says so in one line)), every other one
 * through {@link Main#validate}, which runs the validation phase of every command ({@link
 * Validated}) and stops before the work. Either way the exit status must be 0, 1 or 2, with a
 * message on stderr when not 0, and neither output may hold a stack trace or raw Java exception
 * text. Validation may probe output files (see {@link Arguments#writableFile}): it creates and
 * deletes a file that did not exist, and leaves an existing one as it was.
 *
 * <p>Input: the arguments, one per line (UTF-8). {@code mvn verify} runs the seeds in
 * {@code MainFuzzTestInputs/} (among them sizes past the heap or an int index, output files
 * that cannot be written, missing input files and options that exclude each other); fuzz with
 * {@code JAZZER_FUZZ=1 mvn -pl java/cli test -Dtest=MainFuzzTest}.
 */
class MainFuzzTest {
  /** A stack frame or a Java exception's class name: never shown to a user. */
  static final Pattern TRACE = MainTest.TRACE;
  /** Messages of exceptions that mean an unchecked input reached the code. */
  static final Pattern RAW = Pattern.compile(
      "For input string|out of bounds for length|Cannot invoke|Index \\d+ out of bounds");

  @FuzzTest(maxDuration = "3m")
  // no control characters here: a newline in an entry breaks the dictionary file Jazzer writes
  @DictionaryEntries({"devices", "demo", "topo", "bench", "gemm", "p2p", "reduce", "help",
      "doctor", "--skip-selftest", "--settings", "--plot", "--python",
      "/proc/x.svg", "46340", "46341", "50000", "csv", "noheader",
      "--help", "-h", "-V", "--version", "--json", "--query", "--query=", "--format",
      "--format=csv,noheader,nounits", "--list-fields", "--require-gpu", "--n", "--n=",
      "--seed", "--list", "--sizes", "--mib", "--dtype", "--precision", "--reps", "--warmup",
      "--device", "--peers", "--peer-timeout", "--progress", "--no-probe", "--device-sizes",
      "--no-device", "--host-sizes", "--no-host", "--devices", "--latency-bytes", "--ops",
      "--modes", "--big-mib", "--plot", "/proc/x.svg", "name",
      "uuid", "memory.total", "index", "pci.bus_id", "e2e", "transfer", "fp64", "tf32", "none",
      ",", "=", "-", "--", "0", "-1", "64", "2147483648"})
  void commandLine(byte[] input) {
    String[] args = new String(input, StandardCharsets.UTF_8).split("\n", -1);
    if (args.length == 1 && args[0].isEmpty()) {
      args = new String[0];
    }
    if (args.length > 24) {
      args = Arrays.copyOf(args, 24);
    }
    CommandLine cl = new CommandLine(new Main());
    cl.setExpandAtFiles(false);
    ParseResult parsed;
    try {
      parsed = cl.parseArgs(args);
    } catch (CommandLine.ParameterException e) {
      assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "parse error without text");
      assertFalse(RAW.matcher(withoutArgs(e.getMessage(), args)).find(),
          "raw message: " + e.getMessage());
      parsed = null;
    }
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    boolean whole = cheap(parsed, args);
    int code = whole ? Main.run(new PrintWriter(out), new PrintWriter(err), args)
        : Main.validate(new PrintWriter(out), new PrintWriter(err), args);
    String where = "args " + Arrays.toString(args) + (whole ? " (run)" : " (validated)")
        + " exit " + code + "\nstdout: " + out + "\nstderr: " + err;
    if (code < 0 || code > 2) {
      fail("exit code " + code + ": " + where);
    }
    if (code != 0 && err.toString().isBlank() && !(code == 1 && out.toString()
        .startsWith("No GPU visible"))) {
      fail("non-zero exit without a message: " + where);
    }
    for (String said : new String[] {withoutArgs(err.toString(), args),
        withoutArgs(out.toString(), args)}) {
      if (TRACE.matcher(said).find() || RAW.matcher(said).find()) {
        fail("stack trace or raw exception text: " + where);
      }
    }
  }

  /**
   * The text without the arguments it may echo (which may hold anything); empty when the
   * arguments themselves hold what the patterns look for (an error message may quote a part).
   */
  static String withoutArgs(String text, String[] args) {
    String all = String.join("\n", args);
    if (TRACE.matcher(all).find() || RAW.matcher(all).find()) {
      return "";
    }
    for (String a : args) {
      if (!a.isEmpty()) {
        text = text.replace(a, "");
      }
    }
    return text;
  }

  /**
   * Whether running these arguments in full is quick and touches no file: an argument list
   * that does not parse (the error path), help and version anywhere, and the cheap commands.
   */
  static boolean cheap(ParseResult parsed, String[] args) {
    for (String a : args) {
      if (a.startsWith("@")) {
        return false; // Main expands @files: arbitrary paths are not this test's business
      }
    }
    if (parsed == null) {
      return true;
    }
    ParseResult p = parsed;
    while (p != null) {
      if (p.isUsageHelpRequested() || p.isVersionHelpRequested()) {
        return true;
      }
      p = p.subcommand();
    }
    ParseResult sub = parsed.subcommand();
    if (sub == null) {
      return true; // the usage
    }
    if (sub.subcommand() != null) {
      return false;
    }
    return switch (sub.commandSpec().name()) {
      case "devices", "topo", "help" -> true;
      case "doctor" -> sub.hasMatchedOption("--skip-selftest");
      case "demo" -> sub.matchedOptionValue("--n", 2000) <= 64;
      // the suites jar is not on this module's class path: bench answers that in one line
      case "bench" -> true;
      default -> false;
    };
  }
}
