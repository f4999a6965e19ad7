package dev.gpucore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@code docs/configuration.md} lists every setting of the {@link Setting} registry: the table
 * between its {@code settings-table} markers is generated here and must match the registry.
 * Regenerate it with
 * {@code mvn -pl java/api test -Dtest=ConfigurationDocTest -Dgpucore.docs.write=true}.
 */
class ConfigurationDocTest {
  static final String BEGIN = "<!-- settings-table: generated from dev.gpucore.Setting by "
      + "ConfigurationDocTest; do not edit by hand -->";
  static final String END = "<!-- end of settings-table -->";
  static final String REGENERATE =
      "mvn -pl java/api test -Dtest=ConfigurationDocTest -Dgpucore.docs.write=true";

  /** The Markdown table of every setting, in the registry's order. */
  static String table() {
    StringBuilder b = new StringBuilder();
    b.append("| key | environment | type | default | accepted | meaning |\n");
    b.append("| --- | --- | --- | --- | --- | --- |\n");
    for (Setting<?> s : Setting.all()) {
      b.append("| `").append(s.key()).append("` | `").append(s.envName()).append("` | ")
          .append(s.type()).append(" | ")
          .append(s.defaultText().isEmpty() ? "unset" : "`" + s.defaultText() + "`")
          .append(" | ").append(cell(s.range())).append(" | ").append(cell(s.doc()))
          .append(" |\n");
    }
    return b.toString();
  }

  private static String cell(String text) {
    return text.replace("|", "\\|");
  }

  static Path doc() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path d = dir; d != null; d = d.getParent()) {
      Path f = d.resolve("docs/configuration.md");
      if (Files.isRegularFile(f) && Files.isRegularFile(d.resolve("pom.xml"))) {
        return f;
      }
    }
    return null;
  }

  @Test
  void theDocumentedTableIsTheRegistry() throws IOException {
    Path doc = doc();
    // a checkout always has it; the GPU test bundle carries no docs
    assumeTrue(doc != null, "docs/configuration.md is not above " + Path.of("").toAbsolutePath()
        + ": this check runs from a source checkout");
    String text = Files.readString(doc, StandardCharsets.UTF_8);
    int a = text.indexOf(BEGIN);
    int z = text.indexOf(END);
    assertTrue(a >= 0 && z > a, doc + " must hold the markers " + BEGIN + " and " + END);
    String want = text.substring(0, a + BEGIN.length()) + "\n\n" + table() + "\n"
        + text.substring(z);
    if (want.equals(text)) {
      return;
    }
    if (Boolean.getBoolean("gpucore.docs.write")) {
      Files.writeString(doc, want, StandardCharsets.UTF_8);
      return;
    }
    fail(doc + " does not list the settings of dev.gpucore.Setting; regenerate it with: "
        + REGENERATE);
  }

  @Test
  void everySettingIsInTheTableOnce() {
    String t = table();
    for (Setting<?> s : Setting.all()) {
      String row = "| `" + s.key() + "` | `" + s.envName() + "` |";
      assertEquals(t.indexOf(row), t.lastIndexOf(row), s.key());
      assertTrue(t.contains(row), s.key());
    }
  }
}
