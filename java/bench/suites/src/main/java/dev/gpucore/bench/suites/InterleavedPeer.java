package dev.gpucore.bench.suites;

import dev.gpucore.cli.JsonText;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A C peer that takes the host GEMM cases' samples one at a time ({@code peers NAME gemm-serve},
 * see {@code peers.c}), so that its samples interleave with gpucore's rounds: a drift of the
 * machine's speed during a case then reaches both sides alike. One case is open at a time.
 * Any failure (the peer exits, answers out of turn or not within the timeout) throws an
 * {@link IOException} naming it, stops the peer, and every later command throws the same.
 */
final class InterleavedPeer implements AutoCloseable {
  private static final String EOF = "\u0000eof";

  private final String peer;
  private final Process process;
  private final Writer in;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final Path errFile;
  private final int timeoutS;
  private final long quietMs;
  private String failed;

  /**
   * Starts {@code cmd} (the peer {@code peer}) in {@code dir} with {@code env} added; its
   * OpenBLAS spins for 2^{@code threadTimeout} clock ticks after a call (0: OpenBLAS's own,
   * 2^28).
   */
  InterleavedPeer(String peer, List<String> cmd, Map<String, String> env, Path dir, int timeoutS,
      int threadTimeout) throws IOException {
    this.peer = peer;
    this.timeoutS = timeoutS;
    this.quietMs = quietMs(threadTimeout);
    this.errFile = Files.createTempFile(dir, "stderr-serve-", ".txt");
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
    pb.environment().putAll(env);
    pb.redirectError(errFile.toFile());
    this.process = pb.start();
    this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String l;
        while ((l = r.readLine()) != null) {
          l = l.strip();
          if (l.startsWith("{")) {
            lines.add(l);
          }
        }
      } catch (IOException e) {
        // the process went away
      }
      lines.add(EOF);
    }, "gpucore-bench-peer-interleaved");
    reader.setDaemon(true);
    reader.start();
  }

  /** The peer's name. */
  String peer() {
    return peer;
  }

  /**
   * How long to wait after one of its samples before the caller's next one: until its worker
   * threads, spinning for 2^{@code threadTimeout} clock ticks (at least 2^4; 0: the variable
   * the peer inherits, else OpenBLAS's 2^28), have surely stopped taking cores (ticks of at
   * least 1 GHz), and 4 ms more.
   */
  static long quietMs(int threadTimeout) {
    return quietMs(threadTimeout, System.getenv("OPENBLAS_THREAD_TIMEOUT"));
  }

  /**
   * As {@link #quietMs(int)}, where 0 leaves the peer the {@code OPENBLAS_THREAD_TIMEOUT} it
   * inherits ({@code inherited}, null when unset; OpenBLAS takes a positive value as at least
   * 4 and at most 30, anything else as unset: its 2^28).
   */
  static long quietMs(int threadTimeout, String inherited) {
    int n = threadTimeout > 0 ? threadTimeout : 28;
    if (threadTimeout <= 0 && inherited != null) {
      try {
        int v = Integer.parseInt(inherited.trim());
        n = v > 0 ? Math.min(30, v) : 28;
      } catch (NumberFormatException e) {
        // OpenBLAS ignores it too
      }
    }
    return 4 + (long) Math.ceil(Math.scalb(1.0, Math.max(4, n)) / 1e6);
  }

  /** The wait after each sample ({@link #quietMs(int)}). */
  long quietMs() {
    return quietMs;
  }

  /**
   * Opens the case {@code arg} ({@code DTYPE:M:N:K:GROUP}): the peer fills and checks it and
   * sets its calls per sample. Returns null when it is ready for samples, else the peer's line
   * for the case (skipped, with the reason).
   */
  Map<String, Object> open(String arg) throws IOException {
    Map<String, Object> m = ask("open " + arg);
    return Boolean.TRUE.equals(m.get("ready")) ? null : m;
  }

  /** One sample of the open case: ns per call. */
  long sample() throws IOException {
    Map<String, Object> m = ask("sample");
    double ns = JsonText.num(m, "sample_ns");
    if (Double.isNaN(ns)) {
      throw fail("answered a sample with " + JsonText.write(m));
    }
    return Math.round(ns);
  }

  /** Closes the open case: its result line, with every sample taken. */
  Map<String, Object> end() throws IOException {
    return ask("end");
  }

  private Map<String, Object> ask(String command) throws IOException {
    if (failed != null) {
      throw new IOException(failed);
    }
    String l;
    try {
      in.write(command + "\n");
      in.flush();
      l = lines.poll(timeoutS, TimeUnit.SECONDS);
    } catch (IOException e) {
      throw fail("could not be sent '" + command + "': " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw fail("interrupted");
    }
    if (l == null) {
      throw fail("gave no answer to '" + command + "' within " + timeoutS + " s (--peer-timeout)");
    }
    if (l.equals(EOF)) {
      throw fail("exited during '" + command + "': " + errTail());
    }
    try {
      return JsonText.object(JsonText.parse(l));
    } catch (IllegalArgumentException e) {
      throw fail("answered '" + command + "' with a line that is not JSON: " + l);
    }
  }

  private IOException fail(String why) {
    failed = peer + " (interleaved) " + why;
    process.destroyForcibly();
    return new IOException(failed);
  }

  private String errTail() {
    try {
      process.waitFor(2, TimeUnit.SECONDS);
      String e = Files.readString(errFile, StandardCharsets.UTF_8).strip();
      String last = e.isEmpty() ? "" : e.substring(e.lastIndexOf('\n') + 1);
      String code = process.isAlive() ? "" : "exit " + process.exitValue() + ", ";
      return code + (last.isEmpty() ? "(no message)" : last);
    } catch (IOException e) {
      return "(no message)";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "(interrupted)";
    }
  }

  /** Asks the peer to quit; stops it after a few seconds if it has not. */
  @Override
  public void close() {
    try {
      if (failed == null) {
        in.write("quit\n");
        in.flush();
      }
      in.close();
    } catch (IOException e) {
      // it is gone already
    }
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
