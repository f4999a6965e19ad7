package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.memory.NativeMemory;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The test kit's JUnit extension, run on sample classes: one core per class handed to every
 * parameter, closed after the class, a class failed when it leaves native memory allocated,
 * and GPU tests aborted with the reason where no GPU is visible (run where one is, they pass).
 */
class TestKitExtensionTest {
  /** Results of what ran: tests by display name, classes by simple name. */
  static Map<String, TestExecutionResult> run(Class<?> sample) {
    Map<String, TestExecutionResult> results = new ConcurrentHashMap<>();
    LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request()
        .selectors(selectClass(sample)).build(), new TestExecutionListener() {
          @Override
          public void executionFinished(TestIdentifier id, TestExecutionResult result) {
            String name = id.getSource().filter(ClassSource.class::isInstance)
                .map(c -> ((ClassSource) c).getJavaClass().getSimpleName())
                .orElse(id.getDisplayName());
            results.put(name, result);
          }
        });
    return results;
  }

  @Test
  void oneCorePerClassForEveryParameterClosedAfterTheClass() {
    ExtensionSamples.SEEN.clear();
    Map<String, TestExecutionResult> r = run(ExtensionSamples.SharedCore.class);
    assertEquals(TestExecutionResult.Status.SUCCESSFUL, r.get("first(GpuCore)").getStatus());
    assertEquals(TestExecutionResult.Status.SUCCESSFUL, r.get("second(GpuCore)").getStatus());
    assertEquals(TestExecutionResult.Status.SUCCESSFUL, r.get("SharedCore").getStatus());
    assertEquals(4, ExtensionSamples.SEEN.size());
    for (GpuCore c : ExtensionSamples.SEEN) {
      assertSame(ExtensionSamples.SEEN.get(0), c, "the same core everywhere in the class");
    }
    assertFalse(ExtensionSamples.SEEN.get(0).hasGpu(), "the CPU backend");
    assertThrows(GpuCoreException.class, () -> ExtensionSamples.SEEN.get(0).allocateHost(DType.FLOAT32, 4, false),
        "closed after the class");
  }

  @Test
  void aClassThatLeavesNativeMemoryAllocatedFails() {
    long before = NativeMemory.liveBytes(NativeMemory.Kind.PAGEABLE);
    try {
      Map<String, TestExecutionResult> r = run(ExtensionSamples.Leaks.class);
      assertEquals(TestExecutionResult.Status.SUCCESSFUL,
          r.get("keepsAHostArray(GpuCore)").getStatus());
      TestExecutionResult c = r.get("Leaks");
      assertEquals(TestExecutionResult.Status.FAILED, c.getStatus());
      String why = c.getThrowable().orElseThrow().getMessage();
      assertTrue(why.startsWith("native memory left allocated after the test class closed its"
          + " GpuCore"), why);
      assertEquals(before + 8000, NativeMemory.liveBytes(NativeMemory.Kind.PAGEABLE), why);
    } finally {
      ExtensionSamples.Leaks.kept.close();
    }
  }

  @Test
  void gpuTestsAbortWithTheReasonWhereNoGpuIsVisible() {
    boolean gpu;
    String reason;
    try (GpuCore probe = GpuCore.open()) {
      gpu = probe.hasGpu();
      reason = probe.noGpuReason();
    }
    TestExecutionResult t = run(ExtensionSamples.NeedsGpu.class).get("onTheGpu(GpuCore)");
    if (gpu) {
      assertEquals(TestExecutionResult.Status.SUCCESSFUL, t.getStatus());
    } else if (Boolean.getBoolean("gpucore.requireGpu")) {
      assertEquals(TestExecutionResult.Status.FAILED, t.getStatus());
    } else {
      assertEquals(TestExecutionResult.Status.ABORTED, t.getStatus());
      String why = t.getThrowable().orElseThrow().getMessage();
      assertTrue(why.contains("No GPU visible: " + reason), why);
    }
  }
}
