package dev.gpucore.spi;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The router's log file ({@code gpucore.log.file}): opened once per path for the life of the
 * JVM, when the first core that names it opens, and shared by every core that names it (so
 * rotate it by copying and truncating, not by renaming). Logging never fails a computation:
 * when the file cannot be opened or written, one line says so on stderr and later lines are
 * dropped.
 */
final class LogFile {
  private static final ConcurrentHashMap<Path, LogFile> FILES = new ConcurrentHashMap<>();

  private final Path path;
  /** The setting as the user wrote it, for the report of a failure. */
  private final String named;
  private FileOutputStream out;
  private volatile boolean failed;

  private LogFile(Path path, String named) {
    this.path = path;
    this.named = named;
  }

  /**
   * The log file for {@code path} (one per absolute path), opened now if it is not yet; a
   * failure to open it is reported once on {@code err}, and the file is then not usable.
   *
   * @param named the setting as the user wrote it, e.g. {@code gpucore.log.file (environment)
   *     is "route.log"}
   */
  static LogFile open(Path path, String named, PrintStream err) {
    LogFile f = FILES.computeIfAbsent(path.toAbsolutePath().normalize(),
        p -> new LogFile(p, named));
    f.open(err);
    return f;
  }

  private synchronized void open(PrintStream err) {
    if (out != null || failed) {
      return;
    }
    try {
      // a FileOutputStream, not a channel: an interrupted caller must still get its line
      out = new FileOutputStream(path.toFile(), true);
    } catch (IOException | RuntimeException e) {
      fail(e, err);
    }
  }

  /** False once opening or writing failed: nothing more is written. */
  boolean usable() {
    return !failed;
  }

  /** Appends one line; a failure is reported once on {@code err} and turns the log off. */
  synchronized void append(String line, PrintStream err) {
    if (failed || out == null) {
      return;
    }
    try {
      out.write((line + System.lineSeparator()).getBytes(StandardCharsets.UTF_8));
    } catch (IOException | RuntimeException e) {
      fail(e, err);
    }
  }

  private void fail(Exception e, PrintStream err) {
    failed = true;
    try {
      if (out != null) {
        out.close();
      }
    } catch (IOException ignored) {
      // already failing
    }
    out = null;
    err.println("gpucore: " + named + ": " + reason(e) + "; the router's log is off for this JVM");
    err.flush();
  }

  /** The cause without the path that the JDK's messages repeat ("/x/y.log (Permission denied)"). */
  private String reason(Exception e) {
    String m = e.getMessage();
    if (m == null || m.isBlank()) {
      return e.getClass().getSimpleName();
    }
    String p = path.toFile().getPath();
    if (m.startsWith(p + " (") && m.endsWith(")")) {
      return m.substring(p.length() + 2, m.length() - 1);
    }
    return m;
  }
}
