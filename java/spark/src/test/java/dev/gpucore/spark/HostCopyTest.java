package dev.gpucore.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.DType;
import dev.gpucore.memory.HostArray;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The block step's host copies against plain loops, on off-heap (pageable) staging. */
class HostCopyTest {
  static double[] random(int n, long seed) {
    Random r = new Random(seed);
    double[] d = new double[n];
    for (int i = 0; i < n; i++) {
      d[i] = (r.nextDouble() * 2 - 1) * Math.pow(10, r.nextInt(7) - 3);
    }
    return d;
  }

  @Test
  void parallelConversionsEqualPlainLoops() {
    for (int n : new int[] {0, 1, 1000, HostCopy.GRAIN, 3 * HostCopy.GRAIN + 17, 9 * HostCopy.GRAIN + 5}) {
      double[] d = random(n, n);
      float[] want = new float[n];
      for (int i = 0; i < n; i++) {
        want[i] = (float) d[i];
      }
      float[] f = HostCopy.toFloat(d);
      assertArrayEquals(want, f, 0f, "n=" + n);
      double[] back = new double[n];
      HostCopy.widen(f, back);
      for (int i = 0; i < n; i++) {
        assertEquals((double) want[i], back[i], 0.0);
      }
    }
  }

  @Test
  void packAndUnpackFp64CopyExactly() {
    double[] src = random(5000, 1);
    try (HostArray h = HostArray.allocatePageable(DType.FLOAT64, 1200)) {
      HostCopy.pack(src, 321, h, 1200, null);
      for (int i = 0; i < 1200; i++) {
        assertEquals(src[321 + i], h.getDouble(i), 0.0);
      }
      double[] dst = new double[3000];
      HostCopy.unpack(h, 1000, dst, 7, null);
      for (int i = 0; i < 3000; i++) {
        assertEquals(i >= 7 && i < 1007 ? src[321 + i - 7] : 0.0, dst[i], 0.0);
      }
    }
  }

  @Test
  void packRoundsToFloatAndUnpackWidens() {
    double[] src = random(5000, 2);
    float[] scratch = new float[300]; // 1000 values in pieces of 300
    try (HostArray h = HostArray.allocatePageable(DType.FLOAT32, 1024)) {
      HostCopy.pack(src, 100, h, 1000, scratch);
      for (int i = 0; i < 1000; i++) {
        assertEquals((double) (float) src[100 + i], h.getDouble(i), 0.0);
      }
      double[] dst = new double[1005];
      HostCopy.unpack(h, 1000, dst, 5, scratch);
      for (int i = 0; i < 1000; i++) {
        assertEquals((double) (float) src[100 + i], dst[5 + i], 0.0);
      }
    }
  }

  @Test
  void badArgumentsAreRefusedByName() {
    try (HostArray h = HostArray.allocatePageable(DType.FLOAT32, 10);
         HostArray d = HostArray.allocatePageable(DType.FLOAT64, 10)) {
      refused("src", () -> HostCopy.pack(null, 0, d, 1, null));
      refused("srcOffset", () -> HostCopy.pack(new double[5], 3, d, 3, null));
      refused("srcOffset", () -> HostCopy.pack(new double[5], -1, d, 1, null));
      refused("count", () -> HostCopy.pack(new double[5], 0, d, -1, null));
      refused("count", () -> HostCopy.pack(new double[50], 0, d, 11, null));
      refused("dst", () -> HostCopy.pack(new double[5], 0, null, 1, null));
      refused("scratch", () -> HostCopy.pack(new double[10], 0, h, 10, new float[0]));
      refused("scratch", () -> HostCopy.unpack(h, 2, new double[2], 0, null));
      refused("dstOffset", () -> HostCopy.unpack(d, 4, new double[5], 2, null));
      refused("dst", () -> HostCopy.unpack(d, 1, null, 0, null));
      refused("src", () -> HostCopy.toFloat(null));
      refused("dst", () -> HostCopy.widen(new float[3], new double[2]));
      refused("dst", () -> HostCopy.widen(new float[3], null));
    }
  }

  @Test
  void aFailingPartIsRethrownAfterTheOthersEnd() {
    IllegalStateException boom = new IllegalStateException("boom");
    int n = HostCopy.GRAIN * HostCopy.THREADS;
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> HostCopy.parallel(n, (from, to) -> {
          if (to == n) {
            throw boom;
          }
        }));
    assertSame(boom, e);
    int[] seen = new int[n];
    HostCopy.parallel(n, (from, to) -> {
      for (int i = from; i < to; i++) {
        seen[i]++;
      }
    });
    for (int i = 0; i < n; i++) {
      assertEquals(1, seen[i], "index " + i);
    }
  }

  private static void refused(String name, Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().startsWith(name + " "), e.getMessage());
  }
}
