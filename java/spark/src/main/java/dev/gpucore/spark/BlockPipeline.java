package dev.gpucore.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * The schedule of {@link BlockKernel}'s block step on a device, apart from the device itself
 * ({@link Ops}): {@code C = Σ_t A_t·B_t} with the copies overlapping the GEMMs.
 *
 * <p>Each pair's blocks go to one of two sets of device buffers (pair t to set {@code t % 2}),
 * A first, then B in column slabs; the whole sequence is cut into chunks that several lanes
 * (threads, each with two staging buffers) take in order: a lane packs a chunk into one buffer
 * (converting to fp32 where the staging is fp32) while the copy out of its other buffer runs.
 * As soon as A and a slab of B are on the device, the slab's GEMM ({@code C[:, slab] (+)=
 * A_t·B_t[:, slab]}) is queued on the set's GEMM stream, so the GEMMs of a pair run while the
 * rest of it and the next pair go up. The schedule keeps two rules without device events: a
 * pair's GEMMs start once the previous pair's are done (they add into the same C), and a pair's
 * chunks are copied into a set only once the GEMMs that read the set before (those of the pair
 * two back) are done. The last pair's slabs alternate between the two streams, and a slab of C
 * is final once the stream of its GEMM has been waited for: lanes copy it back (and widen it)
 * while the rest of the last pair still goes up, taking a chunk of C when one is final and a
 * chunk to upload otherwise.
 */
final class BlockPipeline {
  private BlockPipeline() {}

  /**
   * The device side: per lane two staging buffers of {@link #chunk()} elements, with their own
   * copies in flight; two device sets of A and B; C; two GEMM streams. Copies and GEMMs are
   * queued (asynchronous); {@link #await} and {@link #syncGemm} wait for them.
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
     * Queues on GEMM stream {@code stream} {@code C[:, j0, j0 + w) = A·B[:, j0, j0 + w)
     * (+ C when accumulate)}, column-major, A m×k and B k×n of set {@code set} (leading
     * dimensions m, k, m).
     */
    void gemm(int stream, int set, int m, int w, int k, int j0, boolean accumulate);

