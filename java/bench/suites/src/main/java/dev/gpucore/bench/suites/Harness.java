package dev.gpucore.bench.suites;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;
import dev.gpucore.cli.JsonText;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs {@code gpucore bench}: checks every option, opens gpucore (as configured, and once more
 * pinned to the CPU for the CPU rows), prepares the peers, runs the suites in order printing each
 * table as it completes, and writes the JSON and the chart. Exit code: 0, or 2 when a result
 * disagreed with the CPU reference, or 1 when a suite failed to run.
 */
public final class Harness {
  private Harness() {}

  /**
   * Checks every option before anything is opened or run: the suites and their options, the
   * peers, the counts, the peer interpreter, and that the output files can be written.
   *
   * @return the suites, in order
   * @throws IllegalArgumentException naming the option and what it accepts
   */
  public static List<Suite> check(BenchOptions o) {
    List<Suite> suites = new ArrayList<>();
    for (String name : o.suites()) {
      Suite s = Suites.get(name);
      s.validate(o);
      suites.add(s);
    }
    Peers.select(o.peers()); // rejects unknown names before anything runs
    if (o.reps() != null && o.reps() < 1) {
      throw new IllegalArgumentException("--reps must be >= 1, got " + o.reps());
    }
    if (o.warmup() != null && o.warmup() < 0) {
      throw new IllegalArgumentException("--warmup must be >= 0, got " + o.warmup());
    }
    if (o.peerTimeoutS() < 1) {
      throw new IllegalArgumentException("--peer-timeout must be >= 1, got " + o.peerTimeoutS());
    }
    if (o.python().contains("/") && !Files.isExecutable(Path.of(o.python()))) {
      throw new IllegalArgumentException("--python: no executable file " + o.python());
    }
    writable("--json", o.json());
    writable("--plot", o.plot());
    return suites;
  }

  /** Fails unless {@code p} can be written (made and removed again when it did not exist). */
  static void writable(String option, Path p) {
    if (p == null) {
      return;
    }
    if (Files.isDirectory(p)) {
      throw new IllegalArgumentException(option + " " + p + " is a folder; name a file");
    }
    try {
      Path parent = p.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      if (Files.exists(p)) {
        Files.newOutputStream(p, java.nio.file.StandardOpenOption.APPEND).close();
      } else {
        Files.createFile(p);
        Files.delete(p);
      }
    } catch (IOException | RuntimeException e) {
      String why = e instanceof java.nio.file.AccessDeniedException ? "permission denied"
          : e instanceof java.nio.file.NoSuchFileException ? "its folder takes no new files"
          : e instanceof java.nio.file.FileAlreadyExistsException ? "a file is in the way"
          : e instanceof java.nio.file.FileSystemException f && f.getReason() != null
              ? f.getReason() : String.valueOf(e.getMessage());
      throw new IllegalArgumentException(option + " " + p + " cannot be written: " + why);
    }
  }

  /** Runs the benchmark; returns the exit code. */
  public static int run(BenchOptions o, PrintWriter out, PrintWriter err) throws IOException {
    List<Suite> suites = check(o);
    Progress progress = new Progress(err, o.progress());
    String date = Machine.date();
    Map<String, Object> commit = Machine.commit();
    List<SuiteResult> results = new ArrayList<>();
    int exit = 0;
    try (GpuCore core = GpuCore.open();
        GpuCore cpuCore = GpuCore.open(Config.fromEnvironment().withBackend(Config.Backend.CPU))) {
      if (core.hasGpu() && (o.device() < 0 || o.device() >= core.devices().size())) {
        throw new IllegalArgumentException("--device must be in [0, " + core.devices().size()
            + "), got " + o.device());
      }
      Map<String, Object> machine = Machine.describe(core);
      Telemetry telemetry = new Telemetry(core);
      int threads = Machine.gpucoreCpuThreads(cpuCore);
      Peers peers = null;
      try {
        if (!Peers.select(o.peers()).isEmpty()) {
          progress.step("preparing peers");
          int ordinal = core.hasGpu() ? Math.max(0, core.devices().get(o.device()).cudaOrdinal()) : 0;
          peers = new Peers(o.peers(), o.suites(), o.python(), o.peerTimeoutS(), ordinal,
              core.hasGpu(), core.noGpuReason(), threads, progress::detail);
        }
        progress.clear();
        List<Peers.Status> statuses = peers == null ? List.of() : peers.statuses();
        Table.header(out, machine, commit, date, statuses, telemetry.source());
        out.flush();
        for (Suite s : suites) {
          progress.plan(s.steps(o, core.hasGpu()));
        }
        BenchContext ctx = new BenchContext(core, cpuCore, o, peers, telemetry, progress,
            Machine.lastLevelCacheBytes(), threads);
        for (Suite s : suites) {
          SuiteResult r;
          try {
            r = s.run(ctx);
          } catch (IllegalArgumentException e) {
            throw e;
          } catch (Exception e) {
            r = new SuiteResult(s.name(), s.name() + ": FAILED to run");
            r.notes().add("error: " + (e.getMessage() != null ? e.getMessage()
                : e.getClass().getSimpleName()));
            exit = 1;
          }
          results.add(r);
          progress.clear();
          Table.suite(out, r, peers);
          out.flush();
        }
        boolean failed = results.stream().anyMatch(SuiteResult::failed);
        if (failed && exit == 0) {
          exit = 2;
        }
        out.println();
        if (failed) {
          out.println("RESULT CHECK FAILED: a figure above disagrees with the CPU reference "
              + "(see the check column); exit 2");
        }
        if (o.json() != null) {
          write(o.json(), JsonText.write(Report.toJson(date, commit, o, machine, telemetry.source(),
              statuses, results, exit)) + "\n");
          out.println("wrote " + o.json());
        }
        if (o.plot() != null) {
          String sub = date + ", commit " + commit.get("id") + "; " + machine.get("cpu_model")
              + (core.hasGpu() ? "; " + core.devices().get(o.device()).name() : "; no GPU");
          write(o.plot(), SvgPlot.render("gpucore bench: throughput against size", sub,
              SvgPlot.panels(results)));
          out.println("wrote " + o.plot());
        }
      } finally {
        progress.clear();
        if (peers != null) {
          peers.close();
        }
      }
    }
    out.flush();
    return exit;
  }

  private static void write(Path p, String s) throws IOException {
    Path parent = p.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(p, s);
  }
}
