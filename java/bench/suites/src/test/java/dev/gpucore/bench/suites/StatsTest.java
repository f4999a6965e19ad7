package dev.gpucore.bench.suites;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Statistics, timing loop and buffer rotation. */
class StatsTest {
  @Test
  void medianOfOddCountIsTheMiddleSample() {
    Stats s = Stats.of(50, 10, 40, 20, 30);
    assertEquals(30, s.median());
    assertEquals(10, s.min());
    assertEquals(50, s.max());
    assertEquals(30, s.mean());
    assertEquals(5, s.count());
    assertEquals(10, s.mad()); // |x - 30| = 20,20,10,10,0 -> median 10
  }

  @Test
  void medianOfEvenCountIsTheMeanOfTheMiddleTwo() {
    Stats s = Stats.of(4, 1, 3, 2);
    assertEquals(2.5, s.median());
    assertEquals(1, s.min());
    assertEquals(4, s.max());
    assertEquals(Stats.of(7).median(), 7);
  }

  @Test
  void keepsSamplesInOrderTaken() {
    long[] in = {3, 1, 2};
    Stats s = Stats.of(in);
    in[0] = 99; // a copy was taken
    assertArrayEquals(new long[] {3, 1, 2}, s.samples());
  }

  @Test
  void outliersDoNotMoveTheMedian() {
    Stats s = Stats.of(100, 101, 99, 100, 1_000_000);
    assertEquals(100, s.median());
    assertEquals(1_000_000, s.max());
  }

  @Test
  void throughputIsWorkPerMedianTime() {
    // 1 GB in 20 ms = 50 GB/s; bytes per ns is GB/s
    Stats s = Stats.of(20_000_000, 19_000_000, 21_000_000);
    assertEquals(50e9, s.perSecond(1e9), 1e-3);
    Row r = new Row("t", "g", "c", "name", "who", 1, "1", 1e9, "GB/s").measured(s, "host");
    assertEquals(50, r.throughput(), 1e-12);
  }

  @Test
  void rejectsEmptyAndNegative() {
    assertThrows(IllegalArgumentException.class, Stats::of);
    assertThrows(IllegalArgumentException.class, () -> Stats.of(1, -1));
  }

  @Test
  void timerRunsWarmupsThenRepsWithTheirIndexes() {
    List<Integer> seen = new ArrayList<>();
    Stats s = Timer.measure(2, 3, seen::add, () -> { });
    assertEquals(List.of(-1, -2, 0, 1, 2), seen);
    assertEquals(3, s.count());
    assertThrows(IllegalArgumentException.class, () -> Timer.measure(0, 0, i -> { }, () -> { }));
  }

  @Test
  void rotationCoversTwiceTheCache() {
    long llc = 32L << 20;
    assertEquals(1, Timer.rotation(1L << 30, llc)); // far larger than the cache
    assertEquals(2, Timer.rotation(32L << 20, llc));
    assertEquals(4, Timer.rotation(16L << 20, llc));
    assertEquals(16, Timer.rotation(1L << 20, llc)); // capped
    assertEquals(1, Timer.rotation(0, llc));
  }

  @Test
  void lapsSplitARepetitionIntoStages() throws InterruptedException {
    Laps l = new Laps();
    for (int i = 0; i < 3; i++) {
      l.start();
      l.lap("a");
      Thread.sleep(2);
      l.lap("b");
      l.end();
    }
    assertEquals(List.of("a", "b"), new ArrayList<>(l.stages().keySet()));
    assertEquals(3, l.total().count());
    assertEquals(3, l.stages().get("b").count());
    assertEquals(true, l.stages().get("b").min() >= 1_000_000);
    assertEquals(true, l.total().min() >= l.stages().get("b").min());
  }

  @Test
  void formatsTimesAndSizes() {
    assertEquals("812 ns", Fmt.time(812));
    assertEquals("3.21 ms", Fmt.time(3_210_000));
    assertEquals("1.50 s", Fmt.time(1.5e9));
    assertEquals("16 MiB", Fmt.bytes(16 << 20));
    assertEquals("1 GiB", Fmt.bytes(1L << 30));
  }
}
