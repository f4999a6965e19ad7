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
    /** Columns of C being written by running GEMMs, and by queued ones: {from, to}. */
    final List<int[]> cWrites = new ArrayList<>();
    final List<int[]> cQueued = new ArrayList<>();
    final AtomicInteger sends = new AtomicInteger();
    int failSend = -1;
    int failGemm = -1;
    final AtomicInteger gemmCalls = new AtomicInteger();

    FakeDevice(int lanes, int chunk, int m, int n, int maxA, int maxB) {
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
      c = new double[m * n];
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
        for (int[] x : cQueued) {
          if ((long) x[0] * m < srcOffset + count && srcOffset < (long) x[1] * m) {
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
    public void gemm(int stream, int set, int m, int w, int k, int j0, boolean accumulate) {
      if (gemmCalls.incrementAndGet() == failGemm) {
        throw new IllegalStateException("gemm failed");
      }
      long[] readA = {set, 0, 0, (long) m * k};
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
      int[] cols = {j0, j0 + w};
      synchronized (this) {
        cQueued.add(cols);
      }
      double[] as = a[set];
      double[] bs = b[set];
      queue(gemmQueue.get(stream), gemms[stream], () -> {
        synchronized (this) {
          for (int[] x : cWrites) {
            if (x[0] < cols[1] && cols[0] < x[1]) {
              breach("two GEMMs write columns of C at once");
            }
          }
          cWrites.add(cols);
        }
        nap();
        if (ThreadLocalRandom.current().nextInt(3) == 0) {
          napLong(); // a slow GEMM: whatever waits for the wrong one shows
        }
        for (int j = j0; j < j0 + w; j++) {
          for (int i = 0; i < m; i++) {
            double s = accumulate ? c[i + j * m] : 0;
            for (int l = 0; l < k; l++) {
              s += as[i + l * m] * bs[l + j * k];
            }
            c[i + j * m] = s;
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
    int maxA = 1;
    int maxB = 1;
    for (BlockKernel.Pair p : pairs) {
      maxA = Math.max(maxA, p.a().length);
      maxB = Math.max(maxB, p.b().length);
    }
    return new FakeDevice(lanes, chunk, m, n, maxA, maxB);
  }

  static List<BlockKernel.Pair> live(List<BlockKernel.Pair> pairs) {
    return pairs.stream().filter(p -> p.k() > 0).toList();
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
              () -> BlockPipeline.run(d, pool, zeros, m, n, live(pairs)));
          assertTrue(ExecutorCheck.relError(got, want) < 1e-14, "m=" + m + " n=" + n);
          assertEquals(List.of(), d.breaches, "m=" + m + " n=" + n);
        } finally {
          d.close();
        }
      }
    }
  }

  @Test
  void planCutsABeforeBInSlabsWithinTheChunkSize() {
    Random r = new Random(6);
    List<BlockKernel.Pair> pairs = ExecutorCheck.randomPairs(r, 10, 2100, 7, 0, 3);
    BlockPipeline.Plan p = BlockPipeline.plan(10, 2100, pairs, 1000);
    assertEquals(2, p.pairs());
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
            () -> assertThrows(IllegalStateException.class, () -> BlockPipeline.run(d, pool, zeros, m, n, pairs)));
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
        BlockPipeline.run(d, pool, zeros, m, n, pairs);
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
