package dev.gpucore.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.device.DeviceInfo;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeviceBinderTest {
  private static final List<DeviceInfo> TWO = FakeDevices.twoOutOfPciOrder();

  @Test
  void ordinalsCountInPciBusOrderAndBindTheProcesssCudaOrdinal() {
    DeviceBinder.Bound first = DeviceBinder.bind("0", TWO, "");
    assertEquals(1, first.cudaOrdinal(), "address 0 is the lower bus id, 1a, which CUDA calls 1");
    assertEquals(1, first.device());
    assertTrue(first.how().contains("bus 00000000:1A:00.0"), first.how());
    DeviceBinder.Bound second = DeviceBinder.bind(" 1 ", TWO, "");
    assertEquals(0, second.cudaOrdinal());
    assertEquals(" 1 ", second.address());
  }

  @Test
  void uuidsMatchWithOrWithoutPrefixInAnyCase() {
    assertEquals(0, DeviceBinder.bind(FakeDevices.UUID_A, TWO, "").cudaOrdinal());
    assertEquals(1, DeviceBinder.bind(FakeDevices.UUID_B.substring(4).toUpperCase(), TWO, "").cudaOrdinal());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DeviceBinder.bind("GPU-00000000-0000-0000-0000-000000000000", TWO, ""));
    assertTrue(e.getMessage().contains("names no GPU visible here") && e.getMessage().contains(FakeDevices.UUID_A),
        e.getMessage());
  }

  @Test
  void busIdsMatchInEitherDomainWidth() {
    assertEquals(1, DeviceBinder.bind("0000:1a:00.0", TWO, "").cudaOrdinal());
    assertEquals(0, DeviceBinder.bind("00000000:B3:00.0", TWO, "").cudaOrdinal());
    assertEquals(0, DeviceBinder.bind("b3:00.0", TWO, "").cudaOrdinal());
    assertThrows(IllegalArgumentException.class, () -> DeviceBinder.bind("0000:41:00.0", TWO, ""));
  }

  @Test
  void withoutBusIdsOrdinalsAreCudaOrdinals() {
    List<DeviceInfo> noBus = List.of(FakeDevices.gpu(0, 1, FakeDevices.UUID_A, ""),
        FakeDevices.gpu(1, 0, FakeDevices.UUID_B, ""));
    DeviceBinder.Bound b = DeviceBinder.bind("0", noBus, "");
    assertEquals(0, b.cudaOrdinal());
    assertEquals(1, b.device());
    assertTrue(b.how().contains("no bus ids known"), b.how());
  }

  @Test
  void withoutGpusAnOrdinalPassesAsItStandsAndOthersFail() {
    DeviceBinder.Bound b = DeviceBinder.bind("3", List.of(), "no NVIDIA driver");
    assertEquals(3, b.cudaOrdinal());
    assertEquals(-1, b.device());
    assertTrue(b.how().contains("gpucore sees no GPU here (no NVIDIA driver)"), b.how());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DeviceBinder.bind(FakeDevices.UUID_A, List.of(), "no NVIDIA driver"));
    assertTrue(e.getMessage().contains("gpucore sees none (no NVIDIA driver)"), e.getMessage());
  }

  @Test
  void anOrdinalBeyondTheVisibleGpusFails() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DeviceBinder.bind("2", TWO, ""));
    assertEquals("address 2 names GPU 2 in PCI bus order, but 2 GPU(s) are visible here", e.getMessage());
  }

  @Test
  void malformedAddressesAreRefusedByName() {
    for (String bad : new String[] {"", " ", "-1", "gpu0", "0x1", "1.5", "GPU-xyz", "12345"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> DeviceBinder.bind(bad, TWO, ""), bad);
      assertTrue(e.getMessage().startsWith("address must be a GPU ordinal, UUID or PCI bus id"),
          e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> DeviceBinder.bind(null, TWO, ""));
  }
}
