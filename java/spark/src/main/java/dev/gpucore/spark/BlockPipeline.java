package dev.gpucore.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.LongAdder;

/**
 * The schedule of {@link BlockKernel}'s block step on a device, apart from the device itself
 * ({@link Ops}): a grid of result blocks {@code C_ij = Σ_t A_t,i·B_t,j} (rows × cols blocks,
 * each m×n) with the copies overlapping the GEMMs. A single result block is the grid of one.
 *
 * <p>Step t's blocks go to one of two sets of device buffers (step t to set {@code t % 2}): its
 * A blocks one after the other, then its B blocks side by side as one k×(cols·n) matrix, in
 * column slabs; so each block goes up once per step, however many result blocks use it. The
 * whole sequence is cut into chunks that several lanes (threads, each with two staging
 * buffers) take in order: a lane packs a chunk into one buffer (converting to fp32 where the
 * staging is fp32) while the copy out of its other buffer runs. As soon as the A blocks and a
 * slab of B are on the device, the slab's GEMMs ({@code C_i[:, slab] (+)= A_t,i·B_t[:, slab]}
 * for each row i, C_i being the row's result blocks side by side) are queued on the set's GEMM
 * stream, so the GEMMs of a step run while the rest of it and the next step go up. The schedule
 * keeps two rules without device events: a step's GEMMs start once the previous step's are
 * done (they add into the same C), and a step's chunks are copied into a set only once the
 * GEMMs that read the set before (those of the step two back) are done. The last step's slabs
 * alternate between the two streams, and a slab of C is final once the stream of its GEMMs has
 * been waited for: lanes copy it back (and widen it) while the rest of the last step still goes
 * up, taking a chunk of C when one is final and a chunk to upload otherwise.
 *
 * <p>On the device, C holds the result blocks one after the other in row-major block order
 * (block (i, j) at {@code (i·cols + j)·m·n}), which is also each row's blocks side by side.
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
     * Queues on GEMM stream {@code stream} {@code C' = A·B[:, j0, j0 + w) (+ C' when
     * accumulate)}, column-major: A m×k at {@code aOffset} of set {@code set}'s A, B k×(any)
     * of the set's B (leading dimension k), C' m×w at {@code cOffset} of C (leading dimension
     * m).
     */
    void gemm(int stream, int set, long aOffset, long cOffset, int m, int w, int k, int j0,
        boolean accumulate);

    /** Waits for the GEMMs queued on GEMM stream {@code stream}. */
    void syncGemm(int stream);
  }

  /** Columns of C (and B) per slab: 1 to 4 slabs, at least 512 columns each. */
  static int slabs(long n) {
    return (int) Math.max(1, Math.min(4, n / 512));
  }

  /** A slice of a block on its way to the device. */
  record Chunk(double[] src, int offset, int count, int step, boolean toB, long dstOffset,
      int group) {}

  /**
   * A slice of C on its way back from {@code offset}, in slab {@code slab}, into result block
   * {@code block} (row-major block order) from {@code blockOffset}.
   */
  record Back(long offset, int count, int slab, int block, int blockOffset) {}

  /** The GEMMs of step {@code step} on a slab of columns {@code [j0, j0 + w)}, inner dimension k. */
  record Group(int step, int j0, int w, int k) {}

  /** The chunks and GEMMs of one block step, in order, and the chunks of C. */
  record Plan(int m, int n, int rows, int cols, List<Chunk> chunks, List<Group> groups,
      int[] chunksPerGroup, int steps, List<Back> back, int slabs) {}

  /**
   * Cuts the steps (those of k = 0 left out) into chunks of at most {@code chunk} elements:
   * per step, its A blocks in the group of its first slab, then each slab of its B blocks (side
   * by side) in its slab's group; and C, slab by slab, row by row.
   */
  static Plan plan(int m, int n, int rows, int cols, List<BlockKernel.Step> steps, int chunk) {
    List<Chunk> chunks = new ArrayList<>();
    List<Group> groups = new ArrayList<>();
    List<Integer> counts = new ArrayList<>();
    int total = Math.multiplyExact(n, cols);
    int slabs = slabs(total);
    int width = (total + slabs - 1) / slabs;
    int t = 0;
    for (BlockKernel.Step st : steps) {
      int k = st.k();
      if (k == 0) {
        continue;
      }
      int g0 = groups.size();
      for (int j0 = 0; j0 < total; j0 += width) {
        groups.add(new Group(t, j0, Math.min(width, total - j0), k));
        counts.add(0);
      }
      for (int i = 0; i < rows; i++) {
        cut(chunks, counts, st.a().get(i), 0, m * k, t, false, (long) i * m * k, g0, chunk);
      }
      for (int g = g0; g < groups.size(); g++) {
        Group gr = groups.get(g);
        int end = gr.j0() + gr.w();
        for (int c0 = gr.j0(); c0 < end; ) {
          int j = c0 / n;
          int c1 = Math.min(end, (j + 1) * n);
          cut(chunks, counts, st.b().get(j), (c0 - j * n) * k, (c1 - c0) * k, t, true,
              (long) c0 * k, g, chunk);
          c0 = c1;
        }
      }
      t++;
    }
    List<Back> back = new ArrayList<>();
    int s = 0;
    for (int j0 = 0; j0 < total; j0 += width, s++) {
      int end = Math.min(j0 + width, total);
      for (int i = 0; i < rows; i++) {
        for (int c0 = j0; c0 < end; ) {
          int j = c0 / n;
          int c1 = Math.min(end, (j + 1) * n);
          int block = i * cols + j;
          int from = (c0 - j * n) * m;
          int to = (c1 - j * n) * m;
          for (int off = from; off < to; off += chunk) {
            back.add(new Back((long) block * m * n + off, Math.min(chunk, to - off), s, block,
                off));
          }
          c0 = c1;
        }
      }
    }
    int[] per = counts.stream().mapToInt(Integer::intValue).toArray();
    return new Plan(m, n, rows, cols, chunks, groups, per, t, back, s);
  }

  private static void cut(List<Chunk> out, List<Integer> counts, double[] src, int offset,
      int count, int step, boolean toB, long dstOffset, int group, int chunk) {
    for (int done = 0; done < count; done += chunk) {
      out.add(new Chunk(src, offset + done, Math.min(chunk, count - done), step, toB,
          dstOffset + done, group));
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
    int doneThrough = -1; // steps up to here have finished their GEMMs
    Throwable failure;

    /** Where the time went (see {@link Profile}). */
    final Profile prof = Profile.enabled() ? new Profile(true) : Profile.OFF;

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

    /** Whether step {@code step}'s chunks may be copied: the step two back is done. */
    synchronized boolean allowed(int step) {
      return step < 2 || doneThrough >= step - 2;
    }

    synchronized void awaitAllowed(int step) throws InterruptedException {
      while (!allowed(step) && failure == null) {
        wait();
      }
      if (failure != null) {
        throw new Aborted();
      }
    }

    synchronized void stepDone(int step) {
      doneThrough = step;
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
   * Runs the block step: the grid of result blocks {@code C_ij} (m×n, column-major)
   * {@code = Σ A_t,i·B_t,j} over the steps of k > 0 (at least one), lanes on {@code pool}, the
   * result blocks allocated (and zeroed by the JVM) on {@code zeros} meanwhile, each as a task
   * of its own.
   *
   * @return the result blocks in row-major block order (block (i, j) at {@code i·cols + j})
   * @throws RuntimeException the first failure of a copy or GEMM, once every lane has stopped
   *     and every copy and GEMM queued has ended
   */
  static double[][] run(Ops ops, ExecutorService pool, ExecutorService zeros, int m, int n,
      int rows, int cols, List<BlockKernel.Step> steps) {
    long start = System.nanoTime();
    Plan plan = plan(m, n, rows, cols, steps, ops.chunk());
    State st = new State(plan);
    // each result block allocated on its own thread: the JVM zeroes a new array on the thread
    // that allocates it, at a fraction of the memory's bandwidth
    List<Future<double[]>> c = new ArrayList<>(rows * cols);
    for (int x = 0; x < rows * cols; x++) {
      c.add(zeros.submit(() -> new double[m * n]));
    }
    List<Future<?>> lanes = new ArrayList<>();
    Throwable failure = null;
    try {
      for (int l = 0; l < ops.lanes(); l++) {
        int lane = l;
        lanes.add(pool.submit(() -> lane(ops, lane, st, c)));
      }
      gemms(ops, plan, st);
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
    double[][] out = new double[c.size()][];
    for (int x = 0; x < out.length; x++) {
      out[x] = result(c, x);
    }
    if (st.prof.on) {
      st.prof.report(plan, ops.lanes(), System.nanoTime() - start);
    }
    return out;
  }

  /**
   * Where a block step's time went, when the system property {@code gpucore.spark.blockProfile}
   * is {@code true}: the lanes' time packing, waiting for their copies, unpacking and waiting
   * for work (summed over the lanes), and the caller's waiting for chunks to arrive and for
   * GEMMs to end; one line on standard error per block step.
   */
  static final class Profile {
    final LongAdder pack = new LongAdder();
    final LongAdder copies = new LongAdder();
    final LongAdder unpack = new LongAdder();
    final LongAdder idle = new LongAdder();
    final LongAdder chunks = new LongAdder();
    final LongAdder gemms = new LongAdder();
    /** Whether it times anything. */
    final boolean on;
    /** The profile of a step not profiled. */
    static final Profile OFF = new Profile(false);
    /** The last line reported in this JVM. */
    static volatile String last;

    Profile(boolean on) {
      this.on = on;
    }

    static boolean enabled() {
      return Boolean.getBoolean("gpucore.spark.blockProfile");
    }

    long start() {
      return on ? System.nanoTime() : 0;
    }

    void add(LongAdder to, long start) {
      if (on) {
        to.add(System.nanoTime() - start);
      }
    }

    void report(Plan plan, int lanes, long wallNs) {
      long up = 0;
      for (Chunk ch : plan.chunks()) {
        up += ch.count();
      }
      long down = 0;
      for (Back b : plan.back()) {
        down += b.count();
      }
      last = String.format(java.util.Locale.ROOT, "gpucore block step profile: %dx%d result "
          + "blocks of %dx%d, %d steps, %d lanes, %d and %d elements up and down: wall %.1f ms; "
          + "lanes (summed) packing %.1f ms, waiting for their copies %.1f ms, unpacking "
          + "%.1f ms, waiting for work %.1f ms; the caller waiting for chunks %.1f ms, for "
          + "GEMMs %.1f ms", plan.rows(), plan.cols(), plan.m(), plan.n(), plan.steps(), lanes,
          up, down, wallNs / 1e6, pack.sum() / 1e6, copies.sum() / 1e6, unpack.sum() / 1e6,
          idle.sum() / 1e6, chunks.sum() / 1e6, gemms.sum() / 1e6);
      System.err.println(last);
    }
  }

  /**
   * The caller's part: queue each slab's GEMMs once its chunks are on the device; then mark
   * slabs of C final as their GEMMs end.
   */
  private static void gemms(Ops ops, Plan plan, State st) throws InterruptedException {
    int last = plan.steps() - 1;
    for (int g = 0; g < plan.groups().size(); g++) {
      Group gr = plan.groups().get(g);
      long t0 = st.prof.start();
      st.awaitGroup(g);
      st.prof.add(st.prof.chunks, t0);
      int set = gr.step() % 2;
      if (gr.j0() == 0 && gr.step() > 0) {
        // the previous step adds into the same C, and its set takes the next step
        t0 = st.prof.start();
        ops.syncGemm(1 - set);
        st.prof.add(st.prof.gemms, t0);
        st.stepDone(gr.step() - 1);
      }
      if (gr.step() < last) {
        slabGemms(ops, plan, gr, set, set);
        continue;
      }
      // the last step: slab s on stream (set + s) % 2, so that waiting for slab s - 1 to end
      // waits for nothing queued after it
      int slab = g - (plan.groups().size() - plan.slabs());
      slabGemms(ops, plan, gr, (set + slab) % 2, set);
      if (slab > 0) {
        t0 = st.prof.start();
        ops.syncGemm((set + slab - 1) % 2);
        st.prof.add(st.prof.gemms, t0);
        st.slabsFinal(slab);
      }
    }
    ops.syncGemm(0);
    ops.syncGemm(1);
    st.stepDone(last);
    st.slabsFinal(plan.slabs());
  }

  /** A slab's GEMMs, one per row of result blocks: {@code C_i[:, slab] (+)= A_i·B[:, slab]}. */
  private static void slabGemms(Ops ops, Plan plan, Group gr, int stream, int set) {
    int m = plan.m();
    long rowElems = (long) m * plan.n() * plan.cols();
    for (int i = 0; i < plan.rows(); i++) {
      ops.gemm(stream, set, (long) i * m * gr.k(), i * rowElems + (long) gr.j0() * m, m, gr.w(),
          gr.k(), gr.j0(), gr.step() > 0);
    }
  }

  /**
   * A lane: takes chunks in order and works on one buffer while the copy of the other runs;
   * hands over what it holds before it waits (the caller may wait for it).
   */
  private static void lane(Ops ops, int lane, State st, List<Future<double[]>> c) {
    Object[] pending = new Object[2];
    int k = 0;
    try {
      for (;;) {
        Object o = st.tryClaim();
        if (o == null) {
          complete(ops, lane, 0, pending, st, c);
          complete(ops, lane, 1, pending, st, c);
          long t0 = st.prof.start();
          o = st.claim();
          st.prof.add(st.prof.idle, t0);
        }
        if (o == END) {
          break;
        }
        int b = k++ & 1;
        complete(ops, lane, b, pending, st, c);
        if (o instanceof Chunk ch) {
          long t0 = st.prof.start();
          ops.pack(lane, b, ch.src(), ch.offset(), ch.count());
          st.prof.add(st.prof.pack, t0);
          if (!st.allowed(ch.step())) {
            complete(ops, lane, 1 - b, pending, st, c);
            t0 = st.prof.start();
            st.awaitAllowed(ch.step());
            st.prof.add(st.prof.idle, t0);
          }
          ops.send(lane, b, ch.step() % 2, ch.toB(), ch.dstOffset(), ch.count());
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
      List<Future<double[]>> c) {
    Object o = pending[buf];
    if (o == null) {
      return;
    }
    long t0 = st.prof.start();
    ops.await(lane, buf);
    st.prof.add(st.prof.copies, t0);
    pending[buf] = null;
    if (o instanceof Chunk ch) {
      st.confirm(ch.group());
    } else {
      Back bk = (Back) o;
      double[] dst = result(c, bk.block());
      t0 = st.prof.start();
      ops.unpack(lane, buf, dst, bk.blockOffset(), bk.count());
      st.prof.add(st.prof.unpack, t0);
    }
  }

  private static double[] result(List<Future<double[]>> c, int block) {
    return HostCopy.await(c.get(block));
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
