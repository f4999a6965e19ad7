package dev.gpucore.blas;

import dev.gpucore.Check;
import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Layout;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.HostArray;
import dev.gpucore.spi.Backends;
import dev.gpucore.spi.Facades;
import dev.gpucore.spi.GemmCall;
import dev.gpucore.spi.Router;

/**
 * Matrix multiply, {@code C = alpha·op(A)·op(B) + beta·C}, in fp32 and fp64, on operands in Java
 * arrays, {@link dev.gpucore.memory.HostArray}s or {@link DeviceArray}s (see {@link Operand}),
 * row- or column-major, with transposes, leading dimensions, sub-matrix views, strided
 * batches (see {@link Gemm}), pointer-array batches ({@link #gemmBatched}, or prepared once
 * and run many times: {@link #prepareBatched}) and sums of products ({@link #gemmSum}).
 *
 * <p>Where it runs: device operands on their GPU; host operands where the router (see {@code gpucore.gemm.route})
 * decides (the CPU for small calls, the GPU, tiled and pipelined, for large ones);
 * {@link #explain} says which and why.
 *
 * <p>Failures of a host-operand call on the GPU: out of device memory is retried with tiles
 * 1/4 and then 1/16 of {@code gpucore.gemm.panelMiB} (nothing of C is written before the
 * device memory is in hand), then the call runs on the CPU if {@code gpucore.gemm.fallback}
 * allows (default) or throws {@link GpuCoreException.OutOfMemory}; a sticky fault marks the
 * GPU faulted, the router sends no more work to it, and the call is rerun on the CPU unless it
 * had already written part of a C that it also reads ({@code beta != 0}), in which case the
 * {@link GpuCoreException.DeviceFaulted} is thrown.
 *
 * <p>Every argument is checked here, before any native call, and a rejected call leaves C
 * untouched: sizes and strides non-negative, leading dimensions at least the stored row (or
 * column) length, every operand large enough for its matrices (all index arithmetic in 64 bits),
 * one element type, one place (all on one device, or all on the host), C sharing storage with
 * neither A nor B, batch outputs not overlapping. BLAS semantics: {@code beta = 0} never reads C
 * (NaN there is ignored); {@code k = 0} or {@code alpha = 0} gives {@code beta·C} without reading
 * A or B.
 */
public final class Blas {
  static {
    Facades.registerBlas(Blas::new);
  }

  private final Backends core;
  private final Router router;

  private Blas(Backends core) {
    this.core = core;
    this.router = core.router();
  }

  /**
   * How GEMMs on Java arrays reach the CPU's BLAS: in place or copied, and why; null when the
   * CPU backend has nothing to say.
   */
  public JavaArrayPath javaArrayPath() {
    return core.cpu().blas().javaArrayPath();
  }

  /**
   * The CPU's BLAS library as it runs here: its build, the kernels it picked for this CPU and its
   * threads (for example {@code OpenBLAS 0.3.31 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64;
   * 16 threads}); null when the CPU backend does not say. Shown by {@code gpucore doctor} and the
   * benchmarks' header.
   */
  public String cpuLibrary() {
    return core.cpu().blas().library();
  }

  /** Runs a GEMM and returns when C holds the result. */
  public void gemm(Gemm g, Operand a, int lda, Operand b, int ldb, Operand c, int ldc) {
    gemm(g, a, lda, b, ldb, c, ldc, null);
  }

  /**
   * Runs a GEMM; with device operands and a {@code stream} it is queued there and may still run
   * when this returns. Host operands always complete before it returns.
   */
  public void gemm(Gemm g, Operand a, int lda, Operand b, int ldb, Operand c, int ldc,
      GpuStream stream) {
    GemmCall call = check(g, a, lda, b, ldb, c, ldc, stream);
    boolean counted = dev.gpucore.spi.PromptExit.enter();
    try {
      run(call);
    } finally {
      dev.gpucore.spi.PromptExit.leave(counted);
    }
  }

  /** Runs a checked call where it belongs. */
  private void run(GemmCall call) {
    if (call.m() == 0 || call.n() == 0) {
      return;
    }
    if (call.onDevice()) {
      core.gpu().blas().gemm(call);
      return;
    }
    Decision d = router.decide(call);
    if (!d.gpu()) {
      if (router.learns(call)) {
        long t0 = System.nanoTime();
        core.cpu().blas().gemm(call);
        router.learn(call, false, t0, System.nanoTime());
      } else {
        core.cpu().blas().gemm(call);
      }
      return;
    }
    onGpuRoute(new Single(call));
  }

  /**
   * Host work the router sent to the GPU: with {@code gpucore.gemm.cpuRatio}, its last rows of
   * C on the CPU while the GPU computes the others; learnt from when timed and run whole.
   */
  private void onGpuRoute(HostWork w) {
    GemmCall call = w.call();
    int cpuRows = router.cpuRows(call);
    if (cpuRows == 0) {
      boolean timed = router.learns(call);
      long t0 = timed ? System.nanoTime() : 0;
      boolean whole = onGpu(w);
      if (timed) {
        if (whole) {
          router.learn(call, true, t0, System.nanoTime());
        } else {
          router.ended(System.nanoTime());
        }
      }
      return;
    }
    // gpucore.gemm.cpuRatio: the last rows of C on the CPU while the GPU computes the others
    int gpuRows = call.m() - cpuRows;
    HostWork gpuPart = w.rows(0, gpuRows);
    HostWork cpuPart = w.rows(gpuRows, cpuRows);
    java.util.concurrent.Future<?> cpu = SPLIT.submit(cpuPart::onCpu);
    Throwable gpuFailure = null;
    try {
      onGpu(gpuPart);
    } catch (RuntimeException | Error e) {
      gpuFailure = e;
    }
    Throwable cpuFailure = dev.gpucore.spi.Uninterruptible.await(cpu);
    if (router.learns(call)) {
      router.ended(System.nanoTime());
    }
    dev.gpucore.spi.Uninterruptible.rethrow(gpuFailure != null ? gpuFailure : cpuFailure,
        "CPU share of a split GEMM failed");
  }

