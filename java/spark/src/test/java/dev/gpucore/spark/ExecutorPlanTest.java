package dev.gpucore.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.device.DeviceInfo;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Plans from fake resource maps, as PluginContext.resources() would give them. */
class ExecutorPlanTest {
  private static final List<DeviceInfo> TWO = FakeDevices.twoOutOfPciOrder();

  @Test
  void oneAddressIsTheProcesssGpu() {
    ExecutorPlan p = ExecutorPlan.of(Map.of("gpu", List.of("1")), false, TWO, "");
    assertEquals(ExecutorPlan.Mode.ONE_GPU, p.mode());
    assertEquals(0, p.processGpu().cudaOrdinal());
    assertEquals(-1, p.forTask(List.of("1")), "one GPU: tasks keep the process's");
    assertEquals(0, p.deviceForTask(null));
  }

  @Test
  void aUuidAddress() {
    ExecutorPlan p = ExecutorPlan.of(Map.of("gpu", List.of(FakeDevices.UUID_B)), false, TWO, "");
    assertEquals(1, p.processGpu().cudaOrdinal());
    assertTrue(p.summary().startsWith("GPU address " + FakeDevices.UUID_B + ": UUID"), p.summary());
  }

  @Test
  void severalAddressesBindPerTask() {
    ExecutorPlan p = ExecutorPlan.of(Map.of("gpu", List.of("0", "1"), "fpga", List.of("7")), false,
        TWO, "");
    assertEquals(ExecutorPlan.Mode.PER_TASK, p.mode());
    assertEquals(1, p.processGpu().cudaOrdinal(), "the first address meanwhile");
    assertEquals(1, p.forTask(List.of("0")));
    assertEquals(0, p.forTask(List.of("1")));
    assertEquals(0, p.deviceForTask(List.of("1")));
    assertEquals(-1, p.forTask(List.of()), "a task without a GPU keeps the process's");
    assertEquals(-1, p.forTask(null));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> p.forTask(List.of("5")));
    assertTrue(e.getMessage().contains("not one of the executor's [0, 1]"), e.getMessage());
    assertEquals("2 GPU addresses, each task binds the one Spark gives it: 0 -> CUDA 1; 1 -> CUDA 0",
        p.summary());
  }

  @Test
  void noGpuResource() {
    ExecutorPlan cluster = ExecutorPlan.of(Map.of(), false, TWO, "");
    assertEquals(ExecutorPlan.Mode.UNASSIGNED, cluster.mode());
    assertNull(cluster.processGpu());
    assertTrue(cluster.summary().contains("Spark assigned no GPU"), cluster.summary());
    assertEquals(ExecutorPlan.Mode.UNASSIGNED,
        ExecutorPlan.of(Map.of("gpu", List.of()), false, TWO, "").mode());
    ExecutorPlan localGpu = ExecutorPlan.of(Map.of(), true, TWO, "");
    assertEquals(ExecutorPlan.Mode.ONE_GPU, localGpu.mode());
    assertEquals(1, localGpu.processGpu().cudaOrdinal(), "the driver's first GPU in bus order");
    assertTrue(localGpu.summary().startsWith("local mode: the driver's GPU"), localGpu.summary());
    ExecutorPlan localCpu = ExecutorPlan.of(Map.of(), true, List.of(), "no NVIDIA driver");
    assertEquals(ExecutorPlan.Mode.CPU, localCpu.mode());
    assertEquals("local mode, no GPU visible (no NVIDIA driver): BLAS runs on the CPU (OpenBLAS)",
        localCpu.summary());
  }

  @Test
  void addressesWithoutVisibleGpusPassAsOrdinals() {
    ExecutorPlan p = ExecutorPlan.of(Map.of("gpu", List.of("1")), false, List.of(), "no driver");
    assertEquals(1, p.processGpu().cudaOrdinal());
    assertEquals(-1, p.processGpu().device());
  }

  @Test
  void malformedAddressesFailTheExecutorWithTheReason() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ExecutorPlan.of(Map.of("gpu", List.of("0", "gpu-one")), false, TWO, ""));
    assertTrue(e.getMessage().contains("\"gpu-one\""), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> ExecutorPlan.of(Map.of("gpu", List.of("4")), false, TWO, ""));
  }
}
