package dev.gpucore;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CheckTest {
  private static String rangeFails(long offset, long length, long capacity) {
    return assertThrows(GpuCoreException.InvalidArgument.class,
        () -> Check.range(offset, length, capacity, "myParam"),
        "range(" + offset + ", " + length + ", " + capacity + ")").getMessage();
  }

  @Test
  void rangeAcceptsEverythingInside() {
    assertDoesNotThrow(() -> Check.range(0, 0, 0, "x"));
    assertDoesNotThrow(() -> Check.range(0, 10, 10, "x"));
    assertDoesNotThrow(() -> Check.range(10, 0, 10, "x"));
    assertDoesNotThrow(() -> Check.range(3, 7, 10, "x"));
    assertDoesNotThrow(() -> Check.range(Long.MAX_VALUE, 0, Long.MAX_VALUE, "x"));
    assertDoesNotThrow(() -> Check.range(0, Long.MAX_VALUE, Long.MAX_VALUE, "x"));
    assertDoesNotThrow(() -> Check.range(1, Long.MAX_VALUE - 1, Long.MAX_VALUE, "x"));
  }

  @Test
  void rangeRejectsOutside() {
    rangeFails(-1, 1, 10);
    rangeFails(0, -1, 10);
    rangeFails(0, 11, 10);
    rangeFails(10, 1, 10);
    rangeFails(11, 0, 10);
    rangeFails(5, 6, 10);
    rangeFails(0, 1, 0);
  }

  @Test
  void rangeOverflowIsRejected() {
    // offset + length wraps negative: a naive "offset + length <= capacity" would pass
    rangeFails(1, Long.MAX_VALUE, Long.MAX_VALUE);
    rangeFails(Long.MAX_VALUE, 1, Long.MAX_VALUE);
    rangeFails(Long.MAX_VALUE, Long.MAX_VALUE, 100);
    rangeFails(Long.MAX_VALUE - 1, 2, Long.MAX_VALUE);
    rangeFails(5, Long.MAX_VALUE, 10);
    rangeFails(Long.MIN_VALUE, 1, 10);
    rangeFails(1, Long.MIN_VALUE, 10);
  }

  @Test
  void rangeMessageNamesTheParameterAndValues() {
    String m = rangeFails(5, 6, 10);
    assertTrue(m.startsWith("myParam"), m);
    assertTrue(m.contains("5") && m.contains("6") && m.contains("10"), m);
  }

  @Test
  void multiplyReturnsProduct() {
    assertEquals(12, Check.multiply(3, 4, "x"));
    assertEquals(0, Check.multiply(0, Long.MAX_VALUE, "x"));
    assertEquals(Long.MAX_VALUE - 7, Check.multiply((Long.MAX_VALUE - 7) / 8, 8, "x"));
  }

  @Test
  void multiplyOverflowNamesWhat() {
    for (long[] ab : new long[][] {{Long.MAX_VALUE, 2}, {Long.MAX_VALUE / 8 + 1, 8},
        {1L << 32, 1L << 31}, {Long.MIN_VALUE, -1}, {-(1L << 62), 4}}) {
      GpuCoreException.InvalidArgument e = assertThrows(GpuCoreException.InvalidArgument.class,
          () -> Check.multiply(ab[0], ab[1], "length in bytes"), ab[0] + " * " + ab[1]);
      assertTrue(e.getMessage().startsWith("length in bytes"), e.getMessage());
      assertTrue(e.getMessage().contains("overflow"), e.getMessage());
    }
  }

  @Test
  void notNullNonNegativeAtLeast() {
    Object o = new Object();
    assertSame(o, Check.notNull(o, "o"));
    String m = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> Check.notNull(null, "widget")).getMessage();
    assertTrue(m.contains("widget") && m.contains("null"), m);

    assertEquals(0, Check.nonNegative(0, "n"));
    m = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> Check.nonNegative(-3, "count")).getMessage();
    assertTrue(m.contains("count") && m.contains("-3"), m);

    assertEquals(5, Check.atLeast(5, 5, "lda"));
    m = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> Check.atLeast(4, 5, "lda")).getMessage();
    assertTrue(m.contains("lda") && m.contains(">= 5") && m.contains("4"), m);
  }
}
