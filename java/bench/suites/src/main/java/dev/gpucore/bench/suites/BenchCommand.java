package dev.gpucore.bench.suites;

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
 * the same inputs. Every option is checked before anything runs ({@link Harness#check}).
 */
@Command(name = "gpucore bench", mixinStandardHelpOptions = true, sortOptions = false,
    version = "gpucore bench 0.1.0",
    description = {"Benchmarks, side by side with the peers on this machine (PyTorch, numpy, "
        + "OpenBLAS, nvBLAS, the CUDA runtime).",
        "Suites: transfer (host<->device copies), e2e (C = A*A^T then sum(C), CPU vs GPU), gemm "
            + "(device GEMM per precision vs PyTorch; host SGEMM and DGEMM per route vs OpenBLAS/nvBLAS; "
            + "batches vs torch.bmm; CPU and GPU routes alternating), "
            + "reduce (the reduction API vs PyTorch and the device copy), p2p (copies between "
            + "GPUs vs PyTorch), blas (netlib JNIBLAS from Java arrays: libgpucore_blas.so vs "
            + "OpenBLAS and nvBLAS, and vs the Java API on device arrays). --list shows them.",
        "GPU rows are skipped, with the reason, when no GPU is visible. Exit 0; 2 when a result "
            + "disagrees with the CPU reference or an argument is wrong; 1 when a suite failed."})
public final class BenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "SUITE", arity = "0..*", description = "Suites to run, in order.")
  List<String> suites = new ArrayList<>();

  @Option(names = "--list", description = "List the suites.")
  boolean list;

  @Option(names = "--sizes", split = ",", paramLabel = "S",
      description = "Sizes for every suite named, in each suite's unit (transfer: MiB, e2e and "
          + "gemm: n, reduce: elements, blas: n of the GEMMs; p2p takes --mib).")
  List<Long> sizes;

  @Option(names = "--device-sizes", split = ",", paramLabel = "N",
      description = "gemm: n of the device-resident rows (default: 1024,4096,8192).")
  List<Long> deviceSizes;

  @Option(names = "--host-sizes", split = ",", paramLabel = "N",
      description = "gemm: n of the n x n x n host-array rows (default: 64,128,...,16384; fp64 "
          + "up to 8192).")
  List<Long> hostSizes;

  @Option(names = "--host-dtypes", split = ",", paramLabel = "T",
      description = "gemm: host rows of fp32 (float[]) and/or fp64 (double[]) (default: both).")
  List<String> hostDtypes;

  @Option(names = "--host-shapes", split = ",", paramLabel = "MxNxK",
      description = "gemm: more host rows of m x n x k, e.g. skinny 262144x64x64, or none "
          + "(default: 262144x64x64,65536x256x256,1048576x16x32 unless --sizes or --host-sizes "
          + "is given).")
  List<String> hostShapes;

  @Option(names = "--batched", split = ",", paramLabel = "BxN",
      description = "gemm: fp32 batches on the device, pointer-array and strided, beside "
          + "PyTorch's bmm: BATCHxN (m = n = k) or BATCHxMxNxK, or none (default: "
          + "1000x32,10000x16,64x256 unless another gemm option narrows the run).")
  List<String> batched;

  @Option(names = "--alternate-sizes", split = ",", paramLabel = "N",
      description = "gemm: n of host SGEMMs alternating the CPU and GPU routes, beside each "
          + "route alone, or none (default: 2048,4096 unless another gemm option narrows the "
          + "run).")
  List<String> alternateSizes;

  @Option(names = "--host-memory", split = ",", paramLabel = "M",
      description = "gemm: host rows from Java arrays (array: cpu, gpu, router and the "
          + "--host-precisions rows) and/or GPU rows from pinned HostArrays (pinned) (default: "
          + "both where a GPU is present).")
  List<String> hostMemory;

  @Option(names = "--host-precisions", split = ",", paramLabel = "P",
      description = "gemm: precisions of the GPU rows from float[]: fp32 (strict, always run), "
          + "tf32, bf16, fp16 (default: fp32).")
  List<String> hostPrecisions;

  @Option(names = "--bus-mib", paramLabel = "MIB",
      description = "gemm: MiB of the pinned HostArray <-> device copies that measure the bus "
          + "for the host rows' bus bound (default: 256; 0 skips them).")
  Integer busMib;

  @Option(names = "--no-device",
      description = "gemm: skip the device-resident rows per precision (--batched has its own).")
  boolean noDevice;

  @Option(names = "--no-host",
      description = "gemm: skip the host-array rows per route (--alternate-sizes has its own).")
  boolean noHost;

  @Option(names = "--ops", split = ",", paramLabel = "OP",
      description = "reduce: operations (default: sum,max,argmax,norm2,dot,rowsum,colsum).")
  List<String> ops;

  @Option(names = "--modes", split = ",", paramLabel = "MODE",
      description = "reduce: sync (call to result on the host) and/or queued (on a stream, "
          + "synchronised once per sample) (default: sync,queued).")
  List<String> modes;

  @Option(names = "--big-mib", paramLabel = "MIB",
      description = "p2p: MiB of the large peer copy (default: 1024; 0 skips it).")
  Integer bigMib;

  @Option(names = "--latency-bytes", paramLabel = "BYTES",
      description = "p2p: bytes of the latency copies (default: 4096).")
  Integer latencyBytes;

  @Option(names = "--latency-reps", paramLabel = "N",
      description = "p2p: small copies per latency cell (default: 2000).")
  Integer latencyReps;

  @Option(names = "--devices", split = ",", paramLabel = "I",
      description = "p2p: GPUs to include (gpucore indices; default: all).")
  List<Integer> devices;

  @Option(names = "--no-variants",
      description = "p2p: skip the small-copy latency per wait mode and copy mechanism.")
  boolean noVariants;

  @Option(names = "--vector-sizes", split = ",", paramLabel = "N",
      description = "blas: n of the daxpy and ddot rows (default: 64,1000000).")
  List<Long> vectorSizes;

  @Option(names = "--gemv-sizes", split = ",", paramLabel = "N",
      description = "blas: n of the n x n dgemv rows (default: 64,4096).")
  List<Long> gemvSizes;

  @Option(names = "--api-sizes", split = ",", paramLabel = "N",
      description = "blas: n of the dgemm rows also timed through the Java API on device "
          + "arrays, among --sizes (default: 8192 when in --sizes).")
  List<Long> apiSizes;

  @Option(names = "--mib", split = ",", paramLabel = "MIB",
      description = "transfer sizes in MiB (default: 1,16,256,1024); p2p: MiB per copy of the "
          + "bandwidth matrices (default: 256).")
  List<Long> mib;

  @Option(names = "--n", split = ",", paramLabel = "N",
      description = "e2e matrix sizes (default: 10000).")
  List<Long> n;

  @Option(names = "--dtype", paramLabel = "fp32|fp64",
      description = "Element type (default: fp32; reduce and blas: both).")
  String dtype;

  @Option(names = "--precision", paramLabel = "P",
      description = "GPU GEMM precision for e2e: fp32, tf32, bf16, fp16 (fp32 data) or fp64 "
          + "(default: the dtype's own; the CPU reference is always strict); gemm: a list of "
          + "them for the device rows (default: all five).")
  String precision;

  @Option(names = "--reps", paramLabel = "N",
      description = "Timed repetitions; the median is reported with min and max "
          + "(default: transfer 10, e2e 5, gemm 7, reduce 7, p2p 10; blas: 3 GEMM calls, 15 "
          + "level-1/2 samples).")
  Integer reps;

  @Option(names = "--warmup", paramLabel = "N",
      description = "Untimed warm-up runs before timing (default: transfer 2, e2e 1 after the check run, blas 0 after the checked call).")
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
      description = "Time limit for each peer process, and for each answer of the OpenBLAS "
          + "peer that takes gemm's host samples in the rounds (default: ${DEFAULT-VALUE}).")
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
      for (Suite su : Suites.all()) {
        out.printf(Locale.ROOT, "%-9s %s%n", su.name(), su.description());
      }
      out.flush();
      return 0;
    }
    if (suites.isEmpty()) {
      throw new IllegalArgumentException("name at least one suite: "
          + String.join(", ", Suites.names()) + " (gpucore bench --list)");
    }
    boolean bar = switch (progress) {
      case "auto" -> Progress.stderrIsTerminal();
      case "always" -> true;
      case "never" -> false;
      default -> throw new IllegalArgumentException("--progress must be auto, always or never");
    };
    String py = python != null ? python
        : System.getenv("GPUCORE_PYTHON") != null ? System.getenv("GPUCORE_PYTHON") : "python3";
    List<String> command = new ArrayList<>();
    command.add("gpucore");
    command.add("bench");
    command.addAll(spec.commandLine().getParseResult().originalArgs());
    BenchOptions o = new BenchOptions(List.copyOf(suites), sizes, mib, n,
        dtype == null ? "fp32" : dtype.toLowerCase(Locale.ROOT), dtype != null,
        precision == null ? null : precision.toLowerCase(Locale.ROOT),
        reps, warmup, device, seed, peers, py, peerTimeout, json, plot, bar, command,
        new BenchOptions.Gemm(deviceSizes, hostSizes, noDevice, noHost, lower(hostDtypes),
            lower(hostShapes), lower(batched), lower(alternateSizes), lower(hostMemory),
            lower(hostPrecisions), busMib),
        new BenchOptions.Reduce(lower(ops), lower(modes)),
        new BenchOptions.P2p(bigMib, latencyBytes, latencyReps, devices, noVariants),
        new BenchOptions.Blas(vectorSizes, gemvSizes, apiSizes));
    return Harness.run(o, out, spec.commandLine().getErr());
  }

  private static List<String> lower(List<String> l) {
    if (l == null) {
      return null;
    }
    List<String> r = new ArrayList<>();
    for (String x : l) {
      r.add(x.trim().toLowerCase(Locale.ROOT));
    }
    return r;
  }
}
