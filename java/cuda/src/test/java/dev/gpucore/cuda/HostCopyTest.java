package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gpucore.cuda.bindings.GpuCoreNative;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.BytePointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The staging's host copies ({@code gc_host_copy_in} / {@code gc_host_copy_out} through the JNI
 * glue, Java arrays in a critical region) without a GPU: plain and streaming (stores around the
 * caches) against the expected bytes, at sizes around the 64-byte line and the 256-byte
 * threshold, at every alignment of the pinned side within a line and at several array offsets;
 * the bytes around the destination stay as they were. Ordinary host memory stands in for the
 * pinned buffer (the copy does not tell them apart).
 */
class HostCopyTest {
  private static final int[] FLAGS = {0, GpuCoreNative.HOST_COPY_STREAMING};
  private static final int GUARD = 80;
  /** GC_ERR_INVALID_ARGUMENT. */
  private static final int INVALID = -1;

  @BeforeAll
  static void load() {
    boolean loaded;
    String why = "";
    try {
      GpuCoreNative.load();
      loaded = true;
    } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
      loaded = false;
      why = e.toString();
    }
    assumeTrue(loaded, "the JNI glue does not load here (" + why + ")");
  }

  private static int[] sizes() {
    return new int[] {1, 2, 3, 7, 15, 16, 17, 31, 63, 64, 65, 127, 255, 256, 257, 319, 320, 321,
        1000, 4099, 65536 + 13, (1 << 20) + 7};
  }

  @Test
  void floatsInAndOutMatchAtOddSizesAlignmentsAndOffsets() {
    SplittableRandom rnd = new SplittableRandom(3);
    for (int bytes : sizes()) {
      int n = Math.max(1, bytes / 4);
      int[] misaligns = n * 4 > 70_000 ? new int[] {0, 4, 36, 60} : allMisaligns(4);
      for (int offset : new int[] {0, 1, 3}) {
        float[] a = new float[offset + n + 5];
        for (int i = 0; i < a.length; i++) {
          a[i] = (float) rnd.nextDouble();
        }
        for (int mis : misaligns) {
          for (int flags : FLAGS) {
            checkIn(a, offset, n, 4, mis, flags);
            checkOut(a.clone(), offset, n, 4, mis, flags, rnd);
          }
        }
      }
    }
  }

  @Test
  void doublesAndShortsInAndOutMatch() {
    SplittableRandom rnd = new SplittableRandom(4);
    for (int bytes : sizes()) {
      for (int eb : new int[] {8, 2}) {
        int n = Math.max(1, bytes / eb);
        Object a = eb == 8 ? rnd.doubles(n + 9).toArray() : shorts(n + 9, rnd);
        for (int mis : new int[] {0, eb, 16 + eb, 64 - eb}) {
          for (int flags : FLAGS) {
            checkIn(a, 3, n, eb, mis, flags);
            Object b = eb == 8 ? ((double[]) a).clone() : ((short[]) a).clone();
            checkOut(b, 5, n, eb, mis, flags, rnd);
          }
        }
      }
    }
  }

  @Test
  void unknownFlagsAndNullAddressesAreRejected() {
    float[] a = new float[64];
    try (BytePointer buf = new BytePointer(256)) {
      assertEquals(INVALID,
          GpuCoreNative.gc_host_copy_in(buf.address(), a, 0, 256, 2));
      assertEquals(INVALID,
          GpuCoreNative.gc_host_copy_out(a, 0, buf.address(), 256, 4));
      assertEquals(INVALID,
          GpuCoreNative.gc_host_copy_in(0, a, 0, 256, 0));
      assertEquals(INVALID,
          GpuCoreNative.gc_host_copy_out(a, 0, 0, 256, 1));
      // nothing to copy: nothing is checked
      assertEquals(0, GpuCoreNative.gc_host_copy_in(0, a, 0, 0, 1));
    }
  }

  private static int[] allMisaligns(int eb) {
    int[] m = new int[64 / eb];
    for (int i = 0; i < m.length; i++) {
      m[i] = i * eb;
    }
    return m;
  }

  /** Array elements [offset, offset + n) into a buffer at a line boundary + mis. */
  private static void checkIn(Object a, int offset, int n, int eb, int mis, int flags) {
    int bytes = n * eb;
    try (BytePointer buf = new BytePointer(GUARD * 2 + 64 + bytes)) {
      long base = (buf.address() + GUARD + 63) & ~63L;
      long dst = base + mis;
      long start = dst - buf.address();
      byte[] poison = poison(GUARD * 2 + 64 + bytes);
      buf.position(0).put(poison);
      int s = copyIn(dst, a, (long) offset * eb, bytes, flags);
      assertEquals(0, s, "status");
      byte[] got = new byte[poison.length];
      buf.position(0).get(got);
      byte[] expected = poison.clone();
      System.arraycopy(bytesOf(a), offset * eb, expected, (int) start, bytes);
      assertArrayEquals(expected, got, "in: " + n + " x " + eb + " bytes at array offset "
          + offset + ", buffer misaligned by " + mis + ", flags " + flags);
    }
  }

  /** A buffer at a line boundary + mis into array elements [offset, offset + n). */
  private static void checkOut(Object a, int offset, int n, int eb, int mis, int flags,
      SplittableRandom rnd) {
    int bytes = n * eb;
    byte[] before = bytesOf(a);
    try (BytePointer buf = new BytePointer(128 + bytes)) {
      long src = ((buf.address() + 63) & ~63L) + mis;
      byte[] data = new byte[bytes];
      rnd.nextBytes(data);
      buf.position(src - buf.address()).put(data);
      int s = copyOut(a, (long) offset * eb, src, bytes, flags);
      assertEquals(0, s, "status");
      byte[] expected = before.clone();
      System.arraycopy(data, 0, expected, offset * eb, bytes);
      assertArrayEquals(expected, bytesOf(a), "out: " + n + " x " + eb + " bytes at array offset "
          + offset + ", buffer misaligned by " + mis + ", flags " + flags);
    }
  }

  private static int copyIn(long dst, Object a, long off, long bytes, int flags) {
    if (a instanceof float[] f) {
      return GpuCoreNative.gc_host_copy_in(dst, f, off, bytes, flags);
    }
    if (a instanceof double[] d) {
      return GpuCoreNative.gc_host_copy_in(dst, d, off, bytes, flags);
    }
    return GpuCoreNative.gc_host_copy_in(dst, (short[]) a, off, bytes, flags);
  }

  private static int copyOut(Object a, long off, long src, long bytes, int flags) {
    if (a instanceof float[] f) {
      return GpuCoreNative.gc_host_copy_out(f, off, src, bytes, flags);
    }
    if (a instanceof double[] d) {
      return GpuCoreNative.gc_host_copy_out(d, off, src, bytes, flags);
    }
    return GpuCoreNative.gc_host_copy_out((short[]) a, off, src, bytes, flags);
  }

  private static byte[] bytesOf(Object a) {
    ByteBuffer b;
    if (a instanceof float[] f) {
      b = ByteBuffer.allocate(f.length * 4).order(ByteOrder.nativeOrder());
      b.asFloatBuffer().put(f);
    } else if (a instanceof double[] d) {
      b = ByteBuffer.allocate(d.length * 8).order(ByteOrder.nativeOrder());
      b.asDoubleBuffer().put(d);
    } else {
      short[] h = (short[]) a;
      b = ByteBuffer.allocate(h.length * 2).order(ByteOrder.nativeOrder());
      b.asShortBuffer().put(h);
    }
    return b.array();
  }

  private static byte[] poison(int n) {
    byte[] p = new byte[n];
    for (int i = 0; i < n; i++) {
      p[i] = (byte) (0xA5 ^ i);
    }
    return p;
  }

  private static short[] shorts(int n, SplittableRandom rnd) {
    short[] s = new short[n];
    for (int i = 0; i < n; i++) {
      s[i] = (short) rnd.nextInt();
    }
    return s;
  }
}
