package dev.gpucore.cpu;

import dev.gpucore.Config;
import dev.gpucore.GpuCoreException;
import dev.gpucore.spi.Backend;
import dev.gpucore.spi.BackendProvider;
import java.nio.file.Path;

/** Provides the CPU backend; it is always available where OpenBLAS's native library loads. */
public final class CpuBackendProvider implements BackendProvider {
  @Override
  public String name() {
    return "cpu";
  }

  @Override
  public int rank() {
    return 0;
  }

  @Override
  public Backend open(Config config) {
    int threads = CpuThreads.choose(config.cpuThreads(),
        Runtime.getRuntime().availableProcessors(), Path.of("/sys/fs/cgroup"));
    try {
      return uninterruptibly(() -> new CpuBackend(threads));
    } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
      throw new GpuCoreException.DeviceUnavailable(
          "OpenBLAS could not be loaded: " + e.getMessage(), e);
    }
  }

  /**
   * Runs {@code work} on a thread of its own and waits for it, uninterruptibly, keeping the
   * caller's interrupt flag. The first use loads OpenBLAS, and JavaCPP's loader takes a file
   * lock through an interruptible channel: on an interrupted thread the load fails, and a class
   * whose static initializer failed stays unusable for the life of the JVM.
   */
  static <T> T uninterruptibly(java.util.function.Supplier<T> work) {
    Object[] result = new Object[1];
    Throwable[] failure = new Throwable[1];
    Thread t = new Thread(() -> {
      try {
        result[0] = work.get();
      } catch (Throwable e) {
        failure[0] = e;
      }
    }, "gpucore-cpu-load");
    t.setDaemon(true);
    t.start();
    boolean interrupted = false;
    while (true) {
      try {
        t.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    if (failure[0] instanceof RuntimeException e) {
      throw e;
    }
    if (failure[0] instanceof Error e) {
      throw e;
    }
    @SuppressWarnings("unchecked")
    T r = (T) result[0];
    return r;
  }
}
