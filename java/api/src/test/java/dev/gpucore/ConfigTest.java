package dev.gpucore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class ConfigTest {
  @Test
  void defaults() {
    Config c = Config.from(Map.of(), Map.of());
    assertEquals(Config.Backend.AUTO, c.backend());
    assertEquals(0, c.cpuThreads());
  }

  @Test
  void environmentOverridesDefault() {
    Config c = Config.from(Map.of(),
        Map.of("GPUCORE_BACKEND", "cpu", "GPUCORE_CPU_THREADS", "3"));
    assertEquals(Config.Backend.CPU, c.backend());
    assertEquals(3, c.cpuThreads());
  }

  @Test
  void systemPropertyOverridesEnvironment() {
    Properties props = new Properties();
    props.setProperty("gpucore.backend", "cuda");
    props.setProperty("gpucore.cpu.threads", "7");
    Config c = Config.from(props,
        Map.of("GPUCORE_BACKEND", "cpu", "GPUCORE_CPU_THREADS", "3"));
    assertEquals(Config.Backend.CUDA, c.backend());
    assertEquals(7, c.cpuThreads());
  }

  @Test
  void eachSettingIsResolvedIndependently() {
    Config c = Config.from(Map.of("gpucore.backend", "cpu"),
        Map.of("GPUCORE_BACKEND", "cuda", "GPUCORE_CPU_THREADS", "5"));
    assertEquals(Config.Backend.CPU, c.backend());
    assertEquals(5, c.cpuThreads(), "threads come from the environment");
  }

  @Test
  void blankPropertyFallsThroughToEnvironment() {
    Config c = Config.from(Map.of("gpucore.backend", "  ", "gpucore.cpu.threads", ""),
        Map.of("GPUCORE_BACKEND", "cpu", "GPUCORE_CPU_THREADS", "2"));
    assertEquals(Config.Backend.CPU, c.backend());
    assertEquals(2, c.cpuThreads());
    Config d = Config.from(Map.of(), Map.of("GPUCORE_BACKEND", " ", "GPUCORE_CPU_THREADS", ""));
    assertEquals(Config.Backend.AUTO, d.backend());
    assertEquals(0, d.cpuThreads());
  }

  @Test
  void valuesAreTrimmedAndCaseInsensitive() {
    Config c = Config.from(Map.of("gpucore.backend", " CuDa ", "gpucore.cpu.threads", " 4 "),
        Map.of());
    assertEquals(Config.Backend.CUDA, c.backend());
    assertEquals(4, c.cpuThreads());
  }

  @Test
  void invalidBackendNamesTheSettingAsWrittenAndTheChoices() {
    assertEquals("GPUCORE_BACKEND (environment) is \"opencl\": must be one of auto, cpu, cuda",
        invalid(Map.of(), Map.of("GPUCORE_BACKEND", "opencl")));
  }

  @Test
  void invalidThreadCountNamesWhatWasExpected() {
    for (String bad : new String[] {"four", "1.5", "99999999999", "0x10", "32768", "1025"}) {
      String m = invalid(Map.of("gpucore.cpu.threads", bad), Map.of());
      assertTrue(m.startsWith("gpucore.cpu.threads (system property) is \"" + bad + "\": must be"),
          m);
      assertTrue(m.endsWith("from 0 to 1024"), m);
    }
    assertEquals(1024, Config.from(Map.of("gpucore.cpu.threads", "1024"), Map.of()).cpuThreads());
  }

  @Test
  void negativeThreadsRejected() {
    assertEquals("GPUCORE_CPU_THREADS (environment) is \"-2\": must be from 0 to 1024",
        invalid(Map.of(), Map.of("GPUCORE_CPU_THREADS", "-2")));
    GpuCoreException.InvalidArgument e2 = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> new Config(Config.Backend.CPU, -1));
    assertTrue(e2.getMessage().contains("cpuThreads"), e2.getMessage());
    assertThrows(GpuCoreException.InvalidArgument.class,
        () -> new Config(Config.Backend.CPU, 32768));
  }

  @Test
  void nullBackendRejected() {
    GpuCoreException.InvalidArgument e = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> new Config(null, 0));
    assertTrue(e.getMessage().contains("backend"), e.getMessage());
  }

  @Test
  void withBackendKeepsThreads() {
    Config auto = new Config(Config.Backend.AUTO, 6);
    Config c = auto.withBackend(Config.Backend.CPU);
    assertEquals(Config.Backend.CPU, c.backend());
    assertEquals(6, c.cpuThreads());
    assertEquals(auto.settings(), c.settings(), "other settings are kept");
  }

  /** The message of the InvalidArgument that Config.from throws for these settings. */
  private static String invalid(Map<String, String> properties, Map<String, String> env) {
    return assertThrows(GpuCoreException.InvalidArgument.class,
            () -> Config.from(properties, env), properties + " " + env)
        .getMessage();
  }
}
