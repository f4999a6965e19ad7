package dev.gpucore.p2p;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Argument checks of peer copies, batches, broadcast and gather: every rejection before any native call. */
class PeerCopyChecksTest {
  private final List<AutoCloseable> made = new ArrayList<>();

  private DeviceArray arr(int device, DType t, long n, long address) {
    DeviceArray a = Fakes.array(device, t, n, address);
    made.add(a);
    return a;
  }

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : made) {
      c.close();
    }
  }

  private static String rejected(Runnable r) {
    return assertThrows(GpuCoreException.InvalidArgument.class, r::run).getMessage();
  }

  @Test
  void acceptsCopiesWithinBothArraysOnAnyDevices() {
    DeviceArray a = arr(0, DType.FLOAT32, 100, 1 << 20);
    DeviceArray b = arr(1, DType.FLOAT32, 50, 1 << 20); // same address, other device: no overlap
    assertDoesNotThrow(() -> PeerCopy.checkCopy(a, 10, b, 0, 50, 2));
    assertDoesNotThrow(() -> PeerCopy.checkCopy(a, 100, b, 50, 0, 2));
    assertDoesNotThrow(() -> PeerCopy.checkCopy(a, 0, a, 0, 100, 2)); // onto itself: a no-op
    assertTrue(PeerCopy.isSelf(a, 3, a, 3));
    assertFalse(PeerCopy.isSelf(a, 3, b, 3));
  }

  @Test
  void rejectsBadRangesTypesDevicesAndClosedArrays() {
    DeviceArray a = arr(0, DType.FLOAT32, 100, 1 << 20);
    DeviceArray b = arr(1, DType.FLOAT32, 50, 1 << 20);
    DeviceArray d = arr(1, DType.FLOAT64, 50, 1 << 24);
    assertTrue(rejected(() -> PeerCopy.checkCopy(a, 0, b, 1, 50, 2)).startsWith("dst"));
    assertTrue(rejected(() -> PeerCopy.checkCopy(a, 60, b, 0, 41, 2)).startsWith("src"));
    rejected(() -> PeerCopy.checkCopy(a, -1, b, 0, 1, 2));
    rejected(() -> PeerCopy.checkCopy(a, 0, b, 0, -1, 2));
    rejected(() -> PeerCopy.checkCopy(a, Long.MAX_VALUE, b, 0, 1, 2));
    assertTrue(rejected(() -> PeerCopy.checkCopy(a, 0, d, 0, 1, 2)).contains("FLOAT64"));
    assertTrue(rejected(() -> PeerCopy.checkCopy(a, 0, b, 0, 1, 1)).contains("dst device"));
    assertTrue(rejected(() -> PeerCopy.checkCopy(null, 0, b, 0, 1, 2)).contains("src"));
    assertTrue(rejected(() -> PeerCopy.checkCopy(a, 0, null, 0, 1, 2)).contains("dst"));
    b.close();
    assertTrue(rejected(() -> PeerCopy.checkCopy(a, 0, b, 0, 1, 2)).contains("closed"));
  }

  @Test
  void rejectsOverlapOnOneDeviceOnly() {
    DeviceArray a = arr(0, DType.FLOAT32, 100, 1 << 20);
    assertTrue(rejected(() -> PeerCopy.checkCopy(a, 0, a, 10, 20, 2)).contains("overlap"));
    assertDoesNotThrow(() -> PeerCopy.checkCopy(a, 0, a, 20, 20, 2));
    // a second array whose memory lies inside the first (a view from a pool, say)
    DeviceArray inner = arr(0, DType.FLOAT32, 10, (1 << 20) + 40);
    rejected(() -> PeerCopy.checkCopy(a, 5, inner, 0, 10, 2));
    assertDoesNotThrow(() -> PeerCopy.checkCopy(a, 20, inner, 0, 10, 2));
  }

  @Test
  void batchesRejectRacingWritesAndReadsOfWrittenRanges() {
    DeviceArray a = arr(0, DType.FLOAT32, 100, 1 << 20);
    DeviceArray b = arr(1, DType.FLOAT32, 100, 1 << 20);
    DeviceArray c = arr(1, DType.FLOAT32, 100, 1 << 24);
    // both directions at once: fine
    DeviceArray f = arr(0, DType.FLOAT32, 100, 1 << 28);
    assertDoesNotThrow(() -> PeerCopy.checkTransfers(List.of(Transfer.of(a, b),
        new Transfer(c, 0, f, 0, 100)), 2));
    // no wait: a is read by the first and written by the second
    List<Transfer> readWrite = List.of(Transfer.of(a, b), new Transfer(c, 0, a, 50, 10));
    assertTrue(rejected(() -> PeerCopy.checkTransfers(readWrite, 2)).contains("reads"));
    // two writes into one range
    List<Transfer> twoWrites = List.of(new Transfer(a, 0, c, 0, 60), new Transfer(b, 0, c, 50, 10));
    assertTrue(rejected(() -> PeerCopy.checkTransfers(twoWrites, 2)).contains("overlapping"));
    // reading one source twice is fine
    DeviceArray e = arr(0, DType.FLOAT32, 100, 1 << 26);
    assertDoesNotThrow(() -> PeerCopy.checkTransfers(List.of(Transfer.of(b, a),
        Transfer.of(b, e)), 2));
    rejected(() -> PeerCopy.checkTransfers(java.util.Arrays.asList(Transfer.of(a, b), null), 2));
    rejected(() -> PeerCopy.checkTransfers(null, 2));
  }

  @Test
  void gatherPlacesEqualPartsOneAfterTheOther() {
    DeviceArray p0 = arr(0, DType.FLOAT64, 7, 1 << 20);
    DeviceArray p1 = arr(1, DType.FLOAT64, 7, 1 << 20);
    DeviceArray dst = arr(0, DType.FLOAT64, 14, 1 << 24);
    List<Transfer> t = PeerCopy.gatherTransfers(List.of(p0, p1), dst);
    assertEquals(2, t.size());
    assertEquals(0, t.get(0).dstOffset());
    assertEquals(7, t.get(1).dstOffset());
    assertEquals(56, t.get(1).bytes());
    assertDoesNotThrow(() -> PeerCopy.checkTransfers(t, 2));
    DeviceArray small = arr(0, DType.FLOAT64, 13, 1 << 26);
    assertTrue(rejected(() -> PeerCopy.gatherTransfers(List.of(p0, p1), small)).contains("14"));
    DeviceArray odd = arr(1, DType.FLOAT64, 6, 1 << 26);
    assertTrue(rejected(() -> PeerCopy.gatherTransfers(List.of(p0, odd), dst)).contains("equal"));
    rejected(() -> PeerCopy.gatherTransfers(List.of(), dst));
    // part 0 already in place: its copy is a no-op
    assertDoesNotThrow(() -> PeerCopy.checkTransfers(PeerCopy.gatherTransfers(List.of(p0, p1),
        arr(0, DType.FLOAT64, 14, 1 << 20)), 2));
    // but a destination shifted by one element over part 0 is rejected
    List<Transfer> shifted = PeerCopy.gatherTransfers(List.of(p0, p1),
        arr(0, DType.FLOAT64, 14, (1 << 20) + 8));
    assertTrue(rejected(() -> PeerCopy.checkTransfers(shifted, 2)).contains("overlap"));
  }

  @Test
  void streamsMustBeOpenAndOnOneOfTheTwoDevices() {
    DeviceArray a = arr(0, DType.FLOAT32, 10, 1 << 20);
    DeviceArray b = arr(1, DType.FLOAT32, 10, 1 << 20);
    GpuStream s0 = Fakes.stream(0);
    GpuStream s1 = Fakes.stream(1);
    GpuStream s2 = Fakes.stream(2);
    made.add(s0);
    made.add(s1);
    made.add(s2);
    assertDoesNotThrow(() -> PeerCopy.checkStream(s0, a, b));
    assertDoesNotThrow(() -> PeerCopy.checkStream(s1, a, b));
    assertTrue(rejected(() -> PeerCopy.checkStream(s2, a, b)).contains("device 2"));
    rejected(() -> PeerCopy.checkStream(null, a, b));
    s1.close();
    assertTrue(rejected(() -> PeerCopy.checkStream(s1, a, b)).contains("closed"));
  }

  @Test
  void devicesAreCheckedAgainstTheCount() {
    PeerCopy.checkDevice(0, 1, "srcDevice");
    assertTrue(rejected(() -> PeerCopy.checkDevice(1, 1, "dstDevice")).contains("dstDevice"));
    rejected(() -> PeerCopy.checkDevice(-1, 4, "srcDevice"));
  }
}
