package dev.gpucore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsTest {
  static String error(Map<String, String> props, Map<String, String> env) {
    return assertThrows(GpuCoreException.InvalidArgument.class,
        () -> Settings.from(props, env).validate()).getMessage();
  }

  @Test
  void registryDeclaresEachSettingOnceWithTheEnvironmentNameOfItsKey() {
    Set<String> keys = new HashSet<>();
    Set<String> envs = new HashSet<>();
    for (Setting<?> s : Setting.all()) {
      assertTrue(keys.add(s.key()), "declared twice: " + s.key());
      assertTrue(envs.add(s.envName()), "environment name used twice: " + s.envName());
      assertTrue(s.key().startsWith("gpucore."), s.key());
      assertTrue(s.envName().startsWith("GPUCORE_"), s.envName());
      if (s != Setting.IN_CONTAINER) {
        assertEquals(Settings.envName(s.key()), s.envName(), s.key());
      }
      assertFalse(s.doc().isBlank(), s.key());
      assertFalse(s.range().isBlank(), s.key());
      assertTrue(List.of("choice", "boolean", "integer", "decimal", "path", "list")
          .contains(s.type()), s.key() + ": " + s.type());
      assertEquals(s, Setting.byKey(s.key()));
      // the documented default is what an unset setting reads as
      Object def = Settings.from(Map.of(), Map.of()).get(s);
      assertEquals(s.defaultValue(), def, s.key());
      if (!s.defaultText().isEmpty() && !s.defaultText().equals("detected")) {
        assertEquals(def, s.valueOf(s.defaultText()), s.key() + ": default text parses to it");
      }
    }
    assertTrue(keys.contains("gpucore.scratch.cacheMiB"));
    assertTrue(keys.size() >= 28, "settings: " + keys.size());
  }

  @Test
  void defaultsAreValid() {
    Settings.from(Map.of(), Map.of()).validate();
  }

  @Test
  void malformedValuesFailValidationNamingTheEnvironmentVariable() {
    assertEquals("GPUCORE_GEMM_PANELMIB (environment) is \"-3\": must be from 1 to 65536",
        error(Map.of(), Map.of("GPUCORE_GEMM_PANELMIB", "-3")));
    assertEquals("GPUCORE_GEMM_LT (environment) is \"bogus\": must be one of fp64, all, none",
        error(Map.of(), Map.of("GPUCORE_GEMM_LT", "bogus")));
    assertEquals("GPUCORE_P2P (environment) is \"sideways\": must be auto or off",
        error(Map.of(), Map.of("GPUCORE_P2P", "sideways")));
    assertEquals("GPUCORE_CPU_THREADS (environment) is \"32768\": must be from 0 to 1024",
        error(Map.of(), Map.of("GPUCORE_CPU_THREADS", "32768")));
    assertEquals("gpucore.scratch.cacheMiB (system property) is \"lots\": must be a whole number "
        + "from 0 to 1048576", error(Map.of("gpucore.scratch.cacheMiB", "lots"), Map.of()));
    assertTrue(error(Map.of(), Map.of("GPUCORE_FAULT", "sticky:gem"))
        .startsWith("GPUCORE_FAULT (environment) is \"sticky:gem\": \"sticky:gem\" is not a fault"));
    String two = error(Map.of(), Map.of("GPUCORE_GEMM_LT", "x", "GPUCORE_P2P_WAIT", "nap"));
    assertTrue(two.startsWith("2 settings are invalid: GPUCORE_GEMM_LT (environment) is \"x\""),
        two);
    assertTrue(two.contains("; GPUCORE_P2P_WAIT (environment) is \"nap\""), two);
  }

  @Test
  void aWellFormedGpuIndexIsValidEvenWithoutThatGpu() {
    Settings s = Settings.from(Map.of(), Map.of("GPUCORE_GPU_LIST", "7"));
    s.validate();
    assertEquals(List.of(7), s.get(Setting.GPU_LIST));
    assertTrue(error(Map.of(), Map.of("GPUCORE_GPU_LIST", "seven"))
        .startsWith("GPUCORE_GPU_LIST (environment) is \"seven\": must be all or GPU indices"));
    assertTrue(error(Map.of(), Map.of("GPUCORE_GPU_LIST", "-1")).contains("must be all"));
    assertTrue(error(Map.of(), Map.of("GPUCORE_GPU_LIST", "+1")).contains("must be all"));
  }

  @Test
  void propertyBeatsEnvironmentBeatsFileBeatsDefault(@TempDir Path dir) throws Exception {
    Path conf = dir.resolve("g.conf");
    Files.writeString(conf, "gpucore.gemm.route = gpu\ngpucore.p2p.wait = event\n"
        + "gpucore.trace = true\n");
    Settings s = Settings.from(Map.of("gpucore.gemm.route", "cpu"),
        Map.of("GPUCORE_CONFIG", conf.toString(), "GPUCORE_P2P_WAIT", "block",
            "GPUCORE_GEMM_ROUTE", "auto"));
    assertEquals(new Settings.Value(Setting.GEMM_ROUTE, "cpu", Settings.Source.PROPERTY,
        "gpucore.gemm.route (system property)"), s.value(Setting.GEMM_ROUTE));
    assertEquals(new Settings.Value(Setting.P2P_WAIT, "block", Settings.Source.ENVIRONMENT,
        "GPUCORE_P2P_WAIT (environment)"), s.value(Setting.P2P_WAIT));
    assertEquals(new Settings.Value(Setting.TRACE, "true", Settings.Source.FILE,
        "gpucore.trace (" + conf + " line 3)"), s.value(Setting.TRACE));
    assertEquals(new Settings.Value(Setting.GEMM_LT, "fp64", Settings.Source.DEFAULT, "default"),
        s.value(Setting.GEMM_LT));
    assertEquals(Settings.Source.ENVIRONMENT, s.value(Setting.CONFIG).source());
    assertEquals(Setting.all().size(), s.values().size());
  }

  @Test
  void aBadValueInTheFileNamesTheKeyTheFileAndTheLine(@TempDir Path dir) throws Exception {
    Path conf = dir.resolve("g.conf");
    Files.writeString(conf, "# comment\n\ngpucore.gemm.panelMiB = -3\n");
    assertEquals("gpucore.gemm.panelMiB (" + conf + " line 3) is \"-3\": must be from 1 to 65536",
        error(Map.of(), Map.of("GPUCORE_CONFIG", conf.toString())));
  }

  @Test
  void aMissingFileSaysNoSuchFile(@TempDir Path dir) {
    String missing = dir.resolve("nope.conf").toString();
    GpuCoreException e = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> Settings.from(Map.of(), Map.of("GPUCORE_CONFIG", missing)));
    assertEquals("GPUCORE_CONFIG (environment) is \"" + missing + "\": cannot read the "
        + "configuration file: no such file", e.getMessage());
    e = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> Settings.from(Map.of("gpucore.config", dir.toString()), Map.of()));
    assertTrue(e.getMessage().endsWith(": is a directory"), e.getMessage());
  }

  @Test
  void fileLinesThatAreNotSettingsAreWarnedAboutByLine(@TempDir Path dir) throws Exception {
    Path conf = dir.resolve("g.conf");
    Files.writeString(conf, String.join("\n",
        "gpucore.gemm.rout = gpu",
        "gpucore.GEMM.route = gpu",
        "NVBLAS_CPU_RATIO_SGEMM 0.2",
        "NVBLAS_GPU_LIST = 0 1",
        "gpucore.trace true",
        "GPUCORE_GEMM_ROUTE = cpu",
        "gpucore.config = other.conf",
        "gpucore.p2p.wait = event",
        "gpucore.p2p.wait = block",
        "= 3",
        "gpucore.nothing.like.this = 1"));
    Settings s = Settings.from(Map.of(), Map.of("GPUCORE_CONFIG", conf.toString()));
    String f = conf.toString();
    assertEquals(List.of(
        f + " line 1: unknown setting \"gpucore.gemm.rout\" (did you mean gpucore.gemm.route?), "
            + "ignored",
        f + " line 2: \"gpucore.GEMM.route\" is not a setting (keys are case-sensitive: "
            + "gpucore.gemm.route), ignored",
        f + " line 3: not a key = value line, ignored: \"NVBLAS_CPU_RATIO_SGEMM 0.2\"",
        f + " line 4: NVBLAS_GPU_LIST is an nvBLAS setting, which gpucore does not read "
            + "(gpucore's own: gpucore.gpu.list), ignored",
        f + " line 5: not a key = value line, ignored: \"gpucore.trace true\"",
        f + " line 6: GPUCORE_GEMM_ROUTE is an environment variable; the file's key is "
            + "gpucore.gemm.route, ignored",
        f + " line 7: gpucore.config cannot be set in the configuration file, ignored",
        f + " line 9: gpucore.p2p.wait was already set on line 8; the later line wins",
        f + " line 10: not a key = value line, ignored: \"= 3\"",
        f + " line 11: unknown setting \"gpucore.nothing.like.this\", ignored"), s.warnings());
    s.validate();
    assertEquals("auto", s.get(Setting.GEMM_ROUTE), "ignored lines set nothing");
    assertFalse(s.get(Setting.TRACE));
    assertEquals("block", s.get(Setting.P2P_WAIT));
  }

  @Test
  void fileValuesAreReadLiterally(@TempDir Path dir) throws Exception {
    Path conf = dir.resolve("g.conf");
    Files.writeString(conf, "\uFEFFgpucore.log.file = C:\\temp\\log.txt\r\n"
        + "gpucore.gemm.disable=sgemm\\\r\n  gpucore.gemm.route\t=\tgpu  \r\n"
        + "gpucore.fault = \n");
    Settings s = Settings.from(Map.of(), Map.of("GPUCORE_CONFIG", conf.toString()));
    assertEquals("C:\\temp\\log.txt", s.value(Setting.LOG_FILE).text());
    assertEquals("gpu", s.get(Setting.GEMM_ROUTE), "no line continuation, tabs trimmed");
    assertEquals(Settings.Source.DEFAULT, s.value(Setting.FAULT).source(), "blank is unset");
    GpuCoreException e = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> s.get(Setting.GEMM_DISABLE));
    assertTrue(e.getMessage().contains("unknown routine \"sgemm\\\""), e.getMessage());
    assertEquals(List.of(), s.warnings());
  }

  @Test
  void aFileLargerThanOneMebibyteIsAnError(@TempDir Path dir) throws Exception {
    Path conf = dir.resolve("g.conf");
    byte[] text = new byte[(1 << 20) + 1];
    java.util.Arrays.fill(text, (byte) '#');
    Files.write(conf, text);
    GpuCoreException e = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> Settings.from(Map.of(), Map.of("GPUCORE_CONFIG", conf.toString())));
    assertEquals("GPUCORE_CONFIG (environment) is \"" + conf + "\": cannot read the "
        + "configuration file: larger than 1 MiB", e.getMessage());
    Files.write(conf, java.util.Arrays.copyOf(text, 1 << 20)); // exactly 1 MiB: one comment line
    assertTrue(Settings.from(Map.of(), Map.of("GPUCORE_CONFIG", conf.toString())).warnings()
        .isEmpty());
  }

  @Test
  void aFileThatIsNotUtf8IsAnError(@TempDir Path dir) throws Exception {
    Path conf = dir.resolve("g.conf");
    Files.write(conf, new byte[] {'a', '=', (byte) 0xff, '\n'});
    GpuCoreException e = assertThrows(GpuCoreException.InvalidArgument.class,
        () -> Settings.from(Map.of(), Map.of("GPUCORE_CONFIG", conf.toString())));
    assertTrue(e.getMessage().endsWith("cannot read the configuration file: not UTF-8 text"),
        e.getMessage());
  }

  @Test
  void moreThreadsThanProcessorsIsAWarning() {
    int cores = Runtime.getRuntime().availableProcessors();
    Settings s = Settings.from(Map.of(), Map.of("GPUCORE_CPU_THREADS", "1000"));
    s.validate();
    if (cores < 1000) {
      assertEquals(List.of("GPUCORE_CPU_THREADS (environment) is 1000, more than the " + cores
          + " processors available: OpenBLAS's threads will compete for them"), s.warnings());
    }
  }

  @Test
  void valuesAreTrimmedChoicesAndBooleansIgnoreCase() {
    Settings s = Settings.from(Map.of("gpucore.gemm.route", " GPU ", "gpucore.trace", "Yes",
        "gpucore.p2p", "OFF"), Map.of());
    assertEquals("gpu", s.get(Setting.GEMM_ROUTE));
    assertTrue(s.get(Setting.TRACE));
    assertFalse(s.get(Setting.P2P));
    assertNull(s.get(Setting.LOG_FILE));
    assertNull(s.get(Setting.IN_CONTAINER), "unset: detected");
    assertEquals(true, Setting.IN_CONTAINER.valueOf("1"));
    assertThrows(GpuCoreException.InvalidArgument.class,
        () -> Setting.IN_CONTAINER.valueOf("perhaps"));
  }
}
