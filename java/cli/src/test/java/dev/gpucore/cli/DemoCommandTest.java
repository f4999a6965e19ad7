package dev.gpucore.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code gpucore demo}'s timings: after a warm-up, repeated when short, never a zero rate. */
class DemoCommandTest {
  static final Pattern CPU_ROW = Pattern.compile(
      "cpu : gemm +([0-9.]+) ms \\( *([0-9.]+) (GFLOP/s|MFLOP/s)\\)( \\(mean of (\\d+)\\))?");

  @Test
  void aSmallDemoShowsARealRate() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(out), new PrintWriter(err), "demo", "--n", "8");
    assertEquals(0, code, out + "" + err);
    Matcher m = CPU_ROW.matcher(out.toString());
    assertTrue(m.find(), out.toString());
    assertTrue(Double.parseDouble(m.group(1)) > 0, m.group());
    assertTrue(Double.parseDouble(m.group(2)) > 0, m.group());
    // an 8x8 GEMM takes microseconds: the timing repeats it rather than time one call
    assertTrue(m.group(5) != null && Integer.parseInt(m.group(5)) > 1, m.group());
    assertFalse(out.toString().contains(" 0.0 GFLOP/s"), out.toString());
  }

  @Test
  void timesNeverRoundToZero() {
    assertEquals("    0.000292", DemoCommand.time(292, 12));
    assertEquals("    1.500", DemoCommand.time(1_500_000, 9));
    assertEquals("   0.100", DemoCommand.time(100_000, 8));
  }

  @Test
  void ratesNeverRoundToZero() {
    assertEquals("     2.0 MFLOP/s", DemoCommand.rate(2, 1000));
    assertEquals("   999.9 MFLOP/s", DemoCommand.rate(999.9e6, 1e9));
    assertEquals("  0.0200 MFLOP/s", DemoCommand.rate(2, 100_000));
    assertEquals("     1.0 GFLOP/s", DemoCommand.rate(2e9, 2e9));
    assertEquals("  1536.0 GFLOP/s", DemoCommand.rate(2.0 * 8192 * 8192 * 8192, 715_827_882));
  }

  @Test
  void shortCallsAreRepeatedLongOnesTimedOnce() {
    int[] calls = {0};
    DemoCommand.Timing quick = DemoCommand.time(() -> calls[0]++);
    assertEquals(DemoCommand.MAX_REPS, quick.reps());
    assertEquals(DemoCommand.MAX_REPS, calls[0]);
    assertEquals(" (mean of " + DemoCommand.MAX_REPS + ")", quick.label());
    DemoCommand.Timing slow = DemoCommand.time(() -> {
      try {
        Thread.sleep(DemoCommand.MIN_TIMED_NANOS / 1_000_000 + 5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    assertEquals(1, slow.reps());
    assertEquals("", slow.label());
    assertTrue(slow.nanos() >= DemoCommand.MIN_TIMED_NANOS, String.valueOf(slow.nanos()));
  }
}
