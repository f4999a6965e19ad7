package dev.gpucore.spi;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The router's log file ({@code gpucore.log.file}): opened once per path for the life of the
 * JVM, at the first line, and shared by every core that names it (so rotate it by copying and
 * truncating, not by renaming). Logging never fails a computation: when the file cannot be
 * opened or written, one line says so on stderr and later lines are dropped.
 */
final class LogFile {
  private static final ConcurrentHashMap<Path, LogFile> FILES = new ConcurrentHashMap<>();

  private final Path path;
  private FileOutputStream out;
  private volatile boolean failed;

  private LogFile(Path path) {
    this.path = path;
  }

  /** The log file for {@code path} (one per absolute path). */
  static LogFile of(Path path) {
    return FILES.computeIfAbsent(path.toAbsolutePath().normalize(), LogFile::new);
  }

  /** False once opening or writing failed: nothing more is written. */
  boolean usable() {
    return !failed;
  }

  /** Appends one line; a failure is reported once on {@code err} and turns the log off. */
  synchronized void append(String line, PrintStream err) {
    if (failed) {
      return;
    }
    try {
      if (out == null) {
        // a FileOutputStream, not a channel: an interrupted caller must still get its line
        out = new FileOutputStream(path.toFile(), true);
      }
      out.write((line + System.lineSeparator()).getBytes(StandardCharsets.UTF_8));
    } catch (IOException | RuntimeException e) {
      failed = true;
      try {
        if (out != null) {
          out.close();
        }
      } catch (IOException ignored) {
        // already failing
      }
      out = null;
      err.println("gpucore: gpucore.log.file " + path + ": " + e.getMessage()
          + "; the router's log is off for this JVM");
      err.flush();
    }
  }
}
