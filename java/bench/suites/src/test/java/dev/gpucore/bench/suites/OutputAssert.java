package dev.gpucore.bench.suites;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checks of what a bench run printed. */
final class OutputAssert {
  private OutputAssert() {}

  /** Fails unless {@code out} contains every one of {@code parts}. */
  static void says(String out, String... parts) {
    for (String p : parts) {
      assertTrue(out.contains(p), "no \"" + p + "\" in:\n" + out);
    }
  }

  /** Fails if {@code out} contains any of {@code parts}. */
  static void saysNone(String out, String... parts) {
    for (String p : parts) {
      assertFalse(out.contains(p), "\"" + p + "\" in:\n" + out);
    }
  }
}
