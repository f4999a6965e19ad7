package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.p2p.PeerCopy;
import dev.gpucore.p2p.Transfer;
import dev.gpucore.testkit.FakeGpu;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Argument checks of peer copies, batches, broadcast and gather on two fake GPUs: every
 * rejection before the backend is asked for anything, and what passes the checks reaches the
 * backend as the copies expected (none for a copy onto itself or of nothing).
 */
class PeerCopyChecksTest {
  private final List<AutoCloseable> made = new ArrayList<>();
  private FakeGpu gpus;
  private GpuCore core;
  private PeerCopy peer;

  @BeforeEach
  void open() {
    gpus = new FakeGpu(2).withPeerCopies();
    core = gpus.core(Map.of(), new CpuBackendProvider());
    peer = core.peer();
  }

  private DeviceArray arr(int device, DType t, long n, long address) {
    DeviceArray a = FakeGpu.arrayAt(device, t, n, address);
    made.add(a);
    return a;
  }

  private GpuStream stream(int device) {
    GpuStream s = FakeGpu.stream(device);
    made.add(s);
    return s;
  }

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : made) {
      c.close();
    }
    core.close();
  }

  private String rejected(Executable call) {
    int before = gpus.peerCopies.size();
    String message = assertThrows(GpuCoreException.InvalidArgument.class, call).getMessage();
    assertEquals(before, gpus.peerCopies.size(), "a rejected call copied: " + message);
    return message;
  }

  /** Runs {@code call}, which must pass the checks, and returns the copies it asked for. */
  private List<Transfer> accepted(Executable call) {
    int before = gpus.peerCopies.size();
    assertDoesNotThrow(call);
    return List.copyOf(gpus.peerCopies.subList(before, gpus.peerCopies.size()));
  }

  @Test
  void acceptsCopiesWithinBothArraysOnAnyDevices() {
    DeviceArray a = arr(0, DType.FLOAT32, 100, 1 << 20);
    DeviceArray b = arr(1, DType.FLOAT32, 50, 1 << 20); // same address, other device: no overlap
    assertEquals(1, accepted(() -> peer.copy(a, 10, b, 0, 50)).size());
    assertTrue(accepted(() -> peer.copy(a, 100, b, 50, 0)).isEmpty()); // nothing to copy
    assertTrue(accepted(() -> peer.copy(a, 0, a, 0, 100)).isEmpty()); // onto itself: a no-op
    assertTrue(accepted(() -> peer.copy(a, 3, a, 3, 1)).isEmpty());
    assertEquals(1, accepted(() -> peer.copy(a, 3, b, 3, 1)).size());
  }

  @Test
  void rejectsBadRangesTypesDevicesAndClosedArrays() {
    DeviceArray a = arr(0, DType.FLOAT32, 100, 1 << 20);
    DeviceArray b = arr(1, DType.FLOAT32, 50, 1 << 20);
    DeviceArray d = arr(1, DType.FLOAT64, 50, 1 << 24);
    assertTrue(rejected(() -> peer.copy(a, 0, b, 1, 50)).startsWith("dst"));
    assertTrue(rejected(() -> peer.copy(a, 60, b, 0, 41)).startsWith("src"));
    rejected(() -> peer.copy(a, -1, b, 0, 1));
    rejected(() -> peer.copy(a, 0, b, 0, -1));
    rejected(() -> peer.copy(a, Long.MAX_VALUE, b, 0, 1));
    assertTrue(rejected(() -> peer.copy(a, 0, d, 0, 1)).contains("FLOAT64"));
    try (GpuCore one = new FakeGpu(1).withPeerCopies().core(Map.of(), new CpuBackendProvider())) {
      assertTrue(assertThrows(GpuCoreException.InvalidArgument.class,
          () -> one.peer().copy(a, 0, b, 0, 1)).getMessage().contains("dst device"));
    }
    assertTrue(rejected(() -> peer.copy(null, 0, b, 0, 1)).contains("src"));
    assertTrue(rejected(() -> peer.copy(a, 0, null, 0, 1)).contains("dst"));
    b.close();
    assertTrue(rejected(() -> peer.copy(a, 0, b, 0, 1)).contains("closed"));
  }

  @Test
  void rejectsOverlapOnOneDeviceOnly() {
    DeviceArray a = arr(0, DType.FLOAT32, 100, 1 << 20);
    assertTrue(rejected(() -> peer.copy(a, 0, a, 10, 20)).contains("overlap"));
    assertEquals(1, accepted(() -> peer.copy(a, 0, a, 20, 20)).size());
    // a second array whose memory lies inside the first (a view from a pool, say)
    DeviceArray inner = arr(0, DType.FLOAT32, 10, (1 << 20) + 40);
    rejected(() -> peer.copy(a, 5, inner, 0, 10));
    assertEquals(1, accepted(() -> peer.copy(a, 20, inner, 0, 10)).size());
  }

  @Test
  void batchesRejectRacingWritesAndReadsOfWrittenRanges() {
    DeviceArray a = arr(0, DType.FLOAT32, 100, 1 << 20);
    DeviceArray b = arr(1, DType.FLOAT32, 100, 1 << 20);
    DeviceArray c = arr(1, DType.FLOAT32, 100, 1 << 24);
    // both directions at once: fine
    DeviceArray f = arr(0, DType.FLOAT32, 100, 1 << 28);
    assertEquals(2, accepted(() -> peer.copyAll(List.of(Transfer.of(a, b),
        new Transfer(c, 0, f, 0, 100)))).size());
    // no wait: a is read by the first and written by the second
    List<Transfer> readWrite = List.of(Transfer.of(a, b), new Transfer(c, 0, a, 50, 10));
    assertTrue(rejected(() -> peer.copyAll(readWrite)).contains("reads"));
    // two writes into one range
    List<Transfer> twoWrites = List.of(new Transfer(a, 0, c, 0, 60), new Transfer(b, 0, c, 50, 10));
    assertTrue(rejected(() -> peer.copyAll(twoWrites)).contains("overlapping"));
    // reading one source twice is fine
    DeviceArray e = arr(0, DType.FLOAT32, 100, 1 << 26);
    assertEquals(2, accepted(() -> peer.copyAll(List.of(Transfer.of(b, a),
        Transfer.of(b, e)))).size());
    rejected(() -> peer.copyAll(java.util.Arrays.asList(Transfer.of(a, b), null)));
    rejected(() -> peer.copyAll(null));
  }

  @Test
  void gatherPlacesEqualPartsOneAfterTheOther() {
    DeviceArray p0 = arr(0, DType.FLOAT64, 7, 1 << 20);
    DeviceArray p1 = arr(1, DType.FLOAT64, 7, 1 << 20);
    DeviceArray dst = arr(0, DType.FLOAT64, 14, 1 << 24);
    List<Transfer> t = accepted(() -> peer.gather(List.of(p0, p1), dst));
    assertEquals(2, t.size());
    assertEquals(0, t.get(0).dstOffset());
    assertEquals(7, t.get(1).dstOffset());
    assertEquals(56, t.get(1).bytes());
    DeviceArray small = arr(0, DType.FLOAT64, 13, 1 << 26);
    assertTrue(rejected(() -> peer.gather(List.of(p0, p1), small)).contains("14"));
    DeviceArray odd = arr(1, DType.FLOAT64, 6, 1 << 26);
    assertTrue(rejected(() -> peer.gather(List.of(p0, odd), dst)).contains("equal"));
    rejected(() -> peer.gather(List.of(), dst));
    // part 0 already in place: its copy is a no-op
    DeviceArray inPlace = arr(0, DType.FLOAT64, 14, 1 << 20);
    assertDoesNotThrow(() -> peer.gather(List.of(p0, p1), inPlace));
    // but a destination shifted by one element over part 0 is rejected
    DeviceArray shifted = arr(0, DType.FLOAT64, 14, (1 << 20) + 8);
    assertTrue(rejected(() -> peer.gather(List.of(p0, p1), shifted)).contains("overlap"));
  }

  @Test
  void streamsMustBeOpenAndOnOneOfTheTwoDevices() {
    DeviceArray a = arr(0, DType.FLOAT32, 10, 1 << 20);
    DeviceArray b = arr(1, DType.FLOAT32, 10, 1 << 20);
    GpuStream s0 = stream(0);
    GpuStream s1 = stream(1);
    GpuStream s2 = stream(2);
    assertEquals(1, accepted(() -> peer.copyAsync(a, 0, b, 0, 10, s0)).size());
    assertEquals(1, accepted(() -> peer.copyAsync(a, 0, b, 0, 10, s1)).size());
    assertTrue(rejected(() -> peer.copyAsync(a, 0, b, 0, 10, s2)).contains("device 2"));
    rejected(() -> peer.copyAsync(a, 0, b, 0, 10, null));
    s1.close();
    assertTrue(rejected(() -> peer.copyAsync(a, 0, b, 0, 10, s1)).contains("closed"));
  }

  @Test
  void devicesAreCheckedAgainstTheCount() {
    try (GpuCore one = new FakeGpu(1).withPeerCopies().core(Map.of(), new CpuBackendProvider())) {
      assertEquals(0, one.peer().link(0, 0).dst());
      assertTrue(assertThrows(GpuCoreException.InvalidArgument.class,
          () -> one.peer().link(0, 1)).getMessage().contains("dstDevice"));
    }
    assertTrue(rejected(() -> peer.link(-1, 0)).contains("srcDevice"));
  }
}
