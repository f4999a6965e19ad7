package dev.gpucore.blas;

import java.util.List;

/**
 * The figures the router decides host GEMMs by, and where each came from ({@link Blas#routing},
 * {@link Blas#calibrate}, {@code gpucore doctor}).
 *
 * @param calibration the state of the calibration in one line: the file and the date it was
 *     measured, why there is none (off, not needed yet, failed), or that there is no GPU
 * @param figures the CPU rate, GPU rate, bus bandwidth and fixed GPU cost (empty without a GPU)
 * @param learntCalls host GEMMs timed so far whose times correct the estimates
 */
public record Routing(String calibration, List<Figure> figures, long learntCalls) {
  public Routing {
    figures = List.copyOf(figures);
  }

  /** Where a figure came from. */
  public enum Source {
    /** A setting given explicitly (system property, environment or configuration file). */
    SETTING,
    /** Measured on this machine: the calibration. */
    CALIBRATION,
    /** The built-in model's figure, or a setting's default. */
    MODEL
  }

  /**
   * One figure.
   *
   * @param name {@code cpu rate}, {@code gpu rate}, {@code bus}, {@code overhead}
   * @param value its value in words, with units
   * @param source where it came from
   * @param detail the setting as written, or the calibration file and its date, or the model
   */
  public record Figure(String name, String value, Source source, String detail) {}

  /** One line per figure: {@code name: value (detail)}. */
  public List<String> lines() {
    return figures.stream().map(f -> f.name() + ": " + f.value() + " (" + f.detail() + ")")
        .toList();
  }
}
