package dev.gpucore.spark;

import dev.gpucore.blas.Precision;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.apache.spark.Partitioner;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.mllib.linalg.DenseMatrix;
import org.apache.spark.mllib.linalg.Matrix;
import org.apache.spark.mllib.linalg.distributed.BlockMatrix;
import org.apache.spark.resource.ResourceInformation;
import scala.Tuple2;

/**
 * {@link BlockMatrix} products on the GPU: {@code GpuBlockMatrix.multiply(a, b)} is
 * {@code a.multiply(b)} with each result block's products and their sum computed by gpucore
 * ({@link BlockKernel}) on the task's GPU, the sums kept on the device.
 *
 * <p>Spark's {@code multiply} computes each block product on its own (one {@code dgemm}), shuffles
 * the products and sums them on the CPU with Breeze. Here the result blocks are grouped in
 * cells (rectangles of result blocks, {@link #cellShape}); the blocks that meet in a cell are
 * brought together first (each left block sent to every cell of its row of blocks, each right
 * block to every cell of its column), then one task computes the cell's
 * {@code C_ij = Σ_k A_ik·B_kj} with the partial sums on the GPU, each of its blocks sent to the
 * GPU once for all the cell's result blocks that use it ({@link BlockKernel#gridOfProducts}).
 * Rows and columns of a cell whose blocks differ in size (the edges of the matrix) make grids of
 * their own; a cell with missing blocks runs result block by result block
 * ({@link BlockKernel#sumOfProducts}). The task's GPU is the one Spark gave the task (its
 * {@code gpu} resource), else the executor's, else gpucore's first; without one the same calls
 * run on the CPU.
 *
 * <p>Sparse blocks are multiplied as dense. Result blocks with no pair of blocks to multiply are
 * absent, as with {@code BlockMatrix.multiply}.
 */
public final class GpuBlockMatrix {
  private GpuBlockMatrix() {}

  /** {@code a·b} in fp64. */
  public static BlockMatrix multiply(BlockMatrix a, BlockMatrix b) {
    return multiply(a, b, Precision.FP64);
  }

  /**
   * {@code a·b}.
   *
   * @param precision {@code FP64} (or {@code DEFAULT}); {@code FP32}, {@code TF32} or
   *     {@code BF16} multiply the blocks in fp32 at that precision (see {@link Precision} for
   *     their error bounds)
   * @throws IllegalArgumentException when the shapes or block sizes do not match (as
   *     {@code BlockMatrix.multiply} requires) or the precision is FP16
   */
  public static BlockMatrix multiply(BlockMatrix a, BlockMatrix b, Precision precision) {
    Objects.requireNonNull(a, "a");
    Objects.requireNonNull(b, "b");
    Objects.requireNonNull(precision, "precision");
    if (a.numCols() != b.numRows()) {
      throw new IllegalArgumentException("a has " + a.numCols() + " columns but b has " + b.numRows()
          + " rows");
    }
    if (a.colsPerBlock() != b.rowsPerBlock()) {
      throw new IllegalArgumentException("a's colsPerBlock (" + a.colsPerBlock()
          + ") must equal b's rowsPerBlock (" + b.rowsPerBlock() + ")");
    }
    if (precision == Precision.FP16) {
      throw new IllegalArgumentException("precision must be FP64, FP32, TF32 or BF16, got FP16");
    }
    int rowBlocks = a.numRowBlocks();
    int colBlocks = b.numColBlocks();
    int m = a.rowsPerBlock();
    int n = b.colsPerBlock();
    int parts = Math.max(a.blocks().getNumPartitions(), b.blocks().getNumPartitions());
    boolean fp64 = precision == Precision.FP64 || precision == Precision.DEFAULT;
    int[] cell = cellShape(rowBlocks, colBlocks, parts, m, a.colsPerBlock(), n, fp64 ? 8 : 4,
        BlockWorkspace.idleLimitBytes());
    int cellRows = cell[0];
    int cellCols = cell[1];
    int rowCells = (rowBlocks + cellRows - 1) / cellRows;
    int colCells = (colBlocks + cellCols - 1) / cellCols;
    JavaPairRDD<Tuple2<Object, Object>, Matrix> left = JavaPairRDD.fromJavaRDD(a.blocks().toJavaRDD());
    JavaPairRDD<Tuple2<Object, Object>, Matrix> right = JavaPairRDD.fromJavaRDD(b.blocks().toJavaRDD());
    JavaPairRDD<Tuple2<Integer, Integer>, Side> sides = left
        .flatMapToPair(t -> spread(t, true, colCells, cellRows, cellCols))
        .union(right.flatMapToPair(t -> spread(t, false, rowCells, cellRows, cellCols)));
    JavaPairRDD<Tuple2<Object, Object>, Matrix> product = sides
        .groupByKey(new CellPartitioner(parts, colCells))
        .flatMapToPair(g -> cellBlocks(g._2(), precision).iterator());
    // rows and columns per block of the result, as BlockMatrix.multiply sets them
    return new BlockMatrix(product.rdd(), m, n, a.numRows(), b.numCols());
  }

