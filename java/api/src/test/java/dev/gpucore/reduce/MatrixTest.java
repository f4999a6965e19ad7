package dev.gpucore.reduce;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.GpuCoreException;
import org.junit.jupiter.api.Test;

class MatrixTest {
  @Test
  void denseShapes() {
    Matrix m = Matrix.rowMajor(3, 5);
    assertEquals(5, m.ld());
    assertEquals(15, m.span());
    assertEquals(1 * 5 + 2, m.index(1, 2));
    Matrix c = Matrix.columnMajor(3, 5);
    assertEquals(3, c.ld());
    assertEquals(15, c.span());
    assertEquals(1 + 2 * 3, c.index(1, 2));
  }

  @Test
  void paddedShapesSpanToTheLastElement() {
    assertEquals(2 * 7 + 5, Matrix.rowMajor(3, 5, 7).span());
    assertEquals(4 * 4 + 3, Matrix.columnMajor(3, 5, 4).span());
    assertEquals(0, Matrix.rowMajor(0, 5).span());
    assertEquals(0, Matrix.rowMajor(5, 0).span());
    assertEquals(1, Matrix.rowMajor(5, 0).ld(), "ld is at least 1");
    assertEquals(0, Matrix.columnMajor(0, 4).span());
  }

  @Test
  void invalidShapesAreRejected() {
    assertThrows(GpuCoreException.InvalidArgument.class, () -> Matrix.rowMajor(-1, 3));
    assertThrows(GpuCoreException.InvalidArgument.class, () -> Matrix.rowMajor(3, -1));
    GpuCoreException e = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> Matrix.rowMajor(3, 5, 4));
    assertTrue(e.getMessage().contains("ld"), e.getMessage());
    assertThrows(GpuCoreException.InvalidArgument.class, () -> Matrix.columnMajor(5, 3, 4));
    assertThrows(GpuCoreException.InvalidArgument.class, () -> Matrix.rowMajor(3, 0, 0));
    assertThrows(GpuCoreException.InvalidArgument.class,
        () -> new Matrix(2, 2, 2, null));
    assertThrows(GpuCoreException.InvalidArgument.class,
        () -> Matrix.rowMajor(Long.MAX_VALUE / 2, 4, Long.MAX_VALUE / 2), "extent overflow");
  }

  @Test
  void opProperties() {
    for (ReduceOp op : ReduceOp.values()) {
      assertEquals(op == ReduceOp.ARGMIN || op == ReduceOp.ARGMAX, op.isIndex(), op.name());
      assertEquals(op == ReduceOp.SUM || op == ReduceOp.DOT || op == ReduceOp.NORM2,
          op.definedOnEmpty(), op.name());
    }
    assertTrue(ReduceOp.MEAN.usesAccumulation());
    assertFalse(ReduceOp.NORM2.usesAccumulation());
    assertFalse(ReduceOp.MAX.usesAccumulation());
  }
}
