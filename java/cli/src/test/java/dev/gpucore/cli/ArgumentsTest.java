package dev.gpucore.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checks commands use in their validation phase. */
class ArgumentsTest {
  @TempDir Path dir;

  static ArgumentException fails(Runnable check) {
    return assertThrows(ArgumentException.class, check::run);
  }

  @Test
  void messagesStartWithTheArgument() {
    ArgumentException e = new ArgumentException("--n", "must be at least 1, got 0");
    assertEquals("--n", e.argument());
    assertEquals("--n must be at least 1, got 0", e.getMessage());
  }

  @Test
  void ranges() {
    Arguments.inRange("--reps", 1, 1, 10);
    Arguments.inRange("--reps", 10, 1, 10);
    assertEquals("--reps must be in [1, 10], got 11",
        fails(() -> Arguments.inRange("--reps", 11, 1, 10)).getMessage());
    assertEquals("--reps", fails(() -> Arguments.inRange("--reps", 0, 1, 10)).argument());
  }

  @Test
  void arrayLengthIsAnIntIndexTheJvmAllocates() {
    assertEquals(Arguments.MAX_ARRAY_LENGTH,
        Arguments.arrayLength("--n", Arguments.MAX_ARRAY_LENGTH, "A"));
    assertEquals(46340 * 46340, Arguments.arrayLength("--n", 46340L * 46340, "A"));
    ArgumentException e = fails(() -> Arguments.arrayLength("--n", 46341L * 46341, "A of"));
    assertEquals("--n gives A of 2147488281 elements, more than a Java array holds "
        + "(2147483639)", e.getMessage());
    fails(() -> Arguments.arrayLength("--n", -1, "A"));
  }

  @Test
  void heapChecksCountWhatIsInUse() {
    long gib = 1L << 30;
    Arguments.fitsHeap("--n", 3 * gib, "A", 4 * gib, 512L << 20);
    ArgumentException e = fails(() -> Arguments.fitsHeap("--n", 7 * gib / 2, "A and C", 4 * gib,
        gib));
    assertEquals("--n needs 3.5 GiB of Java heap for A and C, but only 3.0 GiB of the 4.0 GiB "
        + "heap is free (give the JVM more with -Xmx, or choose a smaller --n)", e.getMessage());
    fails(() -> Arguments.fitsHeap("--n", 3 * gib, "A", 4 * gib, 2 * gib));
    fails(() -> Arguments.fitsHeap("--n", -1, "A", 4 * gib, 0)); // an overflowed product
    Arguments.fitsHeap("--n", 1 << 20, "A"); // this JVM
    fails(() -> Arguments.fitsHeap("--n", Long.MAX_VALUE, "A"));
  }

  @Test
  void writableFileAcceptsNewAndExistingFilesAndLeavesThemAlone() throws IOException {
    Path fresh = dir.resolve("out.json");
    Arguments.writableFile("--json", fresh);
    assertFalse(Files.exists(fresh), "the probe leaves no file behind");
    Path existing = Files.writeString(dir.resolve("keep.svg"), "<svg/>");
    Arguments.writableFile("--plot", existing);
    assertEquals("<svg/>", Files.readString(existing, StandardCharsets.UTF_8));
  }

  @Test
  void writableFileRejectsFoldersMissingFoldersAndUnwritablePlaces() {
    assertEquals("--json names a folder, not a file: " + dir,
        fails(() -> Arguments.writableFile("--json", dir)).getMessage());
    Path missing = dir.resolve("no-such-folder").resolve("out.json");
    assertEquals("--json names a file in a folder that does not exist: " + missing,
        fails(() -> Arguments.writableFile("--json", missing)).getMessage());
    assumeTrue(Files.isDirectory(Path.of("/proc/self")), "needs Linux's /proc");
    ArgumentException e = fails(() -> Arguments.writableFile("--plot", Path.of("/proc/x.svg")));
    assertTrue(e.getMessage().startsWith("--plot names a file that cannot be written: "
        + "/proc/x.svg ("), e.getMessage());
    assertFalse(MainTest.TRACE.matcher(e.getMessage()).find(), e.getMessage());
  }

  @Test
  void readableFile() throws IOException {
    Path f = Files.writeString(dir.resolve("peer.txt"), "sgemm n=64 T 0.1 ms\n");
    Arguments.readableFile("--torch", f);
    Path missing = dir.resolve("missing.txt");
    assertEquals("--torch names a file that does not exist: " + missing,
        fails(() -> Arguments.readableFile("--torch", missing)).getMessage());
    assertEquals("--torch names a folder, not a file: " + dir,
        fails(() -> Arguments.readableFile("--torch", dir)).getMessage());
  }

  @Test
  void sizesInBinaryUnits() {
    assertEquals("512 B", Arguments.size(512));
    assertEquals("1.5 KiB", Arguments.size(1536));
    assertEquals("16.0 GiB", Arguments.size(2L * Float.BYTES * 46340 * 46340));
  }
}