  /** Result blocks a side of a cell holds at most (a task holds its cell's blocks in memory). */
  static final int MAX_CELL_SIDE = 4;

  /**
   * The cell of result blocks a task computes: {rows, cols} of blocks. Cells grow from one
   * block, the narrower side first, while there are at least as many cells as partitions (or
   * result blocks, where fewer), a side holds at most {@link #MAX_CELL_SIDE} blocks, and a
   * cell's device buffers (two sets of its A and B blocks, and its C: {@code bytes} per element)
   * fit {@code limitBytes}; then each side is evened out over the cells it makes (5×5 cells of
   * a 6×6 grid become 3×3: the same number of cells, none of a single block).
   */
  static int[] cellShape(int rowBlocks, int colBlocks, int parts, long m, long k, long n,
      int bytes, long limitBytes) {
    int r = 1;
    int c = 1;
    long want = Math.max(1, Math.min(parts, (long) rowBlocks * colBlocks));
    for (;;) {
      int[][] tries = r <= c ? new int[][] {{r + 1, c}, {r, c + 1}}
          : new int[][] {{r, c + 1}, {r + 1, c}};
      boolean grew = false;
      for (int[] t : tries) {
        long cells = (long) ((rowBlocks + t[0] - 1) / t[0]) * ((colBlocks + t[1] - 1) / t[1]);
        double bytesNeeded = (double) bytes * (2.0 * (t[0] * m * k + k * t[1] * n)
            + (double) t[0] * t[1] * m * n);
        if (t[0] <= Math.min(rowBlocks, MAX_CELL_SIDE) && t[1] <= Math.min(colBlocks, MAX_CELL_SIDE)
            && cells >= want && bytesNeeded <= limitBytes) {
          r = t[0];
          c = t[1];
          grew = true;
          break;
        }
      }
      if (!grew) {
        return new int[] {even(rowBlocks, r), even(colBlocks, c)};
      }
    }
  }

  /** The smallest side that cuts {@code blocks} into as many pieces as {@code side} does. */
  private static int even(int blocks, int side) {
    if (blocks <= 0) {
      return side;
    }
    int pieces = (blocks + side - 1) / side;
    return (blocks + pieces - 1) / pieces;
  }

  /**
   * Cells to partitions in turn (row-major order of the cells), so that each partition gets as
   * many cells as any other, give or take one.
   */
  static final class CellPartitioner extends Partitioner {
    private static final long serialVersionUID = 1L;
    private final int parts;
    private final int colCells;

    CellPartitioner(int parts, int colCells) {
      this.parts = Math.max(1, parts);
      this.colCells = Math.max(1, colCells);
    }

    @Override
    public int numPartitions() {
      return parts;
    }

    @Override
    @SuppressWarnings("unchecked")
    public int getPartition(Object key) {
      Tuple2<Integer, Integer> cell = (Tuple2<Integer, Integer>) key;
      return (int) (((long) cell._1() * colCells + cell._2()) % parts);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof CellPartitioner p && p.parts == parts && p.colCells == colCells;
    }

    @Override
    public int hashCode() {
      return parts * 31 + colCells;
    }
  }

