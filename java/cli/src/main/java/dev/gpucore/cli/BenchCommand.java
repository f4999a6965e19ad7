package dev.gpucore.cli;

import dev.gpucore.cli.bench.BenchOptions;
import dev.gpucore.cli.bench.Harness;
import dev.gpucore.cli.bench.Progress;
import dev.gpucore.cli.bench.Suite;
import dev.gpucore.cli.bench.Suites;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code gpucore bench SUITE...}: benchmarks side by side with the peers found on the machine
 * (PyTorch, numpy, OpenBLAS and nvBLAS from C, the CUDA runtime from C), in the same run and on
 * the same inputs. The harness is in {@link dev.gpucore.cli.bench}.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Benchmarks, side by side with the peers on this machine (PyTorch, numpy, "
        + "OpenBLAS, nvBLAS, the CUDA runtime).",
        "Suites: transfer (host<->device copies), e2e (C = A*A^T then sum(C), CPU vs GPU), gemm "
            + "(device GEMM per precision vs PyTorch; host SGEMM per route vs OpenBLAS/nvBLAS); "
            + "reduce and p2p are not implemented yet. --list shows them.",
        "GPU rows are skipped, with the reason, when no GPU is visible. Exit 0; 2 when a result "
            + "disagrees with the CPU reference or an argument is wrong; 1 when a suite failed."})
final class BenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "SUITE", arity = "0..*", description = "Suites to run, in order.")
  List<String> suites = new ArrayList<>();

  @Option(names = "--list", description = "List the suites and whether they run.")
  boolean list;

  @Option(names = "--sizes", split = ",", paramLabel = "S",
      description = "Sizes for every suite named, in each suite's unit (transfer: MiB, e2e and gemm: n).")
  List<Long> sizes;

  @Option(names = "--mib", split = ",", paramLabel = "MIB",
      description = "transfer sizes in MiB (default: 1,16,256,1024).")
  List<Long> mib;

  @Option(names = "--n", split = ",", paramLabel = "N",
      description = "e2e matrix sizes (default: 10000).")
  List<Long> n;

  @Option(names = "--dtype", paramLabel = "fp32|fp64",
      description = "Element type (default: ${DEFAULT-VALUE}).")
  String dtype = "fp32";

  @Option(names = "--precision", paramLabel = "P",
      description = "GPU GEMM precision for e2e: fp32, tf32, bf16, fp16 (fp32 data) or fp64 "
          + "(default: the dtype's own; the CPU reference is always strict).")
  String precision;

  @Option(names = "--reps", paramLabel = "N",
      description = "Timed repetitions; the median is reported with min and max "
          + "(default: transfer 10, e2e 5).")
  Integer reps;

  @Option(names = "--warmup", paramLabel = "N",
      description = "Untimed warm-up runs before timing (default: transfer 2, e2e 1 after the check run).")
  Integer warmup;

  @Option(names = "--device", paramLabel = "INDEX",
      description = "GPU index (default: ${DEFAULT-VALUE}).")
  int device = 0;

  @Option(names = "--seed", paramLabel = "N",
      description = "Input seed (default: ${DEFAULT-VALUE}).")
  long seed = 42;

  @Option(names = "--peers", paramLabel = "auto|none|P,...",
      description = "Peers to run beside gpucore: auto (every one found), none, or a list of "
          + "torch, numpy, openblas, nvblas, cudart (default: ${DEFAULT-VALUE}).")
  String peers = "auto";

  @Option(names = "--python", paramLabel = "EXE",
      description = "Python for the torch peer (default: $GPUCORE_PYTHON or python3).")
  String python;

  @Option(names = "--peer-timeout", paramLabel = "SECONDS",
      description = "Time limit for each peer process (default: ${DEFAULT-VALUE}).")
  int peerTimeout = 1800;

  @Option(names = "--json", paramLabel = "FILE", description = "Write every figure as JSON.")
  Path json;

  @Option(names = "--plot", paramLabel = "FILE",
      description = "Write an SVG chart of throughput against size per backend and peer.")
  Path plot;

  @Option(names = "--progress", paramLabel = "auto|always|never",
      description = "Progress bar on stderr (default: ${DEFAULT-VALUE}: only when stderr is a terminal).")
  String progress = "auto";

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (list) {
      for (Suite s : Suites.all()) {
        out.printf(Locale.ROOT, "%-9s %s%s%n", s.name(), s.description(),
            s.notImplemented() == null ? "" : "  [not implemented yet]");
      }
      out.flush();
      return 0;
    }
    if (suites.isEmpty()) {
      throw new IllegalArgumentException("name at least one suite: "
          + String.join(", ", Suites.implemented()) + " (gpucore bench --list)");
    }
    boolean bar = switch (progress) {
      case "auto" -> Progress.stderrIsTerminal();
      case "always" -> true;
      case "never" -> false;
      default -> throw new IllegalArgumentException("--progress must be auto, always or never");
    };
    String py = python != null ? python
        : System.getenv("GPUCORE_PYTHON") != null ? System.getenv("GPUCORE_PYTHON") : "python3";
    if (peerTimeout < 1) {
      throw new IllegalArgumentException("--peer-timeout must be >= 1");
    }
    List<String> command = new ArrayList<>();
    command.add("gpucore");
    command.addAll(spec.commandLine().getParseResult().originalArgs());
    BenchOptions o = new BenchOptions(List.copyOf(suites), sizes, mib, n,
        dtype.toLowerCase(Locale.ROOT), precision == null ? null : precision.toLowerCase(Locale.ROOT),
        reps, warmup, device, seed, peers, py, peerTimeout, json, plot, bar, command);
    return Harness.run(o, out, spec.commandLine().getErr());
  }
}
