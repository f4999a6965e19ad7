package dev.gpucore.bench.suites;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.TimeUnit;

/**
 * A one-line progress bar on stderr, redrawn in place: {@code [#####-----] 12/40 transfer H2D
 * pinned 256 MiB, rep 3/10}. Shown only when stderr is a terminal (or when forced), so logs and
 * pipes get none of it; the line is erased when done.
 */
public final class Progress {
  private static final int WIDTH = 24;
  private final PrintWriter err;
  private final boolean enabled;
  private int total;
  private int done;
  private String label = "";
  private long lastDraw;
  private int lastLength;

  /** A bar on {@code err}; draws nothing unless {@code enabled}. */
  public Progress(PrintWriter err, boolean enabled) {
    this.err = err;
    this.enabled = enabled;
  }

  /** Whether the bar is drawn. */
  public boolean enabled() {
    return enabled;
  }

  /**
   * Whether this process's stderr is a terminal: asks {@code test -t 2} in a child that inherits
   * stderr (Java cannot ask directly; {@link System#console()} looks at stdin and stdout).
   */
  public static boolean stderrIsTerminal() {
    try {
      Process p = new ProcessBuilder("sh", "-c", "test -t 2")
          .redirectError(ProcessBuilder.Redirect.INHERIT)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(5, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return false;
      }
      return p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Adds {@code steps} to the total. */
  public synchronized void plan(int steps) {
    total += steps;
  }

  /** Starts a step: {@code label} is shown until the next. */
  public synchronized void step(String label) {
    this.label = label;
    draw(true);
  }

  /** Shows detail for the current step ({@code rep 3/10}). */
  public synchronized void detail(String detail) {
    String base = label.contains(" | ") ? label.substring(0, label.indexOf(" | ")) : label;
    label = base + " | " + detail;
    draw(false);
  }

  /** Ends the current step. */
  public synchronized void stepDone() {
    done = Math.min(total, done + 1);
    draw(true);
  }

  private void draw(boolean force) {
    if (!enabled) {
      return;
    }
    long now = System.nanoTime();
    if (!force && now - lastDraw < 100_000_000L) {
      return;
    }
    lastDraw = now;
    int filled = total == 0 ? 0 : (int) ((long) WIDTH * done / total);
    String s = "[" + "#".repeat(filled) + "-".repeat(WIDTH - filled) + "] "
        + (total == 0 ? "" : done + "/" + total + " ") + label;
    if (s.length() > 110) {
      s = s.substring(0, 109) + "~";
    }
    String pad = " ".repeat(Math.max(0, lastLength - s.length()));
    err.print("\r" + s + pad);
    err.flush();
    lastLength = s.length();
  }

  /** Erases the bar. */
  public synchronized void clear() {
    if (enabled && lastLength > 0) {
      err.print("\r" + " ".repeat(lastLength) + "\r");
      err.flush();
      lastLength = 0;
    }
  }
}
