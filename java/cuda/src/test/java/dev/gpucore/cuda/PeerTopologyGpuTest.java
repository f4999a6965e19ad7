package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.GpuCore;
import dev.gpucore.p2p.PciPath;
import dev.gpucore.p2p.Topology;
import dev.gpucore.testkit.RequiresGpu;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The topology snapshot as NVML and CUDA give it on the machine at hand. */
@RequiresGpu
class PeerTopologyGpuTest {
  static GpuCore core;

  @BeforeEach
  void useGpu(GpuCore gpu) {
    core = gpu;
  }

  @Test
  void oneEntryPerGpuAndPairWithTheDiagonalSelf() {
    Topology t = core.peer().topology();
    int n = core.devices().size();
    assertEquals(n, t.size());
    assertEquals(n * n, t.links().size());
    for (int i = 0; i < n; i++) {
      assertEquals(core.devices().get(i).pciBusId(), t.gpus().get(i).pciBusId());
      assertEquals(core.devices().get(i).cudaOrdinal(), t.gpus().get(i).cudaOrdinal());
      Topology.Link self = t.link(i, i);
      assertEquals("X", self.connection());
      assertEquals(PciPath.SELF, self.pciPath());
    }
    assertEquals(core.discovery().nvmlAvailable(), t.nvml());
    System.out.print(t.matrix());
    System.out.print(t.cudaMatrix());
    t.notes().forEach(s -> System.out.println("note: " + s));
  }

  @Test
  void pairsAreSymmetricWhereTheyMustBe() {
    Topology t = core.peer().topology();
    for (int i = 0; i < t.size(); i++) {
      for (int j = 0; j < t.size(); j++) {
        if (i == j) {
          continue;
        }
        Topology.Link a = t.link(i, j);
        Topology.Link b = t.link(j, i);
        assertEquals(a.pciPath(), b.pciPath(), "PCIe path " + i + "/" + j);
        assertEquals(a.nvlinks(), b.nvlinks(), "NVLinks " + i + "/" + j);
        assertFalse(a.pciPath() == PciPath.SELF, "SELF off the diagonal");
        if (t.nvml()) {
          assertTrue(a.nvlinks() >= 0, "NVML is there, so the NVLink count is known");
        } else {
          assertEquals(Topology.UNKNOWN, a.nvlinks());
        }
        if (a.peerAccess()) {
          assertTrue(a.performanceRank() >= 0, "CUDA gives a rank where it allows access");
        }
      }
    }
  }
}
