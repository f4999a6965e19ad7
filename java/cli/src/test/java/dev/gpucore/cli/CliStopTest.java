package dev.gpucore.cli;

import dev.gpucore.testkit.ChildJvm;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * {@code gpucore demo --n 8000} in a child JVM, stopped by SIGINT and by SIGTERM while its CPU
 * GEMM runs (about 1 TFLOP: many seconds on a CI machine): it must exit within 5 s with 130 or
 * 143, not hang in OpenBLAS's exit-time thread join.
 */
@EnabledOnOs(OS.LINUX)
class CliStopTest {

  @Test
  void sigintStopsDemoMidGemm() throws Exception {
    stop("INT", 130);
  }

  @Test
  void sigtermStopsDemoMidGemm() throws Exception {
    stop("TERM", 143);
  }

  private static void stop(String signal, int status) throws Exception {
    Process p = ChildJvm.start("1g", List.of(), Main.class.getName(), "demo", "--n", "8000");
    ChildJvm.stopWithin5s(p, "gpucore demo:", 1500, signal, status); // the CPU GEMM runs
  }
}
