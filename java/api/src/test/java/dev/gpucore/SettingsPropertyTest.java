package dev.gpucore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;

/** Properties of the settings: numeric bounds, and the configuration file read literally. */
class SettingsPropertyTest {
  private static Path dir;

  static synchronized Path file(String text) {
    try {
      if (dir == null) {
        dir = Files.createTempDirectory("gpucore-settings-property");
      }
      Path f = dir.resolve("gpucore.conf");
      Files.writeString(f, text, StandardCharsets.UTF_8);
      return f;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @AfterContainer
  static void cleanUp() throws IOException {
    if (dir != null) {
      Files.deleteIfExists(dir.resolve("gpucore.conf"));
      Files.deleteIfExists(dir);
    }
  }

  @Provide
  Arbitrary<Setting<?>> numeric() {
    return Arbitraries.of(Setting.all().stream()
        .filter(s -> s.type().equals("integer") || s.type().equals("decimal")).toList());
  }

  /** Bounds from the documented range "min to max". */
  static double[] bounds(Setting<?> s) {
    String[] p = s.range().split(" to ");
    return new double[] {Double.parseDouble(p[0]), Double.parseDouble(p[1])};
  }

  @Property(tries = 500)
  void aNumberIsAcceptedExactlyWithinItsRange(@ForAll("numeric") Setting<?> s,
      @ForAll long whole, @ForAll boolean nearTheEdge) {
    double[] b = bounds(s);
    long v = nearTheEdge ? (long) b[whole % 2 == 0 ? 0 : 1] + whole % 3 : whole;
    String text = Long.toString(v);
    boolean inRange = v >= b[0] && v <= b[1];
    Settings settings = Settings.from(Map.of(), Map.of(s.envName(), text));
    if (inRange) {
      settings.validate();
      assertEquals(v, ((Number) settings.get(s)).doubleValue(), 0.0, s.key());
    } else {
      String m = assertThrows(GpuCoreException.InvalidArgument.class, settings::validate)
          .getMessage();
      assertEquals(s.envName() + " (environment) is \"" + text + "\": must be from "
          + s.range(), m);
    }
  }

  @Property(tries = 300)
  void decimalsOutsideTheirRangeOrNotFiniteAreRejected(@ForAll("numeric") Setting<?> s,
      @ForAll double d) {
    double[] b = bounds(s);
    String text = Double.toString(d);
    boolean ok = s.type().equals("decimal") && d >= b[0] && d <= b[1];
    Settings settings = Settings.from(Map.of(s.key(), text), Map.of());
    if (ok) {
      assertEquals(d, settings.get(s));
    } else {
      String m = assertThrows(GpuCoreException.InvalidArgument.class, () -> settings.get(s))
          .getMessage();
      assertTrue(m.startsWith(s.key() + " (system property) is \"" + text + "\": must be"), m);
    }
  }

  @Provide
  Arbitrary<String> lines() {
    Arbitrary<String> keys = Arbitraries.oneOf(
        Arbitraries.of(Setting.all().stream().map(Setting::key).toList()),
        Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(30));
    Arbitrary<String> sep = Arbitraries.of("=", " = ", "\t=\t", " ", ":", "");
    Arbitrary<String> values = Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(30);
    return net.jqwik.api.Combinators.combine(keys, sep, values).as((k, e, v) -> k + e + v);
  }

  @Property(tries = 500)
  void everyFileLineSetsASettingOrIsWarnedAboutByNumber(@ForAll("lines") String line) {
    Path f = file("# first line\n" + line + "\n");
    Settings s = Settings.from(Map.of(), Map.of("GPUCORE_CONFIG", f.toString()));
    String t = line.trim();
    boolean set = s.values().stream().anyMatch(v -> v.source() == Settings.Source.FILE);
    List<String> w = s.warnings();
    if (t.isEmpty() || t.startsWith("#")) {
      assertTrue(w.isEmpty() && !set, line);
    } else if (set) {
      assertTrue(w.isEmpty(), w.toString());
    } else {
      int eq = t.indexOf('=');
      boolean blankValue = eq > 0 && Setting.byKey(t.substring(0, eq).trim()) != null
          && Setting.byKey(t.substring(0, eq).trim()) != Setting.CONFIG
          && t.substring(eq + 1).trim().isEmpty();
      if (!blankValue) {
        assertEquals(1, w.size(), line + " -> " + w);
        assertTrue(w.get(0).startsWith(f + " line 2: "), w.get(0));
      }
    }
  }

  @Property(tries = 300)
  void fileValuesAreReadLiterally(@ForAll("values") String value) {
    Path f = file("gpucore.log.file = " + value + "\n");
    Settings s = Settings.from(Map.of(), Map.of("GPUCORE_CONFIG", f.toString()));
    assertEquals(value.trim(), s.value(Setting.LOG_FILE).text());
    assertEquals(List.of(), s.warnings());
  }

  @Provide
  Arbitrary<String> values() {
    return Arbitraries.strings().withChars("\\tnru0:=#! C/aé\"'").ofMinLength(1).ofMaxLength(20)
        .filter(v -> !v.isBlank());
  }
}
