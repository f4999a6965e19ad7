package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Setting;
import dev.gpucore.Settings;
import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The staging schedule without a GPU: {@link StagedCopy} against a simulated device whose
 * streams run their copies on threads of their own, each after a random delay. Every element
 * arrives, nothing around the copied range changes, no pinned buffer is written by the host
 * while a DMA still reads it (or read before the DMA into it ended), every chunk is a host copy
 * of its own, failures stop the copy and leave every stream drained. The CUDA calls themselves
 * and the copy's speed need a GPU (MemoryGpuTest, {@code gpucore bench transfer}).
 */
class StagedCopyTest {
  private static ForkJoinPool pool;

  @BeforeAll
  static void startPool() {
    pool = new ForkJoinPool(7);
  }

  @AfterAll
  static void stopPool() {
    pool.shutdownNow();
  }

  @Test
  void everyElementArrivesBothWaysForEveryTypeSizeOffsetAndLaneCount() {
    SplittableRandom rnd = new SplittableRandom(11);
    Class<?>[] types = {float.class, double.class, short.class};
    long[] chunkBytes = {64, 200, 4096};
    int[] threads = {1, 2, 3, 4};
    for (Class<?> type : types) {
      int eb = type == double.class ? 8 : type == float.class ? 4 : 2;
      for (long cb : chunkBytes) {
        long chunk = cb / eb;
        for (int t : threads) {
          StagingConfig cfg = new StagingConfig(cb, t, true);
          for (long count : new long[] {1, chunk - 1, chunk, chunk + 1, 7 * chunk + 3,
              40 * chunk}) {
            if (count < 1) {
              continue;
            }
            int arrayOffset = rnd.nextInt(5);
            int devOffset = rnd.nextInt(5);
            for (boolean toDevice : new boolean[] {true, false}) {
              for (ForkJoinPool p : new ForkJoinPool[] {pool, null}) {
                roundTrip(type, cfg, p, count, arrayOffset, devOffset, toDevice, rnd);
              }
            }
          }
        }
      }
    }
  }

  private static void roundTrip(Class<?> type, StagingConfig cfg, ForkJoinPool p, long count,
      int arrayOffset, int devOffset, boolean toDevice, SplittableRandom rnd) {
    int eb = type == double.class ? 8 : type == float.class ? 4 : 2;
    int pad = 3;
    Object array = random(type, arrayOffset + (int) count + pad, rnd);
    Object device = random(type, devOffset + (int) count + pad, rnd);
    Object arrayBefore = copy(array);
    Object deviceBefore = copy(device);
    Sim sim = new Sim(device, eb, cfg);
    String what = type + " count " + count + " chunk " + cfg.chunkBytes() + " threads "
        + cfg.threads() + (p == null ? " no pool" : "") + (toDevice ? " up" : " down");
    try {
      StagedCopy.run(sim, cfg, sim.lanes, p, array, arrayOffset, sim.address(devOffset), count,
          eb, toDevice);
    } finally {
      sim.close();
    }
    assertEquals(List.of(), sim.violations, what);
    Object from = toDevice ? arrayBefore : deviceBefore;
    int fromOff = toDevice ? arrayOffset : devOffset;
    Object to = toDevice ? device : array;
    Object toBefore = toDevice ? deviceBefore : arrayBefore;
    int toOff = toDevice ? devOffset : arrayOffset;
    assertRange(from, fromOff, to, toOff, (int) count, what);
    // around the range and the source: unchanged
    assertRange(toBefore, 0, to, 0, toOff, what + " before the range");
    int after = toOff + (int) count;
    assertRange(toBefore, after, to, after, Array.getLength(to) - after, what + " after");
    assertRange(from, 0, toDevice ? array : device, 0, Array.getLength(from), what + " source");
    int chunks = StagedCopy.chunks(cfg, count, eb);
    assertEquals(chunks, sim.hostCopies.get(), what + ": one host copy per chunk");
    int lanes = StagedCopy.lanes(cfg, count, eb, p != null);
    assertTrue(sim.lanesEntered.get() <= lanes, what);
    assertEquals(cfg.streams(count * eb), sim.streamingSeen.get() > 0, what);
  }

