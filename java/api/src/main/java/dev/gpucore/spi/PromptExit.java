package dev.gpucore.spi;

import dev.gpucore.GpuCoreException;
import dev.gpucore.Setting;
import dev.gpucore.Settings;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import sun.misc.Signal;
import sun.misc.SignalHandler;

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
 * <p>With the opt-in, {@link #install} puts its handler of the three signals in front of the
 * ones in place (the JVM's own, or the host program's). A signal is noted (the first one is the
 * cause of the shutdown) and passed on to the handler that was in place: the JVM's own starts
 * the normal shutdown with status 128 + signal (130, 143, 129), a host's does what the host
 * wants; where none was (the default action), the shutdown starts with status 128 + signal.
 * gpucore's shutdown hook then refuses new GEMM calls ({@link
 * GpuCoreException.DeviceUnavailable}; {@link dev.gpucore.blas.Blas} counts its calls through
 * {@link #enter()}); with no call in flight it returns at once and the shutdown goes on as
 * usual (a second signal does not cut the other hooks short). With calls in flight it restores
 * the signals' default action (so a second signal ends the process at once, even while the JVM
 * is inside {@code exit()}) and waits up to {@link #GRACE_MS} ms for them; if they end, the JVM
 * exits normally. If not, it ends the process by the cause's default action (by a {@code kill}
 * command: if none can run, one line on stderr says that the exit may hang), which skips: the
 * rest of the other shutdown hooks (they ran for the grace time beside gpucore's), the native
 * {@code atexit} handlers and library destructors (OpenBLAS's thread shutdown, CUDA's context
 * teardown: the driver frees the process's GPU memory as it exits), the JVM's own exit steps
 * (e.g. flushing unified logging, removing its {@code hsperfdata} file) and the rest of the
 * native call. An exit by {@code System.exit} or the end of {@code main} with a call still in
 * flight after the grace time ends the same way, as by SIGTERM (status 143: the requested
 * status cannot be seen from a hook). A signal that was ignored when the JVM started (e.g.
 * SIGINT of a background job of a script) stays ignored.
 */
public final class PromptExit {
  private PromptExit() {}

  /** The setting. */
  public static final String KEY = Setting.EXIT_PROMPT.key();

  /** How long the shutdown hook waits for calls in flight before it ends the process. */
  public static final long GRACE_MS = 500;

  private static final String[] SIGNALS = {"INT", "TERM", "HUP"};
  /** The handlers in place before {@link #install()}, of the signals it handles, by name. */
  private static final Map<String, SignalHandler> PREVIOUS = new ConcurrentHashMap<>();
  private static final AtomicInteger IN_FLIGHT = new AtomicInteger();
  private static volatile boolean installed;
  private static volatile boolean stopping;
  /** The signal that started the shutdown, or null. */
  private static volatile Signal cause;

  /** Whether {@code gpucore.exit.prompt} asks for prompt exit. */
  public static boolean requested(Settings s) {
    return s.get(Setting.EXIT_PROMPT);
  }

  /**
   * Installs prompt exit when {@code s} asks for it: {@code GpuCore.open} calls this, so prompt
   * exit is installed at the first {@code GpuCore.open} whose settings ask for it, for the life
   * of the JVM (once installed, later calls do nothing; an open whose settings do not ask for it
   * does not remove it). Not installed while the JVM is already shutting down (an open inside a
   * shutdown hook).
   */
  public static void install(Settings s) {
    if (requested(s)) {
      install();
    }
  }

  /**
   * Installs prompt exit (once per JVM); does nothing while the JVM is already shutting down (a
   * shutdown hook can no longer be added).
   */
  public static synchronized void install() {
    if (installed) {
      return;
    }
    try {
      Runtime.getRuntime().addShutdownHook(new Thread(PromptExit::onShutdown, "gpucore-exit"));
    } catch (IllegalStateException e) {
      return; // "Shutdown in progress": too late, and not needed, for prompt exit
    }
    for (String name : SIGNALS) {
      Signal sig = new Signal(name);
      try {
        SignalHandler old = Signal.handle(sig, PromptExit::onSignal);
        if (old == SignalHandler.SIG_IGN) {
          Signal.handle(sig, SignalHandler.SIG_IGN); // ignored at start: stays so
        } else {
          PREVIOUS.put(name, old);
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
    boolean first;
    synchronized (PromptExit.class) {
      first = cause == null;
      if (first) {
        cause = sig; // what ends the process if a call is still in flight after the grace time
      }
    }
    SignalHandler old = PREVIOUS.get(sig.getName());
    if (old != null && old != SignalHandler.SIG_DFL && old != SignalHandler.SIG_IGN) {
      old.handle(sig); // the JVM's own handler (System.exit(128 + n)) or the host program's
    } else if (first) {
      System.exit(128 + sig.getNumber()); // runs the shutdown hooks, this one among them
    }
    // else a later signal while the shutdown runs: it goes on (see onShutdown)
  }

  private static void onShutdown() {
    stopping = true;
    if (IN_FLIGHT.get() == 0) {
      return; // the shutdown goes on as usual, signals included
    }
    // a call in flight may hold up exit(): a second signal now ends the process at once
    for (String name : PREVIOUS.keySet()) {
      try {
        Signal.handle(new Signal(name), SignalHandler.SIG_DFL);
      } catch (IllegalArgumentException e) {
        // not ours to change
      }
    }
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
   * user's would; SIGKILL (status 137) if that fails. If no {@code kill} can run, one line on
   * stderr says so and the exit goes on (and may hang).
   */
  private static void end(Signal sig) {
    System.out.flush();
    System.err.flush();
    try {
      Signal.handle(sig, SignalHandler.SIG_DFL);
    } catch (IllegalArgumentException e) {
      // not ours to change: SIGKILL below
    }
    kill(sig.getName());
    kill("KILL");
    System.err.println("gpucore: " + KEY + ": could not end the process with a gpucore call in"
        + " flight (no kill command ran: neither /bin/sh nor kill); the exit may hang");
    System.err.flush();
  }

  /**
   * Sends {@code signal} to this process by the shell's {@code kill}, else by a {@code kill}
   * program on the PATH (an image without a shell), and waits for it to act when it was sent.
   */
  private static void kill(String signal) {
    String pid = Long.toString(ProcessHandle.current().pid());
    List<List<String>> ways = List.of(
        List.of("/bin/sh", "-c", "kill -s " + signal + " " + pid),
        List.of("kill", "-s", signal, pid));
    for (List<String> cmd : ways) {
      if (ran(cmd)) {
        pause(2000); // the signal ends the process meanwhile
        return;
      }
    }
  }

  /** Whether {@code cmd} ran and exited with 0 within 2 s. */
  private static boolean ran(List<String> cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      long deadline = System.nanoTime() + 2_000_000_000L;
      while (p.isAlive() && System.nanoTime() < deadline) {
        pause(5);
      }
      return !p.isAlive() && p.exitValue() == 0;
    } catch (IOException | RuntimeException e) {
      return false; // no such program: try the next way
    }
  }

  /** Sleeps {@code ms} even when interrupted, keeping the interrupt flag. */
  private static void pause(long ms) {
    boolean interrupted = Thread.interrupted();
    long deadline = System.nanoTime() + ms * 1_000_000L;
    for (long left; (left = deadline - System.nanoTime()) > 0; ) {
      try {
        Thread.sleep(left / 1_000_000L + 1);
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
