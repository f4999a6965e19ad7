package dev.gpucore.spark;

import dev.gpucore.blas.Precision;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import org.apache.spark.HashPartitioner;
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
 * ({@link BlockKernel}) on the task's GPU, the sum kept on the device.
 *
 * <p>Spark's {@code multiply} computes each block product on its own (one {@code dgemm}), shuffles
 * the products and sums them on the CPU with Breeze. Here the blocks that meet in a result
 * block are brought together first (each left block sent to every result block of its row,
 * each right block to every one of its column, as Spark does), then one task computes
 * {@code C_ij = Σ_k A_ik·B_kj} with the partial sums on the GPU. The task's GPU is the one Spark
 * gave the task (its {@code gpu} resource), else the executor's, else gpucore's first; without
 * one the same calls run on the CPU.
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
    int resultColBlocks = b.numColBlocks();
    int resultRowBlocks = a.numRowBlocks();
    int m = a.rowsPerBlock();
    int n = b.colsPerBlock();
    JavaPairRDD<Tuple2<Object, Object>, Matrix> left = JavaPairRDD.fromJavaRDD(a.blocks().toJavaRDD());
    JavaPairRDD<Tuple2<Object, Object>, Matrix> right = JavaPairRDD.fromJavaRDD(b.blocks().toJavaRDD());
    JavaPairRDD<Tuple2<Integer, Integer>, Side> sides = left
        .flatMapToPair(t -> spread(t, true, resultColBlocks))
        .union(right.flatMapToPair(t -> spread(t, false, resultRowBlocks)));
    int parts = Math.max(a.blocks().getNumPartitions(), b.blocks().getNumPartitions());
    JavaPairRDD<Tuple2<Object, Object>, Matrix> product = sides
        .groupByKey(new HashPartitioner(parts))
        .flatMapToPair(g -> {
          Tuple2<Integer, Integer> ij = g._1();
          Matrix c = block(g._2(), precision);
          if (c == null) {
            return java.util.Collections.emptyIterator();
          }
          return List.of(new Tuple2<Tuple2<Object, Object>, Matrix>(
              new Tuple2<>(ij._1(), ij._2()), c)).iterator();
        });
    // rows and columns per block of the result, as BlockMatrix.multiply sets them
    return new BlockMatrix(product.rdd(), m, n, a.numRows(), b.numCols());
  }

  /**
   * A block of A (key (i, k)) keyed by each of the {@code count} result blocks (i, j) of its row,
   * or a block of B (key (k, j)) by each result block (i, j) of its column.
   */
  private static Iterator<Tuple2<Tuple2<Integer, Integer>, Side>> spread(
      Tuple2<Tuple2<Object, Object>, Matrix> t, boolean ofA, int count) {
    int row = (Integer) t._1()._1();
    int col = (Integer) t._1()._2();
    Side s = Side.of(ofA, ofA ? col : row, t._2());
    List<Tuple2<Tuple2<Integer, Integer>, Side>> out = new ArrayList<>(count);
    for (int x = 0; x < count; x++) {
      Tuple2<Integer, Integer> ij = ofA ? new Tuple2<>(row, x) : new Tuple2<>(x, col);
      out.add(new Tuple2<>(ij, s));
    }
    return out.iterator();
  }

  /** The result block from the blocks that meet there; null when no pair does. */
  private static Matrix block(Iterable<Side> sides, Precision precision) {
    List<Side> l = new ArrayList<>();
    List<Side> r = new ArrayList<>();
    for (Side s : sides) {
      (s.left ? l : r).add(s);
    }
    l.sort(Comparator.comparingInt(s -> s.k));
    r.sort(Comparator.comparingInt(s -> s.k));
    List<BlockKernel.Pair> pairs = new ArrayList<>();
    int m = -1;
    int n = -1;
    int ri = 0;
    for (Side x : l) {
      while (ri < r.size() && r.get(ri).k < x.k) {
        ri++;
      }
      if (ri < r.size() && r.get(ri).k == x.k) {
        Side y = r.get(ri);
        if (x.cols != y.rows) {
          throw new IllegalArgumentException("block k=" + x.k + ": a's block has " + x.cols
              + " columns but b's has " + y.rows + " rows");
        }
        m = x.rows;
        n = y.cols;
        pairs.add(new BlockKernel.Pair(x.values, y.values, x.cols));
      }
    }
    if (pairs.isEmpty()) {
      return null;
    }
    TaskContext tc = TaskContext.get();
    ResourceInformation gpu = tc == null ? null : tc.resourcesJMap().get(ExecutorPlan.GPU);
    int device = ExecutorGpu.deviceFor(gpu == null ? null : Arrays.asList(gpu.addresses()));
    double[] c = BlockKernel.sumOfProducts(ExecutorGpu.core(), device, m, n, pairs, precision);
    return new DenseMatrix(m, n, c);
  }

  /** A block on its way to a result block: which side, its k, its values (column-major). */
  static final class Side implements Serializable {
    private static final long serialVersionUID = 1L;
    final boolean left;
    final int k;
    final int rows;
    final int cols;
    final double[] values;

    private Side(boolean left, int k, int rows, int cols, double[] values) {
      this.left = left;
      this.k = k;
      this.rows = rows;
      this.cols = cols;
      this.values = values;
    }

    static Side of(boolean left, int k, Matrix m) {
      return new Side(left, k, m.numRows(), m.numCols(), m.toArray());
    }
  }
}
