package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gpucore.GpuCore;
import dev.gpucore.device.DeviceInfo;
import dev.gpucore.testkit.GpuTests;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The visibility variables, each in a fresh JVM (CUDA reads them once per process): the empty
 * {@code CUDA_VISIBLE_DEVICES}, {@code NVIDIA_VISIBLE_DEVICES=none}, an invalid UUID, and
 * selection by UUID and by NVML index.
 */
class VisibilityGpuTest {
  static String uuid;
  static int nvmlIndex;
  static int count;

  static boolean gpu;

  @BeforeAll
  static void realDevices() {
    try (GpuCore core = GpuCore.open()) {
      gpu = core.hasGpu();
      if (!gpu) {
        return;
      }
      DeviceInfo g = core.devices().get(0);
      uuid = g.uuid();
      nvmlIndex = g.nvmlIndex();
      count = core.devices().size();
    }
  }

  @BeforeEach
  void needsGpu() {
    try (GpuCore core = GpuCore.open()) {
      GpuTests.require(core);
    }
  }

  static String probe(Map<String, String> env) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("gpucore.testClassPath",
        System.getProperty("java.class.path")),
        VisibilityProbe.class.getName());
    pb.environment().remove("CUDA_VISIBLE_DEVICES");
    pb.environment().remove("NVIDIA_VISIBLE_DEVICES");
    pb.environment().remove("NV_GPU");
    pb.environment().put("GPUCORE_IN_CONTAINER", "false");
    pb.environment().putAll(env);
    pb.redirectErrorStream(true);
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "probe timed out");
    String s = new String(out, StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), s);
    return s;
  }

  @Test
  void emptyCudaVisibleDevicesHidesAll() throws Exception {
    // a child started under compute-sanitizer (--target-processes all) with
    // CUDA_VISIBLE_DEVICES="" still sees the GPU; without the sanitizer the same child sees none
    assumeTrue(!GpuTests.SANITIZER,
        "under compute-sanitizer an empty CUDA_VISIBLE_DEVICES does not hide the GPU");
    String s = probe(Map.of("CUDA_VISIBLE_DEVICES", ""));
    assertTrue(s.contains("gpus=0"), s);
    assertTrue(s.contains("CUDA_VISIBLE_DEVICES is set but empty"), s);
  }

  @Test
  void nvidiaVisibleDevicesNoneHidesAll() throws Exception {
    String s = probe(Map.of("NVIDIA_VISIBLE_DEVICES", "none"));
    assertTrue(s.contains("gpus=0"), s);
    assertTrue(s.contains("NVIDIA_VISIBLE_DEVICES=\"none\" hides every GPU"), s);
    String legacy = probe(Map.of("NV_GPU", "void"));
    assertTrue(legacy.contains("gpus=0") && legacy.contains("NV_GPU"), legacy);
  }

  @Test
  void invalidUuidMatchesNothingAndSaysSo() throws Exception {
    String s = probe(Map.of("CUDA_VISIBLE_DEVICES", "GPU-00000000-dead-beef-0000-000000000000"));
    assertTrue(s.contains("gpus=0"), s);
    assertTrue(s.contains("matches no device"), s);
  }

  @Test
  void selectionByUuidAndIndex() throws Exception {
    String s = probe(Map.of("CUDA_VISIBLE_DEVICES", uuid));
    assertTrue(s.contains("gpus=1") && s.contains(uuid), s);
    String n = probe(Map.of("NVIDIA_VISIBLE_DEVICES", uuid, "CUDA_DEVICE_ORDER", "PCI_BUS_ID"));
    assertTrue(n.contains("gpus=1") && n.contains(uuid), n);
    if (nvmlIndex >= 0) {
      String i = probe(Map.of("NVIDIA_VISIBLE_DEVICES", String.valueOf(nvmlIndex)));
      assertTrue(i.contains("gpus=1") && i.contains(uuid), i);
    }
    // an invalid entry after a valid one hides only itself and what follows
    String t = probe(Map.of("CUDA_VISIBLE_DEVICES", "0,bogus," + (count > 1 ? "1" : "0")));
    assertTrue(t.contains("gpus=1"), t);
  }
}
