package dev.gpucore.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The schedule of {@link BlockKernel}'s block step on a device, apart from the device itself
 * ({@link Ops}): {@code C = Σ_t A_t·B_t} with the uploads of the blocks overlapping the GEMMs.
 *
 * <p>Each pair's blocks go to one of two sets of device buffers (pair t to set {@code t % 2}),
 * A first, then B in column slabs; the whole sequence is cut into chunks that several lanes
 * (threads, each with two staging buffers) take in order: a lane packs a chunk into one buffer
 * (converting to fp32 where the staging is fp32) while the copy out of its other buffer runs.
 * As soon as A and a slab of B are on the device, the slab's GEMM ({@code C[:, slab] (+)=
 * A_t·B_t[:, slab]}) is queued on the set's GEMM stream, so the GEMMs of a pair run while the
 * rest of it and the next pair are uploaded. The schedule keeps two rules without device
 * events: a pair's GEMMs start once the previous pair's are done (they add into the same C),
 * and a pair's chunks are copied into a set only once the GEMMs that read the set before (those
 * of the pair two back) are done. When all GEMMs are done, lanes copy C back the same way, each
 * widening one chunk while the copy of its next runs.
 */
final class BlockPipeline {
  private BlockPipeline() {}

  /**
   * The device side: per lane two staging buffers of {@link #chunk()} elements, with their own
   * copies in flight; two device sets of A and B; C; two GEMM streams (one per set). Copies
   * and GEMMs are queued (asynchronous); {@link #await} and {@link #syncGemm} wait for them.
   */
  interface Ops {
    /** Lanes (threads) that copy. */
    int lanes();

    /** Elements in one staging buffer. */
    int chunk();

    /** Fills buffer {@code buf} of {@code lane} from {@code src[offset, offset + count)}. */
    void pack(int lane, int buf, double[] src, int offset, int count);

    /** Queues the copy of the buffer's first {@code count} elements to set {@code set}'s A or B at {@code dstOffset}. */
    void send(int lane, int buf, int set, boolean toB, long dstOffset, int count);

    /** Queues the copy of C's {@code [srcOffset, srcOffset + count)} into the buffer. */
    void fetch(int lane, int buf, long srcOffset, int count);

    /** Copies the buffer's first {@code count} elements into {@code dst} from {@code offset}. */
    void unpack(int lane, int buf, double[] dst, int offset, int count);

    /** Waits for the copies queued on the buffer. */
    void await(int lane, int buf);

    /**
     * Queues on set {@code set}'s stream {@code C[:, j0, j0 + w) = A·B[:, j0, j0 + w)
     * (+ C when accumulate)}, column-major, A m×k and B k×n of the set (leading dimensions m,
     * k, m).
     */
    void gemm(int set, int m, int w, int k, int j0, boolean accumulate);

    /** Waits for the GEMMs queued on set {@code set}'s stream. */
    void syncGemm(int set);
  }

  /** Columns of C (and B) per GEMM: 1 to 4 slabs, at least 512 columns each. */
  static int slabs(int n) {
    return Math.max(1, Math.min(4, n / 512));
  }

  /** A slice of a block on its way to the device. */
  record Chunk(double[] src, int offset, int count, int pair, boolean toB, long dstOffset,
      int group) {}

  /** A GEMM: pair {@code pair}'s slab of columns {@code [j0, j0 + w)}, inner dimension k. */
  record Group(int pair, int j0, int w, int k) {}

  /** The chunks and GEMMs of one block step, in order. */
  record Plan(List<Chunk> chunks, List<Group> groups, int[] chunksPerGroup, int pairs) {}

  /**
   * Cuts the pairs (those of k = 0 left out) into chunks of at most {@code chunk} elements:
   * per pair, A's in group of its first slab, then each slab of B's in its slab's group.
   */
  static Plan plan(int m, int n, List<BlockKernel.Pair> pairs, int chunk) {
    List<Chunk> chunks = new ArrayList<>();
    List<Group> groups = new ArrayList<>();
    List<Integer> counts = new ArrayList<>();
    int slabs = slabs(n);
    int width = (n + slabs - 1) / slabs;
    int t = 0;
    for (BlockKernel.Pair p : pairs) {
      int k = p.k();
      if (k == 0) {
        continue;
      }
      int g0 = groups.size();
      for (int j0 = 0; j0 < n; j0 += width) {
        groups.add(new Group(t, j0, Math.min(width, n - j0), k));
        counts.add(0);
      }
      cut(chunks, counts, p.a(), 0, m * k, t, false, g0, chunk);
      for (int g = g0; g < groups.size(); g++) {
        Group gr = groups.get(g);
        cut(chunks, counts, p.b(), gr.j0() * k, gr.w() * k, t, true, g, chunk);
      }
      t++;
    }
    int[] per = counts.stream().mapToInt(Integer::intValue).toArray();
    return new Plan(chunks, groups, per, t);
  }

