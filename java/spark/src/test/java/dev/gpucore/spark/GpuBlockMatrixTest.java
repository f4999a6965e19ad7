package dev.gpucore.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.blas.Precision;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.spark.mllib.linalg.DenseMatrix;
import org.apache.spark.mllib.linalg.Matrix;
import org.junit.jupiter.api.Test;
import scala.Tuple2;

/** The cells of {@link GpuBlockMatrix} without Spark: their shape and their result blocks. */
class GpuBlockMatrixTest {
  private static final long GIB = 1L << 30;

  @Test
  void cellsGrowWhileThereAreAsManyCellsAsPartitionsAndTheyFitTheCache() {
    // 2×2 result blocks of 4096² fp64, one partition: a 2×2 cell takes 1.5 GiB
    assertArrayEquals(new int[] {2, 2}, GpuBlockMatrix.cellShape(2, 2, 1, 4096, 4096, 4096, 8, 2 * GIB));
    // with 1 GiB: two blocks of A and one of B, twice, and two result blocks
    assertArrayEquals(new int[] {2, 1}, GpuBlockMatrix.cellShape(2, 2, 1, 4096, 4096, 4096, 8, GIB));
    // as many partitions as result blocks: one block a cell
    assertArrayEquals(new int[] {1, 1}, GpuBlockMatrix.cellShape(2, 2, 4, 4096, 4096, 4096, 8, 2 * GIB));
    assertArrayEquals(new int[] {1, 1}, GpuBlockMatrix.cellShape(2, 2, 64, 64, 64, 64, 8, 2 * GIB));
    // 3×2 result blocks on 4 partitions: 4 cells of 2×1 (the last one of a single block)
    assertArrayEquals(new int[] {2, 1}, GpuBlockMatrix.cellShape(3, 2, 4, 100, 100, 100, 8, 2 * GIB));
    // 8×8 on 8 partitions: 9 cells of up to 3×3 (the sides grow in turn)
    assertArrayEquals(new int[] {3, 3}, GpuBlockMatrix.cellShape(8, 8, 8, 1000, 1000, 1000, 8, 2 * GIB));
    // nothing fits: one block a cell all the same
    assertArrayEquals(new int[] {1, 1}, GpuBlockMatrix.cellShape(4, 4, 1, 4096, 4096, 4096, 8, 0));
    // 6×6 on 4 partitions: 4×4 would leave cells of 2 and 1 rows; evened out to 3×3
    assertArrayEquals(new int[] {3, 3}, GpuBlockMatrix.cellShape(6, 6, 4, 1000, 1000, 1000, 8, 2 * GIB));
    // small blocks, one partition: at most 4 blocks a side (a task holds its cell in memory)
    assertArrayEquals(new int[] {4, 4}, GpuBlockMatrix.cellShape(16, 16, 1, 64, 64, 64, 8, 2 * GIB));
    assertArrayEquals(new int[] {1, 1}, GpuBlockMatrix.cellShape(0, 0, 0, 64, 64, 64, 8, 2 * GIB));
  }