  @Test
  void largeCopiesStreamPastTheCachesAndSmallOnesDoNot() {
    StagingConfig on = new StagingConfig(2 << 20, 4, true);
    assertTrue(on.streams(1 << 20));
    assertTrue(on.streams(1L << 30));
    assertFalse(on.streams((1 << 20) - 1));
    assertFalse(new StagingConfig(2 << 20, 4, false).streams(1L << 30));
  }

  @Test
  void aCopyUsesNoMoreLanesThanChunksAndOneWithoutAPool() {
    StagingConfig cfg = new StagingConfig(1 << 20, 16, true);
    assertEquals(0, StagedCopy.lanes(cfg, 0, 4, true));
    assertEquals(1, StagedCopy.lanes(cfg, 1, 4, true));
    assertEquals(3, StagedCopy.lanes(cfg, (2 << 18) + 1, 4, true));
    assertEquals(16, StagedCopy.lanes(cfg, 1L << 30, 4, true));
    assertEquals(1, StagedCopy.lanes(cfg, 1L << 30, 4, false));
    assertEquals(1024, StagedCopy.chunks(cfg, 1L << 28, 4));
  }

  @Test
  void defaultThreadsAreTheCoresUpToSixteen() {
    assertEquals(1, StagingConfig.defaultThreads(1));
    assertEquals(2, StagingConfig.defaultThreads(2));
    assertEquals(16, StagingConfig.defaultThreads(16));
    assertEquals(16, StagingConfig.defaultThreads(128));
    StagingConfig d = StagingConfig.from(Settings.from(Map.of(), Map.of()));
    assertEquals(2L << 20, d.chunkBytes());
    assertEquals(StagingConfig.defaultThreads(Runtime.getRuntime().availableProcessors()),
        d.threads());
    assertFalse(d.streaming());
    StagingConfig set = StagingConfig.from(Settings.from(Map.of(
        Setting.STAGING_THREADS.key(), "5", Setting.STAGING_CHUNK_MIB.key(), "4",
        Setting.STAGING_STREAMING.key(), "true"), Map.of()));
    assertEquals(new StagingConfig(4L << 20, 5, true), set);
  }

  @Test
  void aFailingHostCopyStopsTheOthersAndLeavesEveryStreamDrained() {
    for (boolean toDevice : new boolean[] {true, false}) {
      StagingConfig cfg = new StagingConfig(64, 4, true);
      float[] array = new float[16 * 200];
      Sim sim = new Sim(new float[array.length], 4, cfg);
      sim.failAtHostCopy = 5;
      IllegalStateException e = failingCopy(sim, cfg, array, toDevice);
      assertEquals("injected host copy failure", e.getMessage());
      assertEquals(List.of(), sim.violations);
      assertTrue(sim.drained.containsAll(sim.streamsUsed), "every stream used is drained");
      assertTrue(sim.hostCopies.get() < 200 - 4 * 2,
          "the other lanes stop: " + sim.hostCopies.get() + " host copies of 200");
    }
  }

  @Test
  void aFailingDrainIsThrownAfterTheOtherLanesEnd() {
    StagingConfig cfg = new StagingConfig(64, 3, true);
    double[] array = new double[8 * 50];
    Sim sim = new Sim(new double[array.length], 8, cfg);
    sim.failDrain = true;
    IllegalStateException e = failingCopy(sim, cfg, array, true);
    assertEquals("injected stream failure", e.getMessage());
    assertEquals(List.of(), sim.violations);
  }

