package dev.gpucore.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The calibration's steady-state timing of a call (no backend: calls that take known times). */
class RouteCalibrationSteadyTest {
  @Test
  void aSlowFirstCallDoesNotCountAndShortCallsRepeat() {
    // the first call takes 60 ms (a cold start), every later one 0.5 ms; on a loaded machine a
    // call may stall, so only what holds then is asserted: the cold call is not in the figure,
    // and each timed run made at least one call
    AtomicInteger calls = new AtomicInteger();
    double s = RouteCalibration.steady(() -> {
      long ns = calls.getAndIncrement() == 0 ? 60_000_000L : 500_000L;
      long end = System.nanoTime() + ns;
      while (System.nanoTime() < end) {
        Thread.onSpinWait();
      }
    });
    assertTrue(s >= 0.5e-3 && s < 20e-3, "per call " + s + " s, not the cold first call");
    assertTrue(calls.get() >= 1 + RouteCalibration.RUNS, calls.get() + " calls");
  }

  @Test
  void aCallLongerThanASampleRunsOncePerRun() {
    AtomicInteger calls = new AtomicInteger();
    double s = RouteCalibration.steady(() -> {
      calls.incrementAndGet();
      long end = System.nanoTime() + 5_000_000L;
      while (System.nanoTime() < end) {
        Thread.onSpinWait();
      }
    });
    assertEquals(1 + RouteCalibration.RUNS, calls.get());
    assertTrue(s >= 5e-3 && s < 50e-3, s + " s");
  }
}
