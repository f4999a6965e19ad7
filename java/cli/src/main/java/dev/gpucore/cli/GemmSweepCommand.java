package dev.gpucore.cli;

import dev.gpucore.blas.Decision;
import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gpucore gemm-sweep}: GEMM throughput, device-resident per precision and from host
 * arrays per route (CPU only, GPU pipeline, router), each beside the peers' figures from the
 * same run when their output files are given (PyTorch: native/bench/gemm_torch.py; nvBLAS and
 * OpenBLAS from C: lines {@code sgemm n=N T ms}).
 */
@Command(name = "gemm-sweep", mixinStandardHelpOptions = true,
    description = "GEMM throughput sweep: device-resident per precision, host arrays per route.")
final class GemmSweepCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--device-sizes", split = ",", description = "Sizes for device-resident GEMM.")
  List<Integer> deviceSizes = List.of(1024, 4096, 8192);

  @Option(names = "--precisions", split = ",", description = "fp32,tf32,bf16,fp16,fp64")
  List<String> precisions = List.of("fp32", "tf32", "bf16", "fp16", "fp64");

  @Option(names = "--host-sizes", split = ",", description = "Sizes for host-array SGEMM.")
  List<Integer> hostSizes = List.of(64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384);

  @Option(names = "--no-host", description = "Skip the host-array sweep.")
  boolean noHost;

  @Option(names = "--torch", description = "PyTorch peer output (gemm_torch.py).")
  Path torch;

  @Option(names = "--nvblas", description = "nvBLAS peer output (sgemm n=N T ms lines).")
  Path nvblas;

  @Option(names = "--openblas", description = "OpenBLAS-from-C peer output.")
  Path openblas;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    Map<String, Double> peers = new HashMap<>();
    readPeers(torch, peers);
    readPeers(nvblas, peers, "nvblas");
    readPeers(openblas, peers, "openblas");
    try (GpuCore auto = GpuCore.open();
        GpuCore cpu = GpuCore.open(Config.fromEnvironment().withBackend(Config.Backend.CPU));
        GpuCore gpu = open(Map.of("gpucore.gemm.route", "gpu"))) {
      if (!auto.hasGpu()) {
        out.println("gemm-sweep: GPU rows skipped: No GPU visible: " + auto.noGpuReason());
      } else {
        deviceResident(auto, out, peers);
      }
      if (!noHost) {
        hostArrays(auto, cpu, gpu, out, peers);
      }
    }
    out.flush();
    return 0;
  }

  private static GpuCore open(Map<String, String> props) {
    Map<Object, Object> p = new HashMap<>(System.getProperties());
    p.putAll(props);
    return GpuCore.open(Config.from(p, System.getenv()));
  }

  private static final Pattern TORCH = Pattern.compile("torch gemm (\\w+) (\\d+) ([0-9.]+)");
  private static final Pattern C_LINE = Pattern.compile("sgemm n=(\\d+) ([0-9.]+) ms");

  private static void readPeers(Path f, Map<String, Double> peers) throws IOException {
    if (f == null) {
      return;
    }
    for (String l : Files.readAllLines(f)) {
      Matcher m = TORCH.matcher(l);
      if (m.find()) {
        peers.put("torch " + m.group(1) + " " + m.group(2), Double.parseDouble(m.group(3)));
      }
    }
  }

  private static void readPeers(Path f, Map<String, Double> peers, String name) throws IOException {
    if (f == null) {
      return;
    }
    for (String l : Files.readAllLines(f)) {
      Matcher m = C_LINE.matcher(l);
      if (m.find()) {
        peers.put(name + " " + m.group(1), Double.parseDouble(m.group(2)));
      }
    }
  }

  private static Precision precision(String s) {
    return Precision.valueOf(s.toUpperCase(Locale.ROOT));
  }

  private void deviceResident(GpuCore core, PrintWriter out, Map<String, Double> peers) {
    out.println("device-resident GEMM, C = A*B^T, GPU " + core.devices().get(0).name()
        + " (median of 7 loops; TFLOP/s; ratio = gpucore / PyTorch)");
    out.printf(Locale.ROOT, "%-6s %6s %10s %10s %10s %8s%n", "prec", "n", "ms", "TFLOP/s",
        "torch", "ratio");
    for (String ps : precisions) {
      Precision p = precision(ps);
      // like PyTorch's bf16/fp16 matmul: 16-bit tensors in, 16-bit out, fp32 accumulation
      DType t = switch (p) {
        case FP64 -> DType.FLOAT64;
        case BF16 -> DType.BFLOAT16;
        case FP16 -> DType.FLOAT16;
        default -> DType.FLOAT32;
      };
      for (int n : deviceSizes) {
        long nn = (long) n * n;
        try (DeviceArray a0 = core.allocate(0, t, nn);
            DeviceArray a1 = core.allocate(0, t, nn);
            DeviceArray b0 = core.allocate(0, t, nn);
            DeviceArray b1 = core.allocate(0, t, nn);
            DeviceArray c = core.allocate(0, t, nn);
            GpuStream s = core.stream(0)) {
          SplittableRandom r = new SplittableRandom(n);
          for (DeviceArray d : List.of(a0, a1, b0, b1)) {
            fillRandom(d, r, n);
          }
          Gemm g = Gemm.of(n, n, n).transB(true).precision(p);
          DeviceArray[] as = {a0, a1};
          DeviceArray[] bs = {b0, b1};
          int reps = (int) Math.max(2, Math.min(50, 2e12 / (2.0 * n * n * n)));
          for (int i = 0; i < 3; i++) {
            core.blas().gemm(g, Operand.of(as[i % 2]), n, Operand.of(bs[i % 2]), n,
                Operand.of(c), n, s);
          }
          s.synchronize();
          double[] ms = new double[7];
          for (int rep = 0; rep < 7; rep++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) {
              core.blas().gemm(g, Operand.of(as[i % 2]), n, Operand.of(bs[i % 2]), n,
                  Operand.of(c), n, s);
            }
            s.synchronize();
            ms[rep] = (System.nanoTime() - t0) / 1e6 / reps;
          }
          Arrays.sort(ms);
          double med = ms[3];
          Double peer = peers.get("torch " + ps + " " + n);
          out.printf(Locale.ROOT, "%-6s %6d %10.4f %10.1f %10s %8s%n", ps, n, med,
              2.0 * n * n * (double) n / med / 1e9,
              peer == null ? "-" : String.format(Locale.ROOT, "%.1f", 2.0 * n * n * (double) n / peer / 1e9),
              peer == null ? "-" : String.format(Locale.ROOT, "%.3f", peer / med));
          out.flush();
        }
      }
    }
  }

  private static void fillRandom(DeviceArray d, SplittableRandom r, int n) {
    long len = d.length();
    // uniform [0, 1), as torch.rand
    if (d.dtype() == DType.FLOAT64) {
      double[] x = new double[(int) len];
      for (int i = 0; i < x.length; i++) {
        x[i] = r.nextDouble();
      }
      d.copyFrom(x);
    } else {
      float[] x = new float[(int) len];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) r.nextDouble();
      }
      d.copyFrom(x);
    }
  }

  private void hostArrays(GpuCore auto, GpuCore cpu, GpuCore gpu, PrintWriter out,
      Map<String, Double> peers) {
    out.println("host-array SGEMM, C = A*B^T from float[] (ms, median; ratio router / best of"
        + " cpu and gpu; vs nvBLAS = nvBLAS ms / gpucore-gpu ms)");
    out.printf(Locale.ROOT, "%6s %10s %10s %10s %7s %9s %9s %9s %10s%n", "n", "cpu", "gpu", "router",
        "route", "r/best", "gpuTF/s", "nvblas", "vs nvBLAS");
    for (int n : hostSizes) {
      int nn = n * n;
      SplittableRandom r = new SplittableRandom(7 + n);
      float[] a = new float[nn];
      float[] b = new float[nn];
      for (int i = 0; i < nn; i++) {
        a[i] = (float) (r.nextDouble() - 0.5);
        b[i] = (float) (r.nextDouble() - 0.5);
      }
      float[] ref = new float[nn];
      float[] cg = new float[nn];
      float[] ca = new float[nn];
      cpu.blas().sgemm(false, true, n, n, n, 1f, a, n, b, n, 0f, ref, n);
      Arrays.fill(ca, Float.NaN);
      auto.blas().sgemm(false, true, n, n, n, 1f, a, n, b, n, 0f, ca, n);
      check(ref, ca, n);
      if (gpu.hasGpu()) {
        Arrays.fill(cg, Float.NaN);
        gpu.blas().sgemm(false, true, n, n, n, 1f, a, n, b, n, 0f, cg, n);
        check(ref, cg, n);
      }
      // rounds interleave the three routes, so each sees the same conditions; each sample is
      // a loop of back-to-back calls long enough (>= 25 ms) that timer and wake-up noise vanish
      int rc = reps(cpu, n, a, b, ref);
      int rg = gpu.hasGpu() ? reps(gpu, n, a, b, cg) : 0;
      int ra = reps(auto, n, a, b, ca);
      List<Double> lc = new ArrayList<>();
      List<Double> lg = new ArrayList<>();
      List<Double> la = new ArrayList<>();
      long budget = System.nanoTime() + 30_000_000_000L;
      for (int i = 0; i < 7 && (i < 1 || System.nanoTime() < budget); i++) {
        // rotating order: OpenBLAS's spinning threads slow whatever follows a CPU call
        for (int j = 0; j < 3; j++) {
          switch ((i + j) % 3) {
            case 0 -> lc.add(sample(cpu, n, a, b, ref, rc));
            case 1 -> {
              if (gpu.hasGpu()) {
                lg.add(sample(gpu, n, a, b, cg, rg));
              }
            }
            default -> la.add(sample(auto, n, a, b, ca, ra));
          }
        }
      }
      double tCpu = median(lc);
      double tGpu = lg.isEmpty() ? Double.NaN : median(lg);
      double tAuto = median(la);
      float[] c = ca;
      Decision d = auto.blas().explain(Gemm.of(n, n, n).transB(true), Operand.of(a), n,
          Operand.of(b), n, Operand.of(c), n);
      double best = Double.isNaN(tGpu) ? tCpu : Math.min(tCpu, tGpu);
      Double nv = peers.get("nvblas " + n);
      out.printf(Locale.ROOT, "%6d %10.3f %10.3f %10.3f %7s %9.3f %9.1f %9s %10s%n", n, tCpu, tGpu,
          tAuto, d.gpu() ? "gpu" : "cpu", best / tAuto, 2.0 * n * n * (double) n / tGpu / 1e9,
          nv == null ? "-" : String.format(Locale.ROOT, "%.3f", nv),
          nv == null || Double.isNaN(tGpu) ? "-" : String.format(Locale.ROOT, "%.2f", nv / tGpu));
      out.flush();
    }
  }

  /** Calls per sample for about 25 ms, from one warm call's time (at most 5000). */
  private static int reps(GpuCore core, int n, float[] a, float[] b, float[] c) {
    core.blas().sgemm(false, true, n, n, n, 1f, a, n, b, n, 0f, c, n);
    long t0 = System.nanoTime();
    core.blas().sgemm(false, true, n, n, n, 1f, a, n, b, n, 0f, c, n);
    double t = Math.max(1e-6, (System.nanoTime() - t0) / 1e9);
    return (int) Math.max(1, Math.min(5000, Math.ceil(0.025 / t)));
  }

  /**
   * Milliseconds per call over {@code reps} back-to-back calls, after an untimed one: each
   * route is measured in the steady state of back-to-back calls (OpenBLAS's threads awake, GPU
   * lanes warm), not in whatever state the previous route left behind.
   */
  private static double sample(GpuCore core, int n, float[] a, float[] b, float[] c, int reps) {
    core.blas().sgemm(false, true, n, n, n, 1f, a, n, b, n, 0f, c, n);
    long t0 = System.nanoTime();
    for (int i = 0; i < reps; i++) {
      core.blas().sgemm(false, true, n, n, n, 1f, a, n, b, n, 0f, c, n);
    }
    return (System.nanoTime() - t0) / 1e6 / reps;
  }

  private static double median(List<Double> x) {
    List<Double> s = new ArrayList<>(x);
    s.sort(null);
    return s.get(s.size() / 2);
  }

  private static void check(float[] ref, float[] got, int n) {
    double num = 0;
    double den = 0;
    for (int i = 0; i < ref.length; i++) {
      double d = got[i] - (double) ref[i];
      num += d * d;
      den += (double) ref[i] * ref[i];
    }
    double rel = Math.sqrt(num / den);
    if (!(rel <= 1e-5 * Math.sqrt(n))) {
      throw new IllegalStateException("gemm-sweep: n=" + n + " result differs from the CPU by "
          + rel);
    }
  }
}
