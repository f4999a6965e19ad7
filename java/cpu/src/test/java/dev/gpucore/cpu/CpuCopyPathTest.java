package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.spi.GemmCall;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

/**
 * The copying path of the CPU GEMM, for calls past the in-place limit: Java arrays copied to
 * off-heap memory in critical regions each estimated within {@code gpucore.cpu.inPlaceMaxMs}
 * (or through JNI's array region calls where there are none), one copy for all operands split
 * over the threads, streaming stores for large copies, C copied in only when OpenBLAS reads it.
 * Results against float64 on fresh random data (C poisoned with NaN where beta = 0), at odd
 * sizes, offsets, transposes, padded rows, batches and beta != 0, with every element around the
 * matrices left as it was; bit for bit the same C as OpenBLAS on the arrays in place; and no
 * critical region estimated over the limit.
 */
class CpuCopyPathTest {
  /**
   * In-place calls and copy regions of at most this many ms: 1e5 flops on 2 threads (every case
   * below is longer), 2000 bytes copied.
   */
  private static final double LIMIT_MS = 0.001;

  /** Copies every call past the limit (no panels), in critical regions when {@code critical}. */
  private static CpuBlas copying(boolean critical) {
    return new CpuBlas(2, critical, LIMIT_MS, Integer.MAX_VALUE, 0, false);
  }

  /** Runs every call in place: one critical region per item, however long. */
  private static CpuBlas inPlace() {
    return new CpuBlas(2, true, 1e6, Integer.MAX_VALUE, 0, false);
  }

  /** One GEMM case: C = alpha·op(A)·op(B) + beta·C on Java arrays, row-major, offsets, padding. */
  private record Case(boolean f64, int m, int n, int k, boolean ta, boolean tb, int pad,
      int offset, double beta, int batch) {
    int lda() {
      return (ta ? m : k) + pad;
    }

    int ldb() {
      return (tb ? k : n) + 2 * pad;
    }

    int ldc() {
      return n + pad;
    }

    long spanA() {
      return GemmCall.spanOf(ta ? k : m, ta ? m : k, lda());
    }

    long spanB() {
      return GemmCall.spanOf(tb ? n : k, tb ? k : n, ldb());
    }

    long spanC() {
      return GemmCall.spanOf(m, n, ldc());
    }

    /** Batch strides: each item's span and a few elements of gap. */
    long stride(long span) {
      return span + 3;
    }

    int length(long span) {
      return (int) (offset + stride(span) * batch + 5);
    }

    @Override
    public String toString() {
      return (f64 ? "fp64 " : "fp32 ") + m + "x" + n + "x" + k + (ta ? " A^T" : "")
          + (tb ? " B^T" : "") + " pad " + pad + " offset " + offset + " beta " + beta
          + " batch " + batch;
    }
  }

  /** Operands of a case as arrays of its type (values in float for both). */
  private record Arrays3(Object a, Object b, Object c, Object c0) {
    /** The same A, B and C as it was, writing into {@code c}. */
    Arrays3 into(Object c) {
      return new Arrays3(a, b, c, c0);
    }
  }

  /** Two double[] or two float[] equal element for element (bit for bit but for NaN's bits). */
  private static void assertSameArray(Object want, Object got, String what) {
    if (want instanceof double[] d) {
      assertArrayEquals(d, (double[]) got, what);
    } else {
      assertArrayEquals((float[]) want, (float[]) got, what);
    }
  }

  private static Object random(SplittableRandom r, boolean f64, int len) {
    if (f64) {
      double[] x = new double[len];
      for (int i = 0; i < len; i++) {
        x[i] = r.nextDouble(-1, 1);
      }
      return x;
    }
    float[] x = new float[len];
    for (int i = 0; i < len; i++) {
      x[i] = (float) r.nextDouble(-1, 1);
    }
    return x;
  }

  private static double get(Object x, long i) {
    return x instanceof double[] d ? d[(int) i] : ((float[]) x)[(int) i];
  }

  private static void set(Object x, long i, double v) {
    if (x instanceof double[] d) {
      d[(int) i] = v;
    } else {
      ((float[]) x)[(int) i] = (float) v;
    }
  }

