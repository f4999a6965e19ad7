package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.cuda.bindings.GpuCoreNative;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.NativeMemory;
import dev.gpucore.p2p.CopyPath;
import dev.gpucore.p2p.PeerCopy;
import dev.gpucore.p2p.PeerLink;
import dev.gpucore.p2p.Route;
import dev.gpucore.p2p.Transfer;
import dev.gpucore.testkit.GpuTests;
import dev.gpucore.testkit.RequiresGpu;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Copies between GPUs (and on one), compared element by element with the source on fresh random
 * bits, outputs poisoned first: both paths (peer, and staged — asked for, and forced by
 * {@code gpucore.p2p = off}), odd sizes and offsets, sync and async, batches, broadcast, gather.
 * Tests that need two GPUs say so and skip on one.
 */
@RequiresGpu
class PeerCopyGpuTest {
  static GpuCore core;
  static final long SEED = System.nanoTime();
  /** Elements per step when filling and comparing from Java (64 MiB of floats). */
  static final int STEP = 1 << 24;

  @BeforeEach
  void useGpu(GpuCore gpu) {
    core = gpu;
  }

  /** Skips (with the reason) unless two GPUs are visible. */
  static void needTwo() {
    int n = core.devices().size();
    assumeTrue(n >= 2, "needs 2 GPUs for peer copies; " + n + " visible ("
        + core.devices().get(0).name() + ")");
  }

  /** Skips (with the pair's reason) unless copies 0 -> 1 go directly. */
  static void needPeer(GpuCore c) {
    needTwo();
    PeerLink l = c.peer().link(0, 1);
    assumeTrue(l.isPeer(), "GPUs 0 and 1 have no working peer access: " + l.reason());
  }

  static GpuCore open(Map<String, String> settings) {
    Map<Object, Object> p = new HashMap<>(System.getProperties());
    p.putAll(settings);
    return GpuCore.open(Config.from(p, System.getenv()));
  }

  /** Fills with random bit patterns (NaNs included: copies must move bits, not values). */
  static void fillRandom(DeviceArray a, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    if (a.dtype() == DType.FLOAT64) {
      double[] buf = new double[(int) Math.min(a.length(), STEP)];
      for (long done = 0; done < a.length(); done += buf.length) {
        int n = (int) Math.min(buf.length, a.length() - done);
        for (int i = 0; i < n; i++) {
          buf[i] = Double.longBitsToDouble(r.nextLong());
        }
        a.copyFrom(buf, 0, done, n);
      }
      return;
    }
    float[] buf = new float[(int) Math.min(a.length(), STEP)];
    for (long done = 0; done < a.length(); done += buf.length) {
      int n = (int) Math.min(buf.length, a.length() - done);
      for (int i = 0; i < n; i++) {
        // 16-bit types are rounded from floats: give them finite values
        buf[i] = a.dtype() == DType.FLOAT32 ? Float.intBitsToFloat(r.nextInt())
            : (float) (r.nextDouble() * 200 - 100);
      }
      a.copyFrom(buf, 0, done, n);
    }
  }

  /** Compares {@code count} elements bit for bit, reading both arrays back in steps. */
  static void assertSame(DeviceArray src, long srcOff, DeviceArray dst, long dstOff, long count,
      String what) {
    if (src.dtype() == DType.FLOAT64) {
      double[] x = new double[(int) Math.max(1, Math.min(count, STEP))];
      double[] y = new double[x.length];
      for (long done = 0; done < count; done += x.length) {
        int n = (int) Math.min(x.length, count - done);
        src.copyTo(srcOff + done, x, 0, n);
        dst.copyTo(dstOff + done, y, 0, n);
        for (int i = 0; i < n; i++) {
          if (Double.doubleToRawLongBits(x[i]) != Double.doubleToRawLongBits(y[i])) {
            fail(what + ": element " + (done + i) + " differs: " + x[i] + " vs " + y[i]
                + " (seed " + SEED + ")");
          }
        }
      }
      return;
    }
    float[] x = new float[(int) Math.max(1, Math.min(count, STEP))];
    float[] y = new float[x.length];
    for (long done = 0; done < count; done += x.length) {
      int n = (int) Math.min(x.length, count - done);
      src.copyTo(srcOff + done, x, 0, n);
      dst.copyTo(dstOff + done, y, 0, n);
      for (int i = 0; i < n; i++) {
        if (Float.floatToRawIntBits(x[i]) != Float.floatToRawIntBits(y[i])) {
          fail(what + ": element " + (done + i) + " differs: " + x[i] + " vs " + y[i]
              + " (seed " + SEED + ")");
        }
      }
    }
  }

