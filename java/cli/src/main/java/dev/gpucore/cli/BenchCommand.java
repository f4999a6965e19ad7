package dev.gpucore.cli;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.HostArray;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code gpucore bench SUITE...}. Suites so far: {@code transfer} (host to device and back:
 * pinned, pageable, and Java arrays through gpucore's staging), each figure with its ratio to the
 * pinned-buffer bandwidth measured in the same run.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmarks. Suites: transfer.")
final class BenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "SUITE", arity = "1..*", description = "Suites to run: transfer.")
  List<String> suites;

  @Option(names = "--mib", description = "Transfer size in MiB (default: ${DEFAULT-VALUE}).")
  int mib = 1024;

  @Option(names = "--reps", description = "Timed repetitions, median reported (default: ${DEFAULT-VALUE}).")
  int reps = 7;

  @Option(names = "--device", description = "GPU index (default: ${DEFAULT-VALUE}).")
  int device = 0;

  @Override
  public Integer call() {
    for (String s : suites) {
      if (!s.equals("transfer")) {
        throw new IllegalArgumentException("unknown suite '" + s + "'; available: transfer");
      }
    }
    if (mib < 1 || mib > 8191 || reps < 1) {
      throw new IllegalArgumentException("--mib must be in [1, 8191] and --reps >= 1");
    }
    PrintWriter out = spec.commandLine().getOut();
    try (GpuCore core = GpuCore.open()) {
      if (!core.hasGpu()) {
        out.println("transfer: GPU rows skipped: No GPU visible: " + core.noGpuReason());
        out.flush();
        return 0;
      }
      transfer(core, out);
    }
    out.flush();
    return 0;
  }

  private void transfer(GpuCore core, PrintWriter out) {
    int n = (int) Math.min(Integer.MAX_VALUE - 8, (long) mib << 18); // floats
    long bytes = 4L * n;
    float[] java = new float[n];
    SplittableRandom r = new SplittableRandom(1);
    for (int i = 0; i < n; i++) {
      java[i] = (float) r.nextDouble();
    }
    float[] back = new float[n];
    out.printf(Locale.ROOT, "transfer: %d MiB, median of %d (after 2 warm-ups), GPU %d: %s%n",
        bytes >> 20, reps, device, core.devices().get(device).name());
    try (DeviceArray d = core.allocate(device, DType.FLOAT32, n);
        HostArray pinned = core.allocateHost(DType.FLOAT32, n, true);
        HostArray pageable = core.allocateHost(DType.FLOAT32, n, false)) {
      pinned.put(0, java, 0, n);
      pageable.put(0, java, 0, n);
      double pinH2d = time(() -> d.copyFrom(pinned), bytes);
      double pinD2h = time(() -> d.copyTo(pinned), bytes);
      double pageH2d = time(() -> d.copyFrom(pageable), bytes);
      double pageD2h = time(() -> d.copyTo(pageable), bytes);
      double javaH2d = time(() -> d.copyFrom(java), bytes);
      double javaD2h = time(() -> d.copyTo(back), bytes);
      if (!Arrays.equals(java, back)) {
        throw new IllegalStateException("transfer: data came back different");
      }
      out.printf(Locale.ROOT, "%-28s %10s %10s%n", "path", "GB/s", "vs pinned");
      row(out, "H2D pinned HostArray", pinH2d, pinH2d);
      row(out, "H2D pageable HostArray", pageH2d, pinH2d);
      row(out, "H2D Java float[] (staged)", javaH2d, pinH2d);
      row(out, "D2H pinned HostArray", pinD2h, pinD2h);
      row(out, "D2H pageable HostArray", pageD2h, pinD2h);
      row(out, "D2H Java float[] (staged)", javaD2h, pinD2h);
    }
  }

  private static void row(PrintWriter out, String name, double gbs, double ref) {
    out.printf(Locale.ROOT, "%-28s %10.2f %10.2f%n", name, gbs, gbs / ref);
  }

  private double time(Runnable op, long bytes) {
    op.run();
    op.run();
    double[] t = new double[reps];
    for (int i = 0; i < reps; i++) {
      long t0 = System.nanoTime();
      op.run();
      t[i] = System.nanoTime() - t0;
    }
    Arrays.sort(t);
    return bytes / t[reps / 2];
  }
}
