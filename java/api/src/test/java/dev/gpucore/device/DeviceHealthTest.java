package dev.gpucore.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class DeviceHealthTest {
  @Test
  void clockEventReasonsDecodeToNames() {
    assertEquals(List.of(), new DeviceHealth.ClockEvents(0).names());
    assertEquals(List.of("gpu_idle", "sw_power_cap"), new DeviceHealth.ClockEvents(0x5).names());
    assertEquals(List.of("hw_slowdown", "sw_thermal_slowdown", "hw_thermal_slowdown",
        "hw_power_brake_slowdown", "display_clock_setting", "bit_63"),
        new DeviceHealth.ClockEvents(0x8 | 0x20 | 0x40 | 0x80 | 0x100 | (1L << 63)).names());
    assertFalse(new DeviceHealth.ClockEvents(0x1 | 0x2 | 0x4 | 0x10).slowdown());
    for (long bit : new long[] {0x8, 0x20, 0x40, 0x80}) {
      assertTrue(new DeviceHealth.ClockEvents(bit).slowdown(), Long.toHexString(bit));
    }
  }

  @Test
  void aReadingHasAValueOrAReason() {
    DeviceHealth.Reading<Integer> v = DeviceHealth.Reading.of(3);
    assertTrue(v.available());
    assertEquals("", v.unavailable());
    DeviceHealth.Reading<Integer> u = DeviceHealth.Reading.unavailable("not supported");
    assertFalse(u.available());
    assertEquals("not supported", u.unavailable());
    assertEquals("unknown", DeviceHealth.Reading.unavailable(" ").unavailable());
    assertEquals("unknown", new DeviceHealth.Reading<>(null, null).unavailable());
    assertThrows(IllegalArgumentException.class, () -> DeviceHealth.Reading.of(null));
    DeviceHealth h = DeviceHealth.unknown("no NVML");
    assertEquals("no NVML", h.remappedRows().unavailable());
    assertThrows(IllegalArgumentException.class, () -> new DeviceHealth(null, h.retiredPages(),
        h.remappedRows(), h.clockEvents()));
  }
}
