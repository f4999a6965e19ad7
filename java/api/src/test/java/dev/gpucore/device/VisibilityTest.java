package dev.gpucore.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class VisibilityTest {
  static final List<String> TWO = List.of("GPU-aaaaaaaa-0000-0000-0000-000000000000",
      "GPU-bbbbbbbb-0000-0000-0000-000000000000");

  /** Four devices in CUDA order; two share the prefix GPU-ab, one is GPU-c..., one GPU-d.... */
  static final List<String> UUIDS = List.of(
      "GPU-ab12cdef-0000-0000-0000-000000000000",
      "GPU-cafe0001-0000-0000-0000-000000000000",
      "GPU-ab99beef-0000-0000-0000-000000000000",
      "GPU-dead0002-0000-0000-0000-000000000000");

  static List<Integer> apply(String spec) {
    return Visibility.applyCudaVisibleDevices(spec, UUIDS);
  }

  static Map<String, String> env(String... kv) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  @Nested
  class CudaVisibleDevices {
    @Test
    void nullSpecKeepsAllInOrder() {
      assertEquals(List.of(0, 1, 2, 3), apply(null));
      assertEquals(List.of(), Visibility.applyCudaVisibleDevices(null, List.of()));
    }

    @Test
    void emptySpecHidesAll() {
      assertEquals(List.of(), apply(""));
      assertEquals(List.of(), apply("   "));
    }

    @Test
    void indicesReorder() {
      assertEquals(List.of(1, 0), apply("1,0"));
      assertEquals(List.of(3), apply("3"));
      assertEquals(List.of(2, 3, 0, 1), apply("2,3,0,1"));
    }

    @Test
    void outOfRangeIndexStopsTheList() {
      assertEquals(List.of(0), apply("0,7,1"));
      assertEquals(List.of(), apply("4"));
      assertEquals(List.of(1), apply("1,99999999999999999999,0"), "index too large for int");
    }

    @Test
    void minusOneHidesAll() {
      assertEquals(List.of(), apply("-1"));
      assertEquals(List.of(), apply("-1,0"));
      assertEquals(List.of(0), apply("0,-1,1"));
    }

    @Test
    void duplicateStopsTheList() {
      assertEquals(List.of(0, 1), apply("0,1,0,2"));
      assertEquals(List.of(2), apply("2,2,3"));
      // duplicate through a UUID naming the same device as an earlier index
      assertEquals(List.of(1), apply("1," + UUIDS.get(1) + ",0"));
    }

    @Test
    void fullUuidMatches() {
      assertEquals(List.of(3, 1), apply(UUIDS.get(3) + "," + UUIDS.get(1)));
      assertEquals(List.of(3), apply(UUIDS.get(3).toUpperCase(java.util.Locale.ROOT)),
          "UUIDs match case-insensitively");
    }

    @Test
    void uniquePrefixMatches() {
      assertEquals(List.of(1), apply("GPU-ca"));
      assertEquals(List.of(0), apply("GPU-ab1"));
      assertEquals(List.of(2, 3), apply("GPU-ab9,GPU-d"));
    }

    @Test
    void uniquePrefixGpuAbMatchesWhenOnlyOneDeviceHasIt() {
      List<String> uuids = List.of("GPU-ab12-x", "GPU-cd34-y");
      assertEquals(List.of(0), Visibility.applyCudaVisibleDevices("GPU-ab", uuids));
      assertEquals(List.of(1, 0), Visibility.applyCudaVisibleDevices("GPU-cd,GPU-ab", uuids));
    }

    @Test
    void ambiguousPrefixStops() {
      assertEquals(List.of(), apply("GPU-ab"), "GPU-ab matches devices 0 and 2");
      assertEquals(List.of(1), apply("1,GPU-ab,0"));
      assertEquals(List.of(), apply("GPU-"), "GPU- matches every device");
    }

    @Test
    void unmatchedUuidStops() {
      assertEquals(List.of(), apply("GPU-ffff"));
      assertEquals(List.of(0), apply("0,GPU-ffff,1"));
      assertEquals(List.of(), apply(UUIDS.get(0) + "-extra"), "longer than any UUID");
    }

    @Test
    void garbageStops() {
      assertEquals(List.of(), apply("foo"));
      assertEquals(List.of(0), apply("0,foo,1"));
      assertEquals(List.of(0), apply("0,,1"), "an empty entry is invalid");
      assertEquals(List.of(), apply("1.0"));
      assertEquals(List.of(), apply("ab12cdef"), "a UUID without GPU- prefix is not matched");
    }

    @Test
    void whitespaceIsTrimmed() {
      assertEquals(List.of(1, 0), apply(" 1 , 0 "));
      assertEquals(List.of(1), apply("\t" + UUIDS.get(1) + " "));
      assertEquals(List.of(3, 2), apply(" 3,\t2\n"));
    }

    @Test
    void nullUuidsAreSkippedNotMatched() {
      List<String> uuids = new java.util.ArrayList<>();
      uuids.add(null);
      uuids.add("GPU-ab12");
      assertEquals(List.of(1), Visibility.applyCudaVisibleDevices("GPU-ab", uuids));
      assertEquals(List.of(0), Visibility.applyCudaVisibleDevices("0", uuids));
    }
  }

  @Nested
  class NvidiaVisibleDevices {
    @Test
    void unsetMeansAll() {
      Visibility v = Visibility.of(env(), false);
      assertEquals(Visibility.Mode.ALL, v.nvidiaMode());
      assertTrue(v.nvidiaAllows(0, "GPU-x"));
      assertTrue(v.nvidiaAllows(5, null));
      assertEquals("", v.explainNoDevice(TWO));
    }

    @Test
    void allMeansAll() {
      for (String s : new String[] {"all", "ALL", " all "}) {
        Visibility v = Visibility.of(env("NVIDIA_VISIBLE_DEVICES", s), false);
        assertEquals(Visibility.Mode.ALL, v.nvidiaMode(), s);
        assertTrue(v.nvidiaAllows(0, "GPU-x"), s);
        assertTrue(v.nvidiaAllows(3, "GPU-y"), s);
      }
    }

    @Test
    void noneVoidAndEmptyHideAllOutsideAContainer() {
      for (String s : new String[] {"none", "void", "", "NONE", " void "}) {
        Visibility v = Visibility.of(env("NVIDIA_VISIBLE_DEVICES", s), false);
        assertEquals(Visibility.Mode.NONE, v.nvidiaMode(), "\"" + s + "\"");
        assertFalse(v.nvidiaAllows(0, "GPU-x"), "\"" + s + "\"");
        assertFalse(v.nvidiaAllows(1, null), "\"" + s + "\"");
      }
    }

    @Test
    void listSelectsByIndexAndUuidOutsideAContainer() {
      Visibility v = Visibility.of(env("NVIDIA_VISIBLE_DEVICES", "0,GPU-xyz"), false);
      assertEquals(Visibility.Mode.LIST, v.nvidiaMode());
      assertTrue(v.nvidiaAllows(0, "GPU-aaa"), "index 0 listed");
      assertTrue(v.nvidiaAllows(3, "GPU-xyz"), "UUID listed");
      assertTrue(v.nvidiaAllows(3, "gpu-XYZ"), "UUIDs compare case-insensitively");
      assertFalse(v.nvidiaAllows(1, "GPU-aaa"), "neither index nor UUID listed");
      assertFalse(v.nvidiaAllows(2, null));
      assertFalse(v.nvidiaAllows(-1, "GPU-xy"), "a UUID prefix is not the UUID");
    }

    @Test
    void listEntriesAreTrimmed() {
      Visibility v = Visibility.of(env("NVIDIA_VISIBLE_DEVICES", " 1 , GPU-q ,"), false);
      assertEquals(Visibility.Mode.LIST, v.nvidiaMode());
      assertTrue(v.nvidiaAllows(1, "GPU-other"));
      assertTrue(v.nvidiaAllows(0, "GPU-q"));
      assertFalse(v.nvidiaAllows(0, "GPU-other"));
    }

    @Test
    void nvGpuIsTheFallbackWhenNvidiaVisibleDevicesIsUnset() {
      Visibility v = Visibility.of(env("NV_GPU", "1"), false);
      assertEquals(Visibility.Mode.LIST, v.nvidiaMode());
      assertTrue(v.nvidiaAllows(1, "GPU-a"));
      assertFalse(v.nvidiaAllows(0, "GPU-b"));
      assertTrue(v.describe().contains("NV_GPU=\"1\""), v.describe());

      Visibility none = Visibility.of(env("NV_GPU", "none"), false);
      assertEquals(Visibility.Mode.NONE, none.nvidiaMode());
      String msg = none.explainNoDevice(TWO);
      assertTrue(msg.contains("NV_GPU"), msg);
    }

    @Test
    void nvidiaVisibleDevicesWinsOverNvGpu() {
      Visibility v = Visibility.of(env("NVIDIA_VISIBLE_DEVICES", "all", "NV_GPU", "none"), false);
      assertEquals(Visibility.Mode.ALL, v.nvidiaMode());
      assertTrue(v.nvidiaAllows(0, "GPU-a"));
      // even set but empty, NVIDIA_VISIBLE_DEVICES is the one read
      Visibility e = Visibility.of(env("NVIDIA_VISIBLE_DEVICES", "", "NV_GPU", "all"), false);
      assertEquals(Visibility.Mode.NONE, e.nvidiaMode());
    }

    @Test
    void insideAContainerAListWithAnIndexIsLeftToTheRuntime() {
      // the runtime renumbered the devices it passed in: NVML index entries mean nothing here
      for (String s : new String[] {"0", "3", "0,GPU-xyz", "all"}) {
        Visibility v = Visibility.of(env("NVIDIA_VISIBLE_DEVICES", s), true);
        assertTrue(v.inContainer());
        for (int i = 0; i < 4; i++) {
          assertTrue(v.nvidiaAllows(i, "GPU-other" + i), s + " device " + i);
        }
      }
      Visibility nvGpu = Visibility.of(env("NV_GPU", "2"), true);
      assertTrue(nvGpu.nvidiaAllows(0, "GPU-a"));
    }

    @Test
    void insideAContainerUuidListsAndNoneStillApply() {
      // the documented behaviour of nvidiaAllows: UUID entries always select by UUID, and
      // none/void/empty hide every device, in a container or not
      Visibility uuids = Visibility.of(env("NVIDIA_VISIBLE_DEVICES", "GPU-xyz"), true);
      assertTrue(uuids.nvidiaAllows(0, "GPU-xyz"));
      assertFalse(uuids.nvidiaAllows(0, "GPU-abc"));
      Visibility none = Visibility.of(env("NVIDIA_VISIBLE_DEVICES", "none"), true);
      assertFalse(none.nvidiaAllows(0, "GPU-abc"));
    }
  }

  @Nested
  class Explain {
    @Test
    void emptyCudaVisibleDevices() {
      String msg = Visibility.of(env("CUDA_VISIBLE_DEVICES", ""), false).explainNoDevice(TWO);
      assertTrue(msg.contains("CUDA_VISIBLE_DEVICES"), msg);
      assertTrue(msg.contains("empty"), msg);
    }

    @Test
    void invalidUuidInCudaVisibleDevices() {
      String msg = Visibility.of(env("CUDA_VISIBLE_DEVICES", "GPU-nope,0"), false)
          .explainNoDevice(TWO);
      assertTrue(msg.contains("CUDA_VISIBLE_DEVICES"), msg);
      assertTrue(msg.contains("GPU-nope"), msg);
    }

    @Test
    void outOfRangeIndexInCudaVisibleDevices() {
      String msg = Visibility.of(env("CUDA_VISIBLE_DEVICES", "5"), false).explainNoDevice(TWO);
      assertTrue(msg.contains("CUDA_VISIBLE_DEVICES"), msg);
      assertTrue(msg.contains("\"5\""), msg);
      assertEquals("", Visibility.of(env("CUDA_VISIBLE_DEVICES", "1"), false).explainNoDevice(TWO),
          "a valid first index explains nothing");
      String minus = Visibility.of(env("CUDA_VISIBLE_DEVICES", "-1"), false).explainNoDevice(null);
      assertTrue(minus.contains("CUDA_VISIBLE_DEVICES"), minus);
    }

    @Test
    void nvidiaVisibleDevicesNone() {
      for (boolean container : new boolean[] {false, true}) {
        String msg = Visibility.of(env("NVIDIA_VISIBLE_DEVICES", "none"), container)
            .explainNoDevice(TWO);
        assertTrue(msg.contains("NVIDIA_VISIBLE_DEVICES"), msg);
        assertTrue(msg.contains("none"), msg);
      }
      String v = Visibility.of(env("NVIDIA_VISIBLE_DEVICES", "void"), false).explainNoDevice(TWO);
      assertTrue(v.contains("NVIDIA_VISIBLE_DEVICES"), v);
    }

    @Test
    void validUuidOrNoGpuAtAllExplainsNothing() {
      assertEquals("", Visibility.of(env("CUDA_VISIBLE_DEVICES", TWO.get(1)), false)
          .explainNoDevice(TWO), "a valid UUID is not to blame");
      assertEquals("", Visibility.of(env("CUDA_VISIBLE_DEVICES", "0"), false)
          .explainNoDevice(List.of()), "with no GPU at all the variable is not to blame");
    }

    @Test
    void allHiddenNamesTheVariable() {
      String list = Visibility.of(env("NVIDIA_VISIBLE_DEVICES", "GPU-zzz"), false)
          .explainAllHidden(2);
      assertTrue(list.contains("NVIDIA_VISIBLE_DEVICES=\"GPU-zzz\" matches none of the 2"), list);
      String none = Visibility.of(env("NV_GPU", "none"), true).explainAllHidden(1);
      assertTrue(none.contains("NV_GPU=\"none\" hides every GPU"), none);
    }

    @Test
    void hugeOrNonAsciiIndicesMatchNothing() {
      Visibility v = Visibility.of(env("NVIDIA_VISIBLE_DEVICES", "99999999999"), false);
      assertFalse(v.nvidiaAllows(0, "GPU-x"));
      assertEquals(List.of(), Visibility.applyCudaVisibleDevices("\u0661", TWO));
    }

    @Test
    void nothingToExplain() {
      assertEquals("", Visibility.of(env(), false).explainNoDevice(List.of()));
      assertEquals("", Visibility.of(env("NVIDIA_VISIBLE_DEVICES", "all"), false)
          .explainNoDevice(List.of()));
    }
  }

  @Nested
  class Misc {
    @Test
    void cudaDeviceOrderDefaultsToFastestFirst() {
      assertEquals("FASTEST_FIRST", Visibility.of(env(), false).cudaDeviceOrder());
      assertEquals("FASTEST_FIRST",
          Visibility.of(env("CUDA_DEVICE_ORDER", " "), false).cudaDeviceOrder());
      assertEquals("PCI_BUS_ID",
          Visibility.of(env("CUDA_DEVICE_ORDER", "PCI_BUS_ID"), false).cudaDeviceOrder());
    }

    @Test
    void cudaVisibleDevicesIsReportedAsSet() {
      assertEquals(null, Visibility.of(env(), false).cudaVisibleDevices());
      assertEquals("1,0", Visibility.of(env("CUDA_VISIBLE_DEVICES", "1,0"), false)
          .cudaVisibleDevices());
      String d = Visibility.of(env("CUDA_VISIBLE_DEVICES", "1,0"), false).describe();
      assertTrue(d.contains("CUDA_VISIBLE_DEVICES=\"1,0\""), d);
      assertTrue(d.contains("FASTEST_FIRST"), d);
    }

    @Test
    void detectContainerHonoursOverride() {
      assertTrue(Visibility.detectContainer(env("GPUCORE_IN_CONTAINER", "true")));
      assertTrue(Visibility.detectContainer(env("GPUCORE_IN_CONTAINER", " TRUE ")));
      assertTrue(Visibility.detectContainer(env("GPUCORE_IN_CONTAINER", "1")));
      // false wins even over the container variable and any /.dockerenv on this machine
      assertFalse(Visibility.detectContainer(env("GPUCORE_IN_CONTAINER", "false")));
      assertFalse(Visibility.detectContainer(
          env("GPUCORE_IN_CONTAINER", "false", "container", "podman")));
      assertFalse(Visibility.detectContainer(env("GPUCORE_IN_CONTAINER", "0")));
    }

    @Test
    void detectContainerFallsBackToTheContainerVariable() {
      assertTrue(Visibility.detectContainer(env("container", "podman")));
      assertTrue(Visibility.detectContainer(env("GPUCORE_IN_CONTAINER", " ", "container", "oci")));
    }

    @Test
    void inContainerIsRemembered() {
      assertTrue(Visibility.of(env(), true).inContainer());
      assertFalse(Visibility.of(env(), false).inContainer());
    }
  }
}
