package dev.gpucore.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The topology value and its nvidia-smi-like matrices, from made-up machines. */
class TopologyTest {
  /** Two GPUs joined by 18 NVLinks, and a third on PCIe across the socket. */
  static Topology machine() {
    List<Topology.Gpu> gpus = List.of(
        new Topology.Gpu(0, 0, 0, "NVIDIA H200", "00000000:19:00.0", "0-47", 0),
        new Topology.Gpu(1, 1, 1, "NVIDIA H200", "00000000:3B:00.0", "0-47", 0),
        new Topology.Gpu(2, 2, Topology.UNKNOWN, "NVIDIA H200", "00000000:9B:00.0", "", -1));
    List<Topology.Link> links = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 3; j++) {
        if (i == j) {
          links.add(new Topology.Link(i, j, 0, false, PciPath.SELF, true, 0, true));
        } else if (i < 2 && j < 2) {
          links.add(new Topology.Link(i, j, 18, false, PciPath.NODE, true, 0, true));
        } else {
          links.add(new Topology.Link(i, j, 0, false, PciPath.SYS, false, -1, false));
        }
      }
    }
    return new Topology(gpus, links, true, List.of("a note"));
  }

  @Test
  void connectionsAsNvidiaSmiNamesThem() {
    Topology t = machine();
    assertEquals("X", t.link(1, 1).connection());
    assertEquals("NV18", t.link(0, 1).connection());
    assertEquals("SYS", t.link(2, 0).connection());
    assertEquals("OK r0", t.link(0, 1).cudaPeer());
    assertEquals("NS", t.link(0, 2).cudaPeer());
    assertEquals("?", new Topology.Link(0, 1, -1, false, null, true, -1, false).connection());
    assertEquals("OK", new Topology.Link(0, 1, -1, false, null, true, -1, false).cudaPeer());
  }

  @Test
  void matrixHasAHeaderRowPerGpuAndAffinities() {
    String[] lines = machine().matrix().split("\\R");
    assertEquals(4, lines.length);
    assertTrue(lines[0].matches("\\s+GPU0\\s+GPU1\\s+GPU2\\s+CPU Affinity\\s+NUMA Affinity"),
        lines[0]);
    assertTrue(lines[1].matches("GPU0\\s+X\\s+NV18\\s+SYS\\s+0-47\\s+0"), lines[1]);
    assertTrue(lines[3].matches("GPU2\\s+SYS\\s+SYS\\s+X\\s+N/A\\s+N/A"), lines[3]);
    for (String l : lines) {
      assertTrue(!l.endsWith(" "), "no trailing blanks: '" + l + "'");
    }
    String cuda = machine().cudaMatrix();
    assertTrue(cuda.contains("OK r0"), cuda);
    assertTrue(cuda.split("\\R")[3].matches("GPU2\\s+NS\\s+NS\\s+X"), cuda);
  }

  @Test
  void legendNamesEveryLabel() {
    String l = Topology.legend();
    for (String s : new String[] {"X ", "PIX", "PXB", "PHB", "NODE", "SYS", "NV#"}) {
      assertTrue(l.contains("  " + s), s + " in " + l);
    }
  }

  @Test
  void nvmlLevels() {
    assertEquals(PciPath.PIX, PciPath.fromNvmlLevel(0));
    assertEquals(PciPath.PIX, PciPath.fromNvmlLevel(10));
    assertEquals(PciPath.PXB, PciPath.fromNvmlLevel(20));
    assertEquals(PciPath.PHB, PciPath.fromNvmlLevel(30));
    assertEquals(PciPath.NODE, PciPath.fromNvmlLevel(40));
    assertEquals(PciPath.SYS, PciPath.fromNvmlLevel(50));
    assertEquals(PciPath.UNKNOWN, PciPath.fromNvmlLevel(7));
  }

  @Test
  void rejectsMissingOrMisplacedLinks() {
    Topology t = machine();
    List<Topology.Link> fewer = new ArrayList<>(t.links());
    fewer.remove(0);
    assertThrows(IllegalArgumentException.class,
        () -> new Topology(t.gpus(), fewer, true, List.of()));
    List<Topology.Link> swapped = new ArrayList<>(t.links());
    swapped.set(1, t.links().get(3));
    swapped.set(3, t.links().get(1));
    assertThrows(IllegalArgumentException.class,
        () -> new Topology(t.gpus(), swapped, true, List.of()));
    assertThrows(IndexOutOfBoundsException.class, () -> t.link(3, 0));
  }

  @Test
  void peerLinkSaysWhetherItIsDirect() {
    assertTrue(new PeerLink(0, 1, CopyPath.PEER, "probe passed").isPeer());
    assertEquals("", new PeerLink(0, 1, CopyPath.STAGED, null).reason());
  }
}
