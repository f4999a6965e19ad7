package dev.gpucore.bench.suites;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.blas.Precision;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The gemm suite's inputs and result check, without running the suite. */
class GemmSuiteTest {
  @Test
  void fp64InputsHaveFullMantissasAndMatchThePythonPeer() {
    double[] d = new double[3];
    GemmSuite.fill64(d, 42);
    // peers_torch.gen64(np, 42, 3), printed with repr()
    assertEquals(0.7415648787718233, d[0]);
    assertEquals(0.15991039287692022, d[1]);
    assertEquals(0.27860113025513866, d[2]);
    double[] e = new double[2];
    GemmSuite.fill64(e, -5); // seeds are unsigned 64-bit in the peers: 2^64 - 5
    assertEquals(0.08865044484243623, e[0]);
    assertEquals(0.5575480192032959, e[1]);
    // the same leading bits as the fp32 sequence, and low bits a float cannot hold
    float[] f = new float[3];
    InputGen.fill(f, 42);
    for (int i = 0; i < 3; i++) {
      assertEquals(f[i], d[i], 1e-7);
      assertTrue(d[i] != (float) d[i], "full mantissa: " + d[i]);
    }
  }

  /** C = A·Bᵀ in double, row-major (C m×n, A m×k, B n×k). */
  static double[] product(double[] a, double[] b, int m, int n, int k) {
    double[] c = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int p = 0; p < k; p++) {
          s += a[i * k + p] * b[j * k + p];
        }
        c[i * n + j] = s;
      }
    }
    return c;
  }

  @Test
  void theCheckPassesTheProductAndCatchesOneWrongElement() {
    // square, as the device rows and host n x n x n; skinny (m >> n, k), as the host shapes
    for (int[] s : new int[][] {{24, 24, 24}, {200, 6, 9}}) {
      int m = s[0];
      int n = s[1];
      int k = s[2];
      String shape = m + "x" + n + "x" + k;
      double[] a = new double[m * k];
      double[] b = new double[n * k];
      GemmSuite.fill64(a, 1);
      GemmSuite.fill64(b, 2);
      double[] c = product(a, b, m, n, k);
      GemmSuite.Check ok = GemmSuite.verify(GemmSuite.Mat.of(a), GemmSuite.Mat.of(b),
          GemmSuite.Mat.of(c), m, n, k, 1e-12, 7);
      assertTrue(ok.ok(), shape + ": " + ok.text());
      double exact = 0;
      for (double v : c) {
        exact += v;
      }
      assertEquals(exact, ok.exactSum(), 1e-12 * exact, shape);
      // one element 1% off, in a row no sampled row covers: the row and column sums see it
      c[5 * n + n - 2] *= 1.01;
      GemmSuite.Check bad = GemmSuite.verify(GemmSuite.Mat.of(a), GemmSuite.Mat.of(b),
          GemmSuite.Mat.of(c), m, n, k, 1e-5, 7);
      assertFalse(bad.ok(), shape + ": " + bad.text());
      assertTrue(bad.sumRel() > 1e-4, shape + ": " + bad.text());
      // an element never written (NaN from the poisoning) fails
      c = product(a, b, m, n, k);
      c[3] = Double.NaN;
      assertFalse(GemmSuite.verify(GemmSuite.Mat.of(a), GemmSuite.Mat.of(b), GemmSuite.Mat.of(c),
          m, n, k, 1e-2, 7).ok(), shape);
    }
    // the square form is the same check
    int n = 24;
    double[] a = new double[n * n];
    GemmSuite.fill64(a, 1);
    double[] c = product(a, a, n, n, n);
    GemmSuite.Check sq = GemmSuite.verify(GemmSuite.Mat.of(a), GemmSuite.Mat.of(a),
        GemmSuite.Mat.of(c), n, 1e-12, 7);
    assertEquals(GemmSuite.verify(GemmSuite.Mat.of(a), GemmSuite.Mat.of(a), GemmSuite.Mat.of(c),
        n, n, n, 1e-12, 7), sq);
  }

  @Test
  void hostDiffComparesElementByElement() {
    float[] ref = {1, 2, 3, 4};
    assertEquals(0.0, GemmSuite.diff(GemmSuite.Mat.of(ref), GemmSuite.Mat.of(ref.clone()), ref.length)[0]);
    float[] got = {1, 2, 3, 4.04f};
    double[] d = GemmSuite.diff(GemmSuite.Mat.of(ref), GemmSuite.Mat.of(got), ref.length);
    assertTrue(d[0] > 1e-3 && d[1] > 9e-3 && d[1] < 1.1e-2, d[0] + " " + d[1]);
    got[0] = Float.NaN;
    assertEquals(Double.POSITIVE_INFINITY, GemmSuite.diff(GemmSuite.Mat.of(ref), GemmSuite.Mat.of(got), ref.length)[0]);
  }

  /** gemm options with these gemm-specific fields and {@code --sizes}, the rest at defaults. */
  static BenchOptions options(List<Long> sizes, BenchOptions.Gemm g) {
    return new BenchOptions(List.of("gemm"), sizes, null, null, "fp32", false, null, null, null,
        0, 42, "none", "python3", 60, null, null, false, List.of(), g, null, null, null);
  }

  static BenchOptions.Gemm gemm(boolean noHost, List<String> batched, List<String> alternate) {
    return new BenchOptions.Gemm(null, null, false, noHost, null, null, batched, alternate, null,
        null, null);
  }

  @Test
  void batchedAndAlternateOptionsParseAndDefaultOnlyInAnUnnarrowedRun() {
    assertEquals(new GemmBatched.Case(1000, 32, 32, 32), GemmBatched.parse("1000x32"));
    assertEquals(new GemmBatched.Case(2, 3, 4, 5), GemmBatched.parse(" 2x3x4x5"));
    assertEquals("1000x32^3", GemmBatched.parse("1000x32").label());
    assertEquals("2x3x4x5", GemmBatched.parse("2x3x4x5").label());
    assertEquals(2L * 3 * 4 * 5, GemmBatched.parse("2x3x4x5").macs());
    for (String bad : new String[] {"32", "1000x", "0x32", "4x-1", "2x3x4", "ax3",
        "100000x10000", "1x2x3x4x5"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> GemmBatched.parse(bad), bad);
      assertTrue(e.getMessage().startsWith("gemm: --batched "), e.getMessage());
    }
    // the whole default run: the three cases and n = 2048, 4096
    BenchOptions all = options(null, gemm(false, null, null));
    assertEquals(List.of(new GemmBatched.Case(1000, 32, 32, 32),
        new GemmBatched.Case(10000, 16, 16, 16), new GemmBatched.Case(64, 256, 256, 256)),
        GemmBatched.cases(all));
    assertEquals(List.of(2048L, 4096L), GemmAlternate.sizes(all));
    // a narrowed run leaves them out unless asked for; none leaves them out
    BenchOptions narrowed = options(List.of(8L), gemm(false, null, null));
    assertEquals(List.of(), GemmBatched.cases(narrowed));
    assertEquals(List.of(), GemmAlternate.sizes(narrowed));
    assertEquals(List.of(), GemmBatched.cases(options(null, gemm(true, null, null))));
    BenchOptions asked = options(List.of(8L), gemm(true, List.of("3x4", "2x3x4x5"),
        List.of("64", "16")));
    assertEquals(2, GemmBatched.cases(asked).size());
    assertEquals(List.of(64L, 16L), GemmAlternate.sizes(asked));
    BenchOptions none = options(null, gemm(false, List.of("none"), List.of("none")));
    assertEquals(List.of(), GemmBatched.cases(none));
    assertEquals(List.of(), GemmAlternate.sizes(none));
    // the same work twice would key two cases' rows alike; sizes must be n in range, once each
    assertThrows(IllegalArgumentException.class,
        () -> GemmBatched.cases(options(null, gemm(false, List.of("8x4", "8x2x8x4"), null))));
    for (String bad : new String[] {"0", "46341", "x", "16,16"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> GemmAlternate.sizes(options(null, gemm(false, null, List.of(bad.split(","))))),
          bad);
      assertTrue(e.getMessage().startsWith("gemm: --alternate-sizes "), e.getMessage());
    }
  }

  @Test
  void theBatchedCheckPassesTheProductAndCatchesACorruptedOutput() {
    GemmBatched.Case c = GemmBatched.parse("5x3x4x6");
    float[] a = new float[(int) c.aLen()];
    float[] b = new float[(int) c.bLen()];
    InputGen.fill(a, 42);
    InputGen.fill(b, 43);
    double[] ref = GemmBatched.reference(a, b, c);
    // item 3, element (2, 1), by hand
    double want = 0;
    for (int p = 0; p < 6; p++) {
      want += (double) a[3 * 3 * 6 + 2 * 6 + p] * b[3 * 6 * 4 + p * 4 + 1];
    }
    assertEquals(want, ref[3 * 3 * 4 + 2 * 4 + 1]);
    double sum = 0;
    for (double v : ref) {
      sum += v;
    }
    assertEquals(sum, GemmBatched.exactSum(a, b, c), 1e-12 * sum);
    float[] got = new float[ref.length];
    for (int i = 0; i < got.length; i++) {
      got[i] = (float) ref[i];
    }
    int[] all = GemmBatched.checkedItems(c, 42);
    assertEquals(5, all.length);
    double bound = 1e-5 * Math.sqrt(c.k());
    GemmBatched.Check ok = GemmBatched.check(ref, got, c, all, bound);
    assertTrue(ok.ok(), ok.text());
    assertTrue(ok.text().startsWith("all 5 items vs double"), ok.text());
    // one element of the last item 0.1% off: caught
    float[] off = got.clone();
    off[off.length - 2] *= 1.001f;
    GemmBatched.Check bad = GemmBatched.check(ref, off, c, all, bound);
    assertFalse(bad.ok(), bad.text());
    assertTrue(bad.maxRel() > 1e-4, bad.text());
    // an element never written (NaN from the poisoning): caught and counted
    float[] hole = got.clone();
    hole[7] = Float.NaN;
    GemmBatched.Check nan = GemmBatched.check(ref, hole, c, all, bound);
    assertFalse(nan.ok(), nan.text());
    assertTrue(nan.text().endsWith(", 1 NaN"), nan.text());
    // items swapped (a wrong stride): caught
    float[] swapped = got.clone();
    System.arraycopy(got, 0, swapped, 12, 12);
    System.arraycopy(got, 12, swapped, 0, 12);
    assertFalse(GemmBatched.check(ref, swapped, c, all, bound).ok());
  }

  @Test
  void largeBatchesAreCheckedOnSampledItems() {
    GemmBatched.Case big = new GemmBatched.Case(20000, 512, 512, 2);
    assertTrue(big.macs() > GemmBatched.FULL_CHECK_MACS);
    int[] some = GemmBatched.checkedItems(big, 42);
    assertEquals(8, some.length);
    assertEquals(0, some[0]);
    assertEquals(19999, some[1]);
    for (int i : some) {
      assertTrue(i >= 0 && i < 20000, String.valueOf(i));
    }
  }

  @Test
  void theRoutersRouteIsGivenBeforeAndAfterTimingWhenTheyDiffer() {
    assertEquals("cpu", GemmSuite.routes("cpu", "cpu"));
    assertEquals("cpu", GemmSuite.routes("cpu", null));
    assertEquals("cpu before timing, gpu after", GemmSuite.routes("cpu", "gpu"));
    assertEquals("-", GemmSuite.routes(null, null));
  }

  @Test
  void theAlternatingLossIsThePairOverTheSumOfTheRoutesAlone() {
    Row[] rows = new Row[3];
    long[][] samples = {{100, 110, 90}, {50, 40, 60}, {165, 150, 170}};
    for (int r = 0; r < 3; r++) {
      rows[r] = new Row("gemm", "alternate", GemmAlternate.MODES[r], "x", "gpucore", 8, "n=8",
          1, "GFLOP/s").measured(Stats.of(samples[r]), "test");
    }
    assertEquals(165.0 / (100 + 50), GemmAlternate.loss(rows), 1e-12);
    // the pair's CPU and GPU calls, each against its route alone
    rows[2].extra().put("cpu_in_pair_ns", 120.0);
    rows[2].extra().put("gpu_in_pair_ns", 45.0);
    SuiteResult res = new SuiteResult("gemm", "t");
    java.util.Map<String, Object> s = GemmAlternate.summarize(res, rows, 20);
    assertEquals(120.0, s.get("cpu_in_pair_ns"));
    assertEquals(45.0, s.get("gpu_in_pair_ns"));
    String footer = res.footer().get(0);
    assertTrue(footer.contains("loss = pair / (cpu + gpu) 1.100 (gpucore.cpu.threadTimeout=20); "
        + "in the pair: cpu 120 ns (1.20x alone), gpu 45 ns (0.90x alone)"), footer);
    rows[1] = new Row("gemm", "alternate", "gpu", "x", "gpucore", 8, "n=8", 1, "GFLOP/s")
        .skip("No GPU visible: none");
    assertTrue(Double.isNaN(GemmAlternate.loss(rows)));
  }

  static BenchOptions.Gemm hostGemm(List<Long> hostSizes, List<String> dtypes,
      List<String> memory, List<String> precisions, Integer busMib) {
    return new BenchOptions.Gemm(null, hostSizes, false, false, dtypes, null, null, null, memory,
        precisions, busMib);
  }

  @Test
  void hostMemoryPrecisionsAndBusOptionsDefaultParseAndReject() {
    BenchOptions plain = options(null, gemm(false, null, null));
    assertEquals(List.of("array", "pinned"), GemmSuite.hostMemory(plain, true));
    assertEquals(List.of("array"), GemmSuite.hostMemory(plain, false), "pinned rows need a GPU");
    assertEquals(List.of("fp32"), GemmSuite.hostPrecisions(plain));
    assertEquals(List.of(), GemmSuite.extraHostPrecisions(plain, true));
    assertEquals(GemmBus.DEFAULT_MIB, GemmBus.mib(plain));
    assertFalse(GemmSuite.deviceFromHost(plain));
    assertEquals(GemmSuite.DEVICE_SIZES, GemmSuite.deviceSizes(plain));
    assertEquals(GemmSuite.PRECISIONS, GemmSuite.precisions(plain));
    assertTrue(GemmSuite.busRows(plain, true));
    assertFalse(GemmSuite.busRows(plain, false));
    // the lower precisions in their fixed order, strict fp32 always beside them
    BenchOptions lower = options(null, hostGemm(List.of(8192L, 16384L), null, null,
        List.of("bf16", "fp32", "tf32"), 0));
    assertEquals(List.of("tf32", "bf16"), GemmSuite.extraHostPrecisions(lower, true));
    assertFalse(GemmSuite.busRows(lower, true), "--bus-mib 0 skips the bus rows");
    // host sizes without device sizes: the device rows follow them, at the precisions the host
    // rows compare with
    assertTrue(GemmSuite.deviceFromHost(lower));
    assertEquals(List.of(8192L, 16384L), GemmSuite.deviceSizes(lower));
    assertEquals(List.of("fp32", "tf32", "bf16", "fp64"), GemmSuite.precisions(lower));
    BenchOptions fp64 = options(null, hostGemm(List.of(8192L), List.of("fp64"), null, null,
        null));
    assertEquals(List.of("fp64"), GemmSuite.precisions(fp64));
    assertEquals(List.of(8192L), GemmSuite.deviceSizes(fp64));
    // --sizes and --device-sizes keep their meaning
    assertFalse(GemmSuite.deviceFromHost(options(List.of(8L), hostGemm(List.of(16L), null, null,
        null, null))));
    BenchOptions own = options(null, new BenchOptions.Gemm(List.of(64L), List.of(16L), false,
        false, null, null, null, null, null, null, null));
    assertEquals(List.of(64L), GemmSuite.deviceSizes(own));
    assertEquals(GemmSuite.PRECISIONS, GemmSuite.precisions(own));
    // the new options narrow the run: no batched or alternating rows unless asked for
    assertTrue(GemmSuite.narrowed(options(null, new BenchOptions.Gemm(null, null, false, false,
        null, null, null, null, List.of("pinned"), null, null))));
    GemmSuite suite = new GemmSuite();
    suite.validate(options(null, hostGemm(List.of(64L), null, List.of("array", "pinned"),
        List.of("fp32", "tf32", "bf16", "fp16"), 1)));
    Object[][] bad = {
        {hostGemm(null, null, List.of("heap"), null, null), "--host-memory"},
        {hostGemm(null, null, null, List.of("fp64"), null), "--host-precisions"},
        {hostGemm(null, null, null, List.of("int8"), null), "--host-precisions"},
        {hostGemm(null, List.of("fp64"), null, List.of("bf16"), null), "--host-precisions"},
        {hostGemm(null, null, List.of("pinned"), List.of("tf32"), null), "--host-precisions"},
        {hostGemm(null, null, null, null, -1), "--bus-mib"},
        {hostGemm(null, null, null, null, 8192), "--bus-mib"},
    };
    for (Object[] c : bad) {
      BenchOptions o = options(null, (BenchOptions.Gemm) c[0]);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> suite.validate(o), c[1].toString());
      assertTrue(e.getMessage().startsWith("gemm: " + c[1]), e.getMessage());
    }
  }

  @Test
  void theBusBoundIsTheSlowerDirectionOfTheBytesSent() {
    GemmSuite.HostCase sq = new GemmSuite.HostCase("fp32", 8192, 8192, 8192, true);
    // A and B go up in the host element size, or in 16 bits for BF16 and FP16; C comes down
    for (Precision p : new Precision[] {Precision.FP32, Precision.TF32}) {
      assertEquals(4, GemmBus.sentElementBytes("fp32", p), p.name());
      assertEquals(2L * 8192 * 8192 * 4, GemmBus.upBytes(sq, p), p.name());
    }
    for (Precision p : new Precision[] {Precision.BF16, Precision.FP16}) {
      assertEquals(2, GemmBus.sentElementBytes("fp32", p), p.name());
      assertEquals(2L * 8192 * 8192 * 2, GemmBus.upBytes(sq, p), p.name());
    }
    assertEquals(8192L * 8192 * 4, GemmBus.downBytes(sq));
    GemmSuite.HostCase d = new GemmSuite.HostCase("fp64", 1000, 30, 20, false);
    assertEquals(8, GemmBus.sentElementBytes("fp64", Precision.FP64));
    assertEquals((1000L * 20 + 30L * 20) * 8, GemmBus.upBytes(d, Precision.FP64));
    assertEquals(1000L * 30 * 8, GemmBus.downBytes(d));
    // 50 GB/s up and 25 down: up takes 10.7 ms, down 10.7 ms; at 50 both ways up is slower
    long up = GemmBus.upBytes(sq, Precision.FP32);
    long down = GemmBus.downBytes(sq);
    assertEquals(up / 50.0, GemmBus.boundNs(up, down, 50, 50), 1e-6);
    assertEquals(down / 10.0, GemmBus.boundNs(up, down, 50, 10), 1e-6);
    assertTrue(Double.isNaN(GemmBus.boundNs(up, down, Double.NaN, 50)), "no bus figure");
  }
}
