package dev.gpucore.cli;

import static dev.gpucore.cli.MainTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.GpuCore;
import dev.gpucore.cli.MainTest.Result;
import org.junit.jupiter.api.Test;

/** The devices command on any machine: no-GPU line and exit codes, JSON, query validation. */
class DevicesCommandTest {
  static boolean gpu() {
    try (GpuCore core = GpuCore.open()) {
      return core.hasGpu();
    }
  }

  @Test
  void devicesExitCodes() {
    Result r = run("devices");
    Result strict = run("devices", "--require-gpu");
    if (gpu()) {
      assertEquals(0, r.code());
      assertTrue(r.out().contains("GPU-"), r.out());
      assertEquals(0, strict.code());
    } else {
      assertEquals(0, r.code(), r.err());
      assertTrue(r.out().startsWith("No GPU visible: "), r.out());
      assertEquals(1, strict.code());
    }
  }

  @Test
  void jsonIsWellFormedEnough() {
    Result r = run("devices", "--json");
    assertEquals(0, r.code(), r.err());
    String s = r.out().trim();
    assertTrue(s.startsWith("{") && s.endsWith("}"), s);
    assertTrue(s.contains("\"gpu_visible\": " + gpu()), s);
    assertTrue(s.contains("\"devices\": ["), s);
  }

  @Test
  void unknownQueryFieldIsAClearError() {
    Result r = run("devices", "--query=name,bogus");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--query has an unknown field 'bogus'"), r.err());
    assertTrue(!r.err().contains("Exception"), "no stack trace: " + r.err());
    Result f = run("devices", "--query=name", "--format=xml");
    assertEquals(2, f.code());
    assertTrue(f.err().contains("--format"), f.err());
  }

  @Test
  void queryCsvHasHeaderAndUnits() {
    if (!gpu()) {
      Result r = run("devices", "--query=name,memory.total");
      assertEquals("name, memory.total [MiB]\n", r.out().replace("\r", ""));
      assertTrue(r.err().startsWith("No GPU visible: "), r.err());
      return;
    }
    Result r = run("devices", "--query=index,name,memory.total", "--format=csv");
    String[] lines = r.out().split("\n");
    assertEquals("index, name, memory.total [MiB]", lines[0]);
    assertTrue(lines[1].matches("0, .+, \\d+ MiB"), lines[1]);
    Result n = run("devices", "--query=memory.total", "--format=csv,noheader,nounits");
    assertTrue(n.out().split("\n")[0].matches("\\d+"), n.out());
  }

  /** A script reading rows must not take the no-GPU sentence for a GPU. */
  @Test
  void queryWithoutGpuPrintsNoRow() {
    Result r = run("devices", "--query=name", "--format=csv,noheader");
    Result strict = run("devices", "--query=name", "--format=csv,noheader", "--require-gpu");
    if (gpu()) {
      assertEquals(0, r.code());
      assertFalse(r.out().isBlank());
      assertFalse(r.out().contains("No GPU visible"), r.out());
      return;
    }
    assertEquals(0, r.code(), r.err());
    assertEquals("", r.out());
    assertTrue(r.err().startsWith("No GPU visible: "), r.err());
    assertEquals(1, r.err().lines().count(), r.err());
    assertEquals(1, strict.code());
    assertEquals("", strict.out());
    assertTrue(strict.err().startsWith("No GPU visible: "), strict.err());
  }

  /** Spark's discovery JSON, alone on standard output, the ordinals of the visible GPUs; exit 0. */
  @Test
  void sparkDiscoveryPrintsSparksJson() {
    Result r = run("devices", "--spark-discovery");
    assertEquals(0, r.code(), r.err());
    int n;
    try (GpuCore core = GpuCore.open()) {
      n = core.devices().size();
    }
    StringBuilder want = new StringBuilder("{\"name\":\"gpu\",\"addresses\":[");
    for (int i = 0; i < n; i++) {
      want.append(i == 0 ? "" : ",").append('"').append(i).append('"');
    }
    assertEquals(want + "]}\n", r.out().replace("\r\n", "\n"));
    if (n == 0) {
      assertTrue(r.err().startsWith("No GPU visible: "), r.err());
    }
    assertOneLineError("--spark-discovery", "devices", "--spark-discovery", "--json");
    assertOneLineError("--spark-discovery", "devices", "--spark-discovery", "--query=name");
  }

  /** Options that would be silently ignored are errors: one line naming the option, exit 2. */
  @Test
  void optionsThatExcludeEachOtherAreErrors() {
    assertOneLineError("--json", "devices", "--json", "--query=name");
    assertOneLineError("--json", "devices", "--query=name", "--json");
    assertOneLineError("--format", "devices", "--format=csv");
    assertOneLineError("--format", "devices", "--format", "csv,noheader", "--require-gpu");
    assertOneLineError("--json", "devices", "--json", "--format=csv");
    assertOneLineError("--list-fields", "devices", "--list-fields", "--json");
    assertOneLineError("--query", "devices", "--query=");
    assertEquals(0, run("devices", "--list-fields").code());
    assertEquals(0, run("devices", "--query=name", "--format=csv,nounits").code());
  }

  static void assertOneLineError(String argument, String... args) {
    Result r = run(args);
    assertEquals(2, r.code(), java.util.Arrays.toString(args) + ": " + r.out() + r.err());
    assertEquals("", r.out());
    assertEquals(1, r.err().lines().count(), r.err());
    assertTrue(r.err().startsWith("gpucore devices: " + argument + " "), r.err());
    assertFalse(r.err().contains("Exception"), r.err());
  }

  @Test
  void demoRunsOnWhatIsThere() {
    Result r = run("demo", "--n", "64");
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("cpu : gemm"), r.out());
    assertTrue(r.out().contains(gpu() ? "agreement:" : "gpu : skipped"), r.out());
    Result bad = run("demo", "--n", "0");
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("--n must be"), bad.err());
  }
}
