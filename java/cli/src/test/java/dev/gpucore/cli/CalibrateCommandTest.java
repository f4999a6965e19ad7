package dev.gpucore.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gpucore.blas.Routing;
import dev.gpucore.cpu.CpuBackendProvider;
import dev.gpucore.testkit.FakeGpu;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code gpucore calibrate} where nothing can be calibrated, and the doctor's router check. */
class CalibrateCommandTest {
  record Result(int code, String out, String err) {}

  static Result run(CalibrateCommand cmd, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(cmd);
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    return new Result(cl.execute(args), out.toString(), err.toString());
  }

  @Test
  void withoutAGpuItSaysSoAndExits1() {
    String why = DoctorCommandTest.noGpuReason();
    assumeTrue(why != null, "this machine has a GPU: CalibrationGpuTest calibrates it");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(out), new PrintWriter(err), "calibrate");
    assertEquals(1, code, err.toString());
    assertTrue(err.toString().startsWith("gpucore calibrate: No GPU visible: "), err.toString());
    assertTrue(err.toString().contains("nothing to calibrate"), err.toString());
    assertEquals("", out.toString());
  }

  @Test
  void aStandInGpuWhoseTimesMeanNothingIsNotCalibrated() {
    FakeGpu gpu = new FakeGpu();
    CalibrateCommand cmd = new CalibrateCommand();
    cmd.opener = () -> gpu.core(Map.of(), new CpuBackendProvider());
    Result r = run(cmd, "--json");
    assertEquals(1, r.code(), r.out());
    assertEquals("gpucore calibrate: this GPU backend's times are not measured: nothing to"
        + " calibrate\n", r.err().replace("\r\n", "\n"));
  }

  @Test
  void theDoctorSaysWhereTheFiguresComeFrom() {
    DoctorCheck none = DoctorCommand.router(new Routing("no GPU: host GEMMs run on the CPU",
        List.of(), 0));
    assertEquals(DoctorCheck.Status.SKIP, none.status());
    assertEquals("no GPU: host GEMMs run on the CPU", none.detail());
    DoctorCheck ok = DoctorCommand.router(new Routing("file /c/r.properties, measured"
        + " 2026-12-06T07:00:00Z", List.of(new Routing.Figure("cpu rate", "fp32 n=256 300 GFLOP/s",
            Routing.Source.CALIBRATION, "calibration file /c/r.properties"),
        new Routing.Figure("bus", "35 GB/s each way", Routing.Source.SETTING,
            "gpucore.gemm.busGBs (system property)")), 12));
    assertEquals(DoctorCheck.Status.OK, ok.status());
    assertEquals("calibration file /c/r.properties, measured 2026-12-06T07:00:00Z; cpu rate: fp32"
        + " n=256 300 GFLOP/s (calibration file /c/r.properties); bus: 35 GB/s each way"
        + " (gpucore.gemm.busGBs (system property)); corrected by 12 timed calls", ok.detail());
  }

  @Test
  void theDoctorOnAStandInGpuNamesTheBuiltInModel() {
    FakeGpu gpu = new FakeGpu();
    DoctorCommandTest.Result r = DoctorCommandTest.run(DoctorCommandTest.on(gpu),
        "--skip-selftest");
    assertEquals("ok", r.row("router.figures")[0], r.out());
    assertTrue(r.row("router.figures")[1].startsWith("calibration not measured: this GPU"
        + " backend's times are not measured; cpu rate: by size of call and"), r.out());
    assertTrue(r.row("router.figures")[1].contains("(built-in model)"), r.out());
    assertTrue(r.row("router.figures")[1].contains("bus: 35.0 GB/s each way (default of"
        + " gpucore.gemm.busGBs)"), r.out());
  }
}
