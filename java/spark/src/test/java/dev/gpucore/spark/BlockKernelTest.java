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

  /** Random pairs of m×k and k×n blocks, one per k, and their plain fp64 sum. */
  record Blocks(int m, int n, List<BlockKernel.Pair> pairs, double[] want) {
    static Blocks random(long seed, int m, int n, int... ks) {
      List<BlockKernel.Pair> pairs = ExecutorCheck.randomPairs(new Random(seed), m, n, ks);
      return new Blocks(m, n, pairs, ExecutorCheck.plainSum(m, n, pairs));
    }

    /** The first pair alone, with its own sum. */
    Blocks firstPair() {
      List<BlockKernel.Pair> one = pairs.subList(0, 1);
      return new Blocks(m, n, one, ExecutorCheck.plainSum(m, n, one));
    }

    /** Asserts that the block step on {@code device} at {@code p} is within {@code bound}. */
    void assertWithin(int device, Precision p, double bound) {
      assertWithin(device, p, bound, false);
    }

    /** As above; {@code viaSum} true runs FP64 on a core of one GPU as one gemmSum. */
    void assertWithin(int device, Precision p, double bound, boolean viaSum) {
      double e = ExecutorCheck.relError(
          BlockKernel.sumOfProducts(core, device, m, n, pairs, p, viaSum), want);
      assertTrue(e < bound, p + (viaSum ? " (one gemmSum)" : "") + " on device " + device
          + ", " + m + "x" + n + ": relative error " + e + ", bound " + bound);
    }
  }

  @Test
  void sumsOfProductsMatchAnFp64ReferenceAtEachPrecision() {
    Blocks b = Blocks.random(17, 70, 45, 30, 64, 0, 17);
    int device = core.hasGpu() ? 0 : -1;
    for (int d : new int[] {-1, device}) {
      b.assertWithin(d, Precision.FP64, 1e-14);
      b.assertWithin(d, Precision.FP64, 1e-14, true);
      b.assertWithin(d, Precision.DEFAULT, 1e-14);
      b.assertWithin(d, Precision.FP32, 1e-5);
      b.assertWithin(d, Precision.TF32, 1e-3);
      b.assertWithin(d, Precision.BF16, 1e-2);
    }
  }

  @Test
  void fourPairsOnTheHostMatchAnFp64Reference() {
    Blocks b = Blocks.random(23, 150, 130, 90, 90, 90, 90);
    b.assertWithin(-1, Precision.FP64, 1e-14);
    b.assertWithin(-1, Precision.TF32, 1e-3);
  }

  /**
   * Blocks of several staging chunks and column slabs, twice (the second call reuses the
   * buffers); FP64 also as one gemmSum.
   */
  @Test
  void largerBlocksOnTheGpuMatchAnFp64Reference() {
    assumeTrue(core.hasGpu(), "no GPU: " + core.noGpuReason());
    Blocks b = Blocks.random(29, 300, 2048, 900, 0, 1100, 300);
    Blocks first = b.firstPair();
    BlockKernel.releaseBuffers();
    for (int round = 0; round < 2; round++) {
      b.assertWithin(0, Precision.FP64, 1e-14);
      b.assertWithin(0, Precision.FP64, 1e-14, true);
      b.assertWithin(0, Precision.TF32, 1e-3);
      first.assertWithin(0, Precision.FP32, 1e-5);
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

  /** Each result block of a grid against its plain fp64 sum, on {@code device} at {@code p}. */
  static void assertGridWithin(int device, int m, int n, int rows, int cols,
      List<BlockKernel.Step> steps, Precision p, double bound) {
    double[][] got = BlockKernel.gridOfProducts(core, device, m, n, rows, cols, steps, p);
    assertEquals(rows * cols, got.length);
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        double e = ExecutorCheck.relError(got[i * cols + j],
            ExecutorCheck.plainBlock(m, n, steps, i, j));
        assertTrue(e < bound, p + " on device " + device + ", block " + i + "," + j
            + ": relative error " + e + ", bound " + bound);
      }
    }
  }

  @Test
  void gridsMatchAnFp64ReferenceAtEachPrecision() {
    List<BlockKernel.Step> steps = ExecutorCheck.randomSteps(new Random(31), 40, 70, 2, 3,
        25, 0, 60);
    int device = core.hasGpu() ? 0 : -1;
    for (int d : new int[] {-1, device}) {
      assertGridWithin(d, 40, 70, 2, 3, steps, Precision.FP64, 1e-14);
      assertGridWithin(d, 40, 70, 2, 3, steps, Precision.FP32, 1e-5);
      assertGridWithin(d, 40, 70, 2, 3, steps, Precision.BF16, 1e-2);
    }
  }

  /** A grid of several staging chunks and slabs on the GPU, and the same blocks pair by pair. */
  @Test
  void largerGridsOnTheGpuMatchAnFp64Reference() {
    assumeTrue(core.hasGpu(), "no GPU: " + core.noGpuReason());
    List<BlockKernel.Step> steps = ExecutorCheck.randomSteps(new Random(37), 300, 1100, 2, 2,
        900, 0, 700);
    for (int round = 0; round < 2; round++) {
      assertGridWithin(0, 300, 1100, 2, 2, steps, Precision.FP64, 1e-14);
      assertGridWithin(0, 300, 1100, 2, 2, steps, Precision.TF32, 1e-3);
    }
    BlockKernel.releaseBuffers();
  }

  @Test
  void badGridsAreRefusedByName() {
    double[] a = new double[6];
    double[] b = new double[9];
    List<BlockKernel.Step> one = List.of(new BlockKernel.Step(List.of(a), List.of(b), 3));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BlockKernel.gridOfProducts(core, -1, 2, 3, 2, 1, one, Precision.FP64));
    assertTrue(e.getMessage().startsWith("steps: the step of k=3 has 1 A blocks"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> BlockKernel.gridOfProducts(core, -1, 2, 4, 1, 1, one, Precision.FP64));
    assertTrue(e.getMessage().startsWith("steps: a B block of 3×4"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> BlockKernel.gridOfProducts(core, -1, 2, 3, 0, 1, one, Precision.FP64));
    assertTrue(e.getMessage().startsWith("rows and cols"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> BlockKernel.gridOfProducts(core, -1, 2, 3, 1, 1, one, Precision.FP16));
    assertTrue(e.getMessage().startsWith("precision"), e.getMessage());
    NullPointerException npe = assertThrows(NullPointerException.class,
        () -> new BlockKernel.Step(List.of(a), null, 3));
    assertEquals("b", npe.getMessage());
    double[][] c = BlockKernel.gridOfProducts(core, -1, 2, 3, 1, 1, one, Precision.FP64);
    assertEquals(1, c.length);
    assertArrayEquals(new double[6], BlockKernel.gridOfProducts(core, -1, 2, 3, 2, 2, List.of(),
        Precision.FP64)[3]);
  }
}
