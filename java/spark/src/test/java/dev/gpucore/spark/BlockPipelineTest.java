package dev.gpucore.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The block step's schedule on a stand-in device whose copies and GEMMs run late on threads of
 * their own (one per staging buffer, one per GEMM stream), as a GPU's would: the sum must equal
 * a plain fp64 sum, and the stand-in records every breach of the schedule's rules (a staging
 * buffer refilled while its copy runs, a set overwritten while a GEMM reads it, a GEMM queued
 * before its data arrived, two GEMMs writing the same columns of C at once, C copied back
 * before the GEMMs writing it ended).
 */
class BlockPipelineTest {
  static ExecutorService pool;
  static ExecutorService zeros;

  @BeforeAll
  static void start() {
    pool = Executors.newFixedThreadPool(2); // fewer threads than lanes: lanes wait for each other
    zeros = Executors.newCachedThreadPool();
  }

  @AfterAll
  static void stop() {
    pool.shutdownNow();
    zeros.shutdownNow();
  }

  /** A device of host arrays; copies and GEMMs queued on single-thread executors. */
  static final class FakeDevice implements BlockPipeline.Ops {
    final int lanes;
    final int chunk;
    final int m;
    final double[][][] staging;
    final double[][] a = new double[2][];
    final double[][] b = new double[2][];
    final double[] c;
    final ExecutorService[][] copies;
    final List<List<Future<?>>> copyQueue = new ArrayList<>();
    final ExecutorService[] gemms = {Executors.newSingleThreadExecutor(), Executors.newSingleThreadExecutor()};
    final List<List<Future<?>>> gemmQueue = List.of(new ArrayList<>(), new ArrayList<>());
    final List<String> breaches = new ArrayList<>();
    final boolean[][] busy;
    /** Device ranges being written by queued copies, and read by queued GEMMs: {set, toB, from, to}. */
    final List<long[]> writing = new ArrayList<>();
    final List<long[]> reading = new ArrayList<>();
    /** Ranges of C being written by running GEMMs, and by queued ones: {from, to}. */
    final List<long[]> cWrites = new ArrayList<>();
    final List<long[]> cQueued = new ArrayList<>();
    final AtomicInteger sends = new AtomicInteger();
    int failSend = -1;
    int failGemm = -1;
    final AtomicInteger gemmCalls = new AtomicInteger();

    FakeDevice(int lanes, int chunk, int m, int cLen, int maxA, int maxB) {
      this.lanes = lanes;
      this.chunk = chunk;
      this.m = m;
      staging = new double[lanes][2][chunk];
      busy = new boolean[lanes][2];
      copies = new ExecutorService[lanes][2];
      for (int l = 0; l < lanes; l++) {
        for (int i = 0; i < 2; i++) {
          copies[l][i] = Executors.newSingleThreadExecutor();
          copyQueue.add(new ArrayList<>());
        }
      }
      for (int s = 0; s < 2; s++) {
        a[s] = new double[maxA];
        b[s] = new double[maxB];
      }
      c = new double[cLen];
    }

    void close() {
      for (ExecutorService[] e : copies) {
        for (ExecutorService x : e) {
          x.shutdownNow();
        }
      }
      for (ExecutorService g : gemms) {
        g.shutdownNow();
      }
    }

    synchronized void breach(String what) {
      breaches.add(what);
    }

