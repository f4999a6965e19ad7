package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Setting;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.HostArray;
import dev.gpucore.memory.NativeMemory;
import dev.gpucore.testkit.GpuTests;
import dev.gpucore.testkit.RequiresGpu;
import dev.gpucore.testkit.UsesCore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Device arrays and transfers, checked element by element on fresh random data. */
@RequiresGpu
class MemoryGpuTest extends UsesCore {
  static float[] randomFloats(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return a;
  }

  // sizes cross the 2 MiB staging chunk (512 Ki floats), the 1 MiB streaming-store threshold and
  // the sub-lanes' two-buffer rings several times
  @ParameterizedTest
  @ValueSource(ints = {1, 2, 31, 1023, (1 << 20) + 1, (2 << 20) - 1, (2 << 20) + 1, 7 * (1 << 20) + 5,
      25_000_003})
  void floatRoundTripThroughStaging(int n) {
    GpuTests.skipLargeUnderSanitizer(n);
    long dev0 = NativeMemory.liveBytes(NativeMemory.Kind.DEVICE);
    float[] src = randomFloats(n, SEED + n);
    try (DeviceArray d = core.allocate(0, DType.FLOAT32, n + 8L)) {
      d.fill(Double.NaN);
      d.copyFrom(src, 0, 4, n);
      float[] back = new float[n + 8];
      Arrays.fill(back, 7f);
      d.copyTo(0, back, 0, n + 8);
      for (int i = 0; i < 4; i++) {
        assertTrue(Float.isNaN(back[i]) && Float.isNaN(back[n + 4 + i]),
            "elements outside the copied range must stay poisoned");
      }
      assertArrayEquals(src, Arrays.copyOfRange(back, 4, n + 4), "seed " + (SEED + n));
    }
    assertEquals(dev0, NativeMemory.liveBytes(NativeMemory.Kind.DEVICE));
  }

