package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Layout;
import dev.gpucore.blas.BatchedGemm;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.NativeMemory;
import dev.gpucore.testkit.GemmBatchedContract;
import dev.gpucore.testkit.GemmShape;
import dev.gpucore.testkit.GpuTests;
import dev.gpucore.testkit.RequiresGpu;
import dev.gpucore.testkit.SoakCases;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The batched GEMM contract on a core with a GPU, host GEMMs routed to the GPU (1 MiB panels),
 * so that every host item runs through the GPU's host-operand pipeline; and pointer-array
 * batched GEMM ({@code Blas.gemmBatched}) on device operands against a float64 reference (the
 * bounds of {@link GemmGpuTest}): fp32 (FP32, TF32), fp64, bf16 and fp16 device arrays with a
 * FLOAT32 (or 16-bit) C; items each in DeviceArrays of their own, at offsets in shared arrays
 * (A and B items may repeat a location), or both; 16-byte aligned operands (one cuBLAS call)
 * and unaligned ones (queued item by item); on a user stream and synchronous; batches of 1, 7,
 * 1000 and 70,000. Everything of the C arrays outside the items' matrices must be left as it
 * was. The same batches prepared once ({@code Blas.prepareBatched}) and run (twice where beta is
 * 0), queued behind other work and from two threads, refused with a closed operand.
 */
@RequiresGpu(config = {"gpucore.gemm.route=gpu", "gpucore.gemm.panelMiB=1"})
class GemmBatchedGpuTest extends GemmBatchedContract {
  private final List<AutoCloseable> res = new ArrayList<>();

  @AfterEach
  void release() throws Exception {
    Collections.reverse(res);
    for (AutoCloseable c : res) {
      c.close();
    }
    res.clear();
  }

  /**
   * Where the items are: arrays of their own, shuffled slots of one array, alternately, or
   * equally spaced in one array (item i at slot i, every B at slot 0: one strided call), or
   * packed one after another with no gap (items at unaligned addresses: one strided call).
   */
  enum Place { OWN_ARRAYS, SHARED_ARRAYS, MIXED, EVEN, PACKED }