  /**
   * Copies the whole of {@code array} to or from the start of {@code sim}'s device on the pool,
   * which must fail with an IllegalStateException; closes {@code sim} either way.
   */
  private static IllegalStateException failingCopy(Sim sim, StagingConfig cfg, Object array,
      boolean toDevice) {
    try {
      return assertThrows(IllegalStateException.class, () -> StagedCopy.run(sim, cfg, sim.lanes,
          pool, array, 0, sim.address(0), Array.getLength(array), sim.eb, toDevice));
    } finally {
      sim.close();
    }
  }

  @Test
  void aPoolThatTakesNoTaskLeavesTheCopyToTheCaller() {
    ForkJoinPool busy = new ForkJoinPool(1);
    try {
      CompletableFuture<Void> gate = new CompletableFuture<>();
      busy.submit(() -> gate.join()); // the pool's only thread waits until the copy is done
      StagingConfig cfg = new StagingConfig(64, 4, true);
      float[] array = new float[16 * 30];
      for (int i = 0; i < array.length; i++) {
        array[i] = i;
      }
      float[] device = new float[array.length];
      Sim sim = new Sim(device, 4, cfg);
      Thread t = new Thread(() -> {
        try {
          StagedCopy.run(sim, cfg, sim.lanes, busy, array, 0, sim.address(0), array.length, 4,
              true);
        } finally {
          gate.complete(null);
        }
      });
      t.start();
      t.join(TimeUnit.SECONDS.toMillis(60));
      assertFalse(t.isAlive(), "the copy waited for the pool");
      sim.close();
      assertArrayEquals(array, device);
      assertEquals(List.of(), sim.violations);
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    } finally {
      busy.shutdownNow();
    }
  }

  // ---- a simulated device: streams run their work on threads of their own ----

  private static final class Sim implements StagedCopy.Ops {
    static final long DEVICE_BASE = 1L << 40;
    final Object device;
    final int eb;
    final StagedCopy.Lane[] lanes;
    final Map<Long, Object> buffers = new ConcurrentHashMap<>();
    final Map<Long, AtomicInteger> dmaPending = new ConcurrentHashMap<>();
    final Map<Long, ExecutorService> streams = new ConcurrentHashMap<>();
    final Map<Long, CompletableFuture<Void>> events = new ConcurrentHashMap<>();
    final Set<Long> streamsUsed = ConcurrentHashMap.newKeySet();
    final Set<Long> drained = ConcurrentHashMap.newKeySet();
    final List<String> violations = java.util.Collections.synchronizedList(new ArrayList<>());
    final AtomicInteger hostCopies = new AtomicInteger();
    final AtomicInteger streamingSeen = new AtomicInteger();
    final AtomicInteger lanesEntered = new AtomicInteger();
    volatile int failAtHostCopy = -1;
    volatile boolean failDrain;

    Sim(Object device, int eb, StagingConfig cfg) {
      this.device = device;
      this.eb = eb;
      this.lanes = new StagedCopy.Lane[cfg.threads()];
      Class<?> type = device.getClass().getComponentType();
      int chunk = (int) Math.max(1, cfg.chunkBytes() / eb);
      long id = 1;
      for (int i = 0; i < lanes.length; i++) {
        long stream = id++;
        long[] b = {(id++) << 20, (id++) << 20};
        for (long a : b) {
          buffers.put(a, Array.newInstance(type, chunk));
          dmaPending.put(a, new AtomicInteger());
        }
        streams.put(stream, Executors.newSingleThreadExecutor(r -> {
          Thread t = new Thread(r, "sim-stream");
          t.setDaemon(true);
          return t;
        }));
        lanes[i] = new StagedCopy.Lane(stream, b[0], b[1], id++, id++);
      }
    }

    long address(int element) {
      return DEVICE_BASE + (long) element * eb;
    }

    void close() {
      for (ExecutorService s : streams.values()) {
        s.shutdownNow();
      }
    }

    @Override
    public void enterLane() {
      lanesEntered.incrementAndGet();
    }