  /** The elements of {@code a} outside [off, off + count) are still the poison value. */
  static void assertPoisonAround(DeviceArray a, long off, long count) {
    for (long i : new long[] {off - 1, off + count}) {
      if (i >= 0 && i < a.length()) {
        double v;
        if (a.dtype() == DType.FLOAT64) {
          double[] one = new double[1];
          a.copyTo(i, one, 0, 1);
          v = one[0];
        } else {
          float[] one = new float[1];
          a.copyTo(i, one, 0, 1);
          v = one[0];
        }
        assertTrue(Double.isNaN(v), "element " + i + " outside the copied range was written");
      }
    }
  }

  /** One copy of n elements with offsets 1 (source) and 2 (destination), checked. */
  static void copyAndCheck(GpuCore c, int from, int to, DType t, long n, Route route) {
    try (DeviceArray src = c.allocate(from, t, n + 3);
        DeviceArray dst = c.allocate(to, t, n + 5)) {
      fillRandom(src, SEED + n * 31 + from);
      dst.fill(Double.NaN);
      c.peer().copy(src, 1, dst, 2, n, route);
      String what = t + " x " + n + " " + from + "->" + to + " " + route;
      assertSame(src, 1, dst, 2, n, what);
      assertPoisonAround(dst, 2, n);
    }
  }

  static Stream<Arguments> sizesAndRoutes() {
    List<Arguments> a = new ArrayList<>();
    for (long n : new long[] {1, 3, 4097, (1 << 20) + 7}) {
      for (Route r : Route.values()) {
        a.add(Arguments.of(n, r));
      }
    }
    return a.stream();
  }

  // ---- one device ----

  @ParameterizedTest
  @ValueSource(longs = {1, 3, 4097, (1 << 20) + 7})
  void copyOnOneDevice(long n) {
    long live = NativeMemory.liveBytes(NativeMemory.Kind.DEVICE);
    copyAndCheck(core, 0, 0, DType.FLOAT32, n, Route.AUTO);
    copyAndCheck(core, 0, 0, DType.FLOAT64, n, Route.STAGED); // ignored on one device
    assertEquals(live, NativeMemory.liveBytes(NativeMemory.Kind.DEVICE));
    assertEquals(CopyPath.SAME_DEVICE, core.peer().link(0, 0).path());
  }