    /** Waits for the GEMMs queued on GEMM stream {@code stream}. */
    void syncGemm(int stream);
  }

  /** Columns of C (and B) per GEMM: 1 to 4 slabs, at least 512 columns each. */
  static int slabs(int n) {
    return Math.max(1, Math.min(4, n / 512));
  }

  /** A slice of a block on its way to the device. */
  record Chunk(double[] src, int offset, int count, int pair, boolean toB, long dstOffset,
      int group) {}

  /** A slice of C on its way back, in slab {@code slab}. */
  record Back(int offset, int count, int slab) {}

  /** A GEMM: pair {@code pair}'s slab of columns {@code [j0, j0 + w)}, inner dimension k. */
  record Group(int pair, int j0, int w, int k) {}

  /** The chunks and GEMMs of one block step, in order, and the chunks of C. */
  record Plan(List<Chunk> chunks, List<Group> groups, int[] chunksPerGroup, int pairs,
      List<Back> back, int slabs) {}

  /**
   * Cuts the pairs (those of k = 0 left out) into chunks of at most {@code chunk} elements:
   * per pair, A's in the group of its first slab, then each slab of B's in its slab's group;
   * and C, slab by slab.
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
    List<Back> back = new ArrayList<>();
    int s = 0;
    for (int j0 = 0; j0 < n; j0 += width, s++) {
      int from = j0 * m;
      int to = Math.min(j0 + width, n) * m;
      for (int off = from; off < to; off += chunk) {
        back.add(new Back(off, Math.min(chunk, to - off), s));
      }
    }
    int[] per = counts.stream().mapToInt(Integer::intValue).toArray();
    return new Plan(chunks, groups, per, t, back, s);
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

  /** No more work for a lane. */
  private static final Object END = new Object();

  /** What lanes and the caller share, under this object's lock. */
  private static final class State {
    final Plan plan;
    final int[] remaining;
    int nextUp;
    int nextBack;
    int finalSlabs; // slabs of C whose last GEMM is done
    int doneThrough = -1; // pairs up to here have finished their GEMMs
    Throwable failure;

    State(Plan plan) {
      this.plan = plan;
      this.remaining = plan.chunksPerGroup().clone();
    }

    /** The next chunk for a lane (of C when one is final, else to upload), END, or null: wait. */
    synchronized Object tryClaim() {
      if (failure != null) {
        return END;
      }
      List<Back> back = plan.back();
      if (nextBack < back.size() && back.get(nextBack).slab() < finalSlabs) {
        return back.get(nextBack++);
      }
      if (nextUp < plan.chunks().size()) {
        return plan.chunks().get(nextUp++);
      }
      return nextBack < back.size() ? null : END;
    }

    synchronized Object claim() throws InterruptedException {
      for (;;) {
        Object o = tryClaim();
        if (o != null) {
          return o;
        }
        wait();
      }
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

    synchronized void slabsFinal(int slabs) {
      finalSlabs = slabs;
      notifyAll();
    }

    synchronized void fail(Throwable t) {
      if (failure == null) {
        failure = t;
      }
      notifyAll();
    }

    synchronized Throwable failure() {
      return failure;
    }
  }

  /**
   * Runs the block step: {@code C} (m×n, column-major) {@code = Σ A_t·B_t} over the pairs of
   * k > 0 (at least one), lanes on {@code pool}, C allocated (and zeroed by the JVM) on
   * {@code zeros} meanwhile.
   *
   * @throws RuntimeException the first failure of a copy or GEMM, once every lane has stopped
   *     and every copy and GEMM queued has ended
   */
  static double[] run(Ops ops, ExecutorService pool, ExecutorService zeros, int m, int n,
      List<BlockKernel.Pair> pairs) {
    Plan plan = plan(m, n, pairs, ops.chunk());
    State st = new State(plan);
    Future<double[]> c = zeros.submit(() -> new double[m * n]);
    List<Future<?>> lanes = new ArrayList<>();
    Throwable failure = null;
    try {
      for (int l = 0; l < ops.lanes(); l++) {
        int lane = l;
        lanes.add(pool.submit(() -> lane(ops, lane, st, c)));
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
    if (failure == null || failure instanceof Aborted) {
      failure = st.failure();
    }
    if (failure != null) {
      // whatever happened, nothing may still run on the device buffers
      quietly(() -> ops.syncGemm(0));
      quietly(() -> ops.syncGemm(1));
      HostCopy.rethrow(failure);
    }
    return result(c);
  }

  /**
   * The caller's part: queue each slab's GEMM once its chunks are on the device; then mark
   * slabs of C final as their GEMMs end.
   */
  private static void gemms(Ops ops, Plan plan, State st, int m) throws InterruptedException {
    int last = plan.pairs() - 1;
    for (int g = 0; g < plan.groups().size(); g++) {
      Group gr = plan.groups().get(g);
      st.awaitGroup(g);
      int set = gr.pair() % 2;
      if (gr.j0() == 0 && gr.pair() > 0) {
        // the previous pair adds into the same C, and its set takes the next pair
        ops.syncGemm(1 - set);
        st.pairDone(gr.pair() - 1);
      }
      if (gr.pair() < last) {
        ops.gemm(set, set, m, gr.w(), gr.k(), gr.j0(), gr.pair() > 0);
        continue;
      }
      // the last pair: slab s on stream (set + s) % 2, so that waiting for slab s - 1 to end
      // waits for nothing queued after it
      int slab = g - (plan.groups().size() - plan.slabs());
      ops.gemm((set + slab) % 2, set, m, gr.w(), gr.k(), gr.j0(), gr.pair() > 0);
      if (slab > 0) {
        ops.syncGemm((set + slab - 1) % 2);
        st.slabsFinal(slab);
      }
    }
    ops.syncGemm(0);
    ops.syncGemm(1);
    st.pairDone(last);
    st.slabsFinal(plan.slabs());
  }

  /**
   * A lane: takes chunks in order and works on one buffer while the copy of the other runs;
   * hands over what it holds before it waits (the caller may wait for it).
   */
  private static void lane(Ops ops, int lane, State st, Future<double[]> c) {
    Object[] pending = new Object[2];
    int k = 0;
    try {
      for (;;) {
        Object o = st.tryClaim();
        if (o == null) {
          complete(ops, lane, 0, pending, st, c);
          complete(ops, lane, 1, pending, st, c);
          o = st.claim();
        }
        if (o == END) {
          break;
        }
        int b = k++ & 1;
        complete(ops, lane, b, pending, st, c);
        if (o instanceof Chunk ch) {
          ops.pack(lane, b, ch.src(), ch.offset(), ch.count());
          if (!st.allowed(ch.pair())) {
            complete(ops, lane, 1 - b, pending, st, c);
            st.awaitAllowed(ch.pair());
          }
          ops.send(lane, b, ch.pair() % 2, ch.toB(), ch.dstOffset(), ch.count());
        } else {
          Back bk = (Back) o;
          ops.fetch(lane, b, bk.offset(), bk.count());
        }
        pending[b] = o;
      }
      complete(ops, lane, 0, pending, st, c);
      complete(ops, lane, 1, pending, st, c);
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

  /** Ends the buffer's pending chunk: an upload is confirmed, a chunk of C unpacked. */
  private static void complete(Ops ops, int lane, int buf, Object[] pending, State st,
      Future<double[]> c) {
    Object o = pending[buf];
    if (o == null) {
      return;
    }
    ops.await(lane, buf);
    pending[buf] = null;
    if (o instanceof Chunk ch) {
      st.confirm(ch.group());
    } else {
      Back bk = (Back) o;
      ops.unpack(lane, buf, result(c), bk.offset(), bk.count());
    }
  }

  private static double[] result(Future<double[]> c) {
    return HostCopy.await(c);
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
