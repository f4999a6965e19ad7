package dev.gpucore.nativeblas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The library from Java: extracted from the class path, loaded, and its GPU chosen. */
class GpuCoreBlasLibraryTest {
  @TempDir static Path dir;

  private static synchronized Path loadedCopy() throws Exception {
    Path lib = GpuCoreBlasLibrary.extract(GpuCoreBlasLibraryTest.class.getClassLoader(),
        dir.resolve("lib"));
    GpuCoreBlasLibrary.load(lib);
    return lib;
  }

  @Test
  void extractsTheLibraryOfThisJar() throws Exception {
    Path lib = loadedCopy();
    assertTrue(GpuCoreBlasLibrary.isThisLibrary(lib));
    assertEquals(Files.size(Native.library()), Files.size(lib));
    assertEquals(lib.toAbsolutePath().normalize(), GpuCoreBlasLibrary.loaded());
  }

  @Test
  void theProcessAndEachThreadChooseTheirGpu() throws Exception {
    loadedCopy();
    GpuCoreBlasLibrary.selectGpu(2);
    try {
      assertEquals(2, GpuCoreBlasLibrary.selectedGpu());
      AtomicInteger inThread = new AtomicInteger(-9);
      AtomicInteger afterClear = new AtomicInteger(-9);
      Thread t = new Thread(() -> {
        GpuCoreBlasLibrary.selectThreadGpu(1);
        inThread.set(GpuCoreBlasLibrary.selectedGpu());
        GpuCoreBlasLibrary.selectThreadGpu(-1);
        afterClear.set(GpuCoreBlasLibrary.selectedGpu());
      });
      t.start();
      t.join();
      assertEquals(1, inThread.get());
      assertEquals(2, afterClear.get(), "a cleared thread uses the process's GPU");
      assertEquals(2, GpuCoreBlasLibrary.selectedGpu(), "another thread's choice is its own");
    } finally {
      GpuCoreBlasLibrary.selectGpu(-1);
    }
    assertEquals(-1, GpuCoreBlasLibrary.selectedGpu());
  }

  @Test
  void badArgumentsAreRefusedByName() throws Exception {
    loadedCopy();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> GpuCoreBlasLibrary.selectGpu(-2));
    assertTrue(e.getMessage().startsWith("ordinal"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> GpuCoreBlasLibrary.selectThreadGpu(-5));
    e = assertThrows(IllegalArgumentException.class,
        () -> GpuCoreBlasLibrary.load(dir.resolve("libother.so")));
    assertTrue(e.getMessage().startsWith("lib "), e.getMessage());
    Path second = GpuCoreBlasLibrary.extract(getClass().getClassLoader(), dir.resolve("second"));
    IllegalStateException s = assertThrows(IllegalStateException.class,
        () -> GpuCoreBlasLibrary.load(second));
    assertTrue(s.getMessage().contains("already loaded"), s.getMessage());
    assertFalse(GpuCoreBlasLibrary.isThisLibrary(Path.of("/")));
  }
}