    static void nap() {
      try {
        Thread.sleep(0, ThreadLocalRandom.current().nextInt(200_000));
        if (ThreadLocalRandom.current().nextInt(8) == 0) {
          Thread.sleep(1);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    static void napLong() {
      try {
        Thread.sleep(ThreadLocalRandom.current().nextInt(1, 4));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    static boolean overlap(long[] x, long[] y) {
      return x[0] == y[0] && x[1] == y[1] && x[2] < y[3] && y[2] < x[3];
    }

    @Override
    public int lanes() {
      return lanes;
    }

    @Override
    public int chunk() {
      return chunk;
    }

    @Override
    public void pack(int lane, int buf, double[] src, int offset, int count) {
      synchronized (this) {
        if (busy[lane][buf]) {
          breach("lane " + lane + " buffer " + buf + " packed while its copy runs");
        }
      }
      System.arraycopy(src, offset, staging[lane][buf], 0, count);
    }

    @Override
    public void send(int lane, int buf, int set, boolean toB, long dstOffset, int count) {
      if (sends.incrementAndGet() == failSend) {
        throw new IllegalStateException("send failed");
      }
      long[] range = {set, toB ? 1 : 0, dstOffset, dstOffset + count};
      synchronized (this) {
        busy[lane][buf] = true;
        for (long[] r : reading) {
          if (overlap(r, range)) {
            breach("set " + set + " written while a GEMM reads it");
          }
        }
        writing.add(range);
      }
      double[] dst = (toB ? b : a)[set];
      queue(copyQueue.get(2 * lane + buf), copies[lane][buf], () -> {
        nap();
        System.arraycopy(staging[lane][buf], 0, dst, (int) dstOffset, count);
        synchronized (this) {
          writing.remove(range);
          busy[lane][buf] = false;
        }
      });
    }

    @Override
    public void fetch(int lane, int buf, long srcOffset, int count) {
      synchronized (this) {
        busy[lane][buf] = true;
        for (long[] x : cQueued) {
          if (x[0] < srcOffset + count && srcOffset < x[1]) {
            breach("C copied back before the GEMM writing it ended");
          }
        }
      }
      queue(copyQueue.get(2 * lane + buf), copies[lane][buf], () -> {
        nap();
        System.arraycopy(c, (int) srcOffset, staging[lane][buf], 0, count);
        synchronized (this) {
          busy[lane][buf] = false;
        }
      });
    }

    @Override
    public void unpack(int lane, int buf, double[] dst, int offset, int count) {
      synchronized (this) {
        if (busy[lane][buf]) {
          breach("lane " + lane + " buffer " + buf + " unpacked while its copy runs");
        }
      }
      System.arraycopy(staging[lane][buf], 0, dst, offset, count);
    }

    @Override
    public void await(int lane, int buf) {
      drainQueue(copyQueue.get(2 * lane + buf));
    }

    @Override
    public void gemm(int stream, int set, long aOffset, long cOffset, int m, int w, int k,
        int j0, boolean accumulate) {
      if (gemmCalls.incrementAndGet() == failGemm) {
        throw new IllegalStateException("gemm failed");
      }
      long[] readA = {set, 0, aOffset, aOffset + (long) m * k};
      long[] readB = {set, 1, (long) j0 * k, (long) (j0 + w) * k};
      synchronized (this) {
        for (long[] r : writing) {
          if (overlap(r, readA) || overlap(r, readB)) {
            breach("GEMM on set " + set + " queued before its data arrived");
          }
        }
        reading.add(readA);
        reading.add(readB);
      }
      long[] cols = {cOffset, cOffset + (long) w * m};
      synchronized (this) {
        cQueued.add(cols);
      }
      double[] as = a[set];
      double[] bs = b[set];
      queue(gemmQueue.get(stream), gemms[stream], () -> {
        synchronized (this) {
          for (long[] x : cWrites) {
            if (x[0] < cols[1] && cols[0] < x[1]) {
              breach("two GEMMs write the same part of C at once");
            }
          }
          cWrites.add(cols);
        }
        nap();
        if (ThreadLocalRandom.current().nextInt(3) == 0) {
          napLong(); // a slow GEMM: whatever waits for the wrong one shows
        }
        int a0 = (int) aOffset;
        int c0 = (int) cOffset;
        for (int j = 0; j < w; j++) {
          for (int i = 0; i < m; i++) {
            double s = accumulate ? c[c0 + i + j * m] : 0;
            for (int l = 0; l < k; l++) {
              s += as[a0 + i + l * m] * bs[l + (j0 + j) * k];
            }
            c[c0 + i + j * m] = s;
          }
        }
        synchronized (this) {
          cWrites.remove(cols);
          cQueued.remove(cols);
          reading.remove(readA);
          reading.remove(readB);
        }
      });
    }

    @Override
    public void syncGemm(int stream) {
      drainQueue(gemmQueue.get(stream));
    }

    private static void queue(List<Future<?>> q, ExecutorService e, Runnable r) {
      synchronized (q) {
        q.add(e.submit(r));
      }
    }

    private static void drainQueue(List<Future<?>> q) {
      List<Future<?>> all;
      synchronized (q) {
        all = new ArrayList<>(q);
        q.clear();
      }
      // a device's wait ignores interrupts
      Throwable failure = HostCopy.join(all, null);
      if (failure != null) {
        throw new IllegalStateException(failure);
      }
    }
  }

  static FakeDevice device(int lanes, int chunk, int m, int n, List<BlockKernel.Pair> pairs) {
    return device(lanes, chunk, m, n, 1, 1, steps(pairs));
  }

  static FakeDevice device(int lanes, int chunk, int m, int n, int rows, int cols,
      List<BlockKernel.Step> steps) {
    int maxK = 1;
    for (BlockKernel.Step s : steps) {
      maxK = Math.max(maxK, s.k());
    }
    return new FakeDevice(lanes, chunk, m, m * n * rows * cols, rows * m * maxK, maxK * n * cols);
  }

  /** Each pair as a step of a grid of one result block. */
  static List<BlockKernel.Step> steps(List<BlockKernel.Pair> pairs) {
    return pairs.stream().map(p -> new BlockKernel.Step(List.of(p.a()), List.of(p.b()), p.k()))
        .toList();
  }

  static List<BlockKernel.Pair> live(List<BlockKernel.Pair> pairs) {
    return pairs.stream().filter(p -> p.k() > 0).toList();
  }

  /** The single result block of a pairs' step. */
  static double[] run(FakeDevice d, int m, int n, List<BlockKernel.Pair> pairs) {
    double[][] c = BlockPipeline.run(d, pool, zeros, m, n, 1, 1, steps(pairs));
    assertEquals(1, c.length);
    return c[0];
  }

  @Test
  void theScheduleSumsEveryPairAndKeepsItsRules() {
    Random r = new Random(5);
    int[][] cases = {
        // m, n, chunk, lanes, then the k of each pair
        {13, 2100, 700, 3, 30, 0, 17, 41, 5, 23},
        {9, 1100, 64, 4, 11},
        {7, 300, 1000, 2, 50, 60, 70, 80, 90, 100, 1},
        {16, 2048, 4096, 3, 64, 64, 64, 64},
        // pairs of a few chunks: lanes run ahead into the pair after next
        {8, 40, 64, 4, 5, 6, 7, 5, 6, 7, 5, 6, 7, 5},
        {5, 1024, 8192, 3, 4, 4, 4, 4, 4, 4, 4, 4},
    };
    for (int[] cs : cases) {
      int m = cs[0];
      int n = cs[1];
      int[] ks = java.util.Arrays.copyOfRange(cs, 4, cs.length);
      List<BlockKernel.Pair> pairs = ExecutorCheck.randomPairs(r, m, n, ks);
      double[] want = ExecutorCheck.plainSum(m, n, pairs);
      for (int round = 0; round < 3; round++) {
        FakeDevice d = device(cs[3], cs[2], m, n, pairs);
        try {
          double[] got = assertTimeoutPreemptively(Duration.ofSeconds(60),
              () -> run(d, m, n, live(pairs)));
          assertTrue(ExecutorCheck.relError(got, want) < 1e-14, "m=" + m + " n=" + n);
          assertEquals(List.of(), d.breaches, "m=" + m + " n=" + n);
        } finally {
          d.close();
        }
      }
    }
  }

  @Test
  void aGridSumsEveryBlocksStepsAndKeepsTheRules() {
    Random r = new Random(9);
    int[][] cases = {
        // m, n, rows, cols, chunk, lanes, then the k of each step
        {7, 300, 2, 2, 500, 3, 20, 0, 13, 9},
        {5, 700, 1, 3, 256, 4, 11, 6},   // slabs cross the B blocks' borders
        {9, 40, 3, 1, 64, 2, 5, 6, 7, 5, 6},
        {4, 1100, 2, 3, 4096, 3, 3},
        {6, 350, 3, 3, 300, 3, 8, 12},  // 1050 columns of C a row: 2 slabs, each across blocks
    };
    for (int[] cs : cases) {
      int m = cs[0];
      int n = cs[1];
      int rows = cs[2];
      int cols = cs[3];
      int[] ks = java.util.Arrays.copyOfRange(cs, 6, cs.length);
      List<BlockKernel.Step> steps = ExecutorCheck.randomSteps(r, m, n, rows, cols, ks);
      List<BlockKernel.Step> live = steps.stream().filter(x -> x.k() > 0).toList();
      for (int round = 0; round < 2; round++) {
        FakeDevice d = device(cs[5], cs[4], m, n, rows, cols, live);
        try {
          double[][] got = assertTimeoutPreemptively(Duration.ofSeconds(60),
              () -> BlockPipeline.run(d, pool, zeros, m, n, rows, cols, live));
          assertEquals(rows * cols, got.length);
          for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
              assertTrue(ExecutorCheck.relError(got[i * cols + j], ExecutorCheck.plainBlock(m, n, steps, i, j))
                  < 1e-14, "block " + i + "," + j + " of m=" + m + " n=" + n);
            }
          }
          assertEquals(List.of(), d.breaches, "m=" + m + " n=" + n);
        } finally {
          d.close();
        }
      }
    }
  }

  @Test
  void aProfiledStepSaysWhereItsTimeWent() {
    Random r = new Random(11);
    List<BlockKernel.Step> steps = ExecutorCheck.randomSteps(r, 6, 300, 2, 2, 10, 20);
    FakeDevice d = device(3, 200, 6, 300, 2, 2, steps);
    BlockPipeline.Profile.last = null;
    System.setProperty("gpucore.spark.blockProfile", "true");
    try {
      BlockPipeline.run(d, pool, zeros, 6, 300, 2, 2, steps);
    } finally {
      System.clearProperty("gpucore.spark.blockProfile");
      d.close();
    }
    String line = BlockPipeline.Profile.last;
    assertTrue(line != null && line.startsWith("gpucore block step profile: 2x2 result blocks of "
        + "6x300, 2 steps, 3 lanes, " + (2 * 6 * 30 + 2 * 30 * 300) + " and " + (4 * 6 * 300)
        + " elements up and down: wall "), line);
    // the stand-in's copies and GEMMs sleep: the lanes and the caller waited for them
    assertTrue(!line.contains("waiting for their copies 0.0 ms"), line);
    BlockPipeline.Profile.last = null;
    FakeDevice quiet = device(3, 200, 6, 300, 2, 2, steps);
    try {
      BlockPipeline.run(quiet, pool, zeros, 6, 300, 2, 2, steps);
    } finally {
      quiet.close();
    }
    assertEquals(null, BlockPipeline.Profile.last, "not profiled unless asked");
  }

  @Test
  void aGridSendsEachBlockOncePerStepAndBringsEveryResultBlockBack() {
    Random r = new Random(10);
    int m = 6;
    int n = 700;
    List<BlockKernel.Step> steps = ExecutorCheck.randomSteps(r, m, n, 2, 3, 4, 9);
    BlockPipeline.Plan p = BlockPipeline.plan(m, n, 2, 3, steps, 1000);
    assertEquals(2, p.steps());
    assertEquals(8, p.groups().size()); // 2100 columns of C per row: 4 slabs of 525
    long up = 0;
    for (BlockPipeline.Chunk c : p.chunks()) {
      assertTrue(c.count() > 0 && c.count() <= 1000);
      assertTrue(c.offset() + c.count() <= c.src().length, "a chunk within its block");
      up += c.count();
    }
    assertEquals(2 * m * 4 + 3 * 4 * n + 2 * m * 9 + 3 * 9 * n, up);
    long[] back = new long[6];
    for (BlockPipeline.Back b : p.back()) {
      assertTrue(b.count() > 0 && b.count() <= 1000);
      assertTrue(b.blockOffset() + b.count() <= m * n, "a chunk of C within its block");
      assertEquals((long) b.block() * m * n + b.blockOffset(), b.offset());
      back[b.block()] += b.count();
    }
    for (long x : back) {
      assertEquals(m * n, x);
    }
  }

  @Test
  void planCutsABeforeBInSlabsWithinTheChunkSize() {
    Random r = new Random(6);
    List<BlockKernel.Pair> pairs = ExecutorCheck.randomPairs(r, 10, 2100, 7, 0, 3);
    BlockPipeline.Plan p = BlockPipeline.plan(10, 2100, 1, 1, steps(pairs), 1000);
    assertEquals(2, p.steps());
    assertEquals(8, p.groups().size()); // 4 slabs of 525 columns per pair
    assertEquals(new BlockPipeline.Group(1, 1575, 525, 3), p.groups().get(7));
    long covered = 0;
    for (BlockPipeline.Chunk c : p.chunks()) {
      assertTrue(c.count() > 0 && c.count() <= 1000);
      covered += c.count();
    }
    assertEquals(10 * 7 + 7 * 2100 + 10 * 3 + 3 * 2100, covered);
    BlockPipeline.Chunk first = p.chunks().get(0);
    assertEquals(false, first.toB());
    assertEquals(0, first.group());
    assertEquals(1, BlockPipeline.slabs(1023));
    assertEquals(2, BlockPipeline.slabs(1024));
    assertEquals(4, BlockPipeline.slabs(100000));
  }

  @Test
  void aFailedCopyOrGemmIsThrownOnceEverythingHasStopped() {
    Random r = new Random(7);
    int m = 11;
    int n = 1500;
    List<BlockKernel.Pair> pairs = live(ExecutorCheck.randomPairs(r, m, n, 20, 30, 40));
    for (int which = 0; which < 2; which++) {
      FakeDevice d = device(3, 500, m, n, pairs);
      if (which == 0) {
        d.failSend = 9;
      } else {
        d.failGemm = 3;
      }
      try {
        IllegalStateException e = assertTimeoutPreemptively(Duration.ofSeconds(60),
            () -> assertThrows(IllegalStateException.class, () -> run(d, m, n, pairs)));
        assertEquals(which == 0 ? "send failed" : "gemm failed", e.getMessage());
        for (int l = 0; l < 3; l++) {
          for (int b = 0; b < 2; b++) {
            assertEquals(false, d.busy[l][b], "a copy still runs on lane " + l);
          }
        }
      } finally {
        d.close();
      }
    }
  }

  @Test
  void theCallersInterruptStopsTheStep() throws Exception {
    Random r = new Random(8);
    int m = 11;
    int n = 600;
    List<BlockKernel.Pair> pairs = live(ExecutorCheck.randomPairs(r, m, n, 200, 200, 200, 200));
    FakeDevice d = device(2, 50, m, n, pairs);
    Throwable[] seen = new Throwable[1];
    Thread t = new Thread(() -> {
      try {
        run(d, m, n, pairs);
      } catch (Throwable e) {
        seen[0] = e;
      }
    });
    try {
      t.start();
      Thread.sleep(20);
      t.interrupt();
      t.join(60_000);
      assertEquals(false, t.isAlive());
      if (seen[0] != null) { // else it had finished before the interrupt
        assertSame(IllegalStateException.class, seen[0].getClass());
        assertTrue(seen[0].getMessage().contains("interrupted"), seen[0].getMessage());
      }
    } finally {
      d.close();
    }
  }
}
