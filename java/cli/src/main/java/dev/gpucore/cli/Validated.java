package dev.gpucore.cli;

/**
 * A command that checks its arguments before it does any work.
 *
 * <p>{@link Main} parses the command line, answers {@code --help}, {@code --version} and
 * {@code help}, and then calls {@link #validate()} on every command of the parsed chain that
 * implements this interface ({@code gpucore}, then the subcommand, then its subcommand), before
 * any command runs. An {@link ArgumentException} (or another {@link IllegalArgumentException},
 * or a {@link dev.gpucore.GpuCoreException}) thrown there becomes one line on standard error,
 * {@code gpucore <command>: <message>}, and exit status 2; nothing of the command runs. Any
 * other exception is a bug in the check and is not caught. Picocli has injected every option and parameter
 * (and the {@code @Spec}) by then.
 *
 * <p>What belongs here: everything that can be decided from the arguments and the machine
 * without doing the work. Ranges, combinations of options that exclude each other, sizes that
 * cannot fit an {@code int} index or the Java heap ({@link Arguments#arrayLength},
 * {@link Arguments#fitsHeap}), output files that cannot be written and input files that are
 * missing ({@link Arguments#writableFile}, {@link Arguments#readableFile}), so that a long run
 * never fails at its end for a reason known at its start. {@code validate()} must not open a
 * GPU, start threads or allocate in proportion to the arguments: the command-line fuzz test
 * calls it on arbitrary input through {@link Main#validate}.
 *
 * <p>A command in another module (the benchmarks) takes part by implementing this interface:
 * {@code Main} looks only at the command objects, not at their classes.
 */
public interface Validated {
  /**
   * Checks the parsed arguments; returns normally when the command may run.
   *
   * @throws ArgumentException naming the argument at fault and what is wrong with it
   */
  void validate();
}