  @Test
  void cellsGoToPartitionsInTurn() {
    GpuBlockMatrix.CellPartitioner p = new GpuBlockMatrix.CellPartitioner(4, 3);
    int[] count = new int[4];
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 3; j++) {
        count[p.getPartition(new Tuple2<>(i, j))]++;
      }
    }
    assertArrayEquals(new int[] {3, 2, 2, 2}, count);
    assertEquals(4, p.numPartitions());
    assertEquals(p, new GpuBlockMatrix.CellPartitioner(4, 3));
  }

  /** Blocks of A (i, k) and B (k, j) of the given sizes; null sizes leave the block out. */
  private static Map<String, DenseMatrix> blocks(Random r, int[] rowsOfA, int[] inner, int[] colsOfB) {
    Map<String, DenseMatrix> out = new HashMap<>();
    for (int i = 0; i < rowsOfA.length; i++) {
      for (int k = 0; k < inner.length; k++) {
        out.put("A" + i + "," + k, random(r, rowsOfA[i], inner[k]));
      }
    }
    for (int k = 0; k < inner.length; k++) {
      for (int j = 0; j < colsOfB.length; j++) {
        out.put("B" + k + "," + j, random(r, inner[k], colsOfB[j]));
      }
    }
    return out;
  }

  private static DenseMatrix random(Random r, int rows, int cols) {
    double[] v = new double[rows * cols];
    for (int x = 0; x < v.length; x++) {
      v[x] = r.nextDouble() * 2 - 1;
    }
    return new DenseMatrix(rows, cols, v);
  }

  private static List<GpuBlockMatrix.Side> sides(Map<String, DenseMatrix> blocks) {
    List<GpuBlockMatrix.Side> out = new ArrayList<>();
    blocks.forEach((key, m) -> {
      String[] ik = key.substring(1).split(",");
      int x = Integer.parseInt(ik[0]);
      int y = Integer.parseInt(ik[1]);
      out.add(key.charAt(0) == 'A' ? GpuBlockMatrix.Side.of(true, x, y, m)
          : GpuBlockMatrix.Side.of(false, y, x, m));
    });
    return out;
  }

  /** The sides of one kind by row (A) or column (B) of blocks, then by k, as a cell holds them. */
  private static TreeMap<Integer, TreeMap<Integer, GpuBlockMatrix.Side>> byIndex(
      List<GpuBlockMatrix.Side> sides, boolean left) {
    TreeMap<Integer, TreeMap<Integer, GpuBlockMatrix.Side>> out = new TreeMap<>();
    for (GpuBlockMatrix.Side s : sides) {
      if (s.left == left) {
        out.computeIfAbsent(s.index, x -> new TreeMap<>()).put(s.k, s);
      }
    }
    return out;
  }

  /** Each result block against the plain sum of its present pairs; returns the blocks' keys. */
  private static List<String> check(Map<String, DenseMatrix> blocks,
      List<Tuple2<Tuple2<Object, Object>, Matrix>> got) {
    List<String> keys = new ArrayList<>();
    for (Tuple2<Tuple2<Object, Object>, Matrix> t : got) {
      int i = (Integer) t._1()._1();
      int j = (Integer) t._1()._2();
      List<BlockKernel.Pair> pairs = new ArrayList<>();
      for (int k = 0; k < 8; k++) {
        DenseMatrix a = blocks.get("A" + i + "," + k);
        DenseMatrix b = blocks.get("B" + k + "," + j);
        if (a != null && b != null) {
          pairs.add(new BlockKernel.Pair(a.values(), b.values(), a.numCols()));
        }
      }
      Matrix c = t._2();
      double err = ExecutorCheck.relError(c.toArray(),
          ExecutorCheck.plainSum(c.numRows(), c.numCols(), pairs));
      assertTrue(err < 1e-14, "block " + i + "," + j + ": " + err);
      keys.add(i + "," + j);
    }
    keys.sort(null);
    return keys;
  }

  @Test
  void aFullCellRunsAsAGridAndGivesEveryResultBlock() {
    Map<String, DenseMatrix> b = blocks(new Random(3), new int[] {30, 30}, new int[] {20, 7, 11},
        new int[] {25, 25, 25});
    // rows 0..1 of A and columns 0..2 of B as their cell's blocks of rows 4..5 and columns 6..8
    Map<String, DenseMatrix> moved = new HashMap<>();
    b.forEach((k, v) -> {
      String[] xy = k.substring(1).split(",");
      int x = Integer.parseInt(xy[0]);
      int y = Integer.parseInt(xy[1]);
      moved.put(k.charAt(0) == 'A' ? "A" + (x + 4) + "," + y : "B" + x + "," + (y + 6), v);
    });
    assertEquals(3, GpuBlockMatrix.steps(byIndex(sides(moved), true), byIndex(sides(moved), false))
        .size(), "a full cell is a grid of one step per k");
    List<Tuple2<Tuple2<Object, Object>, Matrix>> got =
        GpuBlockMatrix.cellBlocks(sides(moved), Precision.FP64);
    assertEquals(List.of("4,6", "4,7", "4,8", "5,6", "5,7", "5,8"), check(moved, got));
  }

  @Test
  void unevenRowsMakeGridsOfTheirOwnAndCellsWithMissingBlocksRunBlockByBlock() {
    Random r = new Random(4);
    // the last row of blocks is shorter (an edge of the matrix)
    Map<String, DenseMatrix> uneven = blocks(r, new int[] {30, 12}, new int[] {20, 9}, new int[] {25, 25});
    assertNull(GpuBlockMatrix.steps(byIndex(sides(uneven), true), byIndex(sides(uneven), false)));
    // its rows of 30 and of 12 make a grid each with the two columns
    List<TreeMap<Integer, TreeMap<Integer, GpuBlockMatrix.Side>>> rows =
        GpuBlockMatrix.bySize(byIndex(sides(uneven), true), true);
    assertEquals(2, rows.size());
    for (TreeMap<Integer, TreeMap<Integer, GpuBlockMatrix.Side>> row : rows) {
      assertEquals(2, GpuBlockMatrix.steps(row, byIndex(sides(uneven), false)).size());
    }
    assertEquals(List.of("0,0", "0,1", "1,0", "1,1"),
        check(uneven, GpuBlockMatrix.cellBlocks(sides(uneven), Precision.FP64)));
    // a missing block of A: its result blocks still sum the pairs that meet
    Map<String, DenseMatrix> sparse = blocks(r, new int[] {30, 30}, new int[] {20, 9}, new int[] {25, 25});
    sparse.remove("A1,0");
    assertNull(GpuBlockMatrix.steps(byIndex(sides(sparse), true), byIndex(sides(sparse), false)));
    assertEquals(List.of("0,0", "0,1", "1,0", "1,1"),
        check(sparse, GpuBlockMatrix.cellBlocks(sides(sparse), Precision.FP64)));
    // no pair meets for row 1: its result blocks are absent
    sparse.remove("A1,1");
    assertEquals(List.of("0,0", "0,1"),
        check(sparse, GpuBlockMatrix.cellBlocks(sides(sparse), Precision.FP64)));
  }
}
