package dev.gpucore.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gpucore.blas.Precision;
import org.junit.jupiter.api.Test;

/** The learning rule on made-up timings. */
class RouteLearningTest {
  static final double F = 2e9;

  @Test
  void nothingUntilAClassHasEnoughCallsThenTheWeightedMeanRatio() {
    RouteLearning l = new RouteLearning();
    l.add(true, Precision.FP32, F, 1000, 1); // the warm-up: not counted
    assertEquals(0, l.calls(true, Precision.FP32, F));
    for (int i = 0; i < RouteLearning.MIN_CALLS - 1; i++) {
      l.add(true, Precision.FP32, F, 4, 1);
      assertEquals(1, l.factor(true, Precision.FP32, F));
    }
    l.add(true, Precision.FP32, F, 4, 1);
    assertEquals(4, l.factor(true, Precision.FP32, F), 1e-12);
    assertEquals(RouteLearning.MIN_CALLS, l.calls(true, Precision.FP32, F));
    // a faster call moves the mean of the logs by a quarter of the way, the way bounded to a
    // factor of STEP_MAX: 4 to 1 counts as 4 to 2
    l.add(true, Precision.FP32, F, 1, 1);
    assertEquals(Math.exp(Math.log(4) - 0.25 * Math.log(RouteLearning.STEP_MAX)),
        l.factor(true, Precision.FP32, F), 1e-12);
    // within STEP_MAX of the figure, a call moves it a quarter of the way
    double before = l.factor(true, Precision.FP32, F);
    l.add(true, Precision.FP32, F, before * 1.5, 1);
    assertEquals(Math.exp(Math.log(before) + 0.25 * Math.log(1.5)),
        l.factor(true, Precision.FP32, F), 1e-12);
    l.add(true, Precision.FP32, F, before, 1); // back where it was, nearly
    assertEquals(8, l.calls(true, Precision.FP32, F));
    assertEquals(8, l.total());
    // a decision's view of the class: both routes at once
    l.add(false, Precision.FP32, F, 3, 1); // the switch
    RouteLearning.View v = new RouteLearning.View();
    l.read(Precision.FP32, F, v);
    assertEquals(l.factor(true, Precision.FP32, F), v.gpuFactor);
    assertEquals(1, v.cpuFactor);
    assertEquals(8, v.gpuCalls);
    assertEquals(0, v.cpuCalls);
    assertEquals(0, v.lastRoute);
  }

  @Test
  void callsAfterAPauseAreNotCountedCallsThatFollowOneAnotherAre() {
    RouteLearning l = new RouteLearning();
    long ms = 1_000_000;
    long t = 1_000 * ms;
    // the first: the warm-up; then five in a stream, 0.1 ms apart, at twice their estimate
    l.add(false, Precision.FP32, F, 2 * ms, t += 2 * ms, 1);
    for (int i = 0; i < RouteLearning.MIN_CALLS; i++) {
      t += ms / 10;
      l.add(false, Precision.FP32, F, 2 * ms, t += 2 * ms, 1);
    }
    assertEquals(RouteLearning.MIN_CALLS, l.calls(false, Precision.FP32, F));
    assertEquals(2, l.factor(false, Precision.FP32, F), 1e-12);
    // one that starts more than PAUSE_NS after the last ended: slow, and not counted
    t += RouteLearning.PAUSE_NS + 1;
    l.add(false, Precision.FP32, F, 8 * ms, t += 8 * ms, 1);
    assertEquals(RouteLearning.MIN_CALLS, l.calls(false, Precision.FP32, F));
    assertEquals(2, l.factor(false, Precision.FP32, F), 1e-12);
    // the next, right after it, counts; so does one that starts exactly PAUSE_NS after
    l.add(false, Precision.FP32, F, 2 * ms, t += 2 * ms, 1);
    t += RouteLearning.PAUSE_NS;
    l.add(false, Precision.FP32, F, 2 * ms, t += 2 * ms, 1);
    assertEquals(RouteLearning.MIN_CALLS + 2, l.calls(false, Precision.FP32, F));
    // a call on another thread that ended before the last recorded one does not move it back
    l.add(false, Precision.FP32, F, 2 * ms, t - 3 * ms, 1);
    l.add(false, Precision.FP32, F, 2 * ms, t += 2 * ms, 1);
    assertEquals(RouteLearning.MIN_CALLS + 4, l.calls(false, Precision.FP32, F));
  }

