package dev.gpucore.spi;

import dev.gpucore.GpuCoreException;
import dev.gpucore.Setting;
import dev.gpucore.Settings;
import java.util.concurrent.atomic.AtomicInteger;
import sun.misc.Signal;

/**
 * Prompt exit on SIGINT, SIGTERM and SIGHUP while native work is in flight: the opt-in
 * {@code gpucore.exit.prompt} ({@code GPUCORE_EXIT_PROMPT}, default false; the CLI turns it
 * on).
 *
 * <p>Why: the JVM's final step is the C library's {@code exit()}, which runs the native
 * libraries' destructors. OpenBLAS's destructor joins its worker threads; when a BLAS call is
 * still running in another thread at that moment, the shutdown request of a worker is lost
 * and the join waits for ever (0% CPU, only {@code kill -9} ends the process). An exit after
 * the work finished (no call in flight) is not affected.
 *
 * <p>With the opt-in, {@link #install} replaces the JVM's handlers of the three signals. The
 * first signal restores their default action (so a second signal ends the process at once,
 * even while the JVM is inside {@code exit()}) and starts the normal shutdown with status
 * 128 + signal (130, 143, 129). gpucore's shutdown hook then refuses new GEMM calls
 * ({@link GpuCoreException.DeviceUnavailable}; {@link dev.gpucore.blas.Blas} counts its calls
 * through {@link #enter()}) and waits up to {@link #GRACE_MS} ms for the calls in flight; if
 * they end, the JVM exits normally. If not, it ends the process by the signal's default
 * action, which skips: the rest of the other shutdown hooks (they ran for the grace
 * time beside gpucore's), the native {@code atexit} handlers and library destructors
 * (OpenBLAS's thread shutdown, CUDA's context teardown: the driver frees the process's GPU
 * memory as it exits), the JVM's own exit steps (e.g. flushing unified logging, removing its
 * {@code hsperfdata} file) and the rest of the native call. An exit by {@code System.exit} or
 * the end of {@code main} with a call still in flight after the grace time ends the same way,
 * as by SIGTERM (status 143: the requested status cannot be seen from a hook). A signal that
 * was ignored when the JVM started (e.g. SIGINT of a background job of a script) stays
 * ignored.
 */
public final class PromptExit {
  private PromptExit() {}

  /** The setting. */
  public static final String KEY = Setting.EXIT_PROMPT.key();

  /** How long the shutdown hook waits for calls in flight before it ends the process. */
  public static final long GRACE_MS = 500;

  private static final String[] SIGNALS = {"INT", "TERM", "HUP"};
  private static final AtomicInteger IN_FLIGHT = new AtomicInteger();
  private static volatile boolean installed;
  private static volatile boolean stopping;
  /** The signal that started the shutdown, or null. */
  private static volatile Signal cause;

  /** Whether {@code gpucore.exit.prompt} asks for prompt exit. */
  public static boolean requested(Settings s) {
    return s.get(Setting.EXIT_PROMPT);
  }

  /** Installs prompt exit when {@code s} asks for it (once per JVM; later calls do nothing). */
  public static void install(Settings s) {
    if (requested(s)) {
      install();
    }
  }

  /** Installs prompt exit (once per JVM). */
  public static synchronized void install() {
    if (installed) {
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(PromptExit::onShutdown, "gpucore-exit"));
    for (String name : SIGNALS) {
      Signal sig = new Signal(name);
      try {
        Object old = Signal.handle(sig, PromptExit::onSignal);
        if (old == sun.misc.SignalHandler.SIG_IGN) {
          Signal.handle(sig, sun.misc.SignalHandler.SIG_IGN); // ignored at start: stays so
        }
      } catch (IllegalArgumentException e) {
        // used by the VM (-Xrs) or not on this OS: left as it is
      }
    }
    installed = true;
  }

  /** Whether prompt exit is installed in this JVM. */
  public static boolean installed() {
    return installed;
  }

  /**
   * Marks the start of a gpucore call that may run native work; pass what it returns to
   * {@link #leave(boolean)} in a finally block. Free when prompt exit is not installed.
   *
   * @return whether the call was counted
   * @throws GpuCoreException.DeviceUnavailable once the JVM is shutting down with prompt exit
   */
  public static boolean enter() {
    if (!installed) {
      return false;
    }
    if (stopping) {
      throw refused();
    }
    IN_FLIGHT.incrementAndGet();
    if (stopping) {
      IN_FLIGHT.decrementAndGet();
      throw refused();
    }
    return true;
  }

  /** Marks the end of a call started by {@link #enter()}, given what it returned. */
  public static void leave(boolean counted) {
    if (counted) {
      IN_FLIGHT.decrementAndGet();
    }
  }

  /** gpucore calls in flight (counted only while prompt exit is installed). */
  public static int inFlight() {
    return IN_FLIGHT.get();
  }

  private static GpuCoreException refused() {
    return new GpuCoreException.DeviceUnavailable(
        "the JVM is shutting down (" + KEY + "): no new gpucore calls");
  }

  private static void onSignal(Signal sig) {
    synchronized (PromptExit.class) {
      if (cause != null) {
        return; // a second signal before the default action was restored: the first one acts
      }
      cause = sig;
      for (String name : SIGNALS) {
        try {
          Signal.handle(new Signal(name), sun.misc.SignalHandler.SIG_DFL);
        } catch (IllegalArgumentException e) {
          // not handled by us
        }
      }
    }
    System.exit(128 + sig.getNumber()); // runs the shutdown hooks, this one among them
  }

  private static void onShutdown() {
    stopping = true;
    long deadline = System.nanoTime() + GRACE_MS * 1_000_000L;
    while (IN_FLIGHT.get() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        break;
      }
    }
    if (IN_FLIGHT.get() > 0) {
      Signal c = cause;
      end(c != null ? c : new Signal("TERM"));
    }
  }

  /**
   * Ends the process by the signal's default action: no exit handlers, no destructors. The JDK
   * raises only signals that have a Java handler, so the signal comes from {@code kill}, as a
   * user's would; SIGKILL (status 137) if that fails.
   */
  private static void end(Signal sig) {
    System.out.flush();
    System.err.flush();
    try {
      Signal.handle(sig, sun.misc.SignalHandler.SIG_DFL);
    } catch (IllegalArgumentException e) {
      // not ours to change: SIGKILL below
    }
    kill(sig.getName());
    kill("KILL");
  }

  private static void kill(String signal) {
    long pid = ProcessHandle.current().pid();
    try {
      Process p = new ProcessBuilder("/bin/sh", "-c", "kill -s " + signal + " " + pid)
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      p.waitFor(2, java.util.concurrent.TimeUnit.SECONDS);
      Thread.sleep(2000); // the signal ends the process meanwhile
    } catch (java.io.IOException | RuntimeException e) {
      // no shell: try the next way
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