  private static Object copyOf(Object x) {
    return x instanceof double[] d ? d.clone() : ((float[]) x).clone();
  }

  private static Operand operand(Object x, int offset) {
    return x instanceof double[] d ? Operand.of(d, offset) : Operand.of((float[]) x, offset);
  }

  /** Fresh operands; C's matrices are NaN when beta = 0 (never read). */
  private static Arrays3 operands(SplittableRandom r, Case t) {
    Object a = random(r, t.f64(), t.length(t.spanA()));
    Object b = random(r, t.f64(), t.length(t.spanB()));
    Object c = random(r, t.f64(), t.length(t.spanC()));
    if (t.beta() == 0) {
      for (int item = 0; item < t.batch(); item++) {
        for (int i = 0; i < t.m(); i++) {
          for (int j = 0; j < t.n(); j++) {
            set(c, cIndex(t, item, i, j), Double.NaN);
          }
        }
      }
    }
    return new Arrays3(a, b, c, copyOf(c));
  }

  /**
   * Runs {@code t} (alpha 0.75) through {@code first} on {@code x}, then through {@code second}
   * on the same A and B and a copy of C as it was; returns the second call's operands.
   */
  private static Arrays3 onBoth(CpuBlas first, CpuBlas second, Case t, Arrays3 x) {
    Object cIn = copyOf(x.c());
    first.gemm(call(t, x, 0.75));
    Arrays3 y = x.into(cIn);
    second.gemm(call(t, y, 0.75));
    return y;
  }

  private static long cIndex(Case t, int item, int i, int j) {
    return t.offset() + item * t.stride(t.spanC()) + (long) i * t.ldc() + j;
  }

  private static GemmCall call(Case t, Arrays3 x, double alpha) {
    return new GemmCall(t.ta(), t.tb(), t.m(), t.n(), t.k(), alpha, t.beta(), Precision.DEFAULT,
        t.f64() ? DType.FLOAT64 : DType.FLOAT32, operand(x.a(), t.offset()), t.lda(),
        operand(x.b(), t.offset()), t.ldb(), operand(x.c(), t.offset()), t.ldc(), t.batch(),
        t.stride(t.spanA()), t.stride(t.spanB()), t.stride(t.spanC()), null,
        GemmCall.OnHost.INSTANCE);
  }

  /**
   * C against float64 (alpha 0.75): every element, or for large cases every 7th row and the
   * last; and every element outside the matrices of C as it was.
   */
  private static void checkAgainstFloat64(Case t, Arrays3 x) {
    double alpha = 0.75;
    boolean[] inMatrix = new boolean[t.length(t.spanC())];
    long sa = t.stride(t.spanA());
    long sb = t.stride(t.spanB());
    boolean sample = (double) t.m() * t.n() * t.k() > 1e7;
    for (int item = 0; item < t.batch(); item++) {
      for (int i = 0; i < t.m(); i++) {
        for (int j = 0; j < t.n(); j++) {
          long ci = cIndex(t, item, i, j);
          inMatrix[(int) ci] = true;
          if (sample && i % 7 != 0 && i != t.m() - 1) {
            continue;
          }
          double s = 0;
          double mag = 0;
          for (int p = 0; p < t.k(); p++) {
            double av = get(x.a(), t.offset() + item * sa
                + (t.ta() ? (long) p * t.lda() + i : (long) i * t.lda() + p));
            double bv = get(x.b(), t.offset() + item * sb
                + (t.tb() ? (long) j * t.ldb() + p : (long) p * t.ldb() + j));
            s += av * bv;
            mag += Math.abs(av * bv);
          }
          double c0 = get(x.c0(), ci);
          double want = alpha * s + (t.beta() == 0 ? 0 : t.beta() * c0);
          double bound = (t.f64() ? 1e-15 : 1e-6) * (t.k() + 2)
              * (alpha * mag + Math.abs(t.beta() * (t.beta() == 0 ? 0 : c0))) + 1e-300;
          double got = get(x.c(), ci);
          assertTrue(Math.abs(got - want) <= bound, t + ": C[" + item + "][" + i + "][" + j
              + "] = " + got + ", float64 " + want);
        }
      }
    }
    for (int e = 0; e < inMatrix.length; e++) {
      if (!inMatrix[e]) {
        assertEquals(Double.doubleToRawLongBits(get(x.c0(), e)),
            Double.doubleToRawLongBits(get(x.c(), e)), t + ": element " + e + " outside C");
      }
    }
  }

