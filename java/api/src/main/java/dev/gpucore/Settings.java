package dev.gpucore;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * gpucore's settings, in the manner of {@code nvblas.conf}: the values of the {@link Setting}
 * registry. Each setting is looked up, first found wins, as: a Java system property of its key
 * ({@code gpucore.gemm.route}); its environment variable ({@code GPUCORE_GEMM_ROUTE}); the
 * configuration file; the default. A blank value counts as unset. The file is named by
 * {@code gpucore.config} / {@code GPUCORE_CONFIG} and holds {@code key = value} lines; a line
 * starting with {@code #} is a comment, and values are read literally (no escapes). A line that
 * is not {@code key = value}, an unknown or wrongly cased key or an nvBLAS key is warned about
 * ({@link #warnings()}) and ignored.
 *
 * <p>Values are parsed when first read and all of them by {@link #validate()}, which
 * {@link GpuCore#open(Config)} calls: a malformed or out-of-range value is a
 * {@link GpuCoreException.InvalidArgument} that names the setting as it was written (the
 * environment variable, the system property, or the file's key, path and line).
 */
public final class Settings {
  private static final System.Logger LOG = System.getLogger("dev.gpucore.settings");

  /** Where a value came from. */
  public enum Source {
    /** The registry's default. */
    DEFAULT,
    /** The configuration file. */
    FILE,
    /** An environment variable. */
    ENVIRONMENT,
    /** A Java system property. */
    PROPERTY
  }

  /**
   * The value a setting has and where it came from.
   *
   * @param setting the setting
   * @param text the value as written, trimmed (the default's text for {@link Source#DEFAULT})
   * @param source where it came from
   * @param where the setting as the user wrote it: {@code GPUCORE_CPU_THREADS (environment)},
   *     {@code gpucore.cpu.threads (system property)}, {@code gpucore.cpu.threads
   *     (gpucore.conf line 3)}, or {@code default}
   */
  public record Value(Setting<?> setting, String text, Source source, String where) {}

  private record Line(String value, int line) {}

  private final Map<?, ?> props;
  private final Map<String, String> env;
  private final Map<String, Line> file;
  private final String fileName;
  private final Set<String> warnings = new LinkedHashSet<>();
  private final Map<Setting<?>, Object> parsed = new ConcurrentHashMap<>();
  private volatile boolean warned;

  private Settings(Map<?, ?> props, Map<String, String> env, Map<String, Line> file,
      String fileName) {
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
   * @throws GpuCoreException.InvalidArgument when the named file cannot be read, naming the
   *     setting that named it and the cause ("no such file", "larger than 1 MiB")
   */
  public static Settings from(Map<?, ?> props, Map<String, String> env) {
    Map<String, Line> lines = new LinkedHashMap<>();
    List<String> warn = new ArrayList<>();
    String name = null;
    Object p = props.get(Setting.CONFIG.key());
    String e = env.get(Setting.CONFIG.envName());
    String where = null;
    if (p != null && nonEmpty(p.toString()) != null) {
      name = nonEmpty(p.toString());
      where = Setting.CONFIG.key() + " (system property)";
    } else if (e != null && nonEmpty(e) != null) {
      name = nonEmpty(e);
      where = Setting.CONFIG.envName() + " (environment)";
    }
    if (name != null) {
      String text;
      try {
        text = read(Path.of(name));
      } catch (InvalidPathException | IOException ex) {
        throw new GpuCoreException.InvalidArgument(where + " is \"" + name
            + "\": cannot read the configuration file: " + cause(ex));
      }
      parseFile(text, name, lines, warn);
    }
    Settings s = new Settings(props, env, lines, name);
    s.warnings.addAll(warn);
    return s;
  }

  /** The largest configuration file read. */
  private static final int MAX_FILE_BYTES = 1 << 20;

  private static String read(Path path) throws IOException {
    if (Files.isDirectory(path)) {
      throw new IOException("is a directory");
    }
    byte[] bytes;
    try (InputStream in = Files.newInputStream(path)) {
      bytes = in.readNBytes(MAX_FILE_BYTES + 1); // at most: /dev/zero or a wrong file is no config
    }
    if (bytes.length > MAX_FILE_BYTES) {
      throw new IOException("larger than 1 MiB");
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException ex) {
      throw new IOException("not UTF-8 text");
    }
  }

  private static String cause(Exception ex) {
    if (ex instanceof NoSuchFileException) {
      return "no such file";
    }
    if (ex instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (ex instanceof InvalidPathException) {
      return "not a path (" + ex.getMessage() + ")";
    }
    return ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
  }

  /** Reads {@code key = value} lines literally; everything else is warned about. */
  private static void parseFile(String text, String name, Map<String, Line> out,
      List<String> warn) {
    String[] lines = text.split("\r\n|\n|\r", -1);
    for (int i = 0; i < lines.length; i++) {
      String raw = lines[i];
      if (i == 0 && raw.startsWith("\uFEFF")) {
        raw = raw.substring(1);
      }
      String line = raw.trim();
      int n = i + 1;
      String at = name + " line " + n;
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int eq = line.indexOf('=');
      String key = eq < 0 ? "" : line.substring(0, eq).trim();
      if (eq <= 0 || key.isEmpty() || key.chars().anyMatch(Character::isWhitespace)) {
        warn.add(at + ": not a key = value line, ignored: " + shown(line));
        continue;
      }
      String value = line.substring(eq + 1).trim();
      Setting<?> s = Setting.byKey(key);
      if (s == null) {
        warn.add(at + ": " + unknown(key) + ", ignored");
        continue;
      }
      if (s == Setting.CONFIG) {
        warn.add(at + ": " + key + " cannot be set in the configuration file, ignored");
        continue;
      }
      Line before = out.put(key, new Line(value, n));
      if (before != null) {
        warn.add(at + ": " + key + " was already set on line " + before.line()
            + "; the later line wins");
      }
    }
  }

  private static String shown(String line) {
    String t = line.length() > 80 ? line.substring(0, 77) + "..." : line;
    StringBuilder b = new StringBuilder("\"");
    for (char c : t.toCharArray()) {
      b.append(c < ' ' || c == 0x7f ? String.format(Locale.ROOT, "\\u%04x", (int) c) : c);
    }
    return b.append('"').toString();
  }

  /** Why a key of the file is not a setting, with the setting meant where one is near. */
  private static String unknown(String key) {
    for (Setting<?> s : Setting.all()) {
      if (s.key().equalsIgnoreCase(key)) {
        return shown(key) + " is not a setting (keys are case-sensitive: " + s.key() + ")";
      }
      if (s.envName().equals(key)) {
        return key + " is an environment variable; the file's key is " + s.key();
      }
    }
    if (key.toUpperCase(Locale.ROOT).startsWith("NVBLAS_")) {
      String ours = nvblas(key.toUpperCase(Locale.ROOT));
      return key + " is an nvBLAS setting, which gpucore does not read"
          + (ours == null ? "" : " (gpucore's own: " + ours + ")");
    }
    Setting<?> near = null;
    int best = 4;
    for (Setting<?> s : Setting.all()) {
      int d = distance(key.toLowerCase(Locale.ROOT), s.key().toLowerCase(Locale.ROOT), best);
      if (d < best) {
        best = d;
        near = s;
      }
    }
    return "unknown setting " + shown(key) + (near == null ? "" : " (did you mean " + near.key()
        + "?)");
  }

  private static String nvblas(String key) {
    if (key.startsWith("NVBLAS_CPU_RATIO")) {
      return Setting.GEMM_CPU_RATIO.key();
    }
    if (key.startsWith("NVBLAS_GPU_DISABLED")) {
      return Setting.GEMM_DISABLE.key();
    }
    return switch (key) {
      case "NVBLAS_LOGFILE" -> Setting.LOG_FILE.key();
      case "NVBLAS_TRACE_LOG_ENABLED" -> Setting.TRACE.key();
      case "NVBLAS_GPU_LIST" -> Setting.GPU_LIST.key();
      case "NVBLAS_TILE_DIM" -> Setting.GEMM_PANEL_MIB.key();
      default -> null;
    };
  }

  /** Levenshtein distance, or {@code limit} when it is at least that. */
  private static int distance(String a, String b, int limit) {
    if (Math.abs(a.length() - b.length()) >= limit) {
      return limit;
    }
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int c = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + c);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return Math.min(prev[b.length()], limit);
  }

  /**
   * The value trimmed, or null when it is blank (blank means unset). Trimmed first: a value of
   * control characters alone (not blank to {@link String#isBlank}) counts as blank too.
   */
  private static String nonEmpty(String v) {
    String t = v.trim();
    return t.isBlank() ? null : t;
  }

  /** The environment variable name for a key: upper case, dots as underscores. */
  public static String envName(String key) {
    return key.toUpperCase(Locale.ROOT).replace('.', '_');
  }

  /** Where {@code s}'s value comes from, and its text. */
  public Value value(Setting<?> s) {
    Object p = props.get(s.key());
    String v = p == null ? null : nonEmpty(p.toString());
    if (v != null) {
      return new Value(s, v, Source.PROPERTY, s.key() + " (system property)");
    }
    String e = env.get(s.envName());
    v = e == null ? null : nonEmpty(e);
    if (v != null) {
      return new Value(s, v, Source.ENVIRONMENT, s.envName() + " (environment)");
    }
    Line f = file.get(s.key());
    if (f != null && nonEmpty(f.value()) != null) {
      return new Value(s, nonEmpty(f.value()), Source.FILE,
          s.key() + " (" + fileName + " line " + f.line() + ")");
    }
    return new Value(s, s.defaultText(), Source.DEFAULT, "default");
  }

  /** Every setting's value and where it came from, in the registry's order. */
  public List<Value> values() {
    List<Value> out = new ArrayList<>();
    for (Setting<?> s : Setting.all()) {
      out.add(value(s));
    }
    return out;
  }

  /**
   * The value of {@code s}: parsed from where it was set, else its default.
   *
   * @throws GpuCoreException.InvalidArgument when the value is malformed or out of range,
   *     naming the setting as it was written and what it must be
   */
  @SuppressWarnings("unchecked")
  public <T> T get(Setting<T> s) {
    Check.notNull(s, "setting");
    Object v = parsed.get(s);
    if (v != null) {
      return v == NONE ? null : (T) v;
    }
    Value val = value(s);
    T t;
    if (val.source() == Source.DEFAULT) {
      t = s.defaultValue();
    } else {
      try {
        t = s.parse(val.text());
      } catch (IllegalArgumentException e) {
        throw new GpuCoreException.InvalidArgument(val.where() + " is " + shown(val.text())
            + ": " + e.getMessage());
      }
    }
    parsed.put(s, t == null ? NONE : t);
    return t;
  }

  private static final Object NONE = new Object();

  /**
   * Parses every setting, so that a malformed value fails here rather than when a backend
   * first reads it, and logs the warnings (once per instance).
   *
   * @throws GpuCoreException.InvalidArgument naming each setting whose value is malformed or
   *     out of range
   */
  public void validate() {
    Map<Setting<?>, String> errors = check();
    if (!errors.isEmpty()) {
      throw new GpuCoreException.InvalidArgument(errors.size() == 1
          ? errors.values().iterator().next()
          : errors.size() + " settings are invalid: " + String.join("; ", errors.values()));
    }
    if (!warned) {
      warned = true;
      for (String w : warnings()) {
        LOG.log(System.Logger.Level.WARNING, w);
      }
    }
  }

  /**
   * Parses every setting without throwing: the error of each one that is malformed or out of
   * range (as {@link #get} would throw it), in the registry's order; warnings found on the way
   * are recorded ({@link #warnings()}) but not logged.
   */
  public Map<Setting<?>, String> check() {
    Map<Setting<?>, String> errors = new LinkedHashMap<>();
    for (Setting<?> s : Setting.all()) {
      try {
        get(s);
      } catch (GpuCoreException.InvalidArgument e) {
        errors.put(s, e.getMessage());
      }
    }
    if (!errors.containsKey(Setting.CPU_THREADS)) {
      int threads = get(Setting.CPU_THREADS);
      int cores = Runtime.getRuntime().availableProcessors();
      if (threads > cores) {
        warn(value(Setting.CPU_THREADS).where() + " is " + threads + ", more than the " + cores
            + " processors available: OpenBLAS's threads will compete for them");
      }
    }
    return errors;
  }

  /**
   * Records a warning about a setting (a well-formed value naming hardware that is not present,
   * for instance) and logs it once; repeats are dropped.
   */
  public void warn(String message) {
    boolean added;
    synchronized (warnings) {
      added = warnings.add(message);
    }
    if (added && warned) {
      LOG.log(System.Logger.Level.WARNING, message);
    }
  }

  /** The warnings so far: lines of the configuration file that were ignored, and the like. */
  public List<String> warnings() {
    synchronized (warnings) {
      return List.copyOf(warnings);
    }
  }

  /** The configuration file in use, or null. */
  public String fileName() {
    return fileName;
  }
}
