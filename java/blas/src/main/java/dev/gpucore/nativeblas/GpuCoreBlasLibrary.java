package dev.gpucore.nativeblas;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Objects;

/**
 * {@code libgpucore_blas.so} from Java: extracted from this jar, loaded into the JVM, and told
 * which GPU to use.
 *
 * <p>A JVM cannot change its own environment for native code, so the library's settings
 * ({@code GPUCORE_GPU_LIST}, ...) cannot name a GPU chosen at run time. Instead the library
 * exports three JNI natives of this class: {@link #selectGpu} (the process's GPU, over
 * {@code gpucore.gpu.list}) and {@link #selectThreadGpu} (the calling thread's, over the
 * process's). They take effect from the next {@code ?gemm} call, whoever loaded the library:
 * netlib-java's {@code JNIBLAS} opening the same file shares this JVM's copy.
 *
 * <p>Ordinals are CUDA device ordinals in the process's own order ({@code CUDA_DEVICE_ORDER},
 * {@code CUDA_VISIBLE_DEVICES}); a GPU that is not there sends the calls to OpenBLAS, with the
 * reason in the library's trace.
 */
public final class GpuCoreBlasLibrary {
  /** The library's file name. */
  public static final String FILE_NAME = "libgpucore_blas.so";
  /** Where this jar carries it. */
  public static final String RESOURCE = "native/linux-x86_64/" + FILE_NAME;
  /** bytedeco's OpenBLAS jar: the library and the runtime libraries it needs. */
  static final String OPENBLAS_RESOURCES = "org/bytedeco/openblas/linux-x86_64/";
  static final List<String> OPENBLAS_FILES = List.of("libopenblas.so.0", "libgfortran.so.5",
      "libquadmath.so.0", "libgcc_s.so.1");

  private static Path loaded;

  private GpuCoreBlasLibrary() {}

  /**
   * Copies the library out of the class path into {@code dir} (created if missing), with
   * bytedeco's OpenBLAS beside it when that jar is on the class path too (the library uses an
   * OpenBLAS already loaded in the process first, then the one in its own folder).
   *
   * @param loader where to look for the resources
   * @param dir the folder to write into
   * @return the library's path
   * @throws IllegalStateException when the class path does not carry the library
   * @throws IOException when the files cannot be written
   */
  public static Path extract(ClassLoader loader, Path dir) throws IOException {
    Objects.requireNonNull(loader, "loader");
    Objects.requireNonNull(dir, "dir");
    Files.createDirectories(dir);
    Path lib = dir.resolve(FILE_NAME);
    if (!copy(loader, RESOURCE, lib)) {
      throw new IllegalStateException(RESOURCE + " is not on the class path (the gpucore-blas jar)");
    }
    for (String f : OPENBLAS_FILES) {
      copy(loader, OPENBLAS_RESOURCES + f, dir.resolve(f));
    }
    return lib;
  }

  private static boolean copy(ClassLoader loader, String resource, Path target) throws IOException {
    try (InputStream in = loader.getResourceAsStream(resource)) {
      if (in == null) {
        return false;
      }
      Path tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".part");
      try {
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
      return true;
    }
  }

  /** Whether {@code path} names this library (by its file name). */
  public static boolean isThisLibrary(Path path) {
    return path != null && path.getFileName() != null
        && path.getFileName().toString().equals(FILE_NAME);
  }

  /**
   * Loads the library at {@code lib} into this JVM ({@link System#load}), which binds the natives
   * of this class. Loading the same path again does nothing.
   *
   * @throws IllegalArgumentException when {@code lib} is not a {@code libgpucore_blas.so} file
   * @throws IllegalStateException when another copy of the library is already loaded
   */
  public static synchronized void load(Path lib) {
    Objects.requireNonNull(lib, "lib");
    Path abs = lib.toAbsolutePath().normalize();
    if (!isThisLibrary(abs) || !Files.isRegularFile(abs)) {
      throw new IllegalArgumentException("lib must be an existing " + FILE_NAME + " file, got " + lib);
    }
    if (loaded != null) {
      if (!loaded.equals(abs)) {
        throw new IllegalStateException("lib: " + loaded + " is already loaded; cannot load " + abs);
      }
      return;
    }
    System.load(abs.toString());
    loaded = abs;
  }

  /** The path loaded by {@link #load}, or null. */
  public static synchronized Path loaded() {
    return loaded;
  }

  private static void requireLoaded() {
    if (loaded() == null) {
      throw new IllegalStateException(FILE_NAME + " is not loaded: call load(path) first");
    }
  }

  private static void checkOrdinal(int ordinal) {
    if (ordinal < -1) {
      throw new IllegalArgumentException("ordinal must be a CUDA device ordinal (0 or more) or -1, got "
          + ordinal);
    }
  }

  /**
   * The process's GPU: every thread without its own choice uses CUDA device {@code ordinal};
   * -1 returns to {@code gpucore.gpu.list}.
   */
  public static void selectGpu(int ordinal) {
    checkOrdinal(ordinal);
    requireLoaded();
    selectGpu0(ordinal);
  }

  /** The calling thread's GPU, over the process's; -1 returns to the process's. */
  public static void selectThreadGpu(int ordinal) {
    checkOrdinal(ordinal);
    requireLoaded();
    selectThreadGpu0(ordinal);
  }

  /** The GPU the calling thread's GEMMs use when chosen here (the thread's, else the process's), else -1. */
  public static int selectedGpu() {
    requireLoaded();
    return selectedGpu0();
  }

  private static native void selectGpu0(int ordinal);

  private static native void selectThreadGpu0(int ordinal);

  private static native int selectedGpu0();
}