  @Test
  void routesPrecisionsAndSizesLearnApart() {
    RouteLearning l = new RouteLearning();
    for (int i = 0; i < 10; i++) {
      l.add(false, Precision.FP64, F, 2, 1);
    }
    assertEquals(2, l.factor(false, Precision.FP64, F), 1e-12);
    assertEquals(2, l.factor(false, Precision.FP64, F * 1.5), 1e-12); // same class (steps of 4x)
    assertEquals(1, l.factor(false, Precision.FP64, F * 8));
    assertEquals(1, l.factor(true, Precision.FP64, F));
    assertEquals(1, l.factor(false, Precision.FP32, F));
    assertEquals(1, l.factor(false, Precision.TF32, F));
    // BF16 and FP16 share a class
    for (int i = 0; i < 6; i++) {
      l.add(true, Precision.BF16, F, 3, 1);
    }
    assertEquals(3, l.factor(true, Precision.FP16, F), 1e-12);
  }

  @Test
  void oneStalledCallMovesLittleAndRatiosAreBounded() {
    RouteLearning l = new RouteLearning();
    for (int i = 0; i < 6; i++) {
      l.add(false, Precision.FP32, F, 1, 1);
    }
    l.add(false, Precision.FP32, F, 1e6, 1); // a garbage-collection pause
    assertEquals(Math.pow(RouteLearning.STEP_MAX, RouteLearning.WEIGHT),
        l.factor(false, Precision.FP32, F), 1e-9);
    // a lasting change is followed: calls at 6x the estimate from now on
    for (int i = 0; i < 30; i++) {
      l.add(false, Precision.FP32, F, 6, 1);
    }
    assertEquals(6, l.factor(false, Precision.FP32, F), 0.06);
    // the first calls of a class are not bounded by a figure (there is none yet) but by
    // MAX_FACTOR
    RouteLearning slow = new RouteLearning();
    for (int i = 0; i < 50; i++) {
      slow.add(false, Precision.FP32, F, 1e-9, 1);
    }
    assertEquals(1 / RouteLearning.MAX_FACTOR, slow.factor(false, Precision.FP32, F), 1e-9);
  }