    @Override
    public void hostCopy(Object array, int offset, long buf, int n, int elemBytes,
        boolean toBuffer, boolean streaming) {
      if (hostCopies.getAndIncrement() == failAtHostCopy) {
        throw new IllegalStateException("injected host copy failure");
      }
      if (streaming) {
        streamingSeen.incrementAndGet();
      }
      if (elemBytes != eb) {
        violations.add("element size " + elemBytes);
      }
      if (dmaPending.get(buf).get() != 0) {
        violations.add((toBuffer ? "host wrote" : "host read") + " buffer " + buf
            + " while a DMA used it");
      }
      Object b = buffers.get(buf);
      if (toBuffer) {
        System.arraycopy(array, offset, b, 0, n);
      } else {
        System.arraycopy(b, 0, array, offset, n);
      }
    }

    @Override
    public void copyAsync(long dst, long src, long bytes, boolean toDevice, long stream) {
      streamsUsed.add(stream);
      long buf = toDevice ? src : dst;
      long devAddr = toDevice ? dst : src;
      int n = (int) (bytes / eb);
      int at = (int) ((devAddr - DEVICE_BASE) / eb);
      if (bytes % eb != 0 || devAddr < DEVICE_BASE || !buffers.containsKey(buf)
          || n > Array.getLength(buffers.get(buf))) {
        violations.add("bad copy " + dst + " <- " + src + " " + bytes);
        return;
      }
      dmaPending.get(buf).incrementAndGet();
      long delay = ThreadLocalDelay.next();
      streams.get(stream).execute(() -> {
        LockSupport.parkNanos(delay);
        if (toDevice) {
          System.arraycopy(buffers.get(buf), 0, device, at, n);
        } else {
          System.arraycopy(device, at, buffers.get(buf), 0, n);
        }
        dmaPending.get(buf).decrementAndGet();
      });
    }

    @Override
    public void record(long event, long stream) {
      CompletableFuture<Void> f = new CompletableFuture<>();
      events.put(event, f);
      streams.get(stream).execute(() -> f.complete(null));
    }

    @Override
    public void await(long event) {
      CompletableFuture<Void> f = events.get(event);
      if (f == null) {
        violations.add("waited for event " + event + " never recorded");
        return;
      }
      f.join();
    }

    @Override
    public void drain(long stream) {
      CompletableFuture<Void> f = new CompletableFuture<>();
      streams.get(stream).execute(() -> f.complete(null));
      f.join();
      drained.add(stream);
      if (failDrain) {
        throw new IllegalStateException("injected stream failure");
      }
    }
  }

  /** Random DMA delays up to 50 µs, so that streams finish out of order. */
  private static final class ThreadLocalDelay {
    private static final ThreadLocal<SplittableRandom> RND =
        ThreadLocal.withInitial(() -> new SplittableRandom(Thread.currentThread().getId()));

    static long next() {
      return RND.get().nextLong(50_000);
    }
  }

  private static Object random(Class<?> type, int n, SplittableRandom rnd) {
    Object a = Array.newInstance(type, n);
    for (int i = 0; i < n; i++) {
      if (type == float.class) {
        Array.setFloat(a, i, (float) rnd.nextDouble());
      } else if (type == double.class) {
        Array.setDouble(a, i, rnd.nextDouble());
      } else {
        Array.setShort(a, i, (short) rnd.nextInt());
      }
    }
    return a;
  }

  private static Object copy(Object a) {
    Object c = Array.newInstance(a.getClass().getComponentType(), Array.getLength(a));
    System.arraycopy(a, 0, c, 0, Array.getLength(a));
    return c;
  }

  private static void assertRange(Object expected, int eo, Object actual, int ao, int n,
      String what) {
    assertSame(expected.getClass(), actual.getClass());
    for (int i = 0; i < n; i++) {
      Object e = Array.get(expected, eo + i);
      Object a = Array.get(actual, ao + i);
      if (!e.equals(a)) {
        throw new AssertionError(what + ": element " + i + " is " + a + ", expected " + e);
      }
    }
  }
}
