package dev.gpucore.cli;

import dev.gpucore.GpuCoreException;
import dev.gpucore.Setting;
import dev.gpucore.Settings;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code gpucore doctor --settings}: every setting's value in force, where it came from
 * (default, the configuration file and line, the environment variable, the system property), the
 * warnings about the configuration, and the error of each value that is not valid.
 */
final class SettingsReport {
  static final String SCHEMA = "gpucore-settings/1";

  private SettingsReport() {}

  /** Prints the report; 0 when every setting is valid, else 1. */
  static int print(Supplier<Settings> source, PrintWriter out, boolean json) {
    Settings s;
    try {
      s = source.get();
    } catch (GpuCoreException.InvalidArgument e) {
      if (json) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("schema", SCHEMA);
        m.put("error", e.getMessage());
        out.println(JsonText.write(m));
      } else {
        out.println("gpucore settings: " + e.getMessage());
      }
      return 1;
    }
    Map<Setting<?>, String> errors = s.check();
    List<Settings.Value> values = s.values();
    if (json) {
      List<Object> rows = new ArrayList<>();
      for (Settings.Value v : values) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("key", v.setting().key());
        r.put("env", v.setting().envName());
        r.put("value", v.text());
        r.put("source", v.source().name().toLowerCase(java.util.Locale.ROOT));
        r.put("from", v.where());
        if (errors.containsKey(v.setting())) {
          r.put("error", errors.get(v.setting()));
        }
        rows.add(r);
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("schema", SCHEMA);
      m.put("file", s.fileName());
      m.put("settings", rows);
      m.put("warnings", s.warnings());
      m.put("errors", new ArrayList<>(errors.values()));
      out.println(JsonText.write(m));
      return errors.isEmpty() ? 0 : 1;
    }
    out.println("gpucore settings (configuration file: "
        + (s.fileName() == null ? "none" : s.fileName()) + ")");
    out.println();
    int kw = "setting".length();
    int vw = "value".length();
    for (Settings.Value v : values) {
      kw = Math.max(kw, v.setting().key().length());
      vw = Math.max(vw, Math.min(40, Math.max("(unset)".length(), v.text().length())));
    }
    String fmt = "%-" + kw + "s  %-" + vw + "s  %s%n";
    out.printf(fmt, "setting", "value", "from");
    for (Settings.Value v : values) {
      String from = v.where();
      if (errors.containsKey(v.setting())) {
        from += "  INVALID";
      }
      out.printf(fmt, v.setting().key(), v.text().isEmpty() ? "(unset)" : v.text(), from);
    }
    if (!s.warnings().isEmpty()) {
      out.println();
      out.println("warnings:");
      for (String w : s.warnings()) {
        out.println("  " + w);
      }
    }
    if (!errors.isEmpty()) {
      out.println();
      out.println("errors (gpucore will not open until they are fixed):");
      for (String e : errors.values()) {
        out.println("  " + e);
      }
    }
    out.flush();
    return errors.isEmpty() ? 0 : 1;
  }
}
