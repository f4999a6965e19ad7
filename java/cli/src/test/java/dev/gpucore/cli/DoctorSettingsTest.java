package dev.gpucore.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Setting;
import dev.gpucore.Settings;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code gpucore doctor --settings}: each setting's value in force and where it came from. */
class DoctorSettingsTest {
  record Result(int code, String out) {
    /** The row of {@code key}: setting, value, from. */
    String row(String key) {
      for (String line : out.split("\n")) {
        if (line.startsWith(key + " ")) {
          return line.replaceAll("\\s+", " ").trim();
        }
      }
      throw new AssertionError("no row " + key + " in\n" + out);
    }
  }

  static Result run(Map<String, String> props, Map<String, String> env, String... args) {
    DoctorCommand cmd = new DoctorCommand();
    cmd.settingsSource = () -> Settings.from(props, env);
    cmd.opener = () -> {
      throw new AssertionError("--settings must not open a core");
    };
    StringWriter out = new StringWriter();
    CommandLine cl = new CommandLine(cmd);
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(new StringWriter()));
    return new Result(cl.execute(args), out.toString());
  }

  @Test
  void listsEverySettingWithItsSource(@TempDir Path dir) throws Exception {
    Path conf = dir.resolve("gpucore.conf");
    Files.writeString(conf, "# test\ngpucore.gemm.lt = all\ngpucore.gemm.rout = gpu\n");
    Result r = run(Map.of("gpucore.trace", "true"),
        Map.of("GPUCORE_CONFIG", conf.toString(), "GPUCORE_GEMM_ROUTE", "cpu"),
        "--settings");
    assertEquals(0, r.code(), r.out());
    assertTrue(r.out().startsWith("gpucore settings (configuration file: " + conf + ")"),
        r.out());
    assertEquals("gpucore.gemm.lt all gpucore.gemm.lt (" + conf + " line 2)",
        r.row("gpucore.gemm.lt"));
    assertEquals("gpucore.gemm.route cpu GPUCORE_GEMM_ROUTE (environment)",
        r.row("gpucore.gemm.route"));
    assertEquals("gpucore.trace true gpucore.trace (system property)", r.row("gpucore.trace"));
    assertEquals("gpucore.p2p.wait spin default", r.row("gpucore.p2p.wait"));
    for (Setting<?> s : Setting.all()) {
      r.row(s.key());
    }
    assertTrue(r.out().contains("warnings:\n  " + conf + " line 3: unknown setting "
        + "\"gpucore.gemm.rout\" (did you mean gpucore.gemm.route?), ignored"), r.out());
  }

  @Test
  void anInvalidValueIsShownAndExitsOne() {
    Result r = run(Map.of(), Map.of("GPUCORE_GEMM_PANELMIB", "-3"), "--settings");
    assertEquals(1, r.code(), r.out());
    assertEquals("gpucore.gemm.panelMiB -3 GPUCORE_GEMM_PANELMIB (environment) INVALID",
        r.row("gpucore.gemm.panelMiB"));
    assertTrue(r.out().contains("  GPUCORE_GEMM_PANELMIB (environment) is \"-3\": must be from "
        + "1 to 65536"), r.out());
  }

  @Test
  void aMissingConfigurationFileIsReported(@TempDir Path dir) {
    Result r = run(Map.of(), Map.of("GPUCORE_CONFIG", dir.resolve("none.conf").toString()),
        "--settings");
    assertEquals(1, r.code());
    assertTrue(r.out().trim().endsWith("cannot read the configuration file: no such file"),
        r.out());
  }

  @Test
  @SuppressWarnings("unchecked")
  void json() {
    Result r = run(Map.of(), Map.of("GPUCORE_P2P", "off"), "--settings", "--json");
    assertEquals(0, r.code(), r.out());
    Map<String, Object> m = JsonText.object(JsonText.parse(r.out()));
    assertEquals(SettingsReport.SCHEMA, m.get("schema"));
    List<Object> rows = (List<Object>) m.get("settings");
    assertEquals(Setting.all().size(), rows.size());
    Map<String, Object> p2p = rows.stream().map(JsonText::object)
        .filter(o -> o.get("key").equals("gpucore.p2p")).findFirst().orElseThrow();
    assertEquals("off", p2p.get("value"));
    assertEquals("environment", p2p.get("source"));
    assertEquals("GPUCORE_P2P (environment)", p2p.get("from"));
    assertFalse(p2p.containsKey("error"));
  }
}
