package dev.gpucore.cli;

import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.blas.Routing;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gpucore calibrate}: measures the router's figures on this machine now (CPU and GPU GEMM
 * rates, the bus, the GPU's fixed cost per host GEMM), caches them for later processes and
 * prints them with their sources ({@code Blas.calibrate}).
 */
@Command(name = "calibrate", mixinStandardHelpOptions = true,
    description = {"Measure the router's figures on this machine (a few CPU and GPU GEMMs and a "
        + "host-device copy, under a second on a data-centre GPU host) and cache them for later "
        + "processes (gpucore.gemm.calibrationFile).",
        "Exit 0 when measured, 1 when no GPU is visible or a measurement failed."})
final class CalibrateCommand implements Callable<Integer> {
  static final String SCHEMA = "gpucore-calibrate/1";

  @Spec CommandSpec spec;

  @Option(names = "--json", description = "Print JSON (schema " + SCHEMA + ").")
  boolean json;

  /** Opens the core to calibrate (tests hand in cores with stand-in GPUs). */
  Supplier<GpuCore> opener = GpuCore::open;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try (GpuCore core = opener.get()) {
      if (!core.hasGpu()) {
        err.println("gpucore calibrate: No GPU visible: " + core.noGpuReason()
            + "; host GEMMs run on the CPU, nothing to calibrate");
        err.flush();
        return 1;
      }
      long t0 = System.nanoTime();
      Routing r;
      try {
        r = core.blas().calibrate();
      } catch (GpuCoreException e) {
        err.println("gpucore calibrate: " + e.getMessage());
        err.flush();
        return 1;
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      if (json) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("schema", SCHEMA);
        m.put("seconds", seconds);
        m.put("calibration", r.calibration());
        List<Object> figures = new ArrayList<>();
        for (Routing.Figure f : r.figures()) {
          Map<String, Object> o = new LinkedHashMap<>();
          o.put("name", f.name());
          o.put("value", f.value());
          o.put("source", f.source().name().toLowerCase(Locale.ROOT));
          o.put("detail", f.detail());
          figures.add(o);
        }
        m.put("figures", figures);
        out.println(JsonText.write(m));
      } else {
        out.printf(Locale.ROOT, "gpucore calibrate: %.2f s; calibration %s%n", seconds,
            r.calibration());
        for (String line : r.lines()) {
          out.println("  " + line);
        }
      }
      out.flush();
      return 0;
    }
  }
}
