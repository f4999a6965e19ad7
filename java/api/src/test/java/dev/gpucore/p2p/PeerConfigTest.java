package dev.gpucore.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.GpuCoreException;
import dev.gpucore.Settings;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The peer-copy settings: defaults, gpucore.p2p = auto|off, and rejected values. */
class PeerConfigTest {
  private static PeerConfig read(Map<String, String> props) {
    return PeerConfig.from(Settings.from(props, Map.of()));
  }

  @Test
  void defaults() {
    PeerConfig c = read(Map.of());
    assertEquals(PeerConfig.DEFAULT, c);
    assertTrue(c.enabled());
    assertSettings(c, true, 2000, 8L << 20, 4, PeerConfig.Wait.SPIN, 0);
  }

  @Test
  void offFromPropertyOrEnvironment() {
    assertFalse(read(Map.of("gpucore.p2p", "off")).enabled());
    assertFalse(read(Map.of("gpucore.p2p", "OFF")).enabled());
    assertTrue(read(Map.of("gpucore.p2p", "auto")).enabled());
    assertFalse(PeerConfig.from(Settings.from(Map.of(), Map.of("GPUCORE_P2P", "off"))).enabled());
  }

  @Test
  void otherSettings() {
    PeerConfig c = read(Map.of("gpucore.p2p.probe", "false", "gpucore.p2p.probeTimeoutMs", "500",
        "gpucore.p2p.stagedChunkMiB", "64", "gpucore.p2p.stagedBuffers", "2",
        "gpucore.p2p.wait", "block", "gpucore.p2p.kernelMaxBytes", "65536"));
    assertSettings(c, false, 500, 64L << 20, 2, PeerConfig.Wait.BLOCK, 65536);
    assertEquals(PeerConfig.Wait.EVENT, read(Map.of("gpucore.p2p.wait", "event")).waitMode());
  }

  @Test
  void rejectsWhatItDoesNotUnderstandNamingTheSetting() {
    for (Map<String, String> bad : new Map[] {Map.of("gpucore.p2p", "maybe"),
        Map.of("gpucore.p2p.wait", "sleep"), Map.of("gpucore.p2p.stagedBuffers", "1"),
        Map.of("gpucore.p2p.stagedChunkMiB", "0"), Map.of("gpucore.p2p.probeTimeoutMs", "0"),
        Map.of("gpucore.p2p.probe", "perhaps"), Map.of("gpucore.p2p.kernelMaxBytes", "-1")}) {
      String key = bad.keySet().iterator().next();
      String msg = assertThrows(GpuCoreException.InvalidArgument.class, () -> read(bad))
          .getMessage();
      assertTrue(msg.contains(key), msg);
    }
  }

  private static void assertSettings(PeerConfig c, boolean probe, int probeTimeoutMs,
      long stagedChunkBytes, int stagedBuffers, PeerConfig.Wait waitMode, long kernelMaxBytes) {
    assertEquals(probe, c.probe(), "probe");
    assertEquals(probeTimeoutMs, c.probeTimeoutMs(), "probeTimeoutMs");
    assertEquals(stagedChunkBytes, c.stagedChunkBytes(), "stagedChunkBytes");
    assertEquals(stagedBuffers, c.stagedBuffers(), "stagedBuffers");
    assertEquals(waitMode, c.waitMode(), "waitMode");
    assertEquals(kernelMaxBytes, c.kernelMaxBytes(), "kernelMaxBytes");
  }
}