  private static final List<Case> CASES = List.of(
      // odd sizes, both transposes, padding, offsets, beta = 0 (C poisoned) and beta != 0
      new Case(false, 131, 97, 113, false, false, 0, 0, 0, 1),
      new Case(false, 131, 97, 113, true, true, 3, 7, 0.5, 1),
      new Case(false, 97, 131, 61, false, true, 1, 3, 0, 1),
      new Case(false, 61, 127, 149, true, false, 2, 1, -1.25, 1),
      new Case(true, 113, 89, 101, false, true, 0, 5, 0, 1),
      new Case(true, 89, 113, 67, true, false, 3, 0, 2, 1),
      // batches with gaps between the items (C's gaps must come back unchanged)
      new Case(false, 67, 71, 73, false, true, 1, 2, 0, 3),
      new Case(true, 41, 37, 43, true, true, 0, 1, 0.5, 4),
      // large enough for streaming stores (16 MiB of operands) and every thread's part
      new Case(false, 1201, 1203, 1199, false, true, 1, 3, 0.5, 1));

  @Test
  void copiesMatchFloat64EverywhereAroundTheMatrices() {
    for (boolean critical : new boolean[] {true, false}) {
      CpuBlas blas = copying(critical && CpuBlas.criticalAvailable());
      try {
        SplittableRandom r = new SplittableRandom(critical ? 17 : 19);
        for (Case t : CASES) {
          Arrays3 x = operands(r, t);
          blas.gemm(call(t, x, 0.75));
          assertEquals(0, blas.inPlaceItems.sum(), "copied, not in place: " + t);
          checkAgainstFloat64(t, x);
        }
      } finally {
        blas.close();
      }
    }
  }

  @Test
  void copiesGiveOpenBlasResultBitForBit() {
    CpuBlas copies = copying(true);
    CpuBlas whole = inPlace();
    try {
      SplittableRandom r = new SplittableRandom(23);
      for (Case t : CASES) {
        Arrays3 x = operands(r, t);
        long items = whole.inPlaceItems.sum();
        Arrays3 y = onBoth(whole, copies, t, x);
        assertEquals(t.batch(), whole.inPlaceItems.sum() - items, "in place: " + t);
        assertSameArray(x.c(), y.c(), t.toString());
      }
      assertEquals(0, copies.inPlaceItems.sum());
    } finally {
      copies.close();
      whole.close();
    }
  }

