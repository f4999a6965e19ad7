package dev.gpucore.cpu;

import dev.gpucore.DType;
import dev.gpucore.blas.JavaArrayPath;
import dev.gpucore.blas.Operand;
import dev.gpucore.cpu.bindings.CpuBlasNative;
import dev.gpucore.memory.HostArray;
import dev.gpucore.spi.BlasOps;
import dev.gpucore.spi.GemmCall;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * BLAS on the CPU: OpenBLAS's {@code cblas_sgemm}/{@code cblas_dgemm}, one call per batch item.
 * Every fp32 precision is computed in strict fp32. When all three operands are Java arrays,
 * OpenBLAS runs on the arrays in place, inside a JNI critical region ({@link CpuBlasNative}),
 * each native call estimated at most {@code gpucore.cpu.inPlaceMaxMs}. A longer item runs in
 * several such calls, so the JVM may collect garbage between them: in slabs of k that end where
 * OpenBLAS's own k-blocks end ({@link #kBlock}; {@code gpucore.cpu.kSlabs}), which give the C
 * of one call bit for bit and pack nothing twice, and where one slab is still too long, or
 * OpenBLAS's blocks are unknown, in even panels of C's rows (or columns, when it has more of
 * them), which OpenBLAS rounds a little differently from one call and for which it packs the
 * shared operand again, used where the limit allows panels {@link #PANEL_MIN} wide and they
 * cost less than copies would ({@code gpucore.cpu.repackMax}). Otherwise (an item too long for
 * those, host arrays in the call, or where that glue cannot load, or the JVM would copy): small
 * Java arrays at offset 0 go to OpenBLAS directly (JavaCPP copies them in and out through JNI,
 * which is cheap for them); larger ones, and arrays at an offset (JavaCPP cannot pass an array
 * offset), are copied to off-heap scratch covering just the matrices' extent (C only when
 * OpenBLAS reads it: beta != 0, or gaps between its rows), all operands in one copy split over
 * the CPU threads, and C's extent is copied back the same way. With the glue each thread copies
 * its part in critical regions estimated within the same limit (at
 * {@link #COPY_GBPS_PER_THREAD}), large copies with streaming stores; OpenBLAS then runs on the
 * copies outside any critical region, as long as it takes, the call it would make on the
 * arrays. Host arrays go to OpenBLAS as they are.
 */
final class CpuBlas implements BlasOps {
  /** Below this many elements a Java array goes to OpenBLAS directly. */
  static final long DIRECT_MAX = 1 << 16;
  /** Parts of a parallel copy are at least this many elements. */
  static final int COPY_PART = 1 << 18;
  /**
   * A conservative rate of one thread's copy between a Java array and off-heap memory, GB/s,
   * for the estimate of a copy's critical region (one thread's memcpy does 9 GB/s and more).
   */
  static final double COPY_GBPS_PER_THREAD = 2;
  /**
   * Copies of at least this many bytes (all operands of a call together) write with streaming
   * stores, which neither read the destination first nor evict the caches: such copies outgrow
   * the caches anyway.
   */
  static final long STREAM_MIN_BYTES = 16L << 20;

  /**
   * Default of {@code gpucore.cpu.inPlaceMaxMs}: no native call on Java arrays in place (a
   * critical region, which may hold off the JVM's garbage collection while it runs) is
   * estimated longer (at {@link #IN_PLACE_GFLOPS_PER_THREAD} per CPU thread). A longer item runs
   * in panels of C, or on copies of its Java arrays when panels would cost more.
   */
  static final double IN_PLACE_MAX_MS = 20;
  /** A conservative OpenBLAS SGEMM rate per thread for that estimate (fp64: half). */
  static final double IN_PLACE_GFLOPS_PER_THREAD = 50;
  /**
   * Items above this many flops take {@link #SERIAL} before entering the critical region:
   * OpenBLAS runs such (multi-threaded) GEMMs one at a time anyway, and a caller queued inside
   * a critical region would hold off garbage collection for the calls ahead of it too.
   */
  static final double SERIAL_FLOPS = 2.0 * 128 * 128 * 128;
  /**
   * Panels are used only where the limit allows them at least this many rows (or columns) of
   * C: OpenBLAS runs thin GEMMs at a lower rate. (The panels of an item are then made even, so
   * they may be a little thinner.)
   */
  static final int PANEL_MIN = 128;
  /**
   * Panels are used while the elements OpenBLAS packs again for them (the operand every panel
   * shares, once per panel after the first) are at most this many times the elements the
   * copying path would move (A, B and C out, and C in when beta != 0); otherwise the item is
   * copied. For square matrices: 2 panels (3 when beta != 0); more panels did not beat the
   * copies (docs/benchmarks.md).
   */
  static final double REPACK_MAX = 0.5;
  private static final java.util.concurrent.locks.ReentrantLock SERIAL =
      new java.util.concurrent.locks.ReentrantLock();

  private final java.util.concurrent.ForkJoinPool pool;
  /**
   * The most flops (fp32; fp64 counts twice) of one native call on Java arrays in place; 0 when
   * none runs in place (the glue did not load, the JVM copies arrays, or the setting is 0).
   */
  private final double inPlaceMaxFlops;
  /** The fewest rows or columns of C per in-place call ({@link #PANEL_MIN}; tests use less). */
  private final int panelMin;
  /** Panels' extra packing allowed, against the copies' elements ({@link #REPACK_MAX}). */
  private final double repackMax;
  /** Whether long items may run in place in slabs of k ({@code gpucore.cpu.kSlabs}). */
  private final boolean kSlabs;
  /**
   * Whether copies of Java arrays run in critical regions (the glue's copies, one thread's
   * part at a time); otherwise through JNI's array region calls.
   */
  private final boolean criticalCopies;
  /** Bytes of one critical copy region: the limit at {@link #COPY_GBPS_PER_THREAD}. */
  private final long copyRegionBytes;
  /** The longest critical region so far, estimated (tests check it against the limit). */
  private final java.util.concurrent.atomic.LongAccumulator longestRegionNanos =
      new java.util.concurrent.atomic.LongAccumulator(Math::max, 0);
  /** CPU threads (at least 1): the in-place estimate scales with them. */
  private final int threads;
  /** What {@link #javaArrayPath()} says (for doctor). */
  private final JavaArrayPath path;
  /** GEMM items run in place so far (tests check that the path is taken). */
  final java.util.concurrent.atomic.LongAdder inPlaceItems =
      new java.util.concurrent.atomic.LongAdder();
  /** Native in-place calls so far: one per item, or one per panel of a split item. */
  final java.util.concurrent.atomic.LongAdder inPlaceCalls =
      new java.util.concurrent.atomic.LongAdder();

  CpuBlas(int threads, double inPlaceMaxMs) {
    this(threads, inPlaceMaxMs, PANEL_MIN, REPACK_MAX, true);
  }

  CpuBlas(int threads, double inPlaceMaxMs, int panelMin, double repackMax, boolean kSlabs) {
    this(threads, inPlaceMaxMs > 0 && criticalAvailable(), inPlaceMaxMs, panelMin, repackMax,
        kSlabs);
  }

  CpuBlas(int threads, boolean critical, double inPlaceMaxMs, int panelMin, double repackMax,
      boolean kSlabs) {
    if (panelMin < 1) {
      throw new IllegalArgumentException("panelMin must be at least 1, got " + panelMin);
    }
    this.pool = threads > 1 ? new java.util.concurrent.ForkJoinPool(threads) : null;
    this.inPlaceMaxFlops = critical
        ? inPlaceMaxMs / 1e3 * IN_PLACE_GFLOPS_PER_THREAD * 1e9 * Math.max(1, threads) : 0;
    this.panelMin = panelMin;
    this.repackMax = repackMax;
    this.kSlabs = kSlabs;
    this.threads = Math.max(1, threads);
    this.criticalCopies = critical;
    this.copyRegionBytes = (long) (inPlaceMaxMs / 1e3 * COPY_GBPS_PER_THREAD * 1e9);
    this.path = inPlaceMaxMs <= 0
        ? new JavaArrayPath(false, false, "copied off-heap: gpucore.cpu.inPlaceMaxMs is 0")
        : critical
            ? new JavaArrayPath(true, false, String.format(java.util.Locale.ROOT,
                "in place (JNI critical region), native calls estimated up to %s ms (%.3g flops"
                    + " at %.0f GFLOP/s per thread, %d threads); longer items in slabs of k,"
                    + " panels of C or copied (in critical regions as short)",
                trim(inPlaceMaxMs), inPlaceMaxFlops, IN_PLACE_GFLOPS_PER_THREAD,
                Math.max(1, threads)))
            : new JavaArrayPath(false, true, "copied off-heap although gpucore.cpu.inPlaceMaxMs"
                + " is " + trim(inPlaceMaxMs) + ": "
                + (Critical.WHY_NOT != null ? Critical.WHY_NOT : "the in-place path is off"));
  }

  private static String trim(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }

  @Override
  public JavaArrayPath javaArrayPath() {
    return path;
  }

  @Override
  public String library() {
    String config;
    try {
      config = dev.gpucore.cpu.bindings.CpuBlasNative.gc_cpu_openblas_config();
    } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
      return null; // without gpucore's glue there is nothing to ask
    }
    return config == null ? null : config.trim() + "; " + threads + " thread"
        + (threads == 1 ? "" : "s");
  }

  /** Elements of the large probe array: an array JVMs might copy where they pin small ones. */
  static final int PROBE_LARGE = 1 << 22;

  /**
   * Loads the critical-region glue and checks that the JVM hands native code the arrays
   * themselves (two critical views of one array at one address), not copies: a copy would be
   * written back whole, over rows other threads write in the same array. Probed on a small and
   * a 16 MiB array (some JVMs store large arrays apart). False, and the copying path serves,
   * when the glue does not load or either probe sees a copy (as under {@code -Xcheck:jni}).
   * Probed once per JVM.
   */
  static boolean criticalAvailable() {
    return Critical.AVAILABLE;
  }

  /** The probe's answer, computed on first use (from the backend's loading thread). */
  private static final class Critical {
    /** Why the glue cannot be used; null when it can. */
    static final String WHY_NOT = probe();
    static final boolean AVAILABLE = WHY_NOT == null;
  }

  private static String probe() {
    try {
      CpuBlasNative.load();
      float[] small = new float[16];
      if (CpuBlasNative.gc_cpu_same(small, small) != 1) {
        return "this JVM hands native code copies of arrays in critical regions (as under"
            + " -Xcheck:jni)";
      }
      float[] large = new float[PROBE_LARGE];
      return CpuBlasNative.gc_cpu_same(large, large) == 1 ? null
          : "this JVM hands native code copies of large arrays in critical regions";
    } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
      return "the native glue did not load (" + e + ")";
    }
  }

  /** The most flops of one native in-place call (fp32 counted); 0 when none runs in place. */
  double inPlaceMaxFlops() {
    return inPlaceMaxFlops;
  }

  void close() {
    if (pool != null) {
      pool.shutdown();
    }
    Pointer p;
    while ((p = scratch.poll()) != null) {
      Pointer.free(p);
    }
  }

  /**
   * Idle off-heap scratch blocks, reused across calls: fresh memory costs a page fault per 4 KiB
   * on first touch (at n = 1024 that was most of the call). At most {@link #SCRATCH_KEEP} are
   * kept.
   */
  private final java.util.concurrent.ConcurrentLinkedQueue<Pointer> scratch =
      new java.util.concurrent.ConcurrentLinkedQueue<>();
  private static final int SCRATCH_KEEP = 6;

  Pointer takeScratch(long bytes) {
    for (Pointer p : scratch) {
      if (p.capacity() >= bytes && scratch.remove(p)) {
        return p;
      }
    }
    Pointer p = Pointer.malloc(bytes);
    if (p == null || p.isNull()) {
      // free the idle blocks and try once more
      Pointer q;
      while ((q = scratch.poll()) != null) {
        Pointer.free(q);
      }
      p = Pointer.malloc(bytes);
      if (p == null || p.isNull()) {
        throw new dev.gpucore.GpuCoreException.OutOfMemory(
            "host scratch of " + bytes + " bytes for a CPU GEMM could not be allocated");
      }
    }
    return p.capacity(bytes);
  }

  void giveScratch(Pointer p) {
    scratch.add(p);
    while (scratch.size() > SCRATCH_KEEP) {
      // drop the smallest idle block
      Pointer smallest = null;
      for (Pointer q : scratch) {
        if (smallest == null || q.capacity() < smallest.capacity()) {
          smallest = q;
        }
      }
      if (smallest != null && scratch.remove(smallest)) {
        Pointer.free(smallest);
      }
    }
  }

  /** A stretch of a Java array and the off-heap memory it is copied to or from. */
  record Segment(Object array, long offset, long address, long count) {}

  /**
   * Copies the segments between their Java arrays and off-heap memory (to the memory when
   * {@code toMem}), all of them split into one set of parts over the pool: with the glue, each
   * part in critical regions estimated within the limit (at {@link #COPY_GBPS_PER_THREAD}), with streaming stores
   * when the copy is large ({@link #STREAM_MIN_BYTES}); without it, through JNI's array region
   * calls (which copy too, but with cached stores).
   */
  void copy(java.util.List<Segment> segments, boolean toMem) {
    long total = 0;
    for (Segment s : segments) {
      total += s.count();
    }
    if (total == 0) {
      return;
    }
    boolean f64 = segments.get(0).array() instanceof double[];
    boolean stream = total * (f64 ? 8 : 4) >= STREAM_MIN_BYTES;
    int parts = pool == null ? 1 : (int) Math.min(pool.getParallelism(),
        Math.max(1, total / COPY_PART));
    long per = (total + parts - 1) / parts;
    java.util.List<java.util.concurrent.ForkJoinTask<?>> tasks = new java.util.ArrayList<>();
    for (int p = 1; p < parts; p++) {
      long start = p * per;
      long end = Math.min(total, start + per);
      if (start < end) {
        tasks.add(pool.submit(() -> copyRange(segments, start, end, toMem, stream)));
      }
    }
    try {
      copyRange(segments, 0, Math.min(per, total), toMem, stream);
    } finally {
      for (java.util.concurrent.ForkJoinTask<?> t : tasks) {
        t.join();
      }
    }
  }

  /** Copies elements [start, end) of the segments laid end to end. */
  private void copyRange(java.util.List<Segment> segments, long start, long end, boolean toMem,
      boolean stream) {
    long base = 0;
    for (Segment s : segments) {
      long from = Math.max(start, base);
      long to = Math.min(end, base + s.count());
      if (from < to) {
        long at = from - base;
        copyPart(s.array(), s.offset() + at, s.address(), at, to - from, toMem, stream);
      }
      base += s.count();
    }
  }

  /** Copies len elements between array[offset...] and the memory at address + start elements. */
  private void copyPart(Object array, long offset, long address, long start, long len,
      boolean toMem, boolean stream) {
    boolean f64 = array instanceof double[];
    int size = f64 ? 8 : 4;
    if (!criticalCopies) {
      if (f64) {
        DoublePointer p = new DoublePointer(at(address + start * 8));
        if (toMem) {
          p.put((double[]) array, (int) offset, (int) len);
        } else {
          p.get((double[]) array, (int) offset, (int) len);
        }
      } else {
        FloatPointer p = new FloatPointer(at(address + start * 4));
        if (toMem) {
          p.put((float[]) array, (int) offset, (int) len);
        } else {
          p.get((float[]) array, (int) offset, (int) len);
        }
      }
      return;
    }
    long most = Math.max(1, copyRegionBytes / size);
    for (long done = 0; done < len; ) {
      long chunk = Math.min(most, len - done);
      long mem = address + (start + done) * size;
      if (f64) {
        CpuBlasNative.gc_cpu_copy_d((double[]) array, offset + done, mem, chunk, toMem ? 1 : 0,
            stream ? 1 : 0);
      } else {
        CpuBlasNative.gc_cpu_copy_f((float[]) array, offset + done, mem, chunk, toMem ? 1 : 0,
            stream ? 1 : 0);
      }
      region(chunk * size / (COPY_GBPS_PER_THREAD * 1e9));
      done += chunk;
    }
  }

  /** Notes a critical region of this estimated length, in seconds (tests check the longest). */
  private void region(double seconds) {
    longestRegionNanos.accumulate((long) Math.ceil(seconds * 1e9));
  }

  /** The longest critical region so far, estimated, in milliseconds. */
  double longestRegionMs() {
    return longestRegionNanos.get() / 1e6;
  }

  @Override
  public void gemm(GemmCall call) {
    if (call.onDevice()) {
      throw new UnsupportedOperationException("the CPU backend has no device arrays");
    }
    boolean f64 = call.dtype() == DType.FLOAT64;
    if (call.scaleOnly()) {
      scale(call);
      return;
    }
    long extA = extent(call.spanA(), call.strideA(), call.batch());
    long extB = extent(call.spanB(), call.strideB(), call.batch());
    long extC = extent(call.spanC(), call.strideC(), call.batch());
    java.util.List<Piece> plan = inPlacePlan(call, extA, extB, extC);
    if (plan != null) {
      gemmInPlace(call, plan);
      return;
    }
    // the Java arrays themselves go to OpenBLAS only when all three can (one GEMM, offsets 0,
    // small): the call below takes either three arrays or three pointers
    boolean allDirect = call.batch() == 1 && direct(call.a(), extA) && direct(call.b(), extB)
        && direct(call.c(), extC);
    // C's scratch need not be filled first when beta = 0 and C's extent has no gaps (every
    // element of it is written); otherwise the gaps must come back unchanged
    boolean cDense = call.ldc() == call.n()
        && (call.batch() == 1 || call.strideC() == call.spanC());
    try (Buf a = Buf.of(this, call.a(), extA, f64, false, allDirect, true);
        Buf b = Buf.of(this, call.b(), extB, f64, false, allDirect, true);
        Buf c = Buf.of(this, call.c(), extC, f64, true, allDirect, call.beta() != 0 || !cDense)) {
      // the operands' copies in, as one parallel copy
      java.util.List<Segment> in = new java.util.ArrayList<>(3);
      for (Buf x : new Buf[] {a, b, c}) {
        if (x.copyIn) {
          in.add(x.segment());
        }
      }
      copy(in, true);
      int ta = call.transA() ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans;
      int tb = call.transB() ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans;
      for (int i = 0; i < call.batch(); i++) {
        long oa = i * call.strideA();
        long ob = i * call.strideB();
        long oc = i * call.strideC();
        if (f64) {
          if (a.d != null) {
            openblas_nolapack.cblas_dgemm(openblas_nolapack.CblasRowMajor, ta, tb, call.m(),
                call.n(), call.k(), call.alpha(), a.d, call.lda(), b.d, call.ldb(), call.beta(),
                c.d, call.ldc());
          } else {
            openblas_nolapack.cblas_dgemm(openblas_nolapack.CblasRowMajor, ta, tb, call.m(),
                call.n(), call.k(), call.alpha(), a.dp(oa), call.lda(), b.dp(ob), call.ldb(),
                call.beta(), c.dp(oc), call.ldc());
          }
        } else if (a.f != null) {
          openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, ta, tb, call.m(),
              call.n(), call.k(), (float) call.alpha(), a.f, call.lda(), b.f, call.ldb(),
              (float) call.beta(), c.f, call.ldc());
        } else {
          openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, ta, tb, call.m(),
              call.n(), call.k(), (float) call.alpha(), a.fp(oa), call.lda(), b.fp(ob), call.ldb(),
              (float) call.beta(), c.fp(oc), call.ldc());
        }
      }
      if (c.owned != null) {
        copy(java.util.List.of(c.segment()), false);
      }
    }
  }

  /**
   * One native in-place call of an item: C's rows (or columns) {@code [start, start + len)}
   * over k's {@code [k0, k0 + kLen)}; {@code first}: the call applies the item's beta (the
   * first slab of k), later slabs add to C (beta 1).
   */
  record Piece(boolean rows, int start, int len, int k0, int kLen, boolean first) {}

  /** Pieces of an item and the elements OpenBLAS packs again for them (against one call). */
  private record Plan(java.util.List<Piece> pieces, double repacked) {}

  /**
   * How the call runs on its Java arrays in place: the native calls of each item, or null when
   * it does not run in place. In place needs all three operands Java arrays of the call's
   * type, each extent inside its array (checked again here: the glue indexes raw memory), and
   * each native call estimated within the limit: a whole item; else slabs of k at OpenBLAS's
   * own k-blocks ({@link #kBlock}), which change no result and repack nothing; else even panels
   * along the longer of m and n (of the whole k, or of each slab), where the limit allows
   * panels {@code panelMin} wide and their repacking is at most {@code repackMax} times the
   * elements copies would move. Of slabs and panels, the plan that repacks less (then: fewer
   * calls).
   */
  private java.util.List<Piece> inPlacePlan(GemmCall call, long extA, long extB, long extC) {
    if (inPlaceMaxFlops <= 0) {
      return null;
    }
    boolean f64 = call.dtype() == DType.FLOAT64;
    int k = call.k();
    Plan best = panels(call, 0, k, true);
    if (kSlabs && (best == null || best.pieces().size() > 1)) {
      Plan slabs = slabs(call, kBlock(f64));
      if (slabs != null && (best == null || slabs.repacked() < best.repacked()
          || (slabs.repacked() == best.repacked()
              && slabs.pieces().size() < best.pieces().size()))) {
        best = slabs;
      }
    }
    if (best == null) {
      return null;
    }
    if (best.repacked() > 0) {
      double copied = (double) k * (call.m() + call.n())
          + (double) call.m() * call.n() * (call.beta() != 0 ? 2 : 1);
      if (best.repacked() > repackMax * copied) {
        return null;
      }
    }
    return inside(call.a(), extA, f64) && inside(call.b(), extB, f64)
        && inside(call.c(), extC, f64) ? best.pieces() : null;
  }

  /**
   * The calls over k's {@code [k0, k0 + kLen)}: one when within the limit, else even panels
   * along the longer of m and n at most as long as the limit allows; null when those would be
   * thinner than {@code panelMin}.
   */
  private Plan panels(GemmCall call, int k0, int kLen, boolean first) {
    boolean f64 = call.dtype() == DType.FLOAT64;
    int m = call.m();
    int n = call.n();
    double flops = 2.0 * m * n * kLen * (f64 ? 2 : 1);
    if (flops <= inPlaceMaxFlops) {
      return new Plan(java.util.List.of(new Piece(true, 0, m, k0, kLen, first)), 0);
    }
    boolean rows = m >= n;
    int dim = rows ? m : n;
    long lines = (long) (inPlaceMaxFlops / (flops / dim));
    if (lines < panelMin) {
      return null;
    }
    // as many calls, of even width: the longest call is shorter
    long count = (dim + lines - 1) / lines;
    int even = (int) ((dim + count - 1) / count);
    java.util.List<Piece> out = new java.util.ArrayList<>();
    for (int start = 0; start < dim; start += even) {
      out.add(new Piece(rows, start, Math.min(even, dim - start), k0, kLen, first));
    }
    // every panel after the first packs the other operand's slab again
    return new Plan(out, (out.size() - 1.0) * kLen * (rows ? n : m));
  }

  /**
   * The calls of slabs of k that end where OpenBLAS's own k-blocks of {@code q} end (multiples
   * of q up to k - q; the last slab, q to 2q - 1 long, ends at k), as many blocks per slab as
   * the limit allows (at least one), each slab in panels where it is longer than the limit;
   * null without a known block, with alpha = 0 (nothing to add up) or k under 2q.
   */
  private Plan slabs(GemmCall call, int q) {
    int k = call.k();
    if (q <= 0 || call.alpha() == 0 || k < 2 * q || call.m() == 0 || call.n() == 0) {
      return null;
    }
    boolean f64 = call.dtype() == DType.FLOAT64;
    double perK = 2.0 * call.m() * call.n() * (f64 ? 2 : 1);
    long blocks = Math.max(1, (long) (inPlaceMaxFlops / perK) / q);
    long lastEnd = (long) ((k - q) / q) * q; // the last whole block's end before the tail
    java.util.List<Piece> out = new java.util.ArrayList<>();
    double repacked = 0;
    for (long s = 0; s < k; ) {
      long e;
      if ((k - s) * perK <= inPlaceMaxFlops) {
        e = k; // the rest fits one call
      } else {
        e = Math.min(s + blocks * q, lastEnd);
        if (e <= s) {
          // the tail, OpenBLAS's last block or two: split as it splits it, else in panels
          int rule = tailSplit(f64);
          e = k - s > q && rule > 0 ? s + tailHalf(rule, (int) (k - s)) : k;
        }
      }
      Plan p = panels(call, (int) s, (int) (e - s), s == 0);
      if (p == null) {
        return null;
      }
      for (Piece pc : p.pieces()) {
        // OpenBLAS runs each piece as it runs the whole call: on all its threads
        double mnk = (double) pc.len() * (pc.rows() ? call.n() : call.m()) * pc.kLen();
        if (mnk < threadedMnk()) {
          return null;
        }
      }
      out.addAll(p.pieces());
      repacked += p.repacked();
      s = e;
    }
    return new Plan(out, repacked);
  }

  /**
   * Runs the call on its Java arrays in place, one native call per piece of each item. Each
   * call is its own critical region: the JVM may collect garbage between them. Rows r of op(A)
   * start at r·lda (A not transposed) or r (transposed); columns j of op(B) at j (B not
   * transposed) or j·ldb; k's index p at column p of op(A) (p, or p·lda transposed) and row p
   * of op(B) (p·ldb, or p transposed).
   */
  private void gemmInPlace(GemmCall call, java.util.List<Piece> plan) {
    boolean f64 = call.dtype() == DType.FLOAT64;
    int ta = call.transA() ? 1 : 0;
    int tb = call.transB() ? 1 : 0;
    for (int i = 0; i < call.batch(); i++) {
      for (Piece pc : plan) {
        long oa = call.a().offset() + i * call.strideA();
        long ob = call.b().offset() + i * call.strideB();
        long oc = call.c().offset() + i * call.strideC();
        oa += call.transA() ? (long) pc.k0() * call.lda() : pc.k0();
        ob += call.transB() ? pc.k0() : (long) pc.k0() * call.ldb();
        int m = call.m();
        int n = call.n();
        if (pc.rows()) {
          oa += call.transA() ? pc.start() : (long) pc.start() * call.lda();
          oc += (long) pc.start() * call.ldc();
          m = pc.len();
        } else {
          ob += call.transB() ? (long) pc.start() * call.ldb() : pc.start();
          oc += pc.start();
          n = pc.len();
        }
        double beta = pc.first() ? call.beta() : 1;
        double flops = 2.0 * m * n * pc.kLen();
        boolean serial = flops > SERIAL_FLOPS;
        if (serial) {
          SERIAL.lock();
        }
        try {
          if (f64) {
            CpuBlasNative.gc_cpu_dgemm(ta, tb, m, n, pc.kLen(), call.alpha(),
                (double[]) call.a().storage(), oa, call.lda(),
                (double[]) call.b().storage(), ob, call.ldb(), beta,
                (double[]) call.c().storage(), oc, call.ldc());
          } else {
            CpuBlasNative.gc_cpu_sgemm(ta, tb, m, n, pc.kLen(),
                (float) call.alpha(), (float[]) call.a().storage(), oa, call.lda(),
                (float[]) call.b().storage(), ob, call.ldb(), (float) beta,
                (float[]) call.c().storage(), oc, call.ldc());
          }
        } finally {
          if (serial) {
            SERIAL.unlock();
          }
        }
        // fp64 counts twice, as in the limit
        region(flops * (f64 ? 2 : 1) / (IN_PLACE_GFLOPS_PER_THREAD * 1e9 * threads));
        inPlaceCalls.increment();
      }
      inPlaceItems.increment();
    }
  }

  /**
   * OpenBLAS's k-block (GEMM_Q) for this element type, 0 when unknown: GEMMs split into slabs
   * of k that end where its k-blocks end give the same C bit for bit as one call (OpenBLAS adds
   * each block's alpha-scaled product to C in turn), so items too long for one critical region
   * can run in place in slabs, with no repacking. Found once per process, when first needed,
   * from GEMMs each large enough to run on all of OpenBLAS's threads as the slabs do
   * ({@link #threadedMnk()}): the first split point, a multiple of 32 from 64 to 1024, at which
   * two calls give one call's C exactly; then a whole slab schedule (slabs of two blocks, the
   * tail of one and a half) checked against one call, both operands plain and transposed.
   */
  static int kBlock(boolean f64) {
    return blocking(f64)[0];
  }

  /**
   * Where OpenBLAS splits a last stretch of k between one and two blocks long, L: 1 at
   * (L + 1) / 2 (its threaded driver), u > 1 at L / 2 rounded up to a multiple of u (its
   * single-threaded driver, u its kernel's unroll), 0 unknown (such tails then run in panels).
   */
  static int tailSplit(boolean f64) {
    return blocking(f64)[1];
  }

  /** Where {@link #tailSplit} splits a tail of length {@code len}. */
  static int tailHalf(int rule, int len) {
    return rule == 1 ? (len + 1) / 2 : (len / 2 + rule - 1) / rule * rule;
  }

  /**
   * The probe's answers per element type and OpenBLAS driver (threaded or not: OpenBLAS's
   * thread count is process-wide, and its two drivers split tails differently).
   */
  private static final java.util.concurrent.ConcurrentHashMap<Integer, int[]> BLOCKING =
      new java.util.concurrent.ConcurrentHashMap<>();

  private static int[] blocking(boolean f64) {
    boolean threaded =
        org.bytedeco.openblas.global.openblas_nolapack.blas_get_num_threads() > 1;
    return BLOCKING.computeIfAbsent((f64 ? 2 : 0) + (threaded ? 1 : 0),
        key -> probeKBlock(f64));
  }

  /** The k-block and the tail's split ({@link #tailSplit}); {0, 0}: unknown. */
  static int[] probeKBlock(boolean f64) {
    try {
      if (!criticalAvailable()) {
        return new int[2];
      }
      SplittableRandom r = new SplittableRandom(20261206L);
      int q = 0;
      for (int c = 64; c <= 1024 && q == 0; c += 32) {
        int side = probeSide(c);
        if (sameSplit(f64, r, side, side + 8, 3 * c, new int[] {0, c, 3 * c}, false)) {
          q = c;
        }
      }
      if (q == 0) {
        return new int[2];
      }
      // the tail 1.5 q + 2: its half, 0.75 q + 1, is odd and rounds up differently for every
      // unroll (q is a multiple of 32)
      int k = 5 * q + q / 2 + 2;
      int side = probeSide(q);
      int[] ends = {0, 2 * q, 4 * q, k};
      if (!sameSplit(f64, r, side + 8, side, k, ends, false)
          || !sameSplit(f64, r, side, side + 8, k, ends, true)) {
        return new int[2];
      }
      for (int rule : new int[] {1, 2, 4, 8, 16, 24, 32, 48, 64}) {
        int half = 4 * q + tailHalf(rule, k - 4 * q);
        int[] halves = {0, 2 * q, 4 * q, half, k};
        if (half > 4 * q && half < k && sameSplit(f64, r, side + 8, side, k, halves, false)
            && sameSplit(f64, r, side, side + 8, k, halves, true)) {
          return new int[] {q, rule};
        }
      }
      return new int[] {q, 0};
    } catch (RuntimeException | LinkageError e) {
      return new int[2];
    }
  }

  /**
   * The fewest multiply-adds (m·n·k) of a call that OpenBLAS runs on all its threads, and not
   * on its small-matrix kernels: its multi-threading threshold (65536·4 per thread), with a
   * margin, on as many threads as this machine has.
   */
  static double threadedMnk() {
    int t = Math.max(Runtime.getRuntime().availableProcessors(),
        org.bytedeco.openblas.global.openblas_nolapack.blas_get_num_threads());
    return Math.max(Math.max(1, t) * 65536.0 * 4, 1e6) * 1.25;
  }

  /** m of the probe's GEMMs with k-slabs of c: every call past {@link #threadedMnk()}. */
  private static int probeSide(int c) {
    return Math.max(40, (int) Math.ceil(Math.sqrt(threadedMnk() / c) / 8) * 8);
  }

  /** Whether C = alpha·A·B + beta·C in slabs of k between {@code ends} equals one call's C. */
  private static boolean sameSplit(boolean f64, SplittableRandom r, int m, int n, int k,
      int[] ends, boolean trans) {
    int t = trans ? 1 : 0;
    int lda = trans ? m : k;
    int ldb = trans ? k : n;
    double alpha = 0.7;
    double beta = 0.5;
    ProbeGemm gemm;
    java.util.function.BooleanSupplier same;
    if (f64) {
      double[] a = fill(r, new double[m * k]);
      double[] b = fill(r, new double[k * n]);
      double[] c = fill(r, new double[m * n]);
      double[] one = c.clone();
      gemm = (whole, kk, aOff, bOff, bt) -> CpuBlasNative.gc_cpu_dgemm(t, t, m, n, kk, alpha, a,
          aOff, lda, b, bOff, ldb, bt, whole ? one : c, 0, n);
      same = () -> java.util.Arrays.equals(one, c);
    } else {
      float[] a = fill(r, new float[m * k]);
      float[] b = fill(r, new float[k * n]);
      float[] c = fill(r, new float[m * n]);
      float[] one = c.clone();
      gemm = (whole, kk, aOff, bOff, bt) -> CpuBlasNative.gc_cpu_sgemm(t, t, m, n, kk,
          (float) alpha, a, aOff, lda, b, bOff, ldb, (float) bt, whole ? one : c, 0, n);
      same = () -> java.util.Arrays.equals(one, c);
    }
    gemm.run(true, k, 0, 0, beta);
    for (int i = 0; i + 1 < ends.length; i++) {
      int k0 = ends[i];
      gemm.run(false, ends[i + 1] - k0, trans ? (long) k0 * lda : k0,
          trans ? k0 : (long) k0 * ldb, i == 0 ? beta : 1);
    }
    return same.getAsBoolean();
  }

  /**
   * One GEMM of {@link #sameSplit}: over {@code k} of the inner dimension from the offsets,
   * into the one-call copy of C when {@code whole}, else into the C built in slabs.
   */
  private interface ProbeGemm {
    void run(boolean whole, int k, long aOff, long bOff, double beta);
  }

  private static float[] fill(SplittableRandom r, float[] x) {
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextDouble(-1, 1);
    }
    return x;
  }

  private static double[] fill(SplittableRandom r, double[] x) {
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextDouble(-1, 1);
    }
    return x;
  }

  private static boolean inside(Operand o, long extent, boolean f64) {
    Object s = o.storage();
    long length = f64 ? (s instanceof double[] d ? d.length : -1)
        : (s instanceof float[] f ? f.length : -1);
    if (length < 0) {
      return false;
    }
    if (o.offset() < 0 || o.offset() + extent > length) {
      throw new IllegalStateException("operand extent " + o.offset() + "+" + extent
          + " past its array of " + length + " (the call was not checked)");
    }
    return true;
  }

  /**
   * Whether OpenBLAS can take this operand's Java array itself: small, and the whole array.
   * JNI hands native code a copy of a Java array and writes all of it back afterwards, so a
   * call on part of an array would overwrite the rest with what it held at the start, under
   * another thread writing elsewhere in the same array (as two halves of one C).
   */
  private static boolean direct(Operand o, long extent) {
    Object s = o.storage();
    long length = s instanceof float[] f ? f.length : s instanceof double[] d ? d.length : -1;
    return o.offset() == 0 && extent == length && extent <= DIRECT_MAX;
  }

  private static long extent(long span, long stride, int batch) {
    return span == 0 ? 0 : stride * (batch - 1L) + span;
  }

  /**
   * An operand as OpenBLAS takes it: the Java array itself (offset 0, one GEMM), or a pointer
   * (a host array's memory, or an off-heap copy of a Java array's extent).
   */
  private static final class Buf implements AutoCloseable {
    float[] f;
    double[] d;
    Pointer base;
    Pointer owned;
    Operand src;
    long extent;
    boolean out;
    /** Whether the Java array's extent is copied to {@link #owned} before the call. */
    boolean copyIn;

    CpuBlas owner;

    static Buf of(CpuBlas owner, Operand o, long extent, boolean f64, boolean out,
        boolean single, boolean copyIn) {
      Buf b = new Buf();
      b.owner = owner;
      boolean small = extent <= DIRECT_MAX;
      b.src = o;
      b.extent = extent;
      b.out = out;
      Object s = o.storage();
      if (s instanceof HostArray h) {
        b.base = at(h.address() + o.offset() * (f64 ? 8 : 4));
      } else if (o.offset() == 0 && single && small && s instanceof float[] fa) {
        b.f = fa;
      } else if (o.offset() == 0 && single && small && s instanceof double[] da) {
        b.d = da;
      } else {
        Pointer p = owner.takeScratch(Math.max(1, extent) * (f64 ? 8 : 4));
        b.owned = p;
        b.base = p;
        b.copyIn = copyIn && extent > 0;
      }
      return b;
    }

    /** The Java array's extent and its off-heap copy. */
    Segment segment() {
      return new Segment(src.storage(), src.offset(), owned.address(), extent);
    }

    FloatPointer fp(long off) {
      return new FloatPointer(at(base.address() + off * 4));
    }

    DoublePointer dp(long off) {
      return new DoublePointer(at(base.address() + off * 8));
    }

    @Override
    public void close() {
      if (owned != null) {
        owner.giveScratch(owned);
      }
    }
  }

  static Pointer at(long addr) {
    return new Pointer() {
      {
        this.address = addr;
      }
    };
  }

  /** C = beta*C for every batch item, without reading C when beta = 0 (BLAS semantics). */
  private static void scale(GemmCall call) {
    Object s = call.c().storage();
    for (int bi = 0; bi < call.batch(); bi++) {
      long base = call.c().offset() + bi * call.strideC();
      for (int i = 0; i < call.m(); i++) {
        long row = base + (long) i * call.ldc();
        for (int j = 0; j < call.n(); j++) {
          long idx = row + j;
          if (s instanceof float[] f) {
            f[(int) idx] = call.beta() == 0 ? 0f : (float) (call.beta() * f[(int) idx]);
          } else if (s instanceof double[] d) {
            d[(int) idx] = call.beta() == 0 ? 0 : call.beta() * d[(int) idx];
          } else {
            HostArray h = (HostArray) s;
            h.setDouble(idx, call.beta() == 0 ? 0 : call.beta() * h.getDouble(idx));
          }
        }
      }
    }
  }
}
