package dev.gpucore.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The calibration's steady-state timing of a call, on a clock that the calls themselves move
 * (no backend, no real time: each call takes exactly the time given).
 */
class RouteCalibrationSteadyTest {
  /** Times {@code first} ns for the first call and {@code later} ns for each later one. */
  private static double steady(long first, long later, AtomicInteger calls) {
    AtomicLong now = new AtomicLong();
    return RouteCalibration.steady(
        () -> now.addAndGet(calls.getAndIncrement() == 0 ? first : later), now::get);
  }

  @Test
  void aSlowFirstCallDoesNotCountAndShortCallsRepeat() {
    // a cold first call of 60 ms, then 0.5 ms a call: each timed run is 4 calls (2 ms)
    AtomicInteger calls = new AtomicInteger();
    assertEquals(0.5e-3, steady(60_000_000L, 500_000L, calls), 1e-12);
    int perRun = (int) Math.ceil(RouteCalibration.SAMPLE_S / 0.5e-3);
    assertEquals(1 + RouteCalibration.RUNS * perRun, calls.get());
  }

  @Test
  void aCallLongerThanASampleRunsOncePerRun() {
    AtomicInteger calls = new AtomicInteger();
    assertEquals(5e-3, steady(1_000_000L, 5_000_000L, calls), 1e-12);
    assertEquals(1 + RouteCalibration.RUNS, calls.get());
  }

  @Test
  void theMedianRunCounts() {
    // runs of 1 ms calls, then 3 ms, then 2 ms (a call's time changes with each run)
    AtomicLong now = new AtomicLong();
    AtomicInteger calls = new AtomicInteger();
    long[] perRun = {1_000_000L, 3_000_000L, 2_000_000L};
    double s = RouteCalibration.steady(() -> {
      int c = calls.getAndIncrement();
      // call 0 is the untimed one; runs of 1 ms calls take 2 calls, later runs 1 call each
      now.addAndGet(c == 0 ? 1_000_000L : c <= 2 ? perRun[0] : c == 3 ? perRun[1] : perRun[2]);
    }, now::get);
    assertEquals(2e-3, s, 1e-12);
  }
}