  private static void cut(List<Chunk> out, List<Integer> counts, double[] src, int offset,
      int count, int pair, boolean toB, int group, int chunk) {
    for (int done = 0; done < count; done += chunk) {
      out.add(new Chunk(src, offset + done, Math.min(chunk, count - done), pair, toB,
          offset + done, group));
      counts.set(group, counts.get(group) + 1);
    }
  }

  /** Thrown in a lane when another lane or the caller failed: the lane stops. */
  private static final class Aborted extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Aborted() {
      super(null, null, false, false);
    }
  }

  /** What lanes and the caller share, under this object's lock. */
  private static final class State {
    final int[] remaining;
    final AtomicInteger next = new AtomicInteger();
    int doneThrough = -1; // pairs up to here have finished their GEMMs
    Throwable failure;

    State(int[] remaining) {
      this.remaining = remaining.clone();
    }

    synchronized void confirm(int group) {
      if (--remaining[group] == 0) {
        notifyAll();
      }
    }

    synchronized void awaitGroup(int group) throws InterruptedException {
      while (remaining[group] > 0 && failure == null) {
        wait();
      }
      if (failure != null) {
        throw new Aborted();
      }
    }

    /** Whether pair {@code pair}'s chunks may be copied: the pair two back is done. */
    synchronized boolean allowed(int pair) {
      return pair < 2 || doneThrough >= pair - 2;
    }

    synchronized void awaitAllowed(int pair) throws InterruptedException {
      while (!allowed(pair) && failure == null) {
        wait();
      }
      if (failure != null) {
        throw new Aborted();
      }
    }

    synchronized void pairDone(int pair) {
      doneThrough = pair;
      notifyAll();
    }

    synchronized void fail(Throwable t) {
      if (failure == null) {
        failure = t;
      }
      notifyAll();
    }

    synchronized boolean failed() {
      return failure != null;
    }
  }

  /**
   * Runs the block step: {@code C} (m×n, column-major) {@code = Σ A_t·B_t} over the pairs of
   * k > 0 (at least one), lanes on {@code pool}.
   *
   * @throws RuntimeException the first failure of a copy or GEMM, once every lane has stopped
   *     and every copy it queued has ended
   */
  static double[] run(Ops ops, ExecutorService pool, int m, int n, List<BlockKernel.Pair> pairs) {
    Plan plan = plan(m, n, pairs, ops.chunk());
    State st = new State(plan.chunksPerGroup());
    List<Future<?>> lanes = new ArrayList<>();
    Throwable failure = null;
    try {
      for (int l = 0; l < ops.lanes(); l++) {
        int lane = l;
        lanes.add(pool.submit(() -> upload(ops, lane, plan, st)));
      }
      gemms(ops, plan, st, m);
    } catch (RuntimeException | Error e) {
      failure = e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failure = new IllegalStateException("interrupted during the block step", e);
    }
    if (failure != null) {
      st.fail(failure);
    }
    failure = HostCopy.join(lanes, failure);
    if (failure == null && st.failed()) {
      failure = st.failure;
    }
    if (failure instanceof Aborted) {
      failure = st.failure;
    }
    if (failure != null) {
      // whatever happened, nothing may still run on the device buffers
      quietly(() -> ops.syncGemm(0));
      quietly(() -> ops.syncGemm(1));
      HostCopy.rethrow(failure);
    }
    return download(ops, pool, m * n);
  }

  /** The caller's part: queue each slab's GEMM once its chunks are on the device. */
  private static void gemms(Ops ops, Plan plan, State st, int m) throws InterruptedException {
    for (int g = 0; g < plan.groups().size(); g++) {
      Group gr = plan.groups().get(g);
      st.awaitGroup(g);
      int set = gr.pair() % 2;
      if (gr.j0() == 0 && gr.pair() > 0) {
        // the previous pair adds into the same C, and its set takes the next pair
        ops.syncGemm(1 - set);
        st.pairDone(gr.pair() - 1);
      }
      ops.gemm(set, m, gr.w(), gr.k(), gr.j0(), gr.pair() > 0);
    }
    ops.syncGemm((plan.pairs() - 1) % 2);
    st.pairDone(plan.pairs() - 1);
  }

  /** A lane of the upload: packs a chunk into one buffer while the other's copy runs. */
  private static void upload(Ops ops, int lane, Plan plan, State st) {
    Chunk[] pending = new Chunk[2];
    int k = 0;
    try {
      for (;;) {
        if (st.failed()) {
          break;
        }
        int i = st.next.getAndIncrement();
        if (i >= plan.chunks().size()) {
          break;
        }
        Chunk c = plan.chunks().get(i);
        int b = k++ & 1;
        if (pending[b] != null) {
          ops.await(lane, b);
          st.confirm(pending[b].group());
          pending[b] = null;
        }
        ops.pack(lane, b, c.src(), c.offset(), c.count());
        if (!st.allowed(c.pair())) {
          // the caller may wait for a chunk held here: hand it over before waiting
          if (pending[1 - b] != null) {
            ops.await(lane, 1 - b);
            st.confirm(pending[1 - b].group());
            pending[1 - b] = null;
          }
          st.awaitAllowed(c.pair());
        }
        ops.send(lane, b, c.pair() % 2, c.toB(), c.dstOffset(), c.count());
        pending[b] = c;
      }
      for (int b = 0; b < 2; b++) {
        if (pending[b] != null) {
          ops.await(lane, b);
          st.confirm(pending[b].group());
          pending[b] = null;
        }
      }
    } catch (Aborted e) {
      drain(ops, lane);
    } catch (InterruptedException e) {
      st.fail(new IllegalStateException("interrupted during the block step", e));
      drain(ops, lane);
    } catch (RuntimeException | Error e) {
      st.fail(e);
      drain(ops, lane);
      throw e;
    }
  }

  /** Copies C back in chunks on the lanes; each unpacks one chunk while the next one's copy runs. */
  private static double[] download(Ops ops, ExecutorService pool, int total) {
    double[] c = new double[total];
    int chunk = ops.chunk();
    int count = (int) (((long) total + chunk - 1) / chunk);
    AtomicInteger next = new AtomicInteger();
    AtomicInteger stop = new AtomicInteger();
    List<Future<?>> lanes = new ArrayList<>();
    int n = Math.min(ops.lanes(), count);
    for (int l = 1; l < n; l++) {
      int lane = l;
      lanes.add(pool.submit(() -> downloadLane(ops, lane, c, chunk, count, next, stop)));
    }
    Throwable failure = null;
    try {
      downloadLane(ops, 0, c, chunk, count, next, stop);
    } catch (RuntimeException | Error e) {
      failure = e;
    }
    failure = HostCopy.join(lanes, failure);
    HostCopy.rethrow(failure);
    return c;
  }

  private static void downloadLane(Ops ops, int lane, double[] c, int chunk, int count,
      AtomicInteger next, AtomicInteger stop) {
    int[] pending = {-1, -1};
    int k = 0;
    try {
      for (;;) {
        int i = stop.get() != 0 ? count : next.getAndIncrement();
        if (i >= count) {
          break;
        }
        int b = k++ & 1;
        ops.fetch(lane, b, (long) i * chunk, Math.min(chunk, c.length - i * chunk));
        pending[b] = i;
        int o = 1 - b;
        if (pending[o] >= 0) {
          finish(ops, lane, o, pending[o], c, chunk);
          pending[o] = -1;
        }
      }
      for (int b = 0; b < 2; b++) {
        if (pending[b] >= 0) {
          finish(ops, lane, b, pending[b], c, chunk);
          pending[b] = -1;
        }
      }
    } catch (RuntimeException | Error e) {
      stop.set(1);
      drain(ops, lane);
      throw e;
    }
  }

  private static void finish(Ops ops, int lane, int buf, int i, double[] c, int chunk) {
    ops.await(lane, buf);
    int off = i * chunk;
    ops.unpack(lane, buf, c, off, Math.min(chunk, c.length - off));
  }

  /** Waits for both buffers' copies, whatever happens (a failed lane's buffers must be idle). */
  private static void drain(Ops ops, int lane) {
    quietly(() -> ops.await(lane, 0));
    quietly(() -> ops.await(lane, 1));
  }

  private static void quietly(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException | Error e) {
      // the first failure is the one reported
    }
  }
}
