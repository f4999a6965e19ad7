package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Layout;
import dev.gpucore.blas.Decision;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.HostArray;
import dev.gpucore.memory.NativeMemory;
import dev.gpucore.testkit.GpuTests;
import dev.gpucore.testkit.RequiresGpu;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * GEMM on the GPU against a float64 reference, fresh random data, C poisoned or random first:
 * every precision, both layouts, all transpose pairs, views, strided batches, device operands
 * and host operands forced through the tiled pipeline (small panels, so many tiles).
 */
@RequiresGpu
class GemmGpuTest {
  static GpuCore core;
  /** Host operands forced to the GPU pipeline with 1 MiB panels. */
  static GpuCore forced;
  static final long SEED = System.nanoTime();

  @BeforeEach
  void useGpu(GpuCore gpu) {
    core = gpu;
    if (forced == null) {
      forced = GpuTests.openGpu("gpucore.gemm.route=gpu", "gpucore.gemm.panelMiB=1");
    }
  }

  @AfterAll
  static void close() {
    if (forced != null) {
      forced.close();
    }
  }

  static double bound(Precision p, int k) {
    switch (p) {
      case TF32:
        return 1e-3;
      case BF16:
      case FP16:
        return 1e-2;
      case FP64:
        return 1e-13 * Math.sqrt(Math.max(1, k));
      default:
        return 1e-5 * Math.sqrt(Math.max(1, k));
    }
  }

  /** An element of an m×n matrix by row and column. */
  interface At {
    double at(int i, int j);
  }

