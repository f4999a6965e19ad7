package dev.gpucore.cli;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * Checks for {@link Validated#validate()}: each returns normally or throws an
 * {@link ArgumentException} naming the argument. None of them does the work itself: the file
 * checks open a file without writing to it (or create an empty one and delete it again), the
 * size checks only compute.
 */
public final class Arguments {
  /**
   * The longest array every JVM allocates: HotSpot refuses lengths within a few elements of
   * {@link Integer#MAX_VALUE} ("Requested array size exceeds VM limit").
   */
  public static final int MAX_ARRAY_LENGTH = Integer.MAX_VALUE - 8;

  /** Heap left over for everything but the arrays a check counts (strings, tables, buffers). */
  static final long HEAP_RESERVE = 32L << 20;

  private Arguments() {}

  /**
   * Requires {@code min <= value <= max}.
   *
   * @throws ArgumentException {@code "<argument> must be in [min, max], got value"}
   */
  public static void inRange(String argument, long value, long min, long max) {
    if (value < min || value > max) {
      throw new ArgumentException(argument, "must be in [" + min + ", " + max + "], got " + value);
    }
  }

  /**
   * Requires that one Java array of {@code elements} elements can exist (a length that is an
   * {@code int} index, at most {@link #MAX_ARRAY_LENGTH}), and returns it as an {@code int}.
   *
   * @param what the array, for the message ({@code "A (n*n floats)"})
   */
  public static int arrayLength(String argument, long elements, String what) {
    if (elements < 0 || elements > MAX_ARRAY_LENGTH) {
      throw new ArgumentException(argument, "gives " + what + " " + elements
          + " elements, more than a Java array holds (" + MAX_ARRAY_LENGTH + ")");
    }
    return (int) elements;
  }

  /**
   * Requires that {@code bytes} more of Java heap can be allocated: the JVM's maximum heap
   * ({@code -Xmx}) less what is in use now and a small reserve.
   *
   * @param what what the bytes hold, for the message ({@code "A and C (2 x n*n floats)"})
   */
  public static void fitsHeap(String argument, long bytes, String what) {
    Runtime rt = Runtime.getRuntime();
    fitsHeap(argument, bytes, what, rt.maxMemory(), rt.totalMemory() - rt.freeMemory());
  }

  static void fitsHeap(String argument, long bytes, String what, long maxHeap, long used) {
    long free = Math.max(0, maxHeap - used - HEAP_RESERVE);
    if (bytes < 0 || bytes > free) {
      throw new ArgumentException(argument, "needs " + (bytes < 0 ? "more than 8 EiB"
          : size(bytes)) + " of Java heap for " + what + ", but only " + size(free) + " of the "
          + size(maxHeap) + " heap is free (give the JVM more with -Xmx, or choose a smaller "
          + argument + ")");
    }
  }

  /**
   * Requires that {@code file} can be written: an existing file is opened for appending and
   * closed again (its contents stay), a new one is created empty and deleted again, so that
   * permissions, read-only file systems and missing folders all show here.
   */
  public static void writableFile(String argument, Path file) {
    if (Files.isDirectory(file)) {
      throw new ArgumentException(argument, "names a folder, not a file: " + file);
    }
    try {
      if (Files.exists(file)) {
        FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND).close();
        return;
      }
      Path parent = file.toAbsolutePath().getParent();
      if (parent == null || !Files.isDirectory(parent)) {
        throw new ArgumentException(argument, "names a file in a folder that does not exist: "
            + file);
      }
      Files.createFile(file);
      Files.deleteIfExists(file);
    } catch (IOException | SecurityException e) {
      throw new ArgumentException(argument, "names a file that cannot be written: " + file
          + " (" + reason(e) + ")");
    }
  }

  /** Requires that {@code file} exists, is a regular file (not a folder) and can be read. */
  public static void readableFile(String argument, Path file) {
    if (Files.isDirectory(file)) {
      throw new ArgumentException(argument, "names a folder, not a file: " + file);
    }
    if (!Files.exists(file)) {
      throw new ArgumentException(argument, "names a file that does not exist: " + file);
    }
    try {
      FileChannel.open(file, StandardOpenOption.READ).close();
    } catch (IOException | SecurityException e) {
      throw new ArgumentException(argument, "names a file that cannot be read: " + file + " ("
          + reason(e) + ")");
    }
  }

  /** An I/O failure in words, without Java class names. */
  static String reason(Exception e) {
    if (e instanceof AccessDeniedException || e instanceof SecurityException) {
      return "permission denied";
    }
    if (e instanceof NoSuchFileException) {
      return "no such file or folder";
    }
    if (e instanceof FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    return e.getMessage() == null ? "I/O error" : e.getMessage();
  }

  /** Bytes in binary units: {@code 512 B}, {@code 3.0 KiB}, ... {@code 16.0 GiB}. */
  static String size(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = bytes;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }
}