  /**
   * Host-operand work as the GPU route runs it: one GEMM ({@link Single}) or a sum of products
   * ({@link Sum}).
   */
  private interface HostWork {
    /** The work as one checked call: the router's and the fallback's C, shape and scale. */
    GemmCall call();

    /** Runs it on the GPU backend (see {@link dev.gpucore.spi.BlasOps#gemmFromHost}). */
    String onGpu();

    /** Runs it on the CPU backend. */
    void onCpu();

    /** The part of it that computes rows {@code [row0, row0 + count)} of C. */
    HostWork rows(int row0, int count);
  }

  /** One host GEMM. */
  private final class Single implements HostWork {
    private final GemmCall call;

    Single(GemmCall call) {
      this.call = call;
    }

    @Override
    public GemmCall call() {
      return call;
    }

    @Override
    public String onGpu() {
      return core.gpu().blas().gemmFromHost(call);
    }

    @Override
    public void onCpu() {
      core.cpu().blas().gemm(call);
    }

    @Override
    public HostWork rows(int row0, int count) {
      return new Single(Blas.rows(call, row0, count));
    }
  }

  /** Threads for the CPU share of split host GEMMs (gpucore.gemm.cpuRatio). */
  private static final java.util.concurrent.ExecutorService SPLIT =
      java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "gpucore-gemm-cpu-share");
        t.setDaemon(true);
        return t;
      });

  /** Rows {@code [row0, row0 + count)} of C of a single checked row-major call. */
  private static GemmCall rows(GemmCall call, int row0, int count) {
    // op(A)'s row i is A's row i, or with A transposed A's column i
    long aShift = call.transA() ? row0 : (long) row0 * call.lda();
    return call.with(count, call.a().shifted(aShift), call.c().shifted((long) row0 * call.ldc()),
        1);
  }

  /**
   * Host-operand work (a GEMM, or a sum of products) on the GPU (which retries with smaller
   * tiles when device memory is short), then, with gpucore.gemm.fallback, on the CPU when it ran
   * out of memory all the same or its GPU faulted. With beta != 0 and the fallback on, C's region is kept in a copy while
   * the GPU works, so that a failure after part of C came down reruns from C as it was. True
   * when the GPU ran it whole, at the first try.
   */
  private boolean onGpu(HostWork w) {
    GemmCall call = w.call();
    GpuCoreException failure;
    // C = beta*C + ... is redone on the CPU from C as it was: kept while the GPU works on it
    Object kept = call.beta() != 0 && router.fallbackToCpu() ? keepC(call) : null;
    try {
      String note = w.onGpu();
      if (note != null) {
        router.record(call, note);
      }
      return note == null;
    } catch (GpuCoreException.OutOfMemory | GpuCoreException.DeviceFaulted e) {
      if (e.outputPartlyWritten() && call.beta() != 0) {
        if (kept == null) {
          throw e; // C = beta*C + ... cannot be redone from a half-written C
        }
        restoreC(call, kept);
      }
      failure = e;
    } catch (GpuCoreException.DeviceUnavailable e) {
      failure = e; // every configured GPU faulted since the decision
    }
    if (!router.fallbackToCpu()) {
      throw failure;
    }
    router.record(call, "fell back to the CPU after: " + failure.getMessage());
    w.onCpu();
    return false;
  }

  /** Elements from C's first to its last of every batch item; -1 past an int. */
  private static int cSpan(GemmCall call) {
    long span = (call.batch() - 1L) * call.strideC() + call.spanC();
    return span > Integer.MAX_VALUE - 16 ? -1 : (int) span;
  }

  /** A copy of the C region of a host call, or null when too large to keep. */
  private static Object keepC(GemmCall call) {
    int span = cSpan(call);
    Operand c = call.c();
    if (span < 0) {
      return null;
    }
    boolean f64 = c.dtype() == dev.gpucore.DType.FLOAT64;
    if (c.storage() instanceof HostArray h) {
      if (f64) {
        double[] d = new double[span];
        h.get(c.offset(), d, 0, span);
        return d;
      }
      float[] f = new float[span];
      h.get(c.offset(), f, 0, span);
      return f;
    }
    int from = (int) c.offset();
    return f64 ? java.util.Arrays.copyOfRange((double[]) c.storage(), from, from + span)
        : java.util.Arrays.copyOfRange((float[]) c.storage(), from, from + span);
  }

  private static void restoreC(GemmCall call, Object kept) {
    Operand c = call.c();
    int span = cSpan(call);
    if (c.storage() instanceof HostArray h) {
      if (kept instanceof double[] d) {
        h.put(c.offset(), d, 0, span);
      } else {
        h.put(c.offset(), (float[]) kept, 0, span);
      }
    } else {
      System.arraycopy(kept, 0, c.storage(), (int) c.offset(), span);
    }
  }

  /**
   * Runs a batch of independent GEMMs and returns when every C holds its result; see
   * {@link #gemmBatched(Gemm, Operand[], int, Operand[], int, Operand[], int, GpuStream)}.
   */
  public void gemmBatched(Gemm g, Operand[] a, int lda, Operand[] b, int ldb, Operand[] c,
      int ldc) {
    gemmBatched(g, a, lda, b, ldb, c, ldc, null);
  }

  /**
   * Runs a batch of independent GEMMs given by arrays of operands (the pointer-array form of
   * batched GEMM): item {@code i} computes {@code c[i] = alpha·op(a[i])·op(b[i]) + beta·c[i]}.
   * All items share {@code g}'s shape, layout, transposes, scale and precision, and the leading
   * dimensions {@code lda}, {@code ldb}, {@code ldc}; each operand may be a different array, at
   * a different offset, or a view into a shared array. The batch size is the arrays' length
   * (0: nothing to do), so {@code g.batch()} must be 1; for matrices at a fixed distance apart,
   * {@link Gemm#batch(int, long, long, long)} with {@link #gemm} is the cheaper form.
   *
   * <p>Every item is checked like {@link #gemm} (messages name the item, e.g. {@code c[3]}),
   * and the batch as a whole: {@code a}, {@code b} and {@code c} non-null, of one length and
   * without null elements; all items of one element type and in one place (all on one GPU, or
   * all on the host); no {@code c[i]} sharing storage with any {@code a[j]} or {@code b[j]};
   * no two C matrices in one storage overlapping (the element ranges
   * {@code [offset, offset + span)} of C, span being the distance from C's first to its last
   * element plus one). All checks come before any native call, and a rejected call leaves every
   * C untouched.
   *
   * <p>Device operands: one batched cuBLAS call on their GPU ({@code cublasGemmBatchedEx},
   * with the operands' device addresses uploaded per call), queued on {@code stream} when one
   * is given (then it may still run when this returns; the operands must stay open until the
   * stream is synchronized) or waited for when it is null. Where an operand's address is not
   * 16-byte aligned the items are queued one by one instead (same stream, same results). Each
   * call checks, addresses and uploads every item again: a batch run many times is cheaper
   * prepared once with {@link #prepareBatched}.
   *
   * <p>Host operands ({@code stream} must be null): each item goes, in order, through the
   * normal routed path of {@link #gemm} as a single GEMM (the router (see {@code gpucore.gemm.route}) decides CPU or GPU
   * per item); if item {@code i} fails, items before it have been computed and the others
   * are untouched.
   */
  public void gemmBatched(Gemm g, Operand[] a, int lda, Operand[] b, int ldb, Operand[] c,
      int ldc, GpuStream stream) {
    GemmCall[] items = checkBatched(g, a, lda, b, ldb, c, ldc, stream);
    if (items.length == 0 || items[0].m() == 0 || items[0].n() == 0) {
      return;
    }
    boolean counted = dev.gpucore.spi.PromptExit.enter();
    try {
      if (items[0].onDevice()) {
        core.gpu().blas().gemmBatched(items);
        return;
      }
      runHostBatch(items);
    } finally {
      dev.gpucore.spi.PromptExit.leave(counted);
    }
  }

  /** Checked host items, in order, each through the routed path of {@link #gemm}. */
  void runHostBatch(GemmCall[] items) {
    for (GemmCall item : items) {
      run(item);
    }
  }

  /**
   * Checks a pointer-array batch once and prepares it to be run many times: see
   * {@link BatchedGemm}. The arguments and their checks are those of
   * {@link #gemmBatched(Gemm, Operand[], int, Operand[], int, Operand[], int, GpuStream)}, with
   * the same messages, and the stream is given to each run. The operand arrays {@code a},
   * {@code b} and {@code c} are read here and not kept (changing them later changes nothing);
   * the storages they point into are kept and must stay open while the batch is used.
   *
   * <p>Device operands: the three arrays of device addresses are built here on the operands'
   * GPU (24 bytes an item of device memory, until {@link BatchedGemm#close()}), so that each run
   * is one batched cuBLAS call (unaligned and scale-only batches, which run item by item, need
   * none). Host operands: nothing is allocated.
   *
   * @throws GpuCoreException.InvalidArgument as {@code gemmBatched} does
   * @throws GpuCoreException.OutOfMemory when the device pointer arrays do not fit
   */
  public BatchedGemm prepareBatched(Gemm g, Operand[] a, int lda, Operand[] b, int ldb,
      Operand[] c, int ldc) {
    GemmCall[] items = checkBatched(g, a, lda, b, ldb, c, ldc, null);
    int n = items.length;
    // every distinct HostArray and DeviceArray, named after its first operand: a run checks
    // each once (views into one array are one check, however many items)
    java.util.IdentityHashMap<Object, String> seen = new java.util.IdentityHashMap<>();
    java.util.List<dev.gpucore.memory.NativeArray> arrays = new java.util.ArrayList<>();
    java.util.List<String> names = new java.util.ArrayList<>();
    Operand[][] all = {a, b, c};
    String[] letters = {"a", "b", "c"};
    Object[] last = new Object[3];
    for (int i = 0; i < n; i++) {
      for (int x = 0; x < 3; x++) {
        Object st = all[x][i].storage();
        if (st == last[x] || !(st instanceof dev.gpucore.memory.NativeArray na)) {
          continue;
        }
        last[x] = st;
        if (!seen.containsKey(st)) {
          String name = letters[x] + "[" + i + "]";
          seen.put(st, name);
          arrays.add(na);
          names.add(name);
        }
      }
    }
    dev.gpucore.memory.NativeArray[] live =
        arrays.toArray(new dev.gpucore.memory.NativeArray[0]);
    String[] liveNames = names.toArray(new String[0]);
    boolean nothing = n == 0 || items[0].m() == 0 || items[0].n() == 0;
    if (n > 0 && items[0].onDevice()) {
      dev.gpucore.spi.PreparedGemmBatch p =
          nothing ? null : core.gpu().blas().prepareBatched(items);
      return new BatchedGemm(core, this, n, c[0].device(), null, p, live, liveNames);
    }
    core.ensureOpen();
    return new BatchedGemm(core, this, n, -1, nothing ? null : items, null, live, liveNames);
  }

  /** Checks a pointer-array batch and returns its items in row-major form. */
  static GemmCall[] checkBatched(Gemm g, Operand[] a, int lda, Operand[] b, int ldb,
      Operand[] c, int ldc, GpuStream stream) {
    Check.notNull(g, "gemm");
    Check.notNull(a, "a");
    Check.notNull(b, "b");
    Check.notNull(c, "c");
    if (a.length != b.length || a.length != c.length) {
      throw new GpuCoreException.InvalidArgument("a, b and c must have one length (the batch "
          + "size); got " + a.length + ", " + b.length + ", " + c.length);
    }
    if (g.batch() != 1) {
      throw new GpuCoreException.InvalidArgument("gemm.batch() must be 1 for gemmBatched (the "
          + "batch size is the length of a, b and c, here " + c.length + "); got " + g.batch()
          + " (a strided batch is gemm with Gemm.batch)");
    }
    int n = c.length;
    for (int i = 0; i < n; i++) {
      if (a[i] == null || b[i] == null || c[i] == null) {
        String which = a[i] == null ? "a" : b[i] == null ? "b" : "c";
        throw new GpuCoreException.InvalidArgument(which + "[" + i + "] must not be null");
      }
    }
    GemmCall[] items = new GemmCall[n];
    for (int i = 0; i < n; i++) {
      try {
        items[i] = check(g, a[i], lda, b[i], ldb, c[i], ldc, stream);
      } catch (GpuCoreException.InvalidArgument e) {
        throw new GpuCoreException.InvalidArgument(itemMessage(e.getMessage(), i));
      }
      if (i > 0) {
        sameAsFirst(a, i, "a");
        sameAsFirst(b, i, "b");
        sameAsFirst(c, i, "c");
      }
    }
    if (n == 0) {
      return items;
    }
    // no C in any A or B storage (storages compared by identity, like gemm's check): each
    // storage with the first operand in it (2j for a[j], 2j + 1 for b[j]); a storage that
    // repeats its predecessor's is already there, however long the run of views into it
    java.util.IdentityHashMap<Object, Long> inputs = new java.util.IdentityHashMap<>();
    Object lastA = null;
    Object lastB = null;
    for (int j = 0; j < n; j++) {
      Object sa = a[j].storage();
      if (sa != lastA) {
        inputs.putIfAbsent(sa, 2L * j);
        lastA = sa;
      }
      Object sb = b[j].storage();
      if (sb != lastB) {
        inputs.putIfAbsent(sb, 2L * j + 1);
        lastB = sb;
      }
    }
    Object lastC = null;
    for (int i = 0; i < n; i++) {
      Object sc = c[i].storage();
      if (sc == lastC) {
        continue; // checked with the item before
      }
      lastC = sc;
      Long in = inputs.get(sc);
      if (in != null) {
        throw new GpuCoreException.InvalidArgument("c[" + i + "] shares storage with "
            + (in % 2 == 0 ? "a[" : "b[") + in / 2 + "]: no c may share storage with any a or b");
      }
    }
    // no two C matrices overlapping: per storage, sorted by offset, neighbours at least one
    // C span apart (all spans are equal, so neighbours are enough)
    long span = items[0].spanC();
    boolean oneStorageInOrder = true;
    for (int i = 1; i < n && oneStorageInOrder; i++) {
      oneStorageInOrder = c[i].storage() == c[0].storage() && c[i].offset() >= c[i - 1].offset();
    }
    if (span > 0 && n > 1 && oneStorageInOrder) {
      // all in one storage, offsets already in order (the order the sort below would give)
      for (int q = 1; q < n; q++) {
        if (c[q].offset() - c[q - 1].offset() < span) {
          throw overlap(c, q - 1, q, span);
        }
      }
    } else if (span > 0 && n > 1) {
      java.util.IdentityHashMap<Object, java.util.List<Integer>> byStorage =
          new java.util.IdentityHashMap<>();
      for (int i = 0; i < n; i++) {
        byStorage.computeIfAbsent(c[i].storage(), k -> new java.util.ArrayList<>()).add(i);
      }
      for (java.util.List<Integer> idx : byStorage.values()) {
        if (idx.size() < 2) {
          continue;
        }
        idx.sort(java.util.Comparator.comparingLong((Integer i) -> c[i].offset())
            .thenComparingInt(i -> i));
        for (int t = 1; t < idx.size(); t++) {
          int p = idx.get(t - 1);
          int q = idx.get(t);
          if (c[q].offset() - c[p].offset() < span) {
            throw overlap(c, Math.min(p, q), Math.max(p, q), span);
          }
        }
      }
    }
    return items;
  }

  private static GpuCoreException.InvalidArgument overlap(Operand[] c, int lo, int hi,
      long span) {
    return new GpuCoreException.InvalidArgument("c[" + lo + "] (offset " + c[lo].offset()
        + ") and c[" + hi + "] (offset " + c[hi].offset() + ") overlap in one storage: "
        + "each C matrix spans " + span + " elements");
  }

  /** Item {@code i} of a batch must match item 0's element type and place. */
  private static void sameAsFirst(Operand[] x, int i, String name) {
    sameAsFirst(x, i, name, "items");
  }

  /** Element {@code i} of {@code x} must match element 0's element type and place. */
  private static void sameAsFirst(Operand[] x, int i, String name, String what) {
    Operand o = x[i];
    Operand f = x[0];
    if (o.dtype() != f.dtype()) {
      throw new GpuCoreException.InvalidArgument(name + "[" + i + "] holds " + o.dtype()
          + " but " + name + "[0] holds " + f.dtype() + ": all " + what
          + " must have one element type");
    }
    boolean dev = o.kind() == Operand.Kind.DEVICE;
    if (dev != (f.kind() == Operand.Kind.DEVICE) || o.device() != f.device()) {
      throw new GpuCoreException.InvalidArgument(name + "[" + i + "] is " + where(o) + " but "
          + name + "[0] is " + where(f) + ": all " + what
          + " must be on one GPU or all on the host");
    }
  }

  private static String where(Operand o) {
    return o.kind() == Operand.Kind.DEVICE ? "on GPU " + o.device() : "on the host";
  }

  /**
   * A check message for item {@code i}: a leading operand name becomes {@code a[i]} (etc.),
   * anything else is prefixed with the item.
   */
  private static String itemMessage(String msg, int i) {
    String m = msg.replace("c must not share storage with a or b",
        "c must not share storage with a[" + i + "] or b[" + i + "]");
    for (String name : new String[] {"a", "b", "c"}) {
      if (m.startsWith(name + " ") || m.startsWith(name + ":")) {
        return name + "[" + i + "]" + m.substring(name.length());
      }
    }
    return "item " + i + ": " + m;
  }

  /**
   * A sum of products in one call: {@code C = alpha·Σ_t op(A_t)·op(B_t) + beta·C}, pair
   * {@code t} being {@code a[t]} (leading dimension {@code lda[t]}) times {@code b[t]}
   * ({@code ldb[t]}) with inner dimension {@code k[t]}. {@code g} gives m, n, the layout, the
   * transposes (the same for every pair), alpha, beta and the precision; {@code g.k()} must be
   * the sum of the {@code k[t]} (the k of the whole product, as if the pairs' op(A_t) stood
   * side by side and their op(B_t) one above the other) and {@code g.batch()} must be 1. It
   * returns when C holds the result. A block-matrix product's row-times-column step is one such
   * call.
   *
   * <p>Every pair is checked like {@link #gemm} with {@code k[t]} for k (messages name the
   * pair: {@code a[2] holds …}, {@code lda[1] must be >= …}, {@code pair 3: …}), and the sum as
   * a whole: {@code a}, {@code lda}, {@code b}, {@code ldb} and {@code k} of one length, at
   * least one pair, no null operand, every {@code k[t] >= 0}, all operands of one element type
   * and in one place (all on the host, or all on one GPU), C sharing storage with no A or B.
   * All checks come before any work, and a rejected call leaves C untouched. Pairs with
   * {@code k[t] = 0} add nothing and are skipped; where every {@code k[t]} is 0, or alpha is 0,
   * the call is {@code C = beta·C}, as {@link #gemm} with k = 0. A sum of one product (one
   * {@code k[t] > 0}) is that {@link #gemm}.
   *
   * <p>Device operands: one GEMM per pair on their GPU (beta for the first, 1 after it),
   * synchronous. Host operands: the router (see {@code gpucore.gemm.route}) decides for the
   * whole sum, as for one GEMM of m×n×{@code g.k()}; on the CPU each pair is a GEMM of the CPU
   * backend (beta, then 1); on the GPU the backend runs the sum, the native engine
   * ({@code gpucore.gemm.hostEngine=native}, fp32 and fp64) in one call that forms the sum on
   * the GPU, other pipelines pair by pair. Where the pairs run one by one (device operands, the
   * CPU, pipelines other than the engine), each adds into C, so a 16-bit C is rounded after each
   * pair. Failures on the GPU are handled as {@link #gemm}'s (see the class description): the
   * CPU fallback reruns the whole sum from C as it was.
   *
   * @throws GpuCoreException.InvalidArgument naming the argument (and pair) that is wrong
   */
  public void gemmSum(Gemm g, int[] k, Operand[] a, int[] lda, Operand[] b, int[] ldb,
      Operand c, int ldc) {
    GemmCall[] pairs = checkSum(g, k, a, lda, b, ldb, c, ldc);
    if (g.m() == 0 || g.n() == 0) {
      return;
    }
    boolean counted = dev.gpucore.spi.PromptExit.enter();
    try {
      runSum(pairs, g.k());
    } finally {
      dev.gpucore.spi.PromptExit.leave(counted);
    }
  }

  /** Checks a sum of products and returns its pairs in row-major form, beta on every pair. */
  static GemmCall[] checkSum(Gemm g, int[] k, Operand[] a, int[] lda, Operand[] b, int[] ldb,
      Operand c, int ldc) {
    Check.notNull(g, "gemm");
    Check.notNull(k, "k");
    Check.notNull(a, "a");
    Check.notNull(lda, "lda");
    Check.notNull(b, "b");
    Check.notNull(ldb, "ldb");
    Check.notNull(c, "c");
    int n = k.length;
    if (a.length != n || lda.length != n || b.length != n || ldb.length != n) {
      throw new GpuCoreException.InvalidArgument("a, lda, b, ldb and k must have one length "
          + "(the number of pairs); got " + a.length + ", " + lda.length + ", " + b.length + ", "
          + ldb.length + ", " + n);
    }
    if (n == 0) {
      throw new GpuCoreException.InvalidArgument("a sum needs at least one pair: a, lda, b, ldb "
          + "and k are empty");
    }
    if (g.batch() != 1) {
      throw new GpuCoreException.InvalidArgument("gemm.batch() must be 1 for gemmSum; got "
          + g.batch());
    }
    long sum = 0;
    for (int t = 0; t < n; t++) {
      Check.nonNegative(k[t], "k[" + t + "]");
      sum += k[t];
    }
    if (sum != g.k()) {
      throw new GpuCoreException.InvalidArgument("k must add up to gemm.k() = " + g.k()
          + "; its elements add up to " + sum);
    }
    for (int t = 0; t < n; t++) {
      if (a[t] == null || b[t] == null) {
        throw new GpuCoreException.InvalidArgument((a[t] == null ? "a" : "b") + "[" + t
            + "] must not be null");
      }
    }
    GemmCall[] pairs = new GemmCall[n];
    for (int t = 0; t < n; t++) {
      Gemm gt = new Gemm(g.m(), g.n(), k[t], g.layout(), g.transA(), g.transB(), g.alpha(),
          g.beta(), g.precision(), 1, 0, 0, 0);
      try {
        pairs[t] = check(gt, a[t], lda[t], b[t], ldb[t], c, ldc, null);
      } catch (GpuCoreException.InvalidArgument e) {
        throw new GpuCoreException.InvalidArgument(pairMessage(e.getMessage(), t));
      }
      if (t > 0) {
        sameAsFirst(a, t, "a", "pairs");
        sameAsFirst(b, t, "b", "pairs");
      }
    }
    return pairs;
  }

  /**
   * A check message for pair {@code t}: a leading {@code a}, {@code b}, {@code lda} or
   * {@code ldb} gets the pair's index, C's own messages stay, anything else names the pair.
   */
  private static String pairMessage(String msg, int t) {
    String m = msg.replace("c must not share storage with a or b",
        "c must not share storage with a[" + t + "] or b[" + t + "]");
    for (String name : new String[] {"lda", "ldb", "a", "b"}) {
      if (m.startsWith(name + " ") || m.startsWith(name + ":")) {
        return name + "[" + t + "]" + m.substring(name.length());
      }
    }
    if (m.startsWith("c ") || m.startsWith("c:") || m.startsWith("ldc ")) {
      return m;
    }
    return "pair " + t + ": " + m;
  }

  /** Runs the checked pairs of a sum whose inner dimensions add up to {@code k}. */
  private void runSum(GemmCall[] pairs, int k) {
    // the pairs that multiply something: beta on the first, 1 after it
    java.util.List<GemmCall> work = new java.util.ArrayList<>();
    for (GemmCall p : pairs) {
      if (p.k() > 0) {
        work.add(work.isEmpty() ? p : withBeta(p, 1));
      }
    }
    if (work.isEmpty() || pairs[0].alpha() == 0 || work.size() == 1) {
      // nothing to multiply (C = beta*C: pair 0 has k = 0 or alpha = 0), or one GEMM
      run(work.size() == 1 && pairs[0].alpha() != 0 ? work.get(0) : pairs[0]);
      return;
    }
    if (pairs[0].onDevice()) {
      for (GemmCall p : work) {
        core.gpu().blas().gemm(p);
      }
      return;
    }
    Sum sum = new Sum(work, k);
    Decision d = router.decide(sum.call());
    if (d.gpu()) {
      onGpuRoute(sum);
    } else if (router.learns(sum.call())) {
      long t0 = System.nanoTime();
      sum.onCpu();
      router.learn(sum.call(), false, t0, System.nanoTime());
    } else {
      sum.onCpu();
    }
  }

  /**
   * A sum of products on host operands: its pairs (each with k > 0; beta on the first, 1 after
   * it), and as one call the m×n×k GEMM the router decides for (its A and B are the first
   * pair's, with the leading dimensions of the whole op(A) and op(B): only its shape is read).
   */
  private final class Sum implements HostWork {
    private final java.util.List<GemmCall> pairs;
    private final GemmCall whole;

    Sum(java.util.List<GemmCall> pairs, int k) {
      this.pairs = java.util.List.copyOf(pairs);
      GemmCall f = pairs.get(0);
      int lda = Math.max(1, f.transA() ? f.m() : k);
      int ldb = Math.max(1, f.transB() ? k : f.n());
      this.whole = new GemmCall(f.transA(), f.transB(), f.m(), f.n(), k, f.alpha(), f.beta(),
          f.precision(), f.dtype(), f.a(), lda, f.b(), ldb, f.c(), f.ldc(), 1, 0, 0, 0, null,
          f.place());
    }

    @Override
    public GemmCall call() {
      return whole;
    }

    @Override
    public String onGpu() {
      return core.gpu().blas().gemmSumFromHost(pairs);
    }

    @Override
    public void onCpu() {
      for (GemmCall p : pairs) {
        core.cpu().blas().gemm(p);
      }
    }

    @Override
    public HostWork rows(int row0, int count) {
      java.util.List<GemmCall> part = new java.util.ArrayList<>(pairs.size());
      for (GemmCall p : pairs) {
        part.add(Blas.rows(p, row0, count));
      }
      return new Sum(part, whole.k());
    }
  }

  /** A checked call with another beta. */
  private static GemmCall withBeta(GemmCall c, double beta) {
    return new GemmCall(c.transA(), c.transB(), c.m(), c.n(), c.k(), c.alpha(), beta,
        c.precision(), c.dtype(), c.a(), c.lda(), c.b(), c.ldb(), c.c(), c.ldc(), c.batch(),
        c.strideA(), c.strideB(), c.strideC(), c.stream(), c.place());
  }

  /** Where a call with these arguments would run, and why (arguments are checked). */
  public Decision explain(Gemm g, Operand a, int lda, Operand b, int ldb, Operand c,
      int ldc) {
    GemmCall call = check(g, a, lda, b, ldb, c, ldc, null);
    if (call.onDevice()) {
      return new Decision(true, -1, "operands are on GPU " + c.device());
    }
    return router.explain(call);
  }

  /**
   * The figures the router decides host GEMMs by (CPU and GPU rates, bus bandwidth, the GPU's
   * fixed cost per call) and where each came from: a setting, this machine's calibration (its
   * file and date) or the built-in model; and how many timed calls correct them. Measures
   * nothing.
   */
  public Routing routing() {
    return router.routing();
  }

  /**
   * Measures the router's figures on this machine now (under a second on a data-centre GPU
   * host: a few CPU and GPU GEMMs and a host-device copy), writes them to the cache file
   * ({@code gpucore.gemm.calibrationFile}) and uses them from now on, whatever
   * {@code gpucore.gemm.calibrate} says. Settings given explicitly still win.
   *
   * @throws GpuCoreException.DeviceUnavailable when no GPU is usable
   */
  public Routing calibrate() {
    core.ensureOpen();
    boolean counted = dev.gpucore.spi.PromptExit.enter();
    try {
      return router.calibrate();
    } finally {
      dev.gpucore.spi.PromptExit.leave(counted);
    }
  }

  /** Row-major single-precision GEMM on Java arrays (the classic BLAS argument list). */
  public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a,
      int lda, float[] b, int ldb, float beta, float[] c, int ldc) {
    classic(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }

  /** Row-major double-precision GEMM on Java arrays. */
  public void dgemm(boolean transA, boolean transB, int m, int n, int k, double alpha, double[] a,
      int lda, double[] b, int ldb, double beta, double[] c, int ldc) {
    classic(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }

  /** sgemm and dgemm: a, b and c are all float[] or all double[]. */
  private void classic(boolean transA, boolean transB, int m, int n, int k, double alpha,
      Object a, int lda, Object b, int ldb, double beta, Object c, int ldc) {
    Check.notNull(a, "a");
    Check.notNull(b, "b");
    Check.notNull(c, "c");
    // one Gemm (as Gemm.of(m, n, k).transA(...).transB(...).scale(...), without the copies)
    gemm(new Gemm(m, n, k, Layout.ROW_MAJOR, transA, transB, alpha, beta, Precision.DEFAULT, 1, 0,
        0, 0), javaArray(a), lda, javaArray(b), ldb, javaArray(c), ldc);
  }

  private static Operand javaArray(Object data) {
    return data instanceof float[] f ? Operand.of(f) : Operand.of((double[]) data);
  }

  /**
   * Row-major single-precision GEMM on device arrays of one GPU, queued on {@code stream}
   * (null: waits for the result).
   */
  public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
      DeviceArray a, int lda, DeviceArray b, int ldb, float beta, DeviceArray c, int ldc,
      GpuStream stream) {
    Check.notNull(a, "a");
    Check.notNull(b, "b");
    Check.notNull(c, "c");
    gemm(Gemm.of(m, n, k).transA(transA).transB(transB).scale(alpha, beta), Operand.of(a), lda,
        Operand.of(b), ldb, Operand.of(c), ldc, stream);
  }

  /** Checks everything and returns the row-major form. */
  static GemmCall check(Gemm g, Operand a, int lda, Operand b, int ldb, Operand c, int ldc,
      GpuStream stream) {
    Check.notNull(g, "gemm");
    Check.notNull(a, "a");
    Check.notNull(b, "b");
    Check.notNull(c, "c");
    if (a.isClosed() || b.isClosed() || c.isClosed()) {
      throw new GpuCoreException.InvalidArgument((a.isClosed() ? "a" : b.isClosed() ? "b" : "c")
          + " is closed");
    }
    DType t = a.dtype();
    if (b.dtype() != t || (c.dtype() != t && !(t.isHalf() && c.dtype() == DType.FLOAT32))) {
      throw new GpuCoreException.InvalidArgument("a, b and c must have one element type (or "
          + "16-bit a and b with a FLOAT32 c); got " + a.dtype() + ", " + b.dtype() + ", "
          + c.dtype());
    }
    boolean dev = c.kind() == Operand.Kind.DEVICE;
    if ((a.kind() == Operand.Kind.DEVICE) != dev || (b.kind() == Operand.Kind.DEVICE) != dev) {
      throw new GpuCoreException.InvalidArgument(
          "a, b and c must all be on a GPU or all on the host; got " + a.kind() + ", " + b.kind()
              + ", " + c.kind());
    }
    if (dev && (a.device() != c.device() || b.device() != c.device())) {
      throw new GpuCoreException.InvalidArgument("a, b and c must be on one GPU; got devices "
          + a.device() + ", " + b.device() + ", " + c.device());
    }
    if (stream != null) {
      if (!dev) {
        throw new GpuCoreException.InvalidArgument("stream is only for device operands");
      }
      if (stream.isClosed() || stream.device() != c.device()) {
        throw new GpuCoreException.InvalidArgument(
            "stream must be open and on device " + c.device());
      }
    }
    Precision p = g.precision();
    if (p == Precision.DEFAULT) {
      p = t == DType.FLOAT64 ? Precision.FP64 : t == DType.BFLOAT16 ? Precision.BF16
          : t == DType.FLOAT16 ? Precision.FP16 : Precision.FP32;
    }
    boolean ok = switch (t) {
      case FLOAT64 -> p == Precision.FP64;
      case BFLOAT16 -> p == Precision.BF16;
      case FLOAT16 -> p == Precision.FP16;
      default -> p != Precision.FP64;
    };
    if (!ok) {
      throw new GpuCoreException.InvalidArgument("precision " + p + " does not apply to " + t
          + " operands (FP64 is for FLOAT64; BF16 for BFLOAT16; FP16 for FLOAT16; FP32, TF32, "
          + "BF16, FP16 for FLOAT32)");
    }
    if (c.sameStorage(a) || c.sameStorage(b)) {
      throw new GpuCoreException.InvalidArgument("c must not share storage with a or b");
    }
    // checks in the caller's layout, with the caller's names
    int aRows = g.transA() ? g.k() : g.m();
    int aCols = g.transA() ? g.m() : g.k();
    int bRows = g.transB() ? g.n() : g.k();
    int bCols = g.transB() ? g.k() : g.n();
    boolean rowMajor = g.layout() == Layout.ROW_MAJOR;
    Check.atLeast(lda, Math.max(1, rowMajor ? aCols : aRows), "lda");
    Check.atLeast(ldb, Math.max(1, rowMajor ? bCols : bRows), "ldb");
    Check.atLeast(ldc, Math.max(1, rowMajor ? g.n() : g.m()), "ldc");
    // row-major form: a column-major C = op(A)op(B) is the row-major C^T = op(B)^T op(A)^T
    GemmCall.Place place = GemmCall.Place.of(c.kind(), c.device());
    GemmCall call = rowMajor
        ? new GemmCall(g.transA(), g.transB(), g.m(), g.n(), g.k(), g.alpha(), g.beta(), p, t,
            a, lda, b, ldb, c, ldc, g.batch(), g.strideA(), g.strideB(), g.strideC(), stream,
            place)
        : new GemmCall(g.transB(), g.transA(), g.n(), g.m(), g.k(), g.alpha(), g.beta(), p, t,
            b, ldb, a, lda, c, ldc, g.batch(), g.strideB(), g.strideA(), g.strideC(), stream,
            place);
    Operand ra = rowMajor ? a : b;
    Operand rb = rowMajor ? b : a;
    if (!call.scaleOnly()) {
      fits(ra, call.spanA(), call.strideA(), call.batch(), rowMajor ? "a" : "b");
      fits(rb, call.spanB(), call.strideB(), call.batch(), rowMajor ? "b" : "a");
    }
    fits(c, call.spanC(), call.strideC(), call.batch(), "c");
    if (call.batch() > 1 && call.spanC() > 0 && call.strideC() < call.spanC()) {
      throw new GpuCoreException.InvalidArgument("strideC " + call.strideC()
          + " is smaller than one C matrix (" + call.spanC() + " elements): batch outputs would overlap");
    }
    return call;
  }

  private static void fits(Operand o, long span, long stride, int batch, String name) {
    if (span == 0) {
      return;
    }
    long need;
    try {
      need = Math.addExact(Math.addExact(o.offset(), Math.multiplyExact(stride, batch - 1L)), span);
    } catch (ArithmeticException e) {
      throw new GpuCoreException.InvalidArgument(name + ": the matrices' extent overflows 64 bits");
    }
    if (need > o.capacity()) {
      throw new GpuCoreException.InvalidArgument(name + " holds " + o.capacity()
          + " elements but the call needs " + need + " (offset " + o.offset() + ", "
          + (batch > 1 ? batch + " matrices " + stride + " apart, " : "") + span
          + " elements per matrix)");
    }
  }
}
