package dev.gpucore.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gpucore.GpuCore;
import dev.gpucore.blas.Precision;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The block step against a plain fp64 sum of products, on the host here (and a GPU where one is). */
class BlockKernelTest {
  static GpuCore core;

  @BeforeAll
  static void open() {
    core = GpuCore.open();
  }

  @AfterAll
  static void close() {
    BlockKernel.releaseBuffers();
    core.close();
  }

  static double[] random(Random r, int n) {
    double[] d = new double[n];
    for (int i = 0; i < n; i++) {
      d[i] = r.nextDouble() * 2 - 1;
    }
    return d;
  }

  /** Column-major Σ a_t b_t in plain loops. */
  static double[] reference(int m, int n, List<BlockKernel.Pair> pairs) {
    double[] c = new double[m * n];
    for (BlockKernel.Pair p : pairs) {
      for (int j = 0; j < n; j++) {
        for (int l = 0; l < p.k(); l++) {
          double b = p.b()[l + j * p.k()];
          for (int i = 0; i < m; i++) {
            c[i + j * m] += p.a()[i + l * m] * b;
          }
        }
      }
    }
    return c;
  }

  static double relError(double[] got, double[] want) {
    double num = 0;
    double den = 0;
    for (int i = 0; i < want.length; i++) {
      num += (got[i] - want[i]) * (got[i] - want[i]);
      den += want[i] * want[i];
    }
    return Math.sqrt(num / den);
  }

  private static List<BlockKernel.Pair> pairs(Random r, int m, int n, int... ks) {
    List<BlockKernel.Pair> out = new java.util.ArrayList<>();
    for (int k : ks) {
      out.add(new BlockKernel.Pair(random(r, m * k), random(r, k * n), k));
    }
    return out;
  }

  @Test
  void sumsOfProductsMatchAnFp64ReferenceAtEachPrecision() {
    Random r = new Random(17);
    int m = 70;
    int n = 45;
    List<BlockKernel.Pair> pairs = pairs(r, m, n, 30, 64, 0, 17);
    double[] want = reference(m, n, pairs);
    int device = core.hasGpu() ? 0 : -1;
    for (int d : new int[] {-1, device}) {
      assertTrue(relError(BlockKernel.sumOfProducts(core, d, m, n, pairs, Precision.FP64), want) < 1e-14);
      assertTrue(relError(BlockKernel.sumOfProducts(core, d, m, n, pairs, Precision.DEFAULT), want) < 1e-14);
      assertTrue(relError(BlockKernel.sumOfProducts(core, d, m, n, pairs, Precision.FP32), want) < 1e-5);
      assertTrue(relError(BlockKernel.sumOfProducts(core, d, m, n, pairs, Precision.TF32), want) < 1e-3);
      assertTrue(relError(BlockKernel.sumOfProducts(core, d, m, n, pairs, Precision.BF16), want) < 1e-2);
    }
  }

  @Test
  void fourPairsOnTheHostMatchAnFp64Reference() {
    Random r = new Random(23);
    int m = 150;
    int n = 130;
    List<BlockKernel.Pair> pairs = pairs(r, m, n, 90, 90, 90, 90);
    double[] want = reference(m, n, pairs);
    assertTrue(relError(BlockKernel.sumOfProducts(core, -1, m, n, pairs, Precision.FP64), want) < 1e-14);
    assertTrue(relError(BlockKernel.sumOfProducts(core, -1, m, n, pairs, Precision.TF32), want) < 1e-3);
  }

  /** Blocks of several staging chunks and column slabs, twice (the second call reuses the buffers). */
  @Test
  void largerBlocksOnTheGpuMatchAnFp64Reference() {
    assumeTrue(core.hasGpu(), "no GPU: " + core.noGpuReason());
    Random r = new Random(29);
    int m = 300;
    int n = 2048;
    List<BlockKernel.Pair> pairs = pairs(r, m, n, 900, 0, 1100, 300);
    double[] want = reference(m, n, pairs);
    BlockKernel.releaseBuffers();
    for (int round = 0; round < 2; round++) {
      assertTrue(relError(BlockKernel.sumOfProducts(core, 0, m, n, pairs, Precision.FP64), want) < 1e-14);
      assertTrue(relError(BlockKernel.sumOfProducts(core, 0, m, n, pairs, Precision.TF32), want) < 1e-3);
      assertTrue(relError(BlockKernel.sumOfProducts(core, 0, m, n, pairs.subList(0, 1),
          Precision.FP32), reference(m, n, pairs.subList(0, 1))) < 1e-5);
    }
    assertEquals(2, BlockKernel.releaseBuffers()); // one fp64 and one fp32 set kept
    assertEquals(0, BlockKernel.releaseBuffers());
  }

  @Test
  void nothingToMultiplyGivesZeros() {
    assertArrayEquals(new double[6], BlockKernel.sumOfProducts(core, -1, 2, 3, List.of(), Precision.FP64));
    List<BlockKernel.Pair> empty = List.of(new BlockKernel.Pair(new double[0], new double[0], 0));
    assertArrayEquals(new double[6], BlockKernel.sumOfProducts(core, -1, 2, 3, empty, Precision.FP64));
  }

  @Test
  void badArgumentsAreRefusedByName() {
    List<BlockKernel.Pair> bad = List.of(new BlockKernel.Pair(new double[5], new double[6], 2));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BlockKernel.sumOfProducts(core, -1, 2, 3, bad, Precision.FP64));
    assertTrue(e.getMessage().startsWith("pairs:"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> BlockKernel.sumOfProducts(core, -1, 2, 3, List.of(), Precision.FP16));
    assertTrue(e.getMessage().startsWith("precision"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> BlockKernel.sumOfProducts(core, core.devices().size(), 2, 3, List.of(), Precision.FP64));
    assertTrue(e.getMessage().startsWith("device"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new BlockKernel.Pair(new double[0], new double[0], -1));
    assertTrue(e.getMessage().startsWith("k"), e.getMessage());
    assertEquals(0, BlockKernel.sumOfProducts(core, -1, 0, 3, List.of(), Precision.FP64).length);
    e = assertThrows(IllegalArgumentException.class,
        () -> BlockKernel.sumOfProducts(core, -1, 50_000, 50_000, List.of(), Precision.FP64));
    assertTrue(e.getMessage().startsWith("m×n"), e.getMessage());
  }
}
