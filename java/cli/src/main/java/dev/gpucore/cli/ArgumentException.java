package dev.gpucore.cli;

import java.util.Objects;

/**
 * A command-line argument that the command cannot run with: {@link Main} prints its message as
 * one line and exits with status 2 (see {@link Validated}).
 */
public class ArgumentException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String argument;

  /**
   * An argument that is wrong.
   *
   * @param argument the argument as the user writes it: {@code --n}, {@code --json}, or the
   *     label of a positional parameter such as {@code SUITE}
   * @param problem what is wrong, continuing a sentence that starts with the argument:
   *     {@code "must be in [1, 46340], got 0"} gives {@code "--n must be in [1, 46340], got 0"}
   */
  public ArgumentException(String argument, String problem) {
    super(Objects.requireNonNull(argument, "argument") + " "
        + Objects.requireNonNull(problem, "problem"));
    this.argument = argument;
  }

  /** The argument at fault, as the user writes it ({@code --n}). */
  public String argument() {
    return argument;
  }
}
