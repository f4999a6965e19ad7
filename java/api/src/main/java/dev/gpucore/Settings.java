package dev.gpucore;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * gpucore's settings, in the manner of {@code nvblas.conf}. Each key (e.g.
 * {@code gpucore.gemm.route}) is looked up, first found wins, as: a Java system property of that
 * name; an environment variable of the name upper-cased with dots as underscores
 * ({@code GPUCORE_GEMM_ROUTE}); the configuration file; the default. The file is named by
 * {@code gpucore.config} / {@code GPUCORE_CONFIG} and holds {@code key = value} or
 * {@code key value} lines ({@code #} starts a comment).
 */
public final class Settings {
  private final Map<?, ?> props;
  private final Map<String, String> env;
  private final Properties file;
  private final String fileName;

  private Settings(Map<?, ?> props, Map<String, String> env, Properties file, String fileName) {
    this.props = props;
    this.env = env;
    this.file = file;
    this.fileName = fileName;
  }

  /** Settings from the system properties, the environment and the file they name. */
  public static Settings fromEnvironment() {
    return from(System.getProperties(), System.getenv());
  }

  /**
   * Settings from the given maps and the file they name.
   *
   * @throws GpuCoreException.InvalidArgument when the named file cannot be read
   */
  public static Settings from(Map<?, ?> props, Map<String, String> env) {
    Properties file = new Properties();
    String name = first(props.get("gpucore.config"), env.get("GPUCORE_CONFIG"));
    if (name != null) {
      try (Reader r = Files.newBufferedReader(Path.of(name))) {
        file.load(r);
      } catch (IOException | RuntimeException e) {
        throw new GpuCoreException.InvalidArgument(
            "gpucore.config: cannot read configuration file " + name + ": " + e.getMessage());
      }
    }
    return new Settings(props, env, file, name);
  }

  private static String first(Object a, String b) {
    String v = a == null ? null : nonEmpty(a.toString());
    return v != null ? v : b == null ? null : nonEmpty(b);
  }

  /**
   * The value trimmed, or null when it is blank (blank means unset). Trimmed first: a value of
   * control characters alone (not blank to {@link String#isBlank}) used to come back empty.
   */
  private static String nonEmpty(String v) {
    String t = v.trim();
    return t.isBlank() ? null : t;
  }

  /** The environment variable name for a key. */
  public static String envName(String key) {
    return key.toUpperCase(Locale.ROOT).replace('.', '_');
  }

  /** The value of {@code key}, or {@code def}. */
  public String get(String key, String def) {
    Object p = props.get(key);
    String v = p == null ? null : nonEmpty(p.toString());
    if (v == null) {
      String e = env.get(envName(key));
      v = e == null ? null : nonEmpty(e);
    }
    if (v == null) {
      String f = file.getProperty(key);
      v = f == null ? null : nonEmpty(f);
    }
    return v != null ? v : def;
  }

  /** A boolean setting: true/false/1/0/yes/no. */
  public boolean getBoolean(String key, boolean def) {
    String v = get(key, null);
    if (v == null) {
      return def;
    }
    switch (v.toLowerCase(Locale.ROOT)) {
      case "true", "1", "yes", "on":
        return true;
      case "false", "0", "no", "off":
        return false;
      default:
        throw new GpuCoreException.InvalidArgument(
            key + " must be true or false; got \"" + v + "\"");
    }
  }

  /** A number setting within [min, max]. */
  public double getDouble(String key, double def, double min, double max) {
    String v = get(key, null);
    if (v == null) {
      return def;
    }
    double d;
    try {
      d = Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new GpuCoreException.InvalidArgument(key + " must be a number; got \"" + v + "\"");
    }
    if (!(d >= min && d <= max)) {
      throw new GpuCoreException.InvalidArgument(
          key + " must be in [" + min + ", " + max + "]; got " + v);
    }
    return d;
  }

  /** The configuration file in use, or null. */
  public String fileName() {
    return fileName;
  }
}