  @Test
  void argumentsAreCheckedBeforeAnyNativeCall() {
    try (DeviceArray a = core.allocate(0, DType.FLOAT32, 100);
        DeviceArray d = core.allocate(0, DType.FLOAT64, 100)) {
      PeerCopy p = core.peer();
      assertThrows(GpuCoreException.InvalidArgument.class, () -> p.copy(a, 0, d, 0, 1));
      assertThrows(GpuCoreException.InvalidArgument.class, () -> p.copy(a, 50, a, 60, 20));
      assertThrows(GpuCoreException.InvalidArgument.class, () -> p.copy(a, 0, a, 1, 100));
      assertThrows(GpuCoreException.InvalidArgument.class, () -> p.copy(a, d));
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> p.copyAsync(a, 0, a, 50, 10, null));
      assertThrows(GpuCoreException.InvalidArgument.class, () -> p.link(0, 99));
      p.copy(a, 5, a, 5, 10); // onto itself: nothing to do
    }
  }

  @Test
  void broadcastAndGatherOnEveryVisibleGpu() {
    int n = core.devices().size();
    long len = 100_003;
    try (DeviceArray src = core.allocate(0, DType.FLOAT32, len)) {
      fillRandom(src, SEED + 7);
      List<DeviceArray> copies = core.peer().broadcast(src);
      try {
        assertEquals(n - 1, copies.size());
        for (int i = 0; i < copies.size(); i++) {
          assertEquals(i + 1, copies.get(i).device());
          assertSame(src, 0, copies.get(i), 0, len, "broadcast to " + copies.get(i).device());
        }
        // into given arrays: two on GPU 0 and one on each other GPU, tree order
        List<DeviceArray> dsts = new ArrayList<>();
        try {
          for (int d = 0; d < n; d++) {
            dsts.add(core.allocate(d, DType.FLOAT32, len));
          }
          dsts.add(core.allocate(0, DType.FLOAT32, len));
          for (DeviceArray x : dsts) {
            x.fill(Double.NaN);
          }
          core.peer().broadcast(src, dsts);
          for (DeviceArray x : dsts) {
            assertSame(src, 0, x, 0, len, "broadcast into an array on " + x.device());
          }
          // gather every part (one per GPU plus the source) on the last GPU
          List<DeviceArray> parts = new ArrayList<>(dsts);
          for (int k = 0; k < parts.size(); k++) {
            parts.get(k).fill(k + 1);
          }
          try (DeviceArray all = core.peer().gather(parts, n - 1)) {
            assertEquals(parts.size() * len, all.length());
            float[] back = new float[(int) all.length()];
            all.copyTo(back);
            for (int k = 0; k < parts.size(); k++) {
              for (long i = 0; i < len; i++) {
                if (back[(int) (k * len + i)] != k + 1) {
                  fail("gather: part " + k + " element " + i + " is " + back[(int) (k * len + i)]);
                }
              }
            }
          }
        } finally {
          for (DeviceArray x : dsts) {
            x.close();
          }
        }
      } finally {
        for (DeviceArray x : copies) {
          x.close();
        }
      }
    }
  }

  @Test
  void synchronousCopiesAllocateNothingOnTheJavaSide() {
    int to = core.devices().size() >= 2 && core.peer().link(0, 1).isPeer() ? 1 : 0;
    try (DeviceArray a = core.allocate(0, DType.FLOAT32, 1024);
        DeviceArray b = core.allocate(to, DType.FLOAT32, 1024)) {
      a.copyFrom(new float[1024]); // copies of unwritten memory would be reads of garbage
      PeerCopy p = core.peer();
      for (int k = 0; k < (GpuTests.SANITIZER ? 20 : 20_000); k++) {
        p.copy(a, 0, b, 0, 1024);
      }
      long pointers = org.bytedeco.javacpp.Pointer.totalCount();
      long before = allocatedBytes();
      long t0 = System.nanoTime();
      int calls = GpuTests.SANITIZER ? 20 : 10_000;
      for (int k = 0; k < calls; k++) {
        p.copy(a, 0, b, 0, 1024);
      }
      long ns = System.nanoTime() - t0;
      long allocated = allocatedBytes() - before;
      System.out.printf("4 KiB copy 0->%d: %.2f us per call (mean of %d), %d bytes allocated%n",
          to, ns / 1e3 / calls, calls, before < 0 ? -1 : allocated);
      assertEquals(pointers, org.bytedeco.javacpp.Pointer.totalCount(),
          "JavaCPP pointers were allocated by synchronous copies");
      if (before >= 0) {
        assertTrue(allocated < 64 * 1024, allocated + " bytes allocated by " + calls + " copies");
      }
    }
  }

  /**
   * Bytes the current thread allocated so far (HotSpot's com.sun.management.ThreadMXBean, read
   * reflectively: a runtime without jdk.management has none), or -1.
   */
  static long allocatedBytes() {
    try {
      Object mx = ManagementFactory.getThreadMXBean();
      Class<?> c = Class.forName("com.sun.management.ThreadMXBean");
      return (Long) c.getMethod("getCurrentThreadAllocatedBytes").invoke(mx);
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return -1;
    }
  }

  // ---- two devices ----

  @ParameterizedTest
  @MethodSource("sizesAndRoutes")
  void copyBetweenTwoGpus(long n, Route route) {
    needTwo();
    if (route == Route.PEER) {
      needPeer(core);
    }
    copyAndCheck(core, 0, 1, DType.FLOAT32, n, route);
    copyAndCheck(core, 1, 0, DType.FLOAT32, n, route);
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 3, 4097})
  void oddByteCountsOfOtherTypes(long n) {
    needTwo();
    for (Route r : Route.values()) {
      if (r == Route.PEER && !core.peer().link(0, 1).isPeer()) {
        continue;
      }
      copyAndCheck(core, 1, 0, DType.FLOAT64, n, r);
      copyAndCheck(core, 0, 1, DType.BFLOAT16, n, r);
      copyAndCheck(core, 1, 0, DType.FLOAT16, n, r);
    }
  }

  @Test
  void stagedWhenTheSettingSaysOff() {
    needTwo();
    try (GpuCore off = open(Map.of("gpucore.p2p", "off"))) {
      PeerLink l = off.peer().link(0, 1);
      assertEquals(CopyPath.STAGED, l.path());
      assertTrue(l.reason().contains("gpucore.p2p"), l.reason());
      assertFalse(off.peer().config().enabled());
      for (long n : new long[] {1, 3, 4097, (1 << 20) + 7, (40L << 20) / 4 + 5}) {
        copyAndCheck(off, 0, 1, DType.FLOAT32, n, Route.AUTO);
        copyAndCheck(off, 1, 0, DType.FLOAT32, n, Route.AUTO);
      }
      String msg = assertThrows(GpuCoreException.InvalidArgument.class,
          () -> copyAndCheck(off, 0, 1, DType.FLOAT32, 10, Route.PEER)).getMessage();
      assertTrue(msg.contains("gpucore.p2p"), msg);
    }
  }

  @Test
  void smallStagedChunksWithDoubleBufferingCrossManyChunks() {
    needTwo();
    try (GpuCore c = open(Map.of("gpucore.p2p.stagedChunkMiB", "1", "gpucore.p2p.stagedBuffers",
        "2"))) {
      for (long n : new long[] {(1 << 18) - 1, 1 << 18, (1 << 18) + 1, 5 * (1 << 18) + 3}) {
        copyAndCheck(c, 0, 1, DType.FLOAT32, n, Route.STAGED);
      }
    }
  }

  @Test
  void smallPeerCopiesByKernel() {
    needTwo();
    try (GpuCore c = open(Map.of("gpucore.p2p.kernelMaxBytes", "65536"))) {
      needPeer(c);
      for (long n : new long[] {1, 3, 4, 4097, 16384, 16385}) {
        copyAndCheck(c, 0, 1, DType.FLOAT32, n, Route.PEER);
        copyAndCheck(c, 1, 0, DType.BFLOAT16, n, Route.PEER);
      }
    }
  }

  @Test
  void oneGibBothPaths() {
    needTwo();
    long gib = 1L << 30;
    for (int d = 0; d < 2; d++) {
      long[] free = new long[1];
      long[] total = new long[1];
      GpuCoreNative.gc_set_device(core.devices().get(d).cudaOrdinal());
      GpuCoreNative.gc_mem_info(free, total);
      assumeTrue(free[0] > 8 * gib, "the 1 GiB copy needs more than 8 GiB free on both GPUs; GPU "
          + d + " has " + (free[0] >> 20) + " MiB free");
    }
    long n = gib / 4;
    try (DeviceArray a = core.allocate(0, DType.FLOAT32, n);
        DeviceArray b = core.allocate(1, DType.FLOAT32, n)) {
      fillRandom(a, SEED + 1);
      for (Route r : new Route[] {Route.AUTO, Route.STAGED}) {
        b.fill(Double.NaN);
        core.peer().copy(a, b, r);
        assertSame(a, 0, b, 0, n, "1 GiB " + r);
      }
    }
  }

  @Test
  void asyncCopiesAreOrderedOnStreamsOfEitherDevice() {
    needTwo();
    long n = (3L << 20) + 11; // several staged chunks
    for (Route r : new Route[] {Route.AUTO, Route.STAGED}) {
      for (int sd = 0; sd < 2; sd++) {
        try (DeviceArray src = core.allocate(0, DType.FLOAT32, n);
            DeviceArray dst = core.allocate(1, DType.FLOAT32, n);
            DeviceArray after = core.allocate(1, DType.FLOAT32, n);
            GpuStream s = core.stream(sd)) {
          dst.fill(Double.NaN);
          after.fill(Double.NaN);
          src.fill(1);
          if (sd == 0) {
            src.fill(42, s); // queued before the copy on the same stream: the copy must see it
          } else {
            dst.fill(-1, s);  // queued before: the copy must overwrite it
          }
          core.peer().copyAsync(src, 0, dst, 0, n, s, r);
          if (sd == 1) {
            after.copyFrom(dst, 0, 0, n, s); // queued after: must see the copied data
          }
          s.synchronize();
          float want = sd == 0 ? 42 : 1;
          float[] back = new float[(int) n];
          (sd == 1 ? after : dst).copyTo(back);
          for (int i = 0; i < n; i++) {
            if (back[i] != want) {
              fail(r + " on a stream of GPU " + sd + ": element " + i + " is " + back[i]);
            }
          }
        }
      }
    }
  }

  @Test
  void bothDirectionsAtOnce() {
    needTwo();
    long n = (5L << 20) + 1;
    for (Route r : Route.values()) {
      if (r == Route.PEER && !core.peer().link(0, 1).isPeer()) {
        continue;
      }
      try (DeviceArray a0 = core.allocate(0, DType.FLOAT32, n);
          DeviceArray b0 = core.allocate(0, DType.FLOAT32, n);
          DeviceArray a1 = core.allocate(1, DType.FLOAT32, n);
          DeviceArray b1 = core.allocate(1, DType.FLOAT32, n)) {
        fillRandom(a0, SEED + 3);
        fillRandom(a1, SEED + 4);
        b0.fill(Double.NaN);
        b1.fill(Double.NaN);
        core.peer().copyAll(List.of(Transfer.of(a0, b1), Transfer.of(a1, b0)), r);
        assertSame(a0, 0, b1, 0, n, "0->1 of a pair " + r);
        assertSame(a1, 0, b0, 0, n, "1->0 of a pair " + r);
      }
    }
  }

  @Test
  void linkSaysWhyAndPeerRouteFollowsIt() {
    needTwo();
    PeerLink l = core.peer().link(0, 1);
    PeerLink back = core.peer().link(1, 0);
    System.out.println("GPU 0 -> 1: " + l.path() + ": " + l.reason());
    assertFalse(l.reason().isEmpty());
    assertEquals(l.path(), back.path());
    assertEquals(1, back.src());
    var t = core.peer().topology();
    if (!t.link(0, 1).peerAccess() || !t.link(1, 0).peerAccess()) {
      assertEquals(CopyPath.STAGED, l.path(), "CUDA refuses peer access, yet " + l);
    }
    if (!l.isPeer()) {
      try (DeviceArray a = core.allocate(0, DType.FLOAT32, 10);
          DeviceArray b = core.allocate(1, DType.FLOAT32, 10)) {
        assertThrows(GpuCoreException.InvalidArgument.class,
            () -> core.peer().copy(a, 0, b, 0, 10, Route.PEER));
      }
    }
  }
}
