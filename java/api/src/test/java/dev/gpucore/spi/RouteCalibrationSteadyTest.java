package dev.gpucore.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The calibration's steady-state timing of a call (no backend: calls that take known times). */
class RouteCalibrationSteadyTest {
  @Test
  void aSlowFirstCallDoesNotCountAndShortCallsRepeat() {
    // the first call takes 30 ms (a cold start), every later one 0.5 ms
    AtomicInteger calls = new AtomicInteger();
    double s = RouteCalibration.steady(() -> {
      long ns = calls.getAndIncrement() == 0 ? 30_000_000L : 500_000L;
      long end = System.nanoTime() + ns;
      while (System.nanoTime() < end) {
        Thread.onSpinWait();
      }
    });
    assertTrue(s >= 0.5e-3 && s < 1.5e-3, "per call " + s + " s, not the cold first call");
    // each of the timed runs lasts at least SAMPLE_S: 4 calls of 0.5 ms or more
    int perRun = (int) Math.ceil(RouteCalibration.SAMPLE_S / 0.5e-3);
    assertTrue(calls.get() >= 1 + RouteCalibration.RUNS * perRun, calls.get() + " calls");
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