  @Test
  void noCriticalRegionEstimatedOverTheLimit() {
    assertTrue(CpuBlas.criticalAvailable());
    // panels allowed too (as thin as 1 line, repacking unbounded): in-place calls, panels and
    // copies in one backend
    for (CpuBlas blas : new CpuBlas[] {copying(true),
        new CpuBlas(2, true, LIMIT_MS, 1, Double.MAX_VALUE, true)}) {
      try {
        SplittableRandom r = new SplittableRandom(29);
        for (Case t : CASES) {
          Arrays3 x = operands(r, t);
          blas.gemm(call(t, x, 0.75));
          checkAgainstFloat64(t, x);
          // a call within the limit, in place
          Case small = new Case(t.f64(), 9, 7, 5, t.ta(), t.tb(), t.pad(), t.offset(), t.beta(),
              t.batch());
          Arrays3 s = operands(r, small);
          blas.gemm(call(small, s, 0.75));
          checkAgainstFloat64(small, s);
        }
        assertTrue(blas.longestRegionMs() > 0, "critical regions were used");
        assertTrue(blas.longestRegionMs() <= LIMIT_MS + 1e-6,
            "a critical region estimated at " + blas.longestRegionMs() + " ms, over the limit "
                + LIMIT_MS + " ms");
      } finally {
        blas.close();
      }
    }
    // the default limit on a call of 4.4e9 flops (fp32 1300^3, past 2 threads' 2e9): copied
    // (slabs off), or in place in slabs of k; within 20 ms either way, the same C bit for bit
    Case t = new Case(false, 1300, 1300, 1300, false, true, 0, 0, 0, 1);
    Arrays3 x = operands(new SplittableRandom(31), t);
    Object cIn = copyOf(x.c());
    for (boolean slabs : new boolean[] {false, true}) {
      CpuBlas blas = new CpuBlas(2, true, CpuBlas.IN_PLACE_MAX_MS, CpuBlas.PANEL_MIN, 0, slabs);
      try {
        Arrays3 y = x.into(copyOf(cIn));
        blas.gemm(call(t, y, 1));
        assertEquals(slabs ? 1 : 0, blas.inPlaceItems.sum(), "slabs " + slabs);
        assertTrue(blas.longestRegionMs() > 0
            && blas.longestRegionMs() <= CpuBlas.IN_PLACE_MAX_MS + 1e-6,
            "longest critical region " + blas.longestRegionMs() + " ms");
        if (!slabs) {
          x = y;
        } else {
          assertTrue(blas.inPlaceCalls.sum() > 1, "slabs");
          assertArrayEquals((float[]) x.c(), (float[]) y.c(), "slabs against copies");
        }
      } finally {
        blas.close();
      }
    }
    float[] c = (float[]) x.c();
    float[] a = (float[]) x.a();
    float[] b = (float[]) x.b();
    for (int i : new int[] {0, 977, 1299}) {
      for (int j : new int[] {0, 5, 1299}) {
        double s = 0;
        for (int p = 0; p < 1300; p++) {
          s += (double) a[i * 1300 + p] * b[j * 1300 + p];
        }
        assertEquals(s, c[i * 1300 + j], 1e-6 * 1300 * 2, "C[" + i + "][" + j + "]");
      }
    }
  }

  /**
   * Slabs of k at OpenBLAS's k-blocks: items past the limit run in place in several calls,
   * each within the limit, and give the C of one call bit for bit (where no slab needs panels:
   * panels of C need not round as one call does), at odd sizes, transposes, offsets, padding,
   * batches and beta (0 with C poisoned, and not), in fp32 and fp64; and against float64.
   */
  @Test
  void slabsOfKGiveOneCallsResultBitForBit() {
    boolean x86 = System.getProperty("os.arch").equals("amd64");
    for (boolean f64 : new boolean[] {false, true}) {
      int q = CpuBlas.kBlock(f64);
      if (x86) {
        assertTrue(q > 0 && CpuBlas.tailSplit(f64) > 0, "OpenBLAS's k-block or its tail split was"
            + " not found (" + (f64 ? "dgemm" : "sgemm") + ")");
      }
      if (q == 0) {
        continue;
      }
      double mnk = CpuBlas.threadedMnk();
      // calls of up to 6 x the threaded minimum of multiply-adds (fp64: counted twice)
      double limitMs = 6 * 2 * mnk * (f64 ? 2 : 1) / (CpuBlas.IN_PLACE_GFLOPS_PER_THREAD * 1e9
          * 2) * 1e3;
      CpuBlas slabs = new CpuBlas(2, true, limitMs, 1, Double.MAX_VALUE, true);
      CpuBlas whole = inPlace();
      try {
        int side = (int) Math.sqrt(4 * mnk / q); // m x n x q = 4 x the minimum: one block a call
        int big = (int) Math.sqrt(10 * mnk / q); // one block is too long: panels in each slab
        List<Case> cases = List.of(
            new Case(f64, side + 3, side - 5, 4 * q + 37, false, false, 0, 0, 0, 1),
            new Case(f64, side - 1, side + 7, 3 * q + q / 2 + 1, true, true, 3, 5, 0.5, 1),
            new Case(f64, side + 5, side - 3, 5 * q - 1, false, true, 1, 2, -1.5, 2),
            new Case(f64, big + 9, big - 7, 3 * q + 11, true, false, 2, 1, 0, 1));
        Case panels = cases.get(3);
        SplittableRandom r = new SplittableRandom(43);
        for (Case t : cases) {
          Arrays3 x = operands(r, t);
          long calls = slabs.inPlaceCalls.sum();
          Arrays3 y = onBoth(slabs, whole, t, x);
          assertTrue(slabs.inPlaceCalls.sum() - calls > t.batch(), "split: " + t);
          checkAgainstFloat64(t, x);
          if (t == panels || (t == cases.get(2) && CpuBlas.tailSplit(f64) == 0)) {
            continue; // panels of C (also for a tail of k whose split is unknown)
          }
          assertSameArray(y.c(), x.c(), "slabs against one call: " + t);
        }
        assertEquals(whole.inPlaceItems.sum(), slabs.inPlaceItems.sum(), "all in place");
        assertTrue(slabs.longestRegionMs() <= limitMs + 1e-6,
            slabs.longestRegionMs() + " ms over " + limitMs);
      } finally {
        slabs.close();
        whole.close();
      }
    }
  }

