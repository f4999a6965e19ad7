package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/**
 * When a pointer-array batch is one strided call (no GPU needed: addresses only). The
 * addresses are laid out as the batched calls take them: every item's B, then A, then C.
 */
class EvenStridesTest {
  /** Addresses of {@code n} items: B, A and C from their bases at byte steps. */
  private static long[] items(int n, long b0, long sb, long a0, long sa, long c0, long sc) {
    long[] p = new long[3 * n];
    for (int i = 0; i < n; i++) {
      p[i] = b0 + i * sb;
      p[n + i] = a0 + i * sa;
      p[2 * n + i] = c0 + i * sc;
    }
    return p;
  }

  @Test
  void equallySpacedItemsGiveTheirStridesInElements() {
    // fp32 operands, fp32 C of span 100: B at 64 bytes, A at 400, C at 400 (its span)
    long[] p = items(5, 1 << 20, 64, 2 << 20, 400, 3 << 20, 400);
    assertArrayEquals(new long[] {16, 100, 100}, CudaBlas.evenStrides(p, 5, 4, 4, 100));
    // a 16-bit operand with an fp32 C: strides counted in each one's own elements
    long[] h = items(3, 1 << 20, 20, 2 << 20, 20, 3 << 20, 40);
    assertArrayEquals(new long[] {10, 10, 10}, CudaBlas.evenStrides(h, 3, 2, 4, 10));
  }

  @Test
  void inputsMayRepeatButOutputsMayNot() {
    // every item reads the same B (stride 0): one strided call
    long[] p = items(4, 1 << 20, 0, 2 << 20, 80, 3 << 20, 80);
    assertArrayEquals(new long[] {0, 10, 10}, CudaBlas.evenStrides(p, 4, 8, 8, 10));
    // C at stride 0 (the checks reject it before) or closer than its span: not strided
    assertNull(CudaBlas.evenStrides(items(4, 0, 8, 64, 8, 128, 0), 4, 8, 8, 10));
    assertNull(CudaBlas.evenStrides(items(4, 0, 8, 64, 8, 128, 72), 4, 8, 8, 10));
  }

  @Test
  void oneItemIsAStridedCallOfOne() {
    assertArrayEquals(new long[] {0, 0, 0},
        CudaBlas.evenStrides(new long[] {16, 32, 48}, 1, 4, 4, 1000));
  }

  @Test
  void unequalNegativeOrPartElementStepsAreNotStrided() {
    long[] p = items(5, 1 << 20, 64, 2 << 20, 400, 3 << 20, 400);
    p[5 + 3] += 4; // the fourth A one element further
    assertNull(CudaBlas.evenStrides(p, 5, 4, 4, 100));
    assertNull(CudaBlas.evenStrides(items(3, 1 << 20, -64, 0, 64, 1 << 16, 400), 3, 4, 4, 100));
    assertNull(CudaBlas.evenStrides(items(3, 0, 6, 0, 64, 1 << 16, 400), 3, 4, 4, 100));
    assertNull(CudaBlas.evenStrides(items(3, 0, 8, 0, 64, 1 << 16, 402), 3, 4, 4, 100));
  }
}