  @Test
  void meaninglessTimesAreIgnored() {
    RouteLearning l = new RouteLearning();
    for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
      l.add(true, Precision.FP32, F, bad, 1);
      l.add(true, Precision.FP32, F, 1, bad);
    }
    assertEquals(0, l.total());
  }

  @Test
  void theFirstCountedCallsWeighEqually() {
    RouteLearning l = new RouteLearning();
    l.add(false, Precision.FP32, F, 8, 1); // warm-up
    double[] ratios = {2, 1, 1, 4, 2};
    double sum = 0;
    for (double r : ratios) {
      l.add(false, Precision.FP32, F, r, 1);
      sum += Math.log(r);
    }
    assertEquals(Math.exp(sum / ratios.length), l.factor(false, Precision.FP32, F), 1e-12);
  }

  @Test
  void aCallOnTheOtherRouteThanItsClasssTimedCallBeforeIsNotCounted() {
    RouteLearning l = new RouteLearning();
    assertEquals(-1, l.lastRoute(Precision.FP32, F));
    for (int i = 0; i < 3; i++) {
      l.add(true, Precision.FP32, F, 1, 1); // a warm-up and two counted
    }
    assertEquals(2, l.calls(true, Precision.FP32, F));
    assertEquals(1, l.lastRoute(Precision.FP32, F));
    l.add(false, Precision.FP32, F, 100, 1); // after the GPU: the switch, not counted
    assertEquals(0, l.calls(false, Precision.FP32, F));
    assertEquals(0, l.lastRoute(Precision.FP32, F));
    l.add(false, Precision.FP32, F, 2, 1); // the class's warm-up was the switch: counted
    assertEquals(1, l.calls(false, Precision.FP32, F));
    // another class on the other route is no switch for this one
    l.add(true, Precision.FP64, F, 1, 1);
    l.add(true, Precision.FP32, F * 16, 1, 1);
    l.add(false, Precision.FP32, F, 2, 1);
    assertEquals(2, l.calls(false, Precision.FP32, F));
    assertEquals(1, l.lastRoute(Precision.FP64, F));
    // back to the GPU: the switch is not counted
    l.add(true, Precision.FP32, F, 1, 1);
    assertEquals(2, l.calls(true, Precision.FP32, F));
  }

  @Test
  void callsOfAClassThatTakeTheRoutesInTurnAllCount() {
    // two shapes of the same work that the model sends apart: each call pays for a switch
    RouteLearning l = new RouteLearning();
    for (int i = 0; i < 20; i++) {
      l.add(i % 2 == 0, Precision.FP32, F, 2, 1);
    }
    assertEquals(9, l.calls(true, Precision.FP32, F)); // each route's first warms up
    assertEquals(9, l.calls(false, Precision.FP32, F));
    assertEquals(2, l.factor(false, Precision.FP32, F), 1e-12);
  }

  @Test
  void theIntervalsStopGrowingAtTheCap() {
    RouteLearning l = new RouteLearning();
    java.util.List<Integer> starts = new java.util.ArrayList<>();
    boolean before = false;
    for (int i = 1; starts.size() < RouteLearning.RETRY_MAX_SHIFT + 3; i++) {
      boolean now = l.retry(true, Precision.FP32, F);
      if (now && !before) {
        starts.add(i);
      }
      before = now;
    }
    for (int t = 1; t < starts.size(); t++) {
      int want = (RouteLearning.RETRY_FIRST << Math.min(t, RouteLearning.RETRY_MAX_SHIFT))
          + RouteLearning.RETRY_CALLS - 1;
      assertEquals(want, starts.get(t) - starts.get(t - 1), "try " + t);
    }
  }

  /**
   * The CPU learnt in a bad moment at 4 times its estimate, the GPU at 2 and chosen for its
   * calls, up to the call before the CPU's first try again.
   */
  static RouteLearning cpuLearntSlowUntilATry() {
    RouteLearning l = new RouteLearning();
    for (int i = 0; i <= RouteLearning.MIN_CALLS; i++) {
      l.add(false, Precision.FP32, F, 4, 1);
    }
    for (int i = 0; i <= RouteLearning.MIN_CALLS + 1; i++) {
      l.add(true, Precision.FP32, F, 2, 1);
    }
    assertEquals(4, l.factor(false, Precision.FP32, F), 1e-12);
    for (int i = 1; i < RouteLearning.RETRY_FIRST; i++) {
      l.retry(true, Precision.FP32, F);
    }
    return l;
  }

  @Test
  void aTryAgainReplacesTheFigureItsRouteHadLearnt() {
    RouteLearning l = cpuLearntSlowUntilATry();
    // the try: three CPU calls, the first paying for the switch (not counted)
    for (int i = 0; i < RouteLearning.RETRY_CALLS; i++) {
      assertEquals(true, l.retry(true, Precision.FP32, F));
      l.add(false, Precision.FP32, F, i == 0 ? 8 : i == 1 ? 0.9 : 1.1, 1);
    }
    // the fastest of its counted calls: a stall in one of them does not keep the CPU out
    assertEquals(0.9, l.factor(false, Precision.FP32, F), 1e-12);
    // later CPU calls, outside a try, move it by the weight again (within STEP_MAX)
    l.add(false, Precision.FP32, F, 1.5, 1);
    assertEquals(Math.exp(0.75 * Math.log(0.9) + 0.25 * Math.log(1.5)),
        l.factor(false, Precision.FP32, F), 1e-12);
    // the GPU's figure was left as it was
    assertEquals(2, l.factor(true, Precision.FP32, F), 1e-12);
  }

  @Test
  void aProbeCallAfterAPauseIsGivenBackSoTheRouteCanStillBeLearnt() {
    RouteLearning l = new RouteLearning();
    long ms = 1_000_000;
    long t = 1_000 * ms;
    for (int i = 0; i < RouteLearning.PROBES; i++) {
      assertEquals(true, l.tryProbe(false, Precision.FP32, F));
      t += i == 3 ? 2 * ms : ms / 10; // the fourth probe comes after a pause
      l.add(false, Precision.FP32, F, ms, t += ms, 1);
    }
    assertEquals(RouteLearning.MIN_CALLS - 1, l.calls(false, Precision.FP32, F));
    assertEquals(true, l.probesLeft(false, Precision.FP32, F));
    assertEquals(true, l.tryProbe(false, Precision.FP32, F));
    l.add(false, Precision.FP32, F, ms, t += ms, 1);
    assertEquals(RouteLearning.MIN_CALLS, l.calls(false, Precision.FP32, F));
    assertEquals(false, l.probesLeft(false, Precision.FP32, F));
    // probes given back are bounded: calls that all come after pauses end the probing
    RouteLearning p = new RouteLearning();
    int sent = 0;
    while (p.tryProbe(true, Precision.FP32, F)) {
      t += 2 * ms;
      p.add(true, Precision.FP32, F, ms, t += ms, 1);
      sent++;
    }
    assertEquals(2 * RouteLearning.PROBES, sent);
    assertEquals(0, p.calls(true, Precision.FP32, F));
  }

  @Test
  void aTryWhoseCallsWereNotRecordedLeavesNothingForLaterCalls() {
    RouteLearning l = cpuLearntSlowUntilATry();
    for (int i = 0; i < RouteLearning.RETRY_CALLS; i++) {
      assertEquals(true, l.retry(true, Precision.FP32, F)); // the try's calls failed over
    }
    assertEquals(false, l.retry(true, Precision.FP32, F)); // a GPU call, after the try
    l.add(true, Precision.FP32, F, 2, 1);
    // CPU calls later, outside any try, move the CPU's figure by the weight only
    l.add(false, Precision.FP32, F, 8, 1); // the switch
    l.add(false, Precision.FP32, F, 3, 1);
    assertEquals(Math.exp(0.75 * Math.log(4) + 0.25 * Math.log(3)),
        l.factor(false, Precision.FP32, F), 1e-12);
  }

  @Test
  void aTryEndedEarlySendsNoLeftoverCalls() {
    RouteLearning l = new RouteLearning();
    RouteLearning.View v = new RouteLearning.View();
    for (int i = 1; i < RouteLearning.RETRY_FIRST; i++) {
      l.retry(true, Precision.FP32, F);
    }
    assertEquals(true, l.retry(true, Precision.FP32, F)); // a try starts
    l.read(Precision.FP32, F, v);
    assertEquals(true, v.retrying);
    l.endRetry(Precision.FP32, F); // the class no longer qualifies
    l.read(Precision.FP32, F, v);
    assertEquals(false, v.retrying);
    assertEquals(false, l.retry(true, Precision.FP32, F), "no leftover of the ended try");
  }

  @Test
  void theOtherRouteIsTriedAgainAtGrowingIntervals() {
    RouteLearning l = new RouteLearning();
    java.util.List<Integer> tries = new java.util.ArrayList<>();
    int interval = RouteLearning.RETRY_FIRST;
    int calls = 0;
    for (int i = 0; i < 3; i++) {
      calls += interval + RouteLearning.RETRY_CALLS - 1;
      interval *= 2;
    }
    for (int i = 1; i <= calls; i++) {
      if (l.retry(true, Precision.FP32, F)) {
        tries.add(i);
      }
    }
    int a = RouteLearning.RETRY_FIRST;
    int b = a + RouteLearning.RETRY_CALLS - 1 + 2 * RouteLearning.RETRY_FIRST;
    int c = b + RouteLearning.RETRY_CALLS - 1 + 4 * RouteLearning.RETRY_FIRST;
    java.util.List<Integer> expected = new java.util.ArrayList<>();
    for (int start : new int[] {a, b, c}) {
      for (int j = 0; j < RouteLearning.RETRY_CALLS; j++) {
        expected.add(start + j); // a try's calls one after another
      }
    }
    assertEquals(expected, tries);
    // other classes count apart
    assertEquals(false, l.retry(true, Precision.FP64, F));
    // a class whose chosen route changes counts again from 0, and a try under way ends
    RouteLearning m = new RouteLearning();
    for (int i = 1; i < RouteLearning.RETRY_FIRST; i++) {
      assertEquals(false, m.retry(true, Precision.FP32, F));
    }
    assertEquals(true, m.retry(true, Precision.FP32, F)); // the first call of a try
    assertEquals(false, m.retry(false, Precision.FP32, F)); // the CPU chosen now
    for (int i = 2; i < RouteLearning.RETRY_FIRST << 1; i++) {
      assertEquals(false, m.retry(false, Precision.FP32, F), "call " + i);
    }
    assertEquals(true, m.retry(false, Precision.FP32, F)); // the second try, twice as late
  }

  @Test
  void sizeClassesAreStepsOfFour() {
    assertEquals(0, RouteLearning.sizeClass(0));
    assertEquals(0, RouteLearning.sizeClass(3));
    assertEquals(1, RouteLearning.sizeClass(4));
    assertEquals(RouteLearning.sizeClass(1 << 20), RouteLearning.sizeClass((1 << 22) - 1));
    assertEquals(RouteLearning.sizeClass(1 << 20) + 1, RouteLearning.sizeClass(1 << 22));
    assertEquals(31, RouteLearning.sizeClass(1e300));
  }
}