  /**
   * The other staging paths: streaming stores instead of plain memcpy, 1 MiB chunks, three
   * threads (chunks that do not divide among them evenly), and several Java threads staging at
   * once on a copy pool too small for all their sub-lanes.
   */
  @Test
  void stagingSettingsAndConcurrentCopiesRoundTrip() throws Exception {
    int n = 9 * (1 << 20) + 13;
    GpuTests.skipLargeUnderSanitizer(n);
    try (GpuCore plain = GpuCore.open(Config.from(Map.of(Setting.STAGING_STREAMING.key(), "true",
        Setting.STAGING_CHUNK_MIB.key(), "1", Setting.STAGING_THREADS.key(), "3"), Map.of()))) {
      float[] src = randomFloats(n, SEED + 1);
      try (DeviceArray d = plain.allocate(0, DType.FLOAT32, n)) {
        d.copyFrom(src);
        float[] back = new float[n];
        d.copyTo(back);
        assertArrayEquals(src, back, "seed " + (SEED + 1));
      }
    }
    int threads = 6;
    ExecutorService callers = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        long seed = SEED + 100 + t;
        done.add(callers.submit(() -> {
          double[] src = new SplittableRandom(seed).doubles(n / 2 + 3).toArray();
          try (DeviceArray d = core.allocate(0, DType.FLOAT64, src.length)) {
            for (int rep = 0; rep < 3; rep++) {
              d.copyFrom(src);
              double[] back = new double[src.length];
              d.copyTo(back);
              assertArrayEquals(src, back, "seed " + seed + " rep " + rep);
            }
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get(5, TimeUnit.MINUTES);
      }
    } finally {
      callers.shutdownNow();
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 1023, 3 * (1 << 20) + 7})
  void doubleRoundTrip(int n) {
    SplittableRandom r = new SplittableRandom(SEED ^ n);
    double[] src = r.doubles(n).toArray();
    try (DeviceArray d = core.allocate(0, DType.FLOAT64, n)) {
      d.fill(Double.NaN);
      d.copyFrom(src);
      double[] back = new double[n];
      d.copyTo(back);
      assertArrayEquals(src, back);
    }
  }

  @Test
  void pinnedAndPageableHostArraysAsyncOnStream() {
    int n = 5_000_001;
    float[] src = randomFloats(n, SEED + 1);
    try (HostArray pinned = core.allocateHost(DType.FLOAT32, n, true);
        HostArray pageable = core.allocateHost(DType.FLOAT32, n, false);
        DeviceArray d = core.allocate(0, DType.FLOAT32, n);
        DeviceArray d2 = core.allocate(0, DType.FLOAT32, n);
        GpuStream s = core.stream(0)) {
      assertTrue(pinned.isPinned());
      assertTrue(!pageable.isPinned());
      pinned.put(0, src, 0, n);
      d.fill(Double.NaN, s);
      d.copyFromAsync(pinned, 0, 0, n, s);
      d2.copyFrom(d, 0, 0, n, s);
      d2.copyToAsync(0, pageable, 0, n, s);
      s.synchronize();
      float[] back = new float[n];
      pageable.get(0, back, 0, n);
      assertArrayEquals(src, back);
      // partial copies with offsets
      d.fill(-1.0);
      d.copyFrom(pageable);
      d.copyTo(back);
      assertArrayEquals(src, back);
    }
  }

  @Test
  void streamTimesQueuedWorkWithGpuEvents() {
    int n = 1 << 26; // 256 MiB of floats
    try (DeviceArray d = core.allocate(0, DType.FLOAT32, n);
        DeviceArray d2 = core.allocate(0, DType.FLOAT32, n);
        GpuStream s = core.stream(0)) {
      assertTrue(s.timesOnGpu());
      d.fill(1.0, s);
      s.time(() -> d2.copyFrom(d, 0, 0, n, s)); // warm-up
      long one = s.time(() -> d2.copyFrom(d, 0, 0, n, s));
      long four = s.time(() -> {
        for (int i = 0; i < 4; i++) {
          d2.copyFrom(d, 0, 0, n, s);
        }
      });
      assertTrue(one > 0, "one copy: " + one + " ns");
      assertTrue(four > 2 * one && four < 8 * one, "four copies " + four + " ns, one " + one + " ns");
      assertThrows(NullPointerException.class, () -> s.time(null));
    }
  }

  @Test
  void badInputIsRejectedBeforeAnyCopyAndChangesNothing() {
    float[] src = randomFloats(100, SEED + 2);
    try (DeviceArray d = core.allocate(0, DType.FLOAT32, 100)) {
      d.copyFrom(src);
      float[] big = new float[101];
      GpuCoreException e = assertThrows(GpuCoreException.InvalidArgument.class,
          () -> d.copyFrom(big));
      assertTrue(e.getMessage().contains("DeviceArray offset"), e.getMessage());
      assertThrows(GpuCoreException.InvalidArgument.class, () -> d.copyFrom(new double[10]));
      assertThrows(GpuCoreException.InvalidArgument.class, () -> d.copyFrom(src, -1, 0, 10));
      assertThrows(GpuCoreException.InvalidArgument.class, () -> d.copyFrom(src, 0, 95, 10));
      assertThrows(GpuCoreException.InvalidArgument.class, () -> d.copyFrom((float[]) null));
      assertThrows(GpuCoreException.InvalidArgument.class, () -> d.copyFrom(d, 0, 10, 20, null));
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> core.allocate(0, DType.FLOAT32, -1));
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> core.allocate(99, DType.FLOAT32, 1));
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> core.allocate(0, DType.FLOAT64, Long.MAX_VALUE / 4));
      float[] back = new float[100];
      d.copyTo(back);
      assertArrayEquals(src, back, "a rejected call must leave the array untouched");
    }
  }

  @Test
  @org.junit.jupiter.api.Tag("provokes-cuda-errors") // compute-sanitizer counts the real OOM
  void outOfMemoryIsTypedAndNotSticky() {
    long huge = core.devices().get(0).memoryTotal() * 4;
    assertThrows(GpuCoreException.OutOfMemory.class,
        () -> core.allocate(0, DType.FLOAT32, huge / 4));
    try (DeviceArray d = core.allocate(0, DType.FLOAT32, 16)) { // the next call still works
      d.fill(3.0);
      float[] back = new float[16];
      d.copyTo(back);
      assertEquals(3f, back[15]);
    }
  }

  @Test
  void closeIsIdempotentAndUseAfterCloseIsRejected() {
    long count0 = NativeMemory.liveCount(NativeMemory.Kind.DEVICE);
    DeviceArray d = core.allocate(0, DType.FLOAT32, 10);
    assertEquals(count0 + 1, NativeMemory.liveCount(NativeMemory.Kind.DEVICE));
    d.close();
    d.close();
    assertEquals(count0, NativeMemory.liveCount(NativeMemory.Kind.DEVICE));
    assertThrows(GpuCoreException.InvalidArgument.class, () -> d.copyFrom(new float[1]));
  }
}