  /**
   * A block of A (key (i, k)) keyed by each of the {@code count} cells of its row of blocks, or
   * a block of B (key (k, j)) by each cell of its column.
   */
  private static Iterator<Tuple2<Tuple2<Integer, Integer>, Side>> spread(
      Tuple2<Tuple2<Object, Object>, Matrix> t, boolean ofA, int count, int cellRows,
      int cellCols) {
    int row = (Integer) t._1()._1();
    int col = (Integer) t._1()._2();
    Side s = ofA ? Side.of(true, row, col, t._2()) : Side.of(false, col, row, t._2());
    List<Tuple2<Tuple2<Integer, Integer>, Side>> out = new ArrayList<>(count);
    for (int x = 0; x < count; x++) {
      Tuple2<Integer, Integer> cell = ofA ? new Tuple2<>(row / cellRows, x)
          : new Tuple2<>(x, col / cellCols);
      out.add(new Tuple2<>(cell, s));
    }
    return out.iterator();
  }

  /**
   * The result blocks of a cell from the blocks that meet there (none where no pair does): its
   * rows of blocks grouped by their blocks' row count and its columns by their column count
   * (the edges of a matrix whose size is not a multiple of the block size), each pair of groups
   * as one grid where it is one ({@link #steps}), else block by block.
   */
  static List<Tuple2<Tuple2<Object, Object>, Matrix>> cellBlocks(Iterable<Side> sides,
      Precision precision) {
    TreeMap<Integer, TreeMap<Integer, Side>> left = new TreeMap<>();
    TreeMap<Integer, TreeMap<Integer, Side>> right = new TreeMap<>();
    for (Side s : sides) {
      (s.left ? left : right).computeIfAbsent(s.index, x -> new TreeMap<>()).put(s.k, s);
    }
    List<Tuple2<Tuple2<Object, Object>, Matrix>> out = new ArrayList<>();
    if (left.isEmpty() || right.isEmpty()) {
      return out;
    }
    TaskContext tc = TaskContext.get();
    ResourceInformation gpu = tc == null ? null : tc.resourcesJMap().get(ExecutorPlan.GPU);
    int device = ExecutorGpu.deviceFor(gpu == null ? null : Arrays.asList(gpu.addresses()));
    for (TreeMap<Integer, TreeMap<Integer, Side>> rows : bySize(left, true)) {
      for (TreeMap<Integer, TreeMap<Integer, Side>> cols : bySize(right, false)) {
        part(rows, cols, device, precision, out);
      }
    }
    return out;
  }

  /** Rows (A) or columns (B) of blocks grouped by their first block's rows or columns. */
  static List<TreeMap<Integer, TreeMap<Integer, Side>>> bySize(
      TreeMap<Integer, TreeMap<Integer, Side>> lines, boolean ofA) {
    TreeMap<Integer, TreeMap<Integer, TreeMap<Integer, Side>>> groups = new TreeMap<>();
    for (Map.Entry<Integer, TreeMap<Integer, Side>> e : lines.entrySet()) {
      Side first = e.getValue().firstEntry().getValue();
      groups.computeIfAbsent(ofA ? first.rows : first.cols, x -> new TreeMap<>())
          .put(e.getKey(), e.getValue());
    }
    return new ArrayList<>(groups.values());
  }

  /** The result blocks of some rows and columns of a cell: one grid, else block by block. */
  private static void part(TreeMap<Integer, TreeMap<Integer, Side>> left,
      TreeMap<Integer, TreeMap<Integer, Side>> right, int device, Precision precision,
      List<Tuple2<Tuple2<Object, Object>, Matrix>> out) {
    List<BlockKernel.Step> steps = left.size() * right.size() > 1 ? steps(left, right) : null;
    if (steps != null) {
      Side a0 = left.firstEntry().getValue().firstEntry().getValue();
      Side b0 = right.firstEntry().getValue().firstEntry().getValue();
      double[][] c = BlockKernel.gridOfProducts(ExecutorGpu.core(), device, a0.rows, b0.cols,
          left.size(), right.size(), steps, precision);
      int x = 0;
      for (int i : left.keySet()) {
        for (int j : right.keySet()) {
          out.add(new Tuple2<>(new Tuple2<>(i, j), new DenseMatrix(a0.rows, b0.cols, c[x++])));
        }
      }
      return;
    }
    for (Map.Entry<Integer, TreeMap<Integer, Side>> i : left.entrySet()) {
      for (Map.Entry<Integer, TreeMap<Integer, Side>> j : right.entrySet()) {
        Matrix c = block(i.getValue(), j.getValue(), device, precision);
        if (c != null) {
          out.add(new Tuple2<>(new Tuple2<>(i.getKey(), j.getKey()), c));
        }
      }
    }
  }