  /** One parallel copy of segments of odd lengths and offsets, across the parts' boundaries. */
  @Test
  void segmentsCopyOutAndBackWhole() {
    for (boolean critical : new boolean[] {true, false}) {
      for (boolean f64 : new boolean[] {false, true}) {
        CpuBlas blas = copying(critical);
        int size = f64 ? 8 : 4;
        // 5M elements (over 16 MiB: streaming stores) in two parts, one per thread, the
        // boundary inside the third segment
        int[] lengths = {300_001, 700_003, 4_000_003};
        int[] offsets = {0, 13, 1};
        Object[] arrays = new Object[3];
        SplittableRandom r = new SplittableRandom(37);
        List<CpuBlas.Segment> segs = new java.util.ArrayList<>();
        long total = 0;
        for (int s = 0; s < 3; s++) {
          total += lengths[s];
        }
        Pointer mem = Pointer.malloc(total * size);
        try {
          long at = 0;
          for (int s = 0; s < 3; s++) {
            arrays[s] = random(r, f64, offsets[s] + lengths[s] + 2);
            segs.add(new CpuBlas.Segment(arrays[s], offsets[s], mem.address() + at * size,
                lengths[s]));
            at += lengths[s];
          }
          Object[] before = new Object[3];
          for (int s = 0; s < 3; s++) {
            before[s] = copyOf(arrays[s]);
          }
          blas.copy(segs, true);
          // scramble the arrays' segments, then copy back: the originals again
          for (int s = 0; s < 3; s++) {
            for (int i = 0; i < lengths[s]; i++) {
              set(arrays[s], offsets[s] + i, -7);
            }
          }
          blas.copy(segs, false);
          for (int s = 0; s < 3; s++) {
            assertSameArray(before[s], arrays[s], "segment " + s);
          }
          if (critical) {
            assertTrue(blas.longestRegionMs() <= LIMIT_MS + 1e-6, blas.longestRegionMs() + " ms");
          }
        } finally {
          Pointer.free(mem);
          blas.close();
        }
      }
    }
  }

  @Test
  void repackMaxZeroCopiesWherePanelsWouldRun() {
    // 2 threads x 50 GFLOP/s x 1 ms = 1e8 flops per call: 400^3 would run in 2 panels
    for (String repack : new String[] {"0.5", "0"}) {
      Config config = Config.from(Map.of("gpucore.backend", "cpu", "gpucore.cpu.threads", "2",
          "gpucore.cpu.inPlaceMaxMs", "1", "gpucore.cpu.repackMax", repack), Map.of());
      CpuBackend cpu = (CpuBackend) new CpuBackendProvider().open(config);
      try (GpuCore core = dev.gpucore.spi.Cores.of(config, cpu, null, "CPU test")) {
        CpuBlas blas = (CpuBlas) cpu.blas();
        int n = 400;
        float[] a = (float[]) random(new SplittableRandom(41), false, n * n);
        float[] c = new float[n * n];
        core.blas().sgemm(false, false, n, n, n, 1f, a, n, a, n, 0f, c, n);
        assertEquals(repack.equals("0") ? 0 : 2, blas.inPlaceCalls.sum(), "repackMax " + repack);
        double s = 0;
        for (int p = 0; p < n; p++) {
          s += (double) a[7 * n + p] * a[p * n + 11];
        }
        assertEquals(s, c[7 * n + 11], 1e-6 * n);
      }
    }
  }
}
