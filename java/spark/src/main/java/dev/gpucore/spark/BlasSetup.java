package dev.gpucore.spark;

import dev.gpucore.nativeblas.GpuCoreBlasLibrary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Puts {@code libgpucore_blas.so} under netlib-java (and so MLlib and Breeze) in this JVM, and
 * tells it which GPU to use. Once per JVM; Spark-free (the plugin calls it on each executor, and
 * so can any JVM without Spark).
 *
 * <p>Unless the user set {@value #NATIVE_LIB_PATH}, the library is extracted from the
 * gpucore-blas jar (with bytedeco's OpenBLAS beside it) and the property is set to it; netlib
 * reads it once, at its first BLAS call, so this must run before anything touches
 * {@code dev.ludovic.netlib.blas.BLAS}. Where the user set the property it is left alone; when it
 * names a {@code libgpucore_blas.so} that copy is the one told the GPU.
 */
public final class BlasSetup {
  /** netlib-java's property: the full path of the native BLAS {@code JNIBLAS} loads. */
  public static final String NATIVE_LIB_PATH = "dev.ludovic.netlib.blas.nativeLibPath";

  /**
   * What {@link #install} did.
   *
   * @param library the library netlib will load (null when the user named another BLAS)
   * @param userSet whether the user had set {@value #NATIVE_LIB_PATH}
   * @param bindable whether the GPU can be chosen (the library is loaded here)
   * @param message one line for the log
   */
  public record Result(Path library, boolean userSet, boolean bindable, String message) {}

  private static Result installed;

  private BlasSetup() {}

  /**
   * Installs the library for this JVM (the first call does the work; later calls return its
   * result).
   *
   * @param loader where the gpucore-blas jar is
   * @param parent the folder to extract into (a new folder is made there, removed at exit)
   * @throws IOException when extraction fails
   */
  public static synchronized Result install(ClassLoader loader, Path parent) throws IOException {
    if (installed != null) {
      return installed;
    }
    String user = System.getProperty(NATIVE_LIB_PATH);
    if (user != null && !user.isBlank()) {
      Path p = Path.of(user.strip());
      if (GpuCoreBlasLibrary.isThisLibrary(p) && Files.isRegularFile(p)) {
        GpuCoreBlasLibrary.load(p);
        installed = new Result(p, true, true, NATIVE_LIB_PATH + " was set to " + user
            + ": left as set; GPUs are chosen through that copy of libgpucore_blas.so");
      } else {
        installed = new Result(null, true, false, NATIVE_LIB_PATH + " was set to " + user
            + ": left as set; it is not libgpucore_blas.so, so BLAS does not go through gpucore");
      }
      return installed;
    }
    Files.createDirectories(parent);
    Path dir = Files.createTempDirectory(parent, "gpucore-blas-");
    Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(dir), "gpucore-blas-cleanup"));
    Path lib = GpuCoreBlasLibrary.extract(loader, dir);
    GpuCoreBlasLibrary.load(lib);
    System.setProperty(NATIVE_LIB_PATH, lib.toString());
    installed = new Result(lib, false, true, NATIVE_LIB_PATH + "=" + lib);
    return installed;
  }

  /** The result of the first {@link #install}, or null. */
  public static synchronized Result installed() {
    return installed;
  }

  /**
   * Applies an executor's plan: the process's GPU (when there is one and the library is
   * loaded here).
   *
   * @return one line for the log
   */
  public static synchronized String apply(ExecutorPlan plan) {
    if (installed == null || !installed.bindable()) {
      return "no GPU chosen: libgpucore_blas.so is not loaded here";
    }
    if (plan.processGpu() == null) {
      GpuCoreBlasLibrary.selectGpu(-1);
      return plan.summary();
    }
    GpuCoreBlasLibrary.selectGpu(plan.processGpu().cudaOrdinal());
    return plan.summary();
  }

  /** Binds the calling thread to CUDA ordinal {@code ordinal} (-1: the process's GPU). */
  public static void bindThread(int ordinal) {
    Result r = installed();
    if (r != null && r.bindable()) {
      GpuCoreBlasLibrary.selectThreadGpu(ordinal);
    }
  }

  /** The CUDA ordinal the calling thread's GEMMs use when chosen here, else -1. */
  public static int selectedGpu() {
    Result r = installed();
    return r != null && r.bindable() ? GpuCoreBlasLibrary.selectedGpu() : -1;
  }

  /**
   * The class of netlib's {@code BLAS.getInstance()} (loading the native library now if it is
   * not loaded yet), or why it cannot be had.
   */
  public static String netlibInstance(ClassLoader loader) {
    try {
      Class<?> blas = Class.forName("dev.ludovic.netlib.blas.BLAS", true, loader);
      return blas.getMethod("getInstance").invoke(null).getClass().getName();
    } catch (ReflectiveOperationException | LinkageError e) {
      return "unavailable: " + e;
    }
  }

  private static void delete(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      List<Path> all = new ArrayList<>(s.sorted(Comparator.reverseOrder()).toList());
      for (Path p : all) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // best effort at exit
    }
  }
}
