package dev.gpucore.cli;

import java.util.Locale;

/**
 * One line of {@code gpucore doctor}'s report.
 *
 * @param name dotted name: {@code gpus}, {@code gpu0.ecc}, {@code cpu.gemm.fp32}, ...
 * @param status the verdict
 * @param detail one line: what was found, and for a failure what to do
 */
record DoctorCheck(String name, Status status, String detail) {
  /** A check's verdict; only {@link #FAIL} makes the doctor exit 1. */
  enum Status {
    /** Checked and fine. */
    OK,
    /** Works, but worth a look (a slowdown, no GPU where one is optional). */
    WARN,
    /** Broken: wrong results, a faulted device, a GPU that needs a reset. */
    FAIL,
    /** Not checked: not supported here, or nothing to check. */
    SKIP;

    /** Lower-case label, as printed and in the JSON. */
    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  static DoctorCheck ok(String name, String detail) {
    return new DoctorCheck(name, Status.OK, detail);
  }

  static DoctorCheck warn(String name, String detail) {
    return new DoctorCheck(name, Status.WARN, detail);
  }

  static DoctorCheck fail(String name, String detail) {
    return new DoctorCheck(name, Status.FAIL, detail);
  }

  static DoctorCheck skip(String name, String detail) {
    return new DoctorCheck(name, Status.SKIP, detail);
  }
}