  /** A batch: storage types, precision, shape, options, placement of the items. */
  record Case(DType t, DType ct, Precision p, Layout layout, boolean ta, boolean tb, int m, int n,
      int k, int pad, int count, Place place, boolean stream, boolean aligned, double alpha,
      double beta) implements GemmShape {
    int ld(int rows, int cols) {
      return Math.max(1, layout == Layout.ROW_MAJOR ? cols : rows) + pad;
    }

    long span(int rows, int cols) {
      return SoakCases.span(layout, rows, cols, ld(rows, cols));
    }

    long index(long off, int rows, int cols, int i, int j) {
      return SoakCases.at(layout, off, ld(rows, cols), i, j);
    }

    Gemm gemm() {
      return Gemm.of(m, n, k).layout(layout).transA(ta).transB(tb).scale(alpha, beta)
          .precision(p);
    }
  }

  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    Object[][] types = {
      {DType.FLOAT32, DType.FLOAT32, Precision.FP32},
      {DType.FLOAT32, DType.FLOAT32, Precision.TF32},
      {DType.FLOAT64, DType.FLOAT64, Precision.FP64},
      {DType.BFLOAT16, DType.FLOAT32, Precision.BF16},
      {DType.FLOAT16, DType.FLOAT32, Precision.FP16},
    };
    int[][] shapes = {{33, 17, 65}, {13, 9, 21}, {8, 5, 12}};
    int[] counts = {1, 7, 1000};
    int i = 0;
    for (int s = 0; s < counts.length; s++) {
      for (Object[] ty : types) {
        Layout l = i % 2 == 0 ? Layout.ROW_MAJOR : Layout.COLUMN_MAJOR;
        boolean ta = (i / 2) % 2 == 1;
        boolean tb = (i / 4) % 2 == 1;
        Place place = Place.values()[i % 3];
        boolean stream = (i / 3) % 2 == 0;
        boolean aligned = i % 4 != 3;
        double beta = i % 3 == 1 ? 0 : -0.5;
        out.add(Arguments.of(new Case((DType) ty[0], (DType) ty[1], (Precision) ty[2], l, ta, tb,
            shapes[s][0], shapes[s][1], shapes[s][2], i % 3, counts[s], place, stream, aligned,
            1.5, beta)));
        i++;
      }
    }
    // a 16-bit C, and the scale-only forms (k = 0, alpha = 0), a 16-bit C with beta != 0 too
    out.add(Arguments.of(new Case(DType.FLOAT16, DType.FLOAT16, Precision.FP16, Layout.ROW_MAJOR,
        false, true, 19, 11, 40, 1, 7, Place.MIXED, true, true, 1, 0.5)));
    out.add(Arguments.of(new Case(DType.FLOAT32, DType.FLOAT32, Precision.FP32,
        Layout.COLUMN_MAJOR, false, false, 6, 5, 0, 1, 7, Place.SHARED_ARRAYS, true, true, 1,
        -2)));
    out.add(Arguments.of(new Case(DType.FLOAT64, DType.FLOAT64, Precision.FP64, Layout.ROW_MAJOR,
        true, false, 6, 5, 4, 0, 7, Place.MIXED, false, false, 0, 0)));
    out.add(Arguments.of(new Case(DType.BFLOAT16, DType.BFLOAT16, Precision.BF16,
        Layout.ROW_MAJOR, false, false, 6, 5, 3, 2, 7, Place.OWN_ARRAYS, false, true, 0, 0.5)));
    // equally spaced items, aligned or not, every storage type, one item and many
    int e = 0;
    for (Object[] ty : types) {
      for (int count : new int[] {1, 9, 1000}) {
        Layout l = e % 2 == 0 ? Layout.ROW_MAJOR : Layout.COLUMN_MAJOR;
        out.add(Arguments.of(new Case((DType) ty[0], (DType) ty[1], (Precision) ty[2], l,
            e % 4 == 1, e % 3 == 2, 11 + e, 7, 19 - e % 5, e % 3, count, Place.EVEN,
            e % 2 == 1, e % 5 != 4, 1.25, e % 3 == 0 ? 0 : 0.75)));
        e++;
      }
    }
    out.add(Arguments.of(new Case(DType.FLOAT32, DType.FLOAT32, Precision.FP32, Layout.ROW_MAJOR,
        false, true, 11, 7, 13, 0, 1000, Place.PACKED, true, true, 1, 0.5)));
    out.add(Arguments.of(new Case(DType.BFLOAT16, DType.FLOAT32, Precision.BF16,
        Layout.COLUMN_MAJOR, true, false, 5, 9, 7, 1, 33, Place.PACKED, false, false, 2, 0)));
    return out.stream();
  }

  @ParameterizedTest
  @MethodSource("cases")
  void matchesFloat64Reference(Case c) {
    Batch b = new Batch(c, new SplittableRandom(SEED ^ c.hashCode()));
    if (c.stream()) {
      try (GpuStream s = core.stream(0)) {
        b.run(s);
        s.synchronize();
      }
    } else {
      b.run(null);
    }
    b.verify();
  }

  @ParameterizedTest
  @MethodSource("cases")
  void preparedMatchesFloat64Reference(Case c) {
    // prepareBatched: one device allocation (the pointer arrays) where the batch is one
    // pointer-array call (aligned, a product to compute), none where it runs item by item or
    // is one strided call (equally spaced items); run twice where beta = 0 (the same C again);
    // released on close
    Batch b = new Batch(c, new SplittableRandom(SEED ^ c.hashCode()));
    long before = NativeMemory.liveCount(NativeMemory.Kind.DEVICE);
    // arrays of their own may happen to lie equally spaced: the addresses decide
    boolean strided = b.equallySpaced();
    if (c.place() == Place.EVEN || c.place() == Place.PACKED || c.count() == 1) {
      assertTrue(strided, "items at equal steps, or one item, are one strided call");
    }
    boolean oneCall = c.aligned() && c.k() > 0 && c.alpha() != 0 && !strided;
    try (BatchedGemm p = b.prepare(); GpuStream s = c.stream() ? core.stream(0) : null) {
      assertEquals(before + (oneCall ? 1 : 0), NativeMemory.liveCount(NativeMemory.Kind.DEVICE),
          "device allocations of the prepared batch");
      int runs = c.beta() == 0 ? 2 : 1;
      for (int r = 0; r < runs; r++) {
        p.run(s);
      }
      if (s != null) {
        s.synchronize();
      }
    }
    assertEquals(before, NativeMemory.liveCount(NativeMemory.Kind.DEVICE),
        "the prepared batch's device memory released on close");
    b.verify();
  }

  @Test
  void seventyThousandTinyItemsInOneCall() {
    // more items than a grid's y or z dimension holds (65,535)
    Case c = new Case(DType.FLOAT32, DType.FLOAT32, Precision.FP32, Layout.ROW_MAJOR, false,
        true, 2, 3, 2, 0, 70_000, Place.SHARED_ARRAYS, true, true, 1, 0.25);
    Batch b = new Batch(c, new SplittableRandom(SEED));
    try (GpuStream s = core.stream(0)) {
      b.run(s);
      s.synchronize();
    }
    b.verify();
  }

  @Test
  void seventyThousandTinyItemsPrepared() {
    Case c = new Case(DType.FLOAT32, DType.FLOAT32, Precision.FP32, Layout.COLUMN_MAJOR, true,
        false, 3, 2, 2, 0, 70_000, Place.SHARED_ARRAYS, true, true, 1, 0);
    Batch b = new Batch(c, new SplittableRandom(SEED + 5));
    try (BatchedGemm p = b.prepare(); GpuStream s = core.stream(0)) {
      p.run(s);
      p.run(s);
      s.synchronize();
    }
    b.verify();
  }

  /** Queues y = x·x on {@code s}, x big×big of ones: long enough for work queued behind it. */
  private void queueLargeGemm(GpuStream s, DeviceArray x, DeviceArray y, int big) {
    x.fill(1);
    core.blas().gemm(Gemm.of(big, big, big), Operand.of(x), big, Operand.of(x), big,
        Operand.of(y), big, s);
  }

  /** The large GEMM's result is there (each element the sum of big ones). */
  private static void assertLargeGemmRan(DeviceArray y, int big) {
    float[] corner = new float[1];
    y.copyTo(0, corner, 0, 1);
    assertEquals(big, corner[0], "the large GEMM queued first");
  }

  @Test
  void queuedBehindOtherWorkOnAUserStream() {
    // two batches queued back to back on a stream kept busy by a large GEMM: their pointer
    // arrays must live until their own call has run, whatever the host does meanwhile
    Case c1 = new Case(DType.FLOAT32, DType.FLOAT32, Precision.FP32, Layout.ROW_MAJOR, true,
        false, 16, 24, 40, 1, 7, Place.MIXED, true, true, 1, -1);
    Case c2 = new Case(DType.FLOAT64, DType.FLOAT64, Precision.FP64, Layout.COLUMN_MAJOR, false,
        true, 9, 7, 11, 0, 1000, Place.SHARED_ARRAYS, true, true, 0.5, 0);
    Batch b1 = new Batch(c1, new SplittableRandom(SEED + 1));
    Batch b2 = new Batch(c2, new SplittableRandom(SEED + 2));
    int big = GpuTests.SANITIZER ? 256 : 2048;
    try (GpuStream s = core.stream(0);
        DeviceArray x = core.allocate(0, DType.FLOAT32, (long) big * big);
        DeviceArray y = core.allocate(0, DType.FLOAT32, (long) big * big)) {
      queueLargeGemm(s, x, y, big);
      b1.run(s);
      b2.run(s);
      System.gc(); // nothing the calls left on the Java side may matter now
      s.synchronize();
      assertLargeGemmRan(y, big);
    }
    b1.verify();
    b2.verify();
  }

  @Test
  void preparedBatchesQueuedBehindOtherWorkOnAUserStream() {
    // prepared batches queued back to back behind a large GEMM on a stream, then run from
    // another thread (no stream) and again on the stream: each reads its own pointer arrays.
    // Runs of one batch write the same C, so they follow one another (BatchedGemm's contract)
    Case c1 = new Case(DType.FLOAT32, DType.FLOAT32, Precision.FP32, Layout.ROW_MAJOR, true,
        false, 16, 24, 40, 1, 7, Place.MIXED, true, true, 1, 0);
    Case c2 = new Case(DType.FLOAT64, DType.FLOAT64, Precision.FP64, Layout.COLUMN_MAJOR, false,
        true, 9, 7, 11, 0, 1000, Place.SHARED_ARRAYS, true, true, 0.5, 0);
    Batch b1 = new Batch(c1, new SplittableRandom(SEED + 6));
    Batch b2 = new Batch(c2, new SplittableRandom(SEED + 7));
    int big = GpuTests.SANITIZER ? 256 : 2048;
    try (GpuStream s = core.stream(0);
        DeviceArray x = core.allocate(0, DType.FLOAT32, (long) big * big);
        DeviceArray y = core.allocate(0, DType.FLOAT32, (long) big * big);
        BatchedGemm p1 = b1.prepare();
        BatchedGemm p2 = b2.prepare()) {
      queueLargeGemm(s, x, y, big);
      p1.run(s);
      p2.run(s);
      s.synchronize();
      Thread other = new Thread(() -> {
        p1.run();
        p2.run();
      });
      other.start();
      try {
        other.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
      p2.run(s);
      s.synchronize();
      assertLargeGemmRan(y, big);
    }
    b1.verify();
    b2.verify();
  }

  @Test
  void aPreparedBatchRefusesAClosedSharedArrayAndWritesNothing() {
    // every A a view into one shared array: that array closed after the
    // preparation is found (one check for every item in it) before anything is queued
    Case c = new Case(DType.FLOAT32, DType.FLOAT32, Precision.FP32, Layout.ROW_MAJOR, false,
        false, 8, 8, 8, 0, 1000, Place.SHARED_ARRAYS, true, true, 1, -0.5);
    Batch b = new Batch(c, new SplittableRandom(SEED + 8));
    double[][] before = new double[b.cStores.size()][];
    for (int i = 0; i < before.length; i++) {
      before[i] = read(b.cStores.get(i).d);
    }
    try (BatchedGemm p = b.prepare()) {
      b.a[0].s().d.close();
      GpuCoreException.InvalidArgument e = assertThrows(GpuCoreException.InvalidArgument.class,
          p::run);
      assertTrue(e.getMessage().startsWith("a[0] is closed: its DeviceArray was closed after "
          + "prepareBatched"), e.getMessage());
    }
    for (int i = 0; i < before.length; i++) {
      assertArrayEquals(rawBits(before[i]),
          rawBits(read(b.cStores.get(i).d)), "C written by a refused run");
    }
  }

  /**
   * A batch of n×n×n products (n = 4, leading dimensions n) into {@code cs} is rejected, the
   * message starting with ({@code atStart}) or containing {@code why}.
   */
  private void rejectsC(Gemm g, Operand[] as, Operand[] bs, Operand[] cs, String why,
      boolean atStart) {
    int n = 4;
    GpuCoreException.InvalidArgument e = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> core.blas().gemmBatched(g, as, n, bs, n, cs, n));
    String m = e.getMessage();
    assertTrue(atStart ? m.startsWith(why) : m.contains(why), m);
  }

  @Test
  void badDeviceBatchIsRejectedAndLeavesCUntouched() {
    int n = 4;
    try (DeviceArray a = core.allocate(0, DType.FLOAT32, 64);
        DeviceArray b = core.allocate(0, DType.FLOAT32, 64);
        DeviceArray c = core.allocate(0, DType.FLOAT32, 64);
        DeviceArray d = core.allocate(0, DType.FLOAT64, 64)) {
      c.fill(7);
      Gemm g = Gemm.of(n, n, n);
      Operand[] as = {Operand.of(a), Operand.of(a, 16), Operand.of(a, 32)};
      Operand[] bs = {Operand.of(b), Operand.of(b, 16), Operand.of(b, 32)};
      rejectsC(g, as, bs, new Operand[] {Operand.of(c, 32), Operand.of(c), Operand.of(c, 40)},
          "c[0] (offset 32) and c[2] (offset 40) overlap", false);
      rejectsC(g, as, bs, new Operand[] {Operand.of(c), Operand.of(a, 48), Operand.of(c, 32)},
          "c[1] must not share storage with a[1] or b[1]", true);
      rejectsC(g, as, bs, new Operand[] {Operand.of(c), Operand.of(c, 16), Operand.of(d)},
          "item 2: a, b and c must have one element type", true);
      rejectsC(g, as, bs, new Operand[] {Operand.of(c), Operand.of(c, 16), Operand.of(c, 49)},
          "c[2] holds 64 elements but the call needs 65", true);
      float[] out = new float[64];
      c.copyTo(out);
      for (float v : out) {
        assertEquals(7f, v, "C written by a rejected call");
      }
    }
  }

  @Test
  void timingOneBatchedCallAgainstALoopOfGemms() {
    // performance is reported, never asserted
    int count = 1000;
    Case c = new Case(DType.FLOAT32, DType.FLOAT32, Precision.FP32, Layout.ROW_MAJOR, false,
        false, 32, 32, 32, 0, count, Place.SHARED_ARRAYS, true, true, 1, 0);
    Batch b = new Batch(c, new SplittableRandom(SEED + 3));
    int reps = GpuTests.SANITIZER ? 1 : 20;
    try (GpuStream s = core.stream(0)) {
      Runnable batched = () -> b.run(s);
      Runnable loop = () -> {
        for (int i = 0; i < count; i++) {
          core.blas().gemm(c.gemm(), b.oa[i], b.lda, b.ob[i], b.ldb, b.oc[i], b.ldc, s);
        }
      };
      double tb = time(batched, s, reps);
      double tl = time(loop, s, reps);
      double tp;
      try (BatchedGemm p = b.prepare()) {
        tp = time(() -> p.run(s), s, reps);
      }
      System.out.printf("gemmBatched timing: %d items of 32x32x32 fp32 (device arrays, offsets in "
          + "shared arrays, 16-byte aligned), on one stream, mean of %d, synchronized: one "
          + "gemmBatched %.1f us, a loop of %d gemm calls %.1f us (%.1fx), one run of the "
          + "prepared batch %.1f us%n", count, reps, tb, count, tl, tl / tb, tp);
      b.run(s); // C = A·B again (beta = 0): the results of the batched form are checked
      s.synchronize();
    }
    b.verify();
  }

  private static double time(Runnable r, GpuStream s, int reps) {
    r.run(); // warm-up: handles, plans, pool memory
    s.synchronize();
    long t0 = System.nanoTime();
    for (int i = 0; i < reps; i++) {
      r.run();
      s.synchronize();
    }
    return (System.nanoTime() - t0) / 1e3 / reps;
  }

  // ---------------------------------------------------------------- the batch under test

  /** A device array and what it held before the call. */
  final class Store {
    final DeviceArray d;
    final double[] before;

    Store(DType t, long len, SplittableRandom r, boolean nan) {
      double[] x = new double[(int) len];
      for (int i = 0; i < x.length; i++) {
        x[i] = nan ? Double.NaN : r.nextDouble() * 2 - 1;
      }
      d = core.allocate(0, t, Math.max(1, len));
      res.add(d);
      if (t == DType.FLOAT64) {
        d.copyFrom(x);
      } else {
        d.copyFrom(GemmGpuTest.toF(x));
      }
      before = read(d); // what the GPU holds: inputs rounded to the storage type
    }
  }

  static double[] read(DeviceArray d) {
    return GpuTests.download(d, (int) d.length());
  }

  /** Where one operand of one item is. */
  record At(Store s, long off) {}

  /** The items of a case, placed in device memory, with the reference computed up front. */
  final class Batch {
    final Case c;
    final int lda;
    final int ldb;
    final int ldc;
    final At[] a;
    final At[] b;
    final At[] cc;
    final Operand[] oa;
    final Operand[] ob;
    final Operand[] oc;
    final List<Store> cStores = new ArrayList<>();
    final double[][] ref;

    Batch(Case c, SplittableRandom r) {
      this.c = c;
      lda = c.ld(c.aRows(), c.aCols());
      ldb = c.ld(c.bRows(), c.bCols());
      ldc = c.ld(c.m(), c.n());
      a = place(c.t(), c.span(c.aRows(), c.aCols()), r, false, false, null);
      b = place(c.t(), c.span(c.bRows(), c.bCols()), r, false, true, null);
      cc = place(c.ct(), c.span(c.m(), c.n()), r, true, false, cStores);
      oa = operands(a);
      ob = operands(b);
      oc = operands(cc);
      ref = new double[c.count()][];
      for (int item = 0; item < c.count(); item++) {
        ref[item] = reference(c, c.alpha(), c.beta(), before(a[item], c.aRows(), c.aCols()),
            before(b[item], c.bRows(), c.bCols()), before(cc[item], c.m(), c.n()));
      }
    }

    /** A rows×cols operand as it was before the call. */
    Matrix before(At at, int rows, int cols) {
      return (i, j) -> at.s().before[(int) c.index(at.off(), rows, cols, i, j)];
    }

    /**
     * Places {@code count} operands of {@code span} elements: in arrays of their own, at
     * offsets in one shared array (outputs in shuffled order and never overlapping; inputs at
     * random slots, repeats allowed), or alternately; or item i at slot i of one array ({@code
     * atZero}: every item at slot 0). Aligned offsets are multiples of 16 bytes; unaligned ones
     * are one element past that.
     */
    At[] place(DType t, long span, SplittableRandom r, boolean output, boolean atZero,
        List<Store> stores) {
      int count = c.count();
      int unit = Math.max(1, 16 / t.bytes());
      int skew = c.aligned() ? 0 : 1;
      boolean nan = output && c.beta() == 0; // beta = 0 must not read C
      At[] out = new At[count];
      long slot = (span + skew + 2 + unit - 1) / unit * unit;
      int shared = 0;
      for (int i = 0; i < count; i++) {
        if (sharedItem(i)) {
          shared++;
        }
      }
      Store pool = shared == 0 ? null : new Store(t, slot * shared + 1, r, nan);
      if (pool != null && stores != null) {
        stores.add(pool);
      }
      List<Integer> slots = new ArrayList<>();
      for (int i = 0; i < shared; i++) {
        slots.add(i);
      }
      Collections.shuffle(slots, new java.util.Random(r.nextLong()));
      int next = 0;
      for (int i = 0; i < count; i++) {
        if (c.place() == Place.EVEN) {
          out[i] = new At(pool, (atZero ? 0 : i) * slot + skew);
        } else if (c.place() == Place.PACKED) {
          out[i] = new At(pool, i * span + skew);
        } else if (sharedItem(i)) {
          int sl = output ? slots.get(next++) : r.nextInt(shared);
          out[i] = new At(pool, sl * slot + skew);
        } else {
          Store own = new Store(t, span + skew + 1, r, nan);
          if (stores != null) {
            stores.add(own);
          }
          out[i] = new At(own, skew);
        }
      }
      return out;
    }

    boolean sharedItem(int i) {
      return c.place() == Place.SHARED_ARRAYS || c.place() == Place.EVEN
          || c.place() == Place.PACKED || (c.place() == Place.MIXED && i % 2 == 1);
    }

    Operand[] operands(At[] at) {
      Operand[] o = new Operand[at.length];
      for (int i = 0; i < at.length; i++) {
        o[i] = Operand.of(at[i].s().d, at[i].off());
      }
      return o;
    }

    /** Whether the items' B, A and C addresses are each equally spaced (C a span apart). */
    boolean equallySpaced() {
      int n = c.count();
      int eb = c.t().bytes();
      long[] ptrs = new long[3 * n];
      for (int i = 0; i < n; i++) {
        ptrs[i] = CudaBlas.addr(ob[i], eb);
        ptrs[n + i] = CudaBlas.addr(oa[i], eb);
        ptrs[2 * n + i] = CudaBlas.addr(oc[i], c.ct().bytes());
      }
      return CudaBlas.evenStrides(ptrs, n, eb, c.ct().bytes(), c.span(c.m(), c.n())) != null;
    }

    void run(GpuStream s) {
      core.blas().gemmBatched(c.gemm(), oa, lda, ob, ldb, oc, ldc, s);
    }

    BatchedGemm prepare() {
      return core.blas().prepareBatched(c.gemm(), oa, lda, ob, ldb, oc, ldc);
    }

    /** Every item against the reference; everything else of the C arrays unchanged. */
    void verify() {
      String ctx = c + " (seed " + SEED + ")";
      // GemmGpuTest's bound holds for the batch as a whole (all items' elements together, as
      // one large C would); a single small item under TF32, whose error is the rounding of a
      // few inputs, gets 4 times that
      double bound = c.t().isHalf() && c.ct() == DType.FLOAT32
          ? 1e-5 * Math.sqrt(Math.max(1, c.k())) // exact products, fp32 accumulation
          : GemmGpuTest.bound(c.p(), c.k());
      double itemBound = c.p() == Precision.TF32 ? 4 * bound : bound;
      Map<Store, double[]> after = new IdentityHashMap<>();
      Map<Store, List<Placement>> items = new IdentityHashMap<>();
      for (Store s : cStores) {
        after.put(s, read(s.d));
        items.put(s, new ArrayList<>());
      }
      Matrix[] got = new Matrix[c.count()];
      for (int item = 0; item < c.count(); item++) {
        At at = cc[item];
        double[] g = after.get(at.s());
        Placement p = (i, j) -> c.index(at.off(), c.m(), c.n(), i, j);
        got[item] = (i, j) -> g[(int) p.index(i, j)];
        items.get(at.s()).add(p);
      }
      assertItemsMatch(c, ref, got, bound, itemBound, ctx);
      for (Store s : cStores) {
        assertOutsideUnchanged(c, rawBits(s.before), rawBits(after.get(s)), items.get(s), ctx);
      }
    }
  }
}