  /** The relative error of {@code got} against {@code ref} in the Frobenius norm. */
  static double relativeError(int m, int n, At got, At ref) {
    double num = 0;
    double den = 0;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double r = ref.at(i, j);
        double d = got.at(i, j) - r;
        num += d * d;
        den += r * r;
      }
    }
    return Math.sqrt(num / den);
  }

  /** A case: shape, layout, transposes, precision, padding, batch. */
  record Case(int m, int n, int k, Layout layout, boolean ta, boolean tb, Precision p, int pad,
      int batch, double alpha, double beta) {
    DType dtype() {
      return p == Precision.FP64 ? DType.FLOAT64 : DType.FLOAT32;
    }

    int rows(boolean a) { // stored rows of A (a) or B
      return a ? (ta ? k : m) : (tb ? n : k);
    }

    int cols(boolean a) {
      return a ? (ta ? m : k) : (tb ? k : n);
    }

    int ld(int rows, int cols) {
      return (layout == Layout.ROW_MAJOR ? cols : rows) + pad;
    }

    long span(int rows, int cols) {
      int ld = ld(rows, cols);
      return layout == Layout.ROW_MAJOR ? (long) (rows - 1) * ld + cols
          : (long) (cols - 1) * ld + rows;
    }

    double get(double[] x, long off, int ld, int i, int j) {
      return layout == Layout.ROW_MAJOR ? x[(int) (off + (long) i * ld + j)]
          : x[(int) (off + i + (long) j * ld)];
    }
  }

  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    int[][] shapes = {{1, 1, 1}, {7, 5, 3}, {64, 48, 97}, {131, 67, 29}, {256, 256, 256},
        {1, 300, 17}, {300, 1, 17}, {257, 129, 1}, {1000, 37, 513}};
    int i = 0;
    for (int[] s : shapes) {
      for (Precision p : Precision.values()) {
        if (p == Precision.DEFAULT) {
          continue;
        }
        Layout l = (i % 2 == 0) ? Layout.ROW_MAJOR : Layout.COLUMN_MAJOR;
        boolean ta = (i / 2) % 2 == 1;
        boolean tb = (i / 4) % 2 == 1;
        int batch = (i % 5 == 0) ? 3 : 1;
        double beta = (i % 3 == 0) ? 0 : -0.5;
        out.add(Arguments.of(new Case(s[0], s[1], s[2], l, ta, tb, p, i % 3, batch, 1.5, beta)));
        i++;
      }
    }
    return out.stream();
  }

  static double[] random(SplittableRandom r, long n) {
    double[] x = new double[(int) n];
    for (int i = 0; i < n; i++) {
      x[i] = r.nextDouble() * 2 - 1;
    }
    return x;
  }

  /** The float64 reference of batch item {@code b} into {@code ref} (row-major m×n). */
  static void reference(Case c, double[] a, double[] b, double[] c0, long sa, long sb, long sc,
      int item, double[] ref) {
    int lda = c.ld(c.rows(true), c.cols(true));
    int ldb = c.ld(c.rows(false), c.cols(false));
    int ldc = c.ld(c.m(), c.n());
    for (int i = 0; i < c.m(); i++) {
      for (int j = 0; j < c.n(); j++) {
        double s = 0;
        for (int p = 0; p < c.k(); p++) {
          double av = c.ta() ? c.get(a, item * sa, lda, p, i) : c.get(a, item * sa, lda, i, p);
          double bv = c.tb() ? c.get(b, item * sb, ldb, j, p) : c.get(b, item * sb, ldb, p, j);
          s += av * bv;
        }
        double old = c.beta() == 0 ? 0 : c.get(c0, item * sc, ldc, i, j);
        ref[i * c.n() + j] = c.alpha() * s + c.beta() * old;
      }
    }
  }

  enum Where { DEVICE, JAVA_FORCED, HOST_ARRAY_FORCED }

  @ParameterizedTest
  @MethodSource("cases")
  void deviceOperands(Case c) {
    run(c, Where.DEVICE);
  }

  @ParameterizedTest
  @MethodSource("cases")
  void javaArraysThroughTheGpuPipeline(Case c) {
    run(c, Where.JAVA_FORCED);
  }

  @Test
  void hostArraysThroughTheGpuPipeline() {
    run(new Case(300, 200, 150, Layout.ROW_MAJOR, false, true, Precision.FP32, 1, 1, 1, 0.5),
        Where.HOST_ARRAY_FORCED);
    run(new Case(100, 80, 60, Layout.COLUMN_MAJOR, true, false, Precision.FP64, 0, 2, 1, 0),
        Where.HOST_ARRAY_FORCED);
  }

  void run(Case c, Where where) {
    SplittableRandom r = new SplittableRandom(SEED ^ c.hashCode());
    int lda = c.ld(c.rows(true), c.cols(true));
    int ldb = c.ld(c.rows(false), c.cols(false));
    int ldc = c.ld(c.m(), c.n());
    long spanA = c.span(c.rows(true), c.cols(true));
    long spanB = c.span(c.rows(false), c.cols(false));
    long spanC = c.span(c.m(), c.n());
    long sa = spanA + 3;
    long sb = spanB + 1;
    long sc = spanC + 2;
    int offA = 2;
    int offB = 1;
    int offC = 3;
    long lenA = offA + sa * c.batch();
    long lenB = offB + sb * c.batch();
    long lenC = offC + sc * c.batch();
    double[] a = random(r, lenA);
    double[] b = random(r, lenB);
    double[] c0 = random(r, lenC);
    boolean f64 = c.dtype() == DType.FLOAT64;
    if (!f64) { // what the device sees: fp32 values
      for (double[] x : new double[][] {a, b, c0}) {
        for (int i = 0; i < x.length; i++) {
          x[i] = (float) x[i];
        }
      }
    }
    double[] cIn = c0.clone();
    if (c.beta() == 0) {
      java.util.Arrays.fill(cIn, Double.NaN); // beta = 0 must not read C
    }
    Gemm g = Gemm.of(c.m(), c.n(), c.k()).layout(c.layout()).transA(c.ta()).transB(c.tb())
        .scale(c.alpha(), c.beta()).precision(c.p());
    if (c.batch() > 1) {
      g = g.batch(c.batch(), sa, sb, sc);
    }
    double[] got = new double[(int) lenC];
    List<AutoCloseable> res = new ArrayList<>();
    try {
      Operand oa;
      Operand ob;
      Operand oc;
      GpuCore use = where == Where.DEVICE ? core : forced;
      if (where == Where.DEVICE) {
        oa = Operand.of(upload(a, f64, res), offA);
        ob = Operand.of(upload(b, f64, res), offB);
        DeviceArray dc = upload(cIn, f64, res);
        oc = Operand.of(dc, offC);
        use.blas().gemm(g, oa, lda, ob, ldb, oc, ldc);
        System.arraycopy(GpuTests.download(dc, got.length), 0, got, 0, got.length);
      } else if (where == Where.JAVA_FORCED) {
        Object ja = f64 ? a : toF(a);
        Object jb = f64 ? b : toF(b);
        Object jc = f64 ? cIn.clone() : toF(cIn);
        oa = f64 ? Operand.of((double[]) ja, offA) : Operand.of((float[]) ja, offA);
        ob = f64 ? Operand.of((double[]) jb, offB) : Operand.of((float[]) jb, offB);
        oc = f64 ? Operand.of((double[]) jc, offC) : Operand.of((float[]) jc, offC);
        assertTrue(use.blas().explain(g, oa, lda, ob, ldb, oc, ldc).gpu());
        use.blas().gemm(g, oa, lda, ob, ldb, oc, ldc);
        for (int i = 0; i < got.length; i++) {
          got[i] = f64 ? ((double[]) jc)[i] : ((float[]) jc)[i];
        }
      } else {
        HostArray ha = host(a, f64, true, res);
        HostArray hb = host(b, f64, false, res);
        HostArray hc = host(cIn, f64, true, res);
        use.blas().gemm(g, Operand.of(ha, offA), lda, Operand.of(hb, offB), ldb,
            Operand.of(hc, offC), ldc);
        for (int i = 0; i < got.length; i++) {
          got[i] = hc.getDouble(i);
        }
      }
    } finally {
      for (AutoCloseable x : res) {
        try {
          x.close();
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      }
    }
    double[] ref = new double[c.m() * c.n()];
    for (int item = 0; item < c.batch(); item++) {
      reference(c, java.util.Arrays.copyOfRange(a, offA, a.length),
          java.util.Arrays.copyOfRange(b, offB, b.length),
          java.util.Arrays.copyOfRange(c0, offC, c0.length), sa, sb, sc, item, ref);
      double num = 0;
      double den = 0;
      long base = offC + item * sc;
      for (int i = 0; i < c.m(); i++) {
        for (int j = 0; j < c.n(); j++) {
          long idx = c.layout() == Layout.ROW_MAJOR ? base + (long) i * ldc + j
              : base + i + (long) j * ldc;
          double d = got[(int) idx] - ref[i * c.n() + j];
          assertFalse(Double.isNaN(got[(int) idx]), "NaN at " + i + "," + j + " " + c);
          num += d * d;
          den += ref[i * c.n() + j] * ref[i * c.n() + j];
        }
      }
      double rel = Math.sqrt(num / Math.max(den, 1e-300));
      assertTrue(rel <= bound(c.p(), c.k()),
          where + " " + c + " item " + item + ": relative error " + rel + " > "
              + bound(c.p(), c.k()) + " (seed " + SEED + ")");
    }
    // nothing outside the C matrices was written
    for (int i = 0; i < got.length; i++) {
      if (!insideC(c, i, offC, sc, ldc)) {
        double want = cIn[i];
        assertTrue(Double.compare(want, got[i]) == 0 || (Double.isNaN(want) && Double.isNaN(got[i])),
            where + " " + c + ": element " + i + " outside C changed");
      }
    }
  }

  static boolean insideC(Case c, long idx, long offC, long sc, int ldc) {
    if (idx < offC) {
      return false;
    }
    long rel = idx - offC;
    long item = rel / sc;
    if (item >= c.batch()) {
      return false;
    }
    long in = rel - item * sc;
    long outer = in / ldc;
    long inner = in % ldc;
    return c.layout() == Layout.ROW_MAJOR ? outer < c.m() && inner < c.n()
        : outer < c.n() && inner < c.m();
  }

  static float[] toF(double[] x) {
    float[] f = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      f[i] = (float) x[i];
    }
    return f;
  }

  DeviceArray upload(double[] x, boolean f64, List<AutoCloseable> res) {
    DeviceArray d = core.allocate(0, f64 ? DType.FLOAT64 : DType.FLOAT32, x.length);
    res.add(d);
    if (f64) {
      d.copyFrom(x);
    } else {
      d.copyFrom(toF(x));
    }
    return d;
  }


  HostArray host(double[] x, boolean f64, boolean pinned, List<AutoCloseable> res) {
    HostArray h = forced.allocateHost(f64 ? DType.FLOAT64 : DType.FLOAT32, x.length, pinned);
    res.add(h);
    if (f64) {
      h.put(0, x, 0, x.length);
    } else {
      float[] f = toF(x);
      h.put(0, f, 0, f.length);
    }
    return h;
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({"BFLOAT16,FLOAT32", "BFLOAT16,BFLOAT16",
      "FLOAT16,FLOAT32", "FLOAT16,FLOAT16"})
  void sixteenBitStorage(DType half, DType cType) {
    int m = 193;
    int n = 130;
    int k = 257;
    SplittableRandom r = new SplittableRandom(SEED ^ half.hashCode() ^ cType.hashCode());
    float[] a = new float[m * k];
    float[] b = new float[n * k];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) (r.nextDouble() * 2 - 1);
    }
    for (int i = 0; i < b.length; i++) {
      b[i] = (float) (r.nextDouble() * 2 - 1);
    }
    try (DeviceArray da = core.allocate(0, half, a.length);
        DeviceArray db = core.allocate(0, half, b.length);
        DeviceArray dc = core.allocate(0, cType, (long) m * n)) {
      da.copyFrom(a);
      db.copyFrom(b);
      float[] ra = new float[a.length];
      float[] rb = new float[b.length];
      da.copyTo(ra); // the values the GPU multiplies: the inputs rounded to 16 bits
      db.copyTo(rb);
      for (int i = 0; i < a.length; i++) {
        // half an ulp of the 16-bit type (fp16's subnormals have an absolute ulp of 2^-24)
        double ulp = half == DType.BFLOAT16 ? Math.abs(a[i]) * 0x1p-8
            : Math.max(Math.abs(a[i]) * 0x1p-11, 0x1p-25);
        assertTrue(Math.abs(ra[i] - a[i]) <= ulp, "rounded to nearest: " + a[i] + " -> " + ra[i]);
      }
      dc.fill(Double.NaN);
      core.blas().gemm(Gemm.of(m, n, k).transB(true), Operand.of(da), k, Operand.of(db), k,
          Operand.of(dc), n);
      float[] c = new float[m * n];
      dc.copyTo(c);
      for (float v : c) {
        assertFalse(Float.isNaN(v));
      }
      double rel = relativeError(m, n, (i, j) -> c[i * n + j], (i, j) -> {
        double ref = 0;
        for (int p = 0; p < k; p++) {
          ref += (double) ra[i * k + p] * rb[j * k + p];
        }
        return ref;
      });
      assertTrue(rel <= 1e-2, half + "->" + cType + " relative error " + rel);
      if (cType == DType.FLOAT32) {
        assertTrue(rel <= 1e-5 * Math.sqrt(k), "exact products, fp32 accumulation: " + rel);
      }
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> core.blas().gemm(Gemm.of(m, n, k).transB(true).precision(Precision.FP32),
              Operand.of(da), k, Operand.of(db), k, Operand.of(dc), n));
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> core.allocateHost(half, 10, true));
    }
  }

  @Test
  void strictFp32IsNotTf32() {
    // RELIABILITY.md's guard: 1.0001 * 1.0001 summed 1024 times is 1024.2 in fp32 but 1024.0
    // when the inputs are rounded to TF32's 10-bit mantissa
    int n = 64;
    int k = 1024;
    float[] ones = new float[n * k];
    java.util.Arrays.fill(ones, 1.0001f);
    try (DeviceArray a = core.allocate(0, DType.FLOAT32, ones.length);
        DeviceArray c = core.allocate(0, DType.FLOAT32, (long) n * n)) {
      a.copyFrom(ones);
      float[] out = new float[n * n];
      core.blas().gemm(Gemm.of(n, n, k).transB(true), Operand.of(a), k, Operand.of(a), k,
          Operand.of(c), n);
      c.copyTo(out);
      double exact = k * 1.0001f * (double) 1.0001f;
      assertEquals(exact, out[0], 0.01, "strict FP32 must see the 1e-4");
      core.blas().gemm(Gemm.of(n, n, k).transB(true).precision(Precision.TF32), Operand.of(a), k,
          Operand.of(a), k, Operand.of(c), n);
      c.copyTo(out);
      assertEquals(1024.0, out[0], 0.01, "TF32 rounds 1.0001 to 1 (else TF32 was not used)");
    }
  }

  @Test
  void badInputLeavesCUntouched() {
    try (DeviceArray a = core.allocate(0, DType.FLOAT32, 100);
        DeviceArray b = core.allocate(0, DType.FLOAT32, 100);
        DeviceArray d = core.allocate(0, DType.FLOAT64, 100);
        DeviceArray c = core.allocate(0, DType.FLOAT32, 100)) {
      c.fill(7);
      Gemm g = Gemm.of(10, 10, 10);
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> core.blas().gemm(g, Operand.of(a), 9, Operand.of(b), 10, Operand.of(c), 10));
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> core.blas().gemm(Gemm.of(11, 10, 10), Operand.of(a), 10, Operand.of(b), 10,
              Operand.of(c), 10));
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> core.blas().gemm(g, Operand.of(d), 10, Operand.of(b), 10, Operand.of(c), 10));
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> core.blas().gemm(g.precision(Precision.FP64), Operand.of(a), 10, Operand.of(b),
              10, Operand.of(c), 10));
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> core.blas().gemm(g, Operand.of(a), 10, Operand.of(b), 10, Operand.of(a), 10));
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> core.blas().gemm(g, Operand.of(a), 10, Operand.of(new float[100]), 10,
              Operand.of(c), 10));
      assertThrows(GpuCoreException.InvalidArgument.class,
          () -> core.blas().gemm(g.batch(2, 0, 0, 50), Operand.of(a), 10, Operand.of(b), 10,
              Operand.of(c), 10));
      float[] out = new float[100];
      c.copyTo(out);
      for (float v : out) {
        assertEquals(7f, v);
      }
    }
  }

  @Test
  void routerSendsSmallHostCallsToTheCpuAndLargeOnesToTheGpu() {
    float[] small = new float[64 * 64];
    Decision d = core.blas().explain(Gemm.of(64, 64, 64), Operand.of(small), 64,
        Operand.of(small.clone()), 64, Operand.of(new float[64 * 64]), 64);
    assertFalse(d.gpu(), d.reason());
    int n = 4096;
    float[] big = new float[n * n];
    Decision e = core.blas().explain(Gemm.of(n, n, n), Operand.of(big), n,
        Operand.of(new float[n * n]), n, Operand.of(new float[n * n]), n);
    assertTrue(e.gpu(), e.reason());
  }

  @Test
  void pipelineLeavesNoDeviceMemoryBehind() {
    long before = NativeMemory.liveBytes(NativeMemory.Kind.DEVICE);
    int n = 333;
    float[] a = toF(random(new SplittableRandom(SEED), (long) n * n));
    float[] c = new float[n * n];
    forced.blas().sgemm(false, false, n, n, n, 1f, a, n, a.clone(), n, 0f, c, n);
    assertEquals(before, NativeMemory.liveBytes(NativeMemory.Kind.DEVICE));
    float[] cpu = new float[n * n];
    try (GpuCore cpuOnly = GpuCore.open(new Config(Config.Backend.CPU, 0))) {
      cpuOnly.blas().sgemm(false, false, n, n, n, 1f, a, n, a.clone(), n, 0f, cpu, n);
    }
    double num = 0;
    double den = 0;
    for (int i = 0; i < cpu.length; i++) {
      num += (c[i] - cpu[i]) * (double) (c[i] - cpu[i]);
      den += cpu[i] * (double) cpu[i];
    }
    assertTrue(Math.sqrt(num / den) < 1e-5 * Math.sqrt(n), "GPU pipeline and CPU agree");
  }
}