  /**
   * The cell as steps of a grid (rows and columns in key order, steps in k order), or null
   * where it is not one: a block missing for some k, left blocks of different row counts, right
   * blocks of different column counts, or blocks of one k whose inner dimensions differ.
   */
  static List<BlockKernel.Step> steps(TreeMap<Integer, TreeMap<Integer, Side>> left,
      TreeMap<Integer, TreeMap<Integer, Side>> right) {
    TreeMap<Integer, Side> firstRow = left.firstEntry().getValue();
    Set<Integer> ks = firstRow.keySet();
    int rows = firstRow.firstEntry().getValue().rows;
    int cols = right.firstEntry().getValue().firstEntry().getValue().cols;
    for (TreeMap<Integer, Side> x : left.values()) {
      if (!x.keySet().equals(ks)) {
        return null;
      }
    }
    for (TreeMap<Integer, Side> x : right.values()) {
      if (!x.keySet().equals(ks)) {
        return null;
      }
    }
    List<BlockKernel.Step> steps = new ArrayList<>(ks.size());
    for (int k : ks) {
      int inner = firstRow.get(k).cols;
      List<double[]> as = new ArrayList<>(left.size());
      List<double[]> bs = new ArrayList<>(right.size());
      for (TreeMap<Integer, Side> x : left.values()) {
        Side s = x.get(k);
        if (s.rows != rows || s.cols != inner) {
          return null;
        }
        as.add(s.values);
      }
      for (TreeMap<Integer, Side> x : right.values()) {
        Side s = x.get(k);
        if (s.cols != cols || s.rows != inner) {
          return null;
        }
        bs.add(s.values);
      }
      steps.add(new BlockKernel.Step(as, bs, inner));
    }
    return steps;
  }

  /** One result block from a row's and a column's blocks; null when no pair meets. */
  private static Matrix block(TreeMap<Integer, Side> l, TreeMap<Integer, Side> r, int device,
      Precision precision) {
    List<BlockKernel.Pair> pairs = new ArrayList<>();
    int m = -1;
    int n = -1;
    for (Map.Entry<Integer, Side> e : l.entrySet()) {
      Side x = e.getValue();
      Side y = r.get(e.getKey());
      if (y == null) {
        continue;
      }
      if (x.cols != y.rows) {
        throw new IllegalArgumentException("block k=" + x.k + ": a's block has " + x.cols
            + " columns but b's has " + y.rows + " rows");
      }
      m = x.rows;
      n = y.cols;
      pairs.add(new BlockKernel.Pair(x.values, y.values, x.cols));
    }
    if (pairs.isEmpty()) {
      return null;
    }
    double[] c = BlockKernel.sumOfProducts(ExecutorGpu.core(), device, m, n, pairs, precision);
    return new DenseMatrix(m, n, c);
  }

  /**
   * A block on its way to a cell: which side, its row of blocks (A) or column (B), its k, its
   * values (column-major).
   */
  static final class Side implements Serializable {
    private static final long serialVersionUID = 2L;
    final boolean left;
    final int index;
    final int k;
    final int rows;
    final int cols;
    final double[] values;

    private Side(boolean left, int index, int k, int rows, int cols, double[] values) {
      this.left = left;
      this.index = index;
      this.k = k;
      this.rows = rows;
      this.cols = cols;
      this.values = values;
    }

    static Side of(boolean left, int index, int k, Matrix m) {
      return new Side(left, index, k, m.numRows(), m.numCols(), m.toArray());
    }
  }
}
