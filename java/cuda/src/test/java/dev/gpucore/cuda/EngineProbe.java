package dev.gpucore.cuda;

import dev.gpucore.DType;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.spi.GemmCall;
import dev.gpucore.testkit.SoakCases;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Child-JVM program of {@link EngineFakeGpuTest}: row-major GEMMs from Java arrays through
 * {@link CudaHostGemm#engineItem} (the JNI glue and the engine, without the rest of the CUDA
 * backend), every transpose, both precisions, beta 0 (C poisoned with NaN) and not, padded
 * leading dimensions, operand offsets and a batch of two; each checked against a float64
 * reference, C's padding and the elements around C unchanged; with {@code sums}, sums of products
 * through {@link CudaHostGemm#engineSum} likewise (one engine call per sum). Prints
 * {@code engine probe: N passed, M failed}.
 */
public final class EngineProbe {
  private static int passed;
  private static int failed;

  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals("sums")) {
      sums();
      return;
    }
    if (args.length > 0 && args[0].endsWith("-sum")) {
      sumFailures(args[0]);
      return;
    }
    if (args.length > 0 && !args[0].equals("gemms")) {
      failures(args[0]);
      return;
    }
    SplittableRandom rnd = new SplittableRandom(5);
    for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
      for (int ta = 0; ta < 2; ta++) {
        for (int tb = 0; tb < 2; tb++) {
          for (double beta : new double[] {0, 0.5}) {
            one(rnd, t, ta == 1, tb == 1, 157, 133, 91, beta, ta + tb == 1 ? 2 : 1);
          }
        }
      }
    }
    one(rnd, DType.FLOAT64, false, false, 1, 1, 1, 0.5, 1);
    // a failure comes back as a result, not a crash: device 63 is not visible
    int[] result = new int[2];
    byte[] err = new byte[400];
    float[] x = new float[16];
    GemmCall bad = new GemmCall(false, false, 4, 4, 1, 1, 0, Precision.FP32, DType.FLOAT32,
        Operand.of(x), 1, Operand.of(x), 4, Operand.of(new float[16]), 4, 1, 0, 0, 0, null,
        GemmCall.OnHost.INSTANCE);
    CudaHostGemm.engineItem(bad, 0, 63, result, err);
    String why = new String(err, java.nio.charset.StandardCharsets.UTF_8).trim();
    check("device 63: " + result[0] + " " + why,
        result[0] == 4 && why.startsWith("GPU 63 is not visible"));
    System.out.println("engine probe: " + passed + " passed, " + failed + " failed");
    System.exit(failed == 0 ? 0 : 1);
  }

  /**
   * With the stand-in told to fail: {@code fault} (its first cuBLAS call fails) gives a fault
   * with C untouched, then the engine refuses the GPU; {@code memory} (no device memory) gives
   * an out-of-memory with C untouched.
   */
  private static void failures(String mode) {
    float[] a = new float[64 * 64];
    float[] c = new float[64 * 64];
    java.util.Arrays.fill(a, 1);
    java.util.Arrays.fill(c, 7);
    GemmCall call = new GemmCall(false, false, 64, 64, 64, 1, 0.5, Precision.FP32, DType.FLOAT32,
        Operand.of(a), 64, Operand.of(a), 64, Operand.of(c), 64, 1, 0, 0, 0, null,
        GemmCall.OnHost.INSTANCE);
    int[] result = new int[2];
    byte[] err = new byte[400];
    CudaHostGemm.engineItem(call, 0, 0, result, err);
    String why = new String(err, java.nio.charset.StandardCharsets.UTF_8).trim();
    boolean untouched = true;
    for (float x : c) {
      untouched &= x == 7;
    }
    if (mode.equals("fault")) {
      check("fault: " + result[0] + "/" + result[1] + " " + why,
          result[0] == 2 && result[1] == 0 && why.startsWith("cublasSgemm: status") && untouched);
      java.util.Arrays.fill(err, (byte) 0);
      CudaHostGemm.engineItem(call, 0, 0, result, err);
      why = new String(err, java.nio.charset.StandardCharsets.UTF_8).trim();
      check("after the fault: " + result[0] + " " + why,
          result[0] == 4 && why.startsWith("disabled after a GPU failure: cublasSgemm"));
    } else {
      check("memory: " + result[0] + "/" + result[1] + " " + why,
          result[0] == 1 && result[1] == 0 && why.contains("out of memory") && untouched);
    }
    System.out.println("engine probe: " + passed + " passed, " + failed + " failed");
    System.exit(failed == 0 ? 0 : 1);
  }

  /**
   * Sums of products through {@link CudaHostGemm#engineSum} (one engine call per sum): both
   * layouts (a column-major sum given to the engine as the API gives it, in row-major form),
   * every transpose, both precisions, beta 0 (C poisoned) and not, 3 and 9 pairs, each operand
   * with a padded leading dimension of its own at an offset, in a Java array or a host array;
   * then a device that is not visible.
   */
  private static void sums() {
    SplittableRandom rnd = new SplittableRandom(11);
    int[] three = {40, 91, 7};
    int[] nine = {1, 33, 2, 64, 5, 17, 128, 3, 9};
    for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
      for (boolean rowMajor : new boolean[] {true, false}) {
        for (int tr = 0; tr < 4; tr++) {
          for (double beta : new double[] {0, 0.5}) {
            sum(rnd, t, rowMajor, (tr & 1) != 0, (tr & 2) != 0, 157, 133,
                tr == 3 && beta == 0 ? nine : three, beta, tr % 2 == 0);
          }
        }
      }
    }
    int[] result = new int[2];
    byte[] err = new byte[400];
    float[] x = new float[16];
    float[] c = new float[16];
    java.util.Arrays.fill(c, 7);
    List<GemmCall> bad = List.of(
        new GemmCall(false, false, 4, 4, 1, 1, 0, Precision.FP32, DType.FLOAT32, Operand.of(x),
            1, Operand.of(x), 4, Operand.of(c), 4, 1, 0, 0, 0, null, GemmCall.OnHost.INSTANCE),
        new GemmCall(false, false, 4, 4, 2, 1, 1, Precision.FP32, DType.FLOAT32, Operand.of(x),
            2, Operand.of(x), 4, Operand.of(c), 4, 1, 0, 0, 0, null, GemmCall.OnHost.INSTANCE));
    CudaHostGemm.engineSum(bad, 63, result, err);
    String why = new String(err, java.nio.charset.StandardCharsets.UTF_8).trim();
    boolean untouched = true;
    for (float v : c) {
      untouched &= v == 7;
    }
    check("sum on device 63: " + result[0] + " " + why,
        result[0] == 4 && why.startsWith("GPU 63 is not visible") && untouched);
    System.out.println("engine probe: " + passed + " passed, " + failed + " failed");
    System.exit(failed == 0 ? 0 : 1);
  }

  /**
   * A sum with the stand-in told to fail: {@code fault-sum} (its first cuBLAS call fails) and
   * {@code memory-sum} (no device memory) give the fault or out-of-memory with C untouched.
   */
  private static void sumFailures(String mode) {
    float[] a = new float[64 * 64];
    float[] b = new float[32 * 64];
    float[] c = new float[64 * 64];
    java.util.Arrays.fill(a, 1);
    java.util.Arrays.fill(b, 2);
    java.util.Arrays.fill(c, 7);
    List<GemmCall> pairs = List.of(
        new GemmCall(false, false, 64, 64, 64, 1, 0.5, Precision.FP32, DType.FLOAT32,
            Operand.of(a), 64, Operand.of(a), 64, Operand.of(c), 64, 1, 0, 0, 0, null,
            GemmCall.OnHost.INSTANCE),
        new GemmCall(false, false, 64, 64, 32, 1, 1, Precision.FP32, DType.FLOAT32,
            Operand.of(b), 32, Operand.of(b), 64, Operand.of(c), 64, 1, 0, 0, 0, null,
            GemmCall.OnHost.INSTANCE));
    int[] result = new int[2];
    byte[] err = new byte[400];
    CudaHostGemm.engineSum(pairs, 0, result, err);
    String why = new String(err, java.nio.charset.StandardCharsets.UTF_8).trim();
    boolean untouched = true;
    for (float x : c) {
      untouched &= x == 7;
    }
    if (mode.equals("fault-sum")) {
      check("fault: " + result[0] + "/" + result[1] + " " + why,
          result[0] == 2 && result[1] == 0 && why.startsWith("cublasSgemm: status") && untouched);
    } else {
      check("memory: " + result[0] + "/" + result[1] + " " + why,
          result[0] == 1 && result[1] == 0 && why.contains("out of memory") && untouched);
    }
    System.out.println("engine probe: " + passed + " passed, " + failed + " failed");
    System.exit(failed == 0 ? 0 : 1);
  }

  /** One stored matrix of a sum: its values in a mirror, and where they live. */
  private record Stored(double[] mirror, Object data, int off, int ld, boolean rowMajor) {
    double get(int i, int j) {
      return mirror[off + (rowMajor ? i * ld + j : i + j * ld)];
    }

    /** The storage's values now. */
    double[] read() {
      return SoakCases.read(data);
    }

    /** Frees a host array (a Java array is the collector's). */
    void free() {
      if (data instanceof dev.gpucore.memory.HostArray h) {
        h.close();
      }
    }
  }

  /** A rows×cols matrix at a random offset in a Java array or (hostArray) a host array. */
  private static Stored stored(SplittableRandom rnd, DType t, boolean rowMajor, int rows,
      int cols, int pad, boolean hostArray) {
    int ld = (rowMajor ? cols : rows) + pad;
    int off = rnd.nextInt(9);
    int len = off + (rowMajor ? (rows - 1) * ld + cols : (cols - 1) * ld + rows) + 5;
    boolean f32 = t == DType.FLOAT32;
    double[] mirror = values(rnd, len, f32);
    Object data;
    if (hostArray) {
      dev.gpucore.memory.HostArray h = dev.gpucore.memory.HostArray.allocatePageable(t, len);
      SoakCases.put(h, mirror);
      data = h;
    } else {
      data = f32 ? SoakCases.floats(mirror) : mirror.clone();
    }
    return new Stored(mirror, data, off, ld, rowMajor);
  }

  /**
   * One sum of {@code ks.length} pairs, C m×n in the layout given, checked against float64:
   * C within the bound, its padding and the elements around it unchanged, A and B unchanged.
   */
  private static void sum(SplittableRandom rnd, DType t, boolean rowMajor, boolean ta,
      boolean tb, int m, int n, int[] ks, double beta, boolean cInHostArray) {
    int parts = ks.length;
    Stored[] a = new Stored[parts];
    Stored[] b = new Stored[parts];
    int k = 0;
    for (int p = 0; p < parts; p++) {
      int kp = ks[p];
      k += kp;
      // Java arrays and host arrays mixed: A in a host array for odd pairs, B for even ones
      a[p] = stored(rnd, t, rowMajor, ta ? kp : m, ta ? m : kp, 1 + p % 3, p % 2 == 1);
      b[p] = stored(rnd, t, rowMajor, tb ? n : kp, tb ? kp : n, 1 + (p + 1) % 3, p % 2 == 0);
    }
    boolean f32 = t == DType.FLOAT32;
    Stored c = stored(rnd, t, rowMajor, m, n, 5, cInHostArray);
    double alpha = -1.25;
    double[] want = c.mirror().clone();
    boolean[] inC = new boolean[want.length];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int p = 0; p < parts; p++) {
          for (int q = 0; q < ks[p]; q++) {
            s += (ta ? a[p].get(q, i) : a[p].get(i, q)) * (tb ? b[p].get(j, q) : b[p].get(q, j));
          }
        }
        int at = c.off() + (rowMajor ? i * c.ld() + j : i + j * c.ld());
        want[at] = alpha * s + (beta == 0 ? 0 : beta * c.mirror()[at]);
        inC[at] = true;
      }
    }
    if (beta == 0) { // NaN over C: beta = 0 must not read it
      double[] nan = c.mirror().clone();
      for (int e = 0; e < nan.length; e++) {
        if (inC[e]) {
          nan[e] = Double.NaN;
        }
      }
      if (c.data() instanceof dev.gpucore.memory.HostArray h) {
        SoakCases.put(h, nan);
      } else if (c.data() instanceof float[] f) {
        System.arraycopy(SoakCases.floats(nan), 0, f, 0, f.length);
      } else {
        System.arraycopy(nan, 0, (double[]) c.data(), 0, nan.length);
      }
    }
    // the pairs as the API gives them: row-major, a column-major sum with A and B, m and n and
    // the transposes swapped; beta on the first pair, 1 on the others
    Precision prec = f32 ? Precision.FP32 : Precision.FP64;
    Operand oc = SoakCases.operand(c.data(), c.off());
    List<GemmCall> pairs = new java.util.ArrayList<>();
    for (int p = 0; p < parts; p++) {
      Operand oa = SoakCases.operand(a[p].data(), a[p].off());
      Operand ob = SoakCases.operand(b[p].data(), b[p].off());
      double bp = p == 0 ? beta : 1;
      pairs.add(rowMajor
          ? new GemmCall(ta, tb, m, n, ks[p], alpha, bp, prec, t, oa, a[p].ld(), ob, b[p].ld(),
              oc, c.ld(), 1, 0, 0, 0, null, GemmCall.OnHost.INSTANCE)
          : new GemmCall(tb, ta, n, m, ks[p], alpha, bp, prec, t, ob, b[p].ld(), oa, a[p].ld(),
              oc, c.ld(), 1, 0, 0, 0, null, GemmCall.OnHost.INSTANCE));
    }
    int[] result = new int[2];
    byte[] err = new byte[400];
    try {
      CudaHostGemm.engineSum(pairs, 0, result, err);
      checkSum(pairs.size(), ks, t, rowMajor, ta, tb, m, n, beta, result, err, a, b, c, want,
          inC);
    } finally {
      for (Stored x : a) {
        x.free();
      }
      for (Stored x : b) {
        x.free();
      }
      c.free();
    }
  }

  /** Checks a sum's result (see {@link #sum}). */
  private static void checkSum(int parts, int[] ks, DType t, boolean rowMajor, boolean ta,
      boolean tb, int m, int n, double beta, int[] result, byte[] err, Stored[] a, Stored[] b,
      Stored c, double[] want, boolean[] inC) {
    boolean f32 = t == DType.FLOAT32;
    int k = java.util.Arrays.stream(ks).sum();
    String what = "sum " + t + (rowMajor ? " row-major " : " column-major ") + (ta ? "T" : "N")
        + (tb ? "T" : "N") + " m=" + m + " n=" + n + " k=" + java.util.Arrays.toString(ks)
        + " beta=" + beta;
    if (result[0] != 0) {
      check(what + ": engine result " + result[0] + " "
          + new String(err, java.nio.charset.StandardCharsets.UTF_8).trim(), false);
      return;
    }
    double[] got = c.read();
    double worst = 0;
    int changed = 0;
    for (int e = 0; e < want.length; e++) {
      if (inC[e]) {
        double d = Math.abs(got[e] - want[e]);
        worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(worst, d);
      } else if (Double.compare(got[e], want[e]) != 0) {
        changed++;
      }
    }
    int inputsChanged = 0;
    for (Stored x : a) {
      inputsChanged += java.util.Arrays.equals(x.read(), x.mirror()) ? 0 : 1;
    }
    for (Stored x : b) {
      inputsChanged += java.util.Arrays.equals(x.read(), x.mirror()) ? 0 : 1;
    }
    double tol = (f32 ? 1e-5 : 1e-12) * k;
    check(what + ": max error " + worst + ", " + changed + " elements outside C changed, "
        + inputsChanged + " inputs changed", worst <= tol && changed == 0 && inputsChanged == 0);
  }

  private static void check(String what, boolean ok) {
    if (ok) {
      passed++;
    } else {
      failed++;
      System.out.println("FAIL " + what);
    }
  }

  private static void one(SplittableRandom rnd, DType t, boolean ta, boolean tb, int m, int n,
      int k, double beta, int batch) {
    int aRows = ta ? k : m;
    int aCols = ta ? m : k;
    int bRows = tb ? n : k;
    int bCols = tb ? k : n;
    int lda = aCols + 3;
    int ldb = bCols + 2;
    int ldc = n + 5;
    int offA = 7;
    int offB = 3;
    int offC = 11;
    long strideA = (long) aRows * lda + 1;
    long strideB = (long) bRows * ldb;
    long strideC = (long) m * ldc + 2;
    int sizeA = (int) (offA + strideA * batch);
    int sizeB = (int) (offB + strideB * batch);
    int sizeC = (int) (offC + strideC * batch + 9);
    boolean f32 = t == DType.FLOAT32;
    double[] a = values(rnd, sizeA, f32);
    double[] b = values(rnd, sizeB, f32);
    double[] c = values(rnd, sizeC, f32);
    double alpha = -1.25;
    double[] want = c.clone();
    for (int p = 0; p < batch; p++) {
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          double s = 0;
          for (int q = 0; q < k; q++) {
            double x = a[(int) (offA + p * strideA + (ta ? (long) q * lda + i : (long) i * lda + q))];
            double y = b[(int) (offB + p * strideB + (tb ? (long) j * ldb + q : (long) q * ldb + j))];
            s += x * y;
          }
          int at = (int) (offC + p * strideC + (long) i * ldc + j);
          want[at] = alpha * s + (beta == 0 ? 0 : beta * c[at]);
        }
      }
    }
    Object ga = f32 ? SoakCases.floats(a) : a;
    Object gb = f32 ? SoakCases.floats(b) : b;
    Object gc = f32 ? SoakCases.floats(c) : c.clone();
    if (beta == 0) {
      poison(gc, offC, strideC, batch, m, n, ldc);
    }
    Operand oa = SoakCases.operand(ga, offA);
    Operand ob = SoakCases.operand(gb, offB);
    Operand oc = SoakCases.operand(gc, offC);
    GemmCall call = new GemmCall(ta, tb, m, n, k, alpha, beta,
        f32 ? Precision.FP32 : Precision.FP64, t, oa, lda, ob, ldb, oc, ldc, batch, strideA,
        strideB, strideC, null, GemmCall.OnHost.INSTANCE);
    int[] result = new int[2];
    byte[] err = new byte[400];
    for (int p = 0; p < batch; p++) {
      CudaHostGemm.engineItem(call, p, 0, result, err);
      if (result[0] != 0) {
        check(t + " item " + p + ": engine result " + result[0] + " "
            + new String(err, java.nio.charset.StandardCharsets.UTF_8).trim(), false);
        return;
      }
    }
    double worst = 0;
    int changed = 0;
    for (int i = 0; i < sizeC; i++) {
      double got = f32 ? ((float[]) gc)[i] : ((double[]) gc)[i];
      double w = f32 ? (float) want[i] : want[i];
      boolean inC = false;
      long rel = i - offC;
      if (rel >= 0 && rel < strideC * batch) {
        long r = rel % strideC;
        inC = r < (long) m * ldc && r % ldc < n;
      }
      if (inC) {
        double d = Math.abs(got - want[i]);
        worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(worst, d);
      } else if (Double.compare(got, w) != 0) {
        changed++;
      }
    }
    double tol = (f32 ? 1e-5 : 1e-12) * k;
    check(t + (ta ? " T" : " N") + (tb ? "T" : "N") + " m=" + m + " n=" + n + " k=" + k
        + " beta=" + beta + " batch=" + batch + ": max error " + worst + ", " + changed
        + " elements outside C changed", worst <= tol && changed == 0);
  }

  /** Values in [-0.5, 0.5), fp32 values when {@code f32}. */
  private static double[] values(SplittableRandom rnd, int size, boolean f32) {
    double[] x = new double[size];
    for (int i = 0; i < size; i++) {
      x[i] = f32 ? (float) (rnd.nextDouble() - 0.5) : rnd.nextDouble() - 0.5;
    }
    return x;
  }

  /** NaN over C's rows (not their padding) in every batch item of {@code c}. */
  private static void poison(Object c, int offC, long strideC, int batch, int m, int n, int ldc) {
    for (int p = 0; p < batch; p++) {
      for (int i = 0; i < m; i++) {
        int from = (int) (offC + p * strideC + (long) i * ldc);
        if (c instanceof float[] f) {
          Arrays.fill(f, from, from + n, Float.NaN);
        } else {
          Arrays.fill((double[]) c, from, from + n, Double.NaN);
        }
      }
    }
  }

  private EngineProbe() {}
}
