package dev.gpucore.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.blas.Blas;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The GEMM contract every core keeps on Java arrays: shapes from 1×1×1 to a few hundred (primes
 * included), all transpose pairs, tight and padded leading dimensions, alpha and beta (beta = 0
 * ignores the NaN C is poisoned with; alpha = 0 or k = 0 reads neither A nor B) against a
 * float64 reference, C's padding and A and B untouched, empty outputs a no-op, and bad
 * arguments rejected with {@link GpuCoreException.InvalidArgument} naming the parameter before
 * C is touched. A backend's test class extends it and gives the core through
 * {@link OnCpuBackend} or {@link RequiresGpu}; it may override {@link #blasUnderTest} to run
 * the contract on another configuration of that backend (the GPU module forces the calls to
 * the GPU).
 */
public abstract class GemmContract {
  protected static final long BASE_SEED = System.nanoTime();
  private static Blas blas;

  @BeforeEach
  void useCore(GpuCore given) {
    blas = blasUnderTest(given);
  }

  /** The GEMM facade the contract runs on; by default the given core's. */
  protected Blas blasUnderTest(GpuCore given) {
    return given.blas();
  }

  /** One GEMM problem with row-major storage and explicit leading dimensions. */
  public record Problem(boolean ta, boolean tb, int m, int n, int k, int padA, int padB, int padC,
      float alpha, float beta) implements GemmShape {
    int lda() {
      return Math.max(1, aCols()) + padA;
    }

    int ldb() {
      return Math.max(1, bCols()) + padB;
    }

    int ldc() {
      return Math.max(1, n) + padC;
    }

    static int size(int rows, int cols, int ld) {
      return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols;
    }

    double opA(float[] a, int i, int p) {
      return ta ? a[p * lda() + i] : a[i * lda() + p];
    }

    double opB(float[] b, int p, int j) {
      return tb ? b[j * ldb() + p] : b[p * ldb() + j];
    }
  }

  /** A new array of {@code len} copies of {@code v}. */
  private static float[] filled(int len, float v) {
    float[] x = new float[len];
    Arrays.fill(x, v);
    return x;
  }

  private static float[] random(Random r, int len) {
    float[] x = new float[len];
    for (int i = 0; i < len; i++) {
      x[i] = (float) (2 * r.nextDouble() - 1);
    }
    return x;
  }

  /**
   * Runs one problem on fresh random data and checks it against a float64 reference, both in
   * the Frobenius norm over C's m×n elements and for C's padding, which must stay untouched.
   */
  protected static void check(Problem p, long seed) {
    check(blas, p, seed);
  }

  /** {@link #check(Problem, long)} through the given facade. */
  protected static void check(Blas blas, Problem p, long seed) {
    String ctx = p + " seed=" + seed;
    Random r = new Random(seed);
    float[] a = random(r, Problem.size(p.aRows(), p.aCols(), p.lda()));
    float[] b = random(r, Problem.size(p.bRows(), p.bCols(), p.ldb()));
    float[] c = random(r, Problem.size(p.m(), p.n(), p.ldc()));
    // padding between rows of C holds a sentinel that must survive
    for (int i = 0; i < c.length; i++) {
      if (i % p.ldc() >= p.n()) {
        c[i] = 12345f;
      }
    }
    if (p.beta() == 0f) {
      for (int i = 0; i < p.m(); i++) {
        Arrays.fill(c, i * p.ldc(), i * p.ldc() + p.n(), Float.NaN);
      }
    }
    float[] c0 = c.clone();
    double[] ref = new double[p.m() * p.n()];
    // |alpha|·|op(A)|·|op(B)| + |beta·C|: the scale of the rounding errors, which a cancelling
    // sum (ref near 0) does not shrink
    double[] scale = new double[p.m() * p.n()];
    for (int i = 0; i < p.m(); i++) {
      for (int j = 0; j < p.n(); j++) {
        double s = 0;
        double abs = 0;
        for (int q = 0; q < p.k(); q++) {
          double t = p.opA(a, i, q) * p.opB(b, q, j);
          s += t;
          abs += Math.abs(t);
        }
        double prior = p.beta() == 0f ? 0 : (double) p.beta() * c0[i * p.ldc() + j];
        ref[i * p.n() + j] = p.alpha() * s + prior;
        scale[i * p.n() + j] = Math.abs(p.alpha()) * abs + Math.abs(prior);
      }
    }
    float[] a0 = a.clone();
    float[] b0 = b.clone();

    blas.sgemm(p.ta(), p.tb(), p.m(), p.n(), p.k(), p.alpha(), a, p.lda(), b, p.ldb(), p.beta(),
        c, p.ldc());

    assertArrayEquals(a0, a, "A modified: " + ctx);
    assertArrayEquals(b0, b, "B modified: " + ctx);
    double errSq = 0;
    double refSq = 0;
    for (int i = 0; i < p.m(); i++) {
      for (int j = 0; j < p.ldc() && i * p.ldc() + j < c.length; j++) {
        float got = c[i * p.ldc() + j];
        if (j >= p.n()) {
          assertEquals(12345f, got, "padding of C at (" + i + "," + j + ") written: " + ctx);
          continue;
        }
        if (!Float.isFinite(got)) {
          fail("C(" + i + "," + j + ") = " + got + ": " + ctx);
        }
        double d = got - ref[i * p.n() + j];
        errSq += d * d;
        refSq += scale[i * p.n() + j] * scale[i * p.n() + j];
      }
    }
    double bound = 1e-5 * Math.sqrt(Math.max(1, p.k()));
    double rel = Math.sqrt(errSq) / Math.max(Math.sqrt(refSq), Double.MIN_NORMAL);
    assertTrue(rel <= bound || Math.sqrt(errSq) <= 1e-30,
        "Frobenius error relative to |alpha||A||B| + |beta C| " + rel + " > " + bound + ": "
            + ctx);
  }

  static Stream<Arguments> shapes() {
    int[][] mnk = {
      {1, 1, 1}, {1, 1, 7}, {1, 13, 1}, {17, 1, 1}, {1, 1, 300},
      {2, 3, 5}, {7, 11, 13}, {31, 37, 41}, {61, 3, 97}, {5, 101, 2},
      {64, 64, 64}, {128, 96, 80}, {127, 129, 131}, {200, 150, 257}, {3, 257, 199},
    };
    Stream.Builder<Arguments> out = Stream.builder();
    int idx = 0;
    for (int[] s : mnk) {
      for (boolean ta : new boolean[] {false, true}) {
        for (boolean tb : new boolean[] {false, true}) {
          // alternate tight and padded leading dimensions, and beta zero / non-zero
          int pad = idx % 3 == 0 ? 0 : (idx % 3 == 1 ? 1 : 5);
          float beta = idx % 2 == 0 ? 0f : -0.75f;
          float alpha = idx % 4 == 3 ? -1.5f : 1f;
          out.add(Arguments.of(new Problem(ta, tb, s[0], s[1], s[2], pad, 2 * pad, pad + 3,
              alpha, beta)));
          idx++;
        }
      }
    }
    return out.build();
  }

  @ParameterizedTest
  @MethodSource("shapes")
  void matchesFloat64Reference(Problem p) {
    check(p, BASE_SEED + p.hashCode());
  }

  @Test
  void allTransposePairsTightAndPadded() {
    long seed = BASE_SEED;
    for (boolean ta : new boolean[] {false, true}) {
      for (boolean tb : new boolean[] {false, true}) {
        check(new Problem(ta, tb, 23, 19, 29, 0, 0, 0, 1f, 0f), seed++);
        check(new Problem(ta, tb, 23, 19, 29, 7, 3, 11, 0.5f, 2f), seed++);
        check(new Problem(ta, tb, 1, 1, 1, 4, 4, 4, 2f, 0f), seed++);
      }
    }
  }

  @Test
  void betaZeroIgnoresNaNInC() {
    for (boolean ta : new boolean[] {false, true}) {
      for (boolean tb : new boolean[] {false, true}) {
        // check() poisons C's m×n region with NaN when beta == 0
        check(new Problem(ta, tb, 40, 30, 20, 2, 0, 1, 1f, 0f), BASE_SEED + 99);
      }
    }
  }

  @Test
  void kZeroGivesBetaTimesC() {
    int m = 6;
    int n = 9;
    int ldc = 11;
    float[] a = {Float.NaN};
    float[] b = {Float.NaN};
    checkBetaTimesC("k=0", BASE_SEED + 5, m, n, ldc, -2.5f,
        (beta, c) -> blas.sgemm(false, false, m, n, 0, 1f, a, 1, b, n, beta, c, ldc));
  }

  @Test
  void alphaZeroGivesBetaTimesCWithoutReadingAB() {
    int m = 12;
    int n = 10;
    int k = 8;
    float[] a = filled(m * k, Float.NaN);
    float[] b = filled(k * n, Float.POSITIVE_INFINITY);
    checkBetaTimesC("alpha=0", BASE_SEED + 6, m, n, n, 0.5f,
        (beta, c) -> blas.sgemm(false, true, m, n, k, 0f, a, k, b, k, beta, c, n));
  }

  /**
   * For beta 0, 1 and {@code otherBeta}: after {@code call} (beta, C), C (m×n, leading dimension
   * {@code ldc}, random, NaN inside the result where beta is 0) must be beta·C, exactly, with its
   * padding untouched.
   */
  private static void checkBetaTimesC(String what, long seed, int m, int n, int ldc,
      float otherBeta, java.util.function.BiConsumer<Float, float[]> call) {
    Random r = new Random(seed);
    for (float beta : new float[] {0f, 1f, otherBeta}) {
      float[] c = random(r, (m - 1) * ldc + n);
      float[] c0 = c.clone();
      if (beta == 0f) {
        for (int i = 0; i < c.length; i++) {
          if (i % ldc < n) {
            c[i] = Float.NaN;
          }
        }
      }
      call.accept(beta, c);
      for (int i = 0; i < c.length; i++) {
        float want = i % ldc >= n ? c0[i] : beta == 0f ? 0f : beta * c0[i];
        assertEquals(want, c[i], what + " beta=" + beta + " index " + i + " seed=" + seed);
      }
    }
  }

  @Test
  void emptyOutputDoesNothing() {
    float[] c = {1, 2, 3};
    blas.sgemm(false, false, 0, 3, 4, 1f, new float[0], 4, new float[12], 3, 0f, c, 3);
    blas.sgemm(false, false, 1, 0, 4, 1f, new float[4], 4, new float[0], 1, 0f, c, 1);
    assertArrayEquals(new float[] {1, 2, 3}, c);
  }

  // ---- bad input ----

  private static void rejects(String name, Executable call, float[] c) {
    float[] before = c == null ? null : c.clone();
    GpuCoreException.InvalidArgument e =
        assertThrows(GpuCoreException.InvalidArgument.class, call, name);
    assertTrue(e.getMessage().startsWith(name + " "), "message should start with the name "
        + name + ": " + e.getMessage());
    if (c != null) {
      assertArrayEquals(before, c, "C changed by a failed call naming " + name);
    }
  }

  @Test
  void badInputThrowsNamingTheParameterAndLeavesC() {
    int m = 4;
    int n = 5;
    int k = 3;
    float[] a = filled(m * k, 1f);
    float[] b = filled(k * n, 1f);
    float[] c = new float[m * n];
    Arrays.fill(c, 7f);

    rejects("m", () -> blas.sgemm(false, false, -1, n, k, 1f, a, k, b, n, 0f, c, n), c);
    rejects("n", () -> blas.sgemm(false, false, m, -1, k, 1f, a, k, b, n, 0f, c, n), c);
    rejects("k", () -> blas.sgemm(false, false, m, n, -1, 1f, a, k, b, n, 0f, c, n), c);
    rejects("lda", () -> blas.sgemm(false, false, m, n, k, 1f, a, k - 1, b, n, 0f, c, n), c);
    rejects("lda", () -> blas.sgemm(true, false, m, n, k, 1f, a, m - 1, b, n, 0f, c, n), c);
    rejects("ldb", () -> blas.sgemm(false, false, m, n, k, 1f, a, k, b, n - 1, 0f, c, n), c);
    rejects("ldb", () -> blas.sgemm(false, true, m, n, k, 1f, a, k, b, k - 1, 0f, c, n), c);
    rejects("ldc", () -> blas.sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, c, n - 1), c);
    rejects("ldc", () -> blas.sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, c, 0), c);
    rejects("a", () -> blas.sgemm(false, false, m, n, k, 1f,
        new float[m * k - 1], k, b, n, 0f, c, n), c);
    rejects("a", () -> blas.sgemm(false, false, m, n, k, 1f, a, k + 1, b, n, 0f, c, n), c);
    rejects("b", () -> blas.sgemm(false, false, m, n, k, 1f,
        a, k, new float[k * n - 1], n, 0f, c, n), c);
    rejects("c", () -> blas.sgemm(false, false, m, n, k, 1f,
        a, k, b, n, 0f, new float[m * n - 1], n), null);
    float[] shortC = new float[m * n];
    Arrays.fill(shortC, 7f);
    rejects("c", () -> blas.sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, shortC, n + 1),
        shortC);
    rejects("a", () -> blas.sgemm(false, false, m, n, k, 1f, null, k, b, n, 0f, c, n), c);
    rejects("b", () -> blas.sgemm(false, false, m, n, k, 1f, a, k, null, n, 0f, c, n), c);
    rejects("c", () -> blas.sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, null, n), null);

    // c aliasing a or b: square shapes so the lengths alone would pass
    float[] sq = new float[16];
    Arrays.fill(sq, 2f);
    float[] other = new float[16];
    rejects("c", () -> blas.sgemm(false, false, 4, 4, 4, 1f, sq, 4, other, 4, 0f, sq, 4), sq);
    rejects("c", () -> blas.sgemm(false, false, 4, 4, 4, 1f, other, 4, sq, 4, 1f, sq, 4), sq);
    assertArrayEquals(new float[16], other);
  }
}
