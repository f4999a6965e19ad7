package dev.gpucore.cli;

import dev.gpucore.GpuCore;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;

/** The one answer GPU commands give when no GPU is visible: a line, or JSON saying so. */
final class NoGpu {
  private NoGpu() {}

  /** Prints {@code No GPU visible: <reason>} (or its JSON form) for {@code core}. */
  static void print(PrintWriter out, GpuCore core, boolean json) {
    if (json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("gpu_visible", false);
      m.put("no_gpu_reason", core.noGpuReason());
      out.println(JsonText.write(m));
    } else {
      out.println("No GPU visible: " + core.noGpuReason());
    }
    out.flush();
  }
}
