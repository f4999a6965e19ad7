package dev.gpucore.spi;

import dev.gpucore.GpuCoreException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.Supplier;

/**
 * Waiting without being interrupted, keeping the caller's interrupt flag. gpucore calls are
 * not interruptible: an interrupted call completes (or fails for its own reasons) and the flag
 * stays set for the caller to act on. Backends use this where an interrupt would otherwise
 * leave native work running behind a returned call, or poison a one-time native load
 * (JavaCPP's loader takes a file lock through an interruptible channel, and a class whose
 * static initializer failed stays unusable for the life of the JVM).
 */
public final class Uninterruptible {
  private Uninterruptible() {}

  /**
   * Runs {@code work} on a thread of its own and waits for it: for first loads of native
   * libraries. Its exceptions and errors are rethrown here.
   */
  public static <T> T onOwnThread(String name, Supplier<T> work) {
    Object[] result = new Object[1];
    Throwable[] failure = new Throwable[1];
    Thread t = new Thread(() -> {
      try {
        result[0] = work.get();
      } catch (Throwable e) {
        failure[0] = e;
      }
    }, name);
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

  /** Waits for {@code f}; returns null when it succeeded, else what it threw. */
  public static Throwable await(Future<?> f) {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          f.get();
          return null;
        } catch (ExecutionException e) {
          return e.getCause();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Rethrows what a task threw (as {@link #await} returns it): a RuntimeException or an Error
   * as it is, anything else wrapped in a {@link GpuCoreException} with {@code message}. Does
   * nothing when {@code failure} is null.
   */
  public static void rethrow(Throwable failure, String message) {
    if (failure instanceof RuntimeException e) {
      throw e;
    }
    if (failure instanceof Error e) {
      throw e;
    }
    if (failure != null) {
      throw new GpuCoreException(message, failure);
    }
  }
}
