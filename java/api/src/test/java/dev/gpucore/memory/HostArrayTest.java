package dev.gpucore.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class HostArrayTest {
  private static final long SEED = System.nanoTime();
  private long bytesBefore;
  private long countBefore;

  @BeforeEach
  void snapshot() {
    bytesBefore = NativeMemory.liveBytes(NativeMemory.Kind.PAGEABLE);
    countBefore = NativeMemory.liveCount(NativeMemory.Kind.PAGEABLE);
  }

  @AfterEach
  void countsComeBack() {
    assertEquals(bytesBefore, NativeMemory.liveBytes(NativeMemory.Kind.PAGEABLE),
        NativeMemory.summary());
    assertEquals(countBefore, NativeMemory.liveCount(NativeMemory.Kind.PAGEABLE),
        NativeMemory.summary());
  }

  private static String seed() {
    return "seed " + SEED;
  }

  private static GpuCoreException.InvalidArgument invalid(Executable e, String what) {
    return assertThrows(GpuCoreException.InvalidArgument.class, e, what);
  }

  private static double[] contents(HostArray h) {
    double[] out = new double[(int) h.length()];
    for (int i = 0; i < out.length; i++) {
      out[i] = h.getDouble(i);
    }
    return out;
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
  void allocationIsZeroedAndTracked(DType t) {
    int n = 1000;
    try (HostArray h = HostArray.allocatePageable(t, n)) {
      assertEquals(t, h.dtype());
      assertEquals(n, h.length());
      assertEquals((long) n * t.bytes(), h.byteSize());
      assertFalse(h.isPinned());
      assertFalse(h.isClosed());
      assertTrue(h.address() != 0);
      assertEquals(bytesBefore + (long) n * t.bytes(),
          NativeMemory.liveBytes(NativeMemory.Kind.PAGEABLE));
      assertEquals(countBefore + 1, NativeMemory.liveCount(NativeMemory.Kind.PAGEABLE));
      assertArrayEquals(new double[n], contents(h));
    }
  }

  @Test
  void zeroLengthIsAllowed() {
    try (HostArray h = HostArray.allocatePageable(DType.FLOAT32, 0)) {
      assertEquals(0, h.length());
      assertDoesNotThrow(() -> h.put(0, new float[3], 3, 0));
      invalid(() -> h.getDouble(0), "index 0 of an empty array");
    }
  }

  @Test
  void floatRoundTripWithOffsets() {
    Random r = new Random(SEED);
    int n = 777;
    try (HostArray h = HostArray.allocatePageable(DType.FLOAT32, n)) {
      float[] src = new float[500];
      for (int i = 0; i < src.length; i++) {
        src[i] = (float) r.nextGaussian();
      }
      // src[13..13+300) -> h[400..700)
      h.put(400, src, 13, 300);
      float[] back = new float[320];
      java.util.Arrays.fill(back, -7f);
      h.get(400, back, 20, 300);
      for (int i = 0; i < 20; i++) {
        assertEquals(-7f, back[i], "untouched before dstOffset, " + seed());
      }
      for (int i = 0; i < 300; i++) {
        assertEquals(src[13 + i], back[20 + i], "element " + i + ", " + seed());
        assertEquals(src[13 + i], h.getDouble(400 + i), "element " + i + ", " + seed());
      }
      for (int i = 0; i < 400; i++) {
        assertEquals(0.0, h.getDouble(i), "before the written range, index " + i);
      }
      for (int i = 700; i < n; i++) {
        assertEquals(0.0, h.getDouble(i), "after the written range, index " + i);
      }
      // the whole array, up to its last element
      h.put(n - 1, new float[] {42.5f}, 0, 1);
      assertEquals(42.5, h.getDouble(n - 1));
    }
  }

  @Test
  void doubleRoundTripWithOffsets() {
    Random r = new Random(SEED + 1);
    int n = 513;
    try (HostArray h = HostArray.allocatePageable(DType.FLOAT64, n)) {
      double[] src = new double[n + 10];
      for (int i = 0; i < src.length; i++) {
        src[i] = r.nextDouble() * 1e300 * (r.nextBoolean() ? 1 : -1);
      }
      h.put(0, src, 10, n);
      double[] back = new double[n + 5];
      h.get(0, back, 5, n);
      for (int i = 0; i < n; i++) {
        assertEquals(src[10 + i], back[5 + i], "element " + i + ", seed " + (SEED + 1));
      }
      double[] mid = new double[7];
      h.get(100, mid, 0, 7);
      for (int i = 0; i < 7; i++) {
        assertEquals(src[110 + i], mid[i]);
      }
    }
  }

  @Test
  void getAndSetDouble() {
    withPair(4, 3, 0.1, (f, d) -> {
      assertEquals((double) 0.1f, f.getDouble(3), "FLOAT32 rounds to float");
      assertEquals(0.1, d.getDouble(3), "FLOAT64 keeps the double");
      f.setDouble(0, Double.NaN);
      assertTrue(Double.isNaN(f.getDouble(0)));
      d.setDouble(1, Double.NEGATIVE_INFINITY);
      assertEquals(Double.NEGATIVE_INFINITY, d.getDouble(1));
      float[] fb = new float[4];
      f.get(0, fb, 0, 4);
      assertEquals(0.1f, fb[3]);
      assertEquals(0f, fb[1]);
      invalid(() -> f.setDouble(4, 1), "index == length");
      invalid(() -> f.setDouble(-1, 1), "negative index");
      invalid(() -> d.getDouble(4), "index == length");
      invalid(() -> d.getDouble(Long.MAX_VALUE), "huge index");
      assertEquals((double) 0.1f, f.getDouble(3), "unchanged after failed set");
    });
  }

  @Test
  void wrongDtypeThrowsAndLeavesContents() {
    withPair(8, 2, 5, (f, d) -> {
      double[] fBefore = contents(f);
      double[] dBefore = contents(d);
      String m = invalid(() -> f.put(0, new double[] {1, 2, 3}, 0, 3), "double into FLOAT32")
          .getMessage();
      assertTrue(m.contains("src") && m.contains("FLOAT32"), m);
      m = invalid(() -> d.put(0, new float[] {1, 2, 3}, 0, 3), "float into FLOAT64")
          .getMessage();
      assertTrue(m.contains("src") && m.contains("FLOAT64"), m);
      double[] dd = new double[] {9, 9, 9};
      m = invalid(() -> f.get(0, dd, 0, 3), "FLOAT32 into double[]").getMessage();
      assertTrue(m.contains("dst"), m);
      assertArrayEquals(new double[] {9, 9, 9}, dd);
      float[] ff = new float[] {9, 9, 9};
      invalid(() -> d.get(0, ff, 0, 3), "FLOAT64 into float[]");
      assertArrayEquals(new float[] {9, 9, 9}, ff);
      assertArrayEquals(fBefore, contents(f));
      assertArrayEquals(dBefore, contents(d));
    });
  }

  @Test
  void outOfRangeThrowsAndLeavesContents() {
    try (HostArray h = HostArray.allocatePageable(DType.FLOAT32, 10)) {
      float[] ones = new float[20];
      java.util.Arrays.fill(ones, 1f);
      h.put(0, new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0, 10);
      double[] before = contents(h);
      String m = invalid(() -> h.put(5, ones, 0, 6), "past the end of the HostArray")
          .getMessage();
      assertTrue(m.contains("HostArray offset"), m);
      invalid(() -> h.put(-1, ones, 0, 1), "negative offset");
      invalid(() -> h.put(11, ones, 0, 0), "offset past the end");
      invalid(() -> h.put(Long.MAX_VALUE, ones, 0, 1), "offset overflow");
      m = invalid(() -> h.put(0, ones, 15, 6), "past the end of src").getMessage();
      assertTrue(m.contains("src"), m);
      invalid(() -> h.put(0, ones, -1, 1), "negative srcOffset");
      invalid(() -> h.put(0, ones, 0, -1), "negative count");
      invalid(() -> h.put(0, ones, Integer.MAX_VALUE, 1), "srcOffset overflow");
      assertArrayEquals(before, contents(h));

      float[] dst = new float[4];
      java.util.Arrays.fill(dst, -1f);
      m = invalid(() -> h.get(0, dst, 1, 4), "past the end of dst").getMessage();
      assertTrue(m.contains("dst"), m);
      invalid(() -> h.get(8, dst, 0, 3), "past the end of the HostArray");
      assertArrayEquals(new float[] {-1, -1, -1, -1}, dst);
      assertArrayEquals(before, contents(h));
    }
  }

  @Test
  void nullArraysThrow() {
    withPair(4, 1, 3, (f, d) -> {
      String m = invalid(() -> f.put(0, (float[]) null, 0, 1), "null src").getMessage();
      assertTrue(m.contains("src") && m.contains("null"), m);
      m = invalid(() -> f.get(0, (float[]) null, 0, 1), "null dst").getMessage();
      assertTrue(m.contains("dst") && m.contains("null"), m);
      invalid(() -> d.put(0, (double[]) null, 0, 1), "null src");
      invalid(() -> d.get(0, (double[]) null, 0, 1), "null dst");
      assertArrayEquals(new double[] {0, 3, 0, 0}, contents(f));
      assertArrayEquals(new double[] {0, 3, 0, 0}, contents(d));
    });
  }

  @Test
  void useAfterCloseThrowsAndCloseIsIdempotent() {
    HostArray h = HostArray.allocatePageable(DType.FLOAT64, 16);
    assertEquals(countBefore + 1, NativeMemory.liveCount(NativeMemory.Kind.PAGEABLE));
    h.close();
    assertTrue(h.isClosed());
    assertEquals(bytesBefore, NativeMemory.liveBytes(NativeMemory.Kind.PAGEABLE));
    assertEquals(countBefore, NativeMemory.liveCount(NativeMemory.Kind.PAGEABLE));
    String m = invalid(() -> h.getDouble(0), "getDouble after close").getMessage();
    assertTrue(m.contains("closed"), m);
    invalid(() -> h.setDouble(0, 1), "setDouble after close");
    invalid(() -> h.put(0, new double[1], 0, 1), "put after close");
    invalid(() -> h.get(0, new double[1], 0, 1), "get after close");
    invalid(h::address, "address after close");
    assertDoesNotThrow(h::close);
    assertDoesNotThrow(h::close);
    // a second close must not release the bytes a second time
    assertEquals(bytesBefore, NativeMemory.liveBytes(NativeMemory.Kind.PAGEABLE));
    assertEquals(countBefore, NativeMemory.liveCount(NativeMemory.Kind.PAGEABLE));
  }

  @Test
  void manyAllocationsComeBack() {
    HostArray[] hs = new HostArray[20];
    long bytes = 0;
    for (int i = 0; i < hs.length; i++) {
      DType t = i % 2 == 0 ? DType.FLOAT32 : DType.FLOAT64;
      hs[i] = HostArray.allocatePageable(t, 100 + i);
      bytes += (100L + i) * t.bytes();
    }
    assertEquals(bytesBefore + bytes, NativeMemory.liveBytes(NativeMemory.Kind.PAGEABLE));
    assertEquals(countBefore + hs.length, NativeMemory.liveCount(NativeMemory.Kind.PAGEABLE));
    for (HostArray h : hs) {
      h.close();
    }
  }

  @Test
  void overflowingLengthIsRejected() {
    String m = invalid(() -> HostArray.allocatePageable(DType.FLOAT64, Long.MAX_VALUE / 4),
        "byte size overflow").getMessage();
    assertTrue(m.contains("length in bytes"), m);
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"BFLOAT16", "FLOAT16"})
  void sixteenBitTypesAreDeviceOnly(DType t) {
    dev.gpucore.GpuCoreException e = org.junit.jupiter.api.Assertions.assertThrows(
        dev.gpucore.GpuCoreException.InvalidArgument.class, () -> HostArray.allocatePageable(t, 4));
    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("device-array type"),
        e.getMessage());
  }

  /**
   * Runs {@code body} on a FLOAT32 and a FLOAT64 pageable array of {@code n} elements, both with
   * {@code v} at {@code index}; closes them after.
   */
  private static void withPair(int n, long index, double v,
      java.util.function.BiConsumer<HostArray, HostArray> body) {
    try (HostArray f = HostArray.allocatePageable(DType.FLOAT32, n);
        HostArray d = HostArray.allocatePageable(DType.FLOAT64, n)) {
      f.setDouble(index, v);
      d.setDouble(index, v);
      body.accept(f, d);
    }
  }
}
