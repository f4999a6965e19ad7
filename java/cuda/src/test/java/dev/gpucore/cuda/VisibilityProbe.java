package dev.gpucore.cuda;

import dev.gpucore.GpuCore;
import dev.gpucore.device.DeviceInfo;

/** Child-process entry for {@link VisibilityGpuTest}: prints what discovery found. */
public final class VisibilityProbe {
  private VisibilityProbe() {}

  public static void main(String[] args) {
    try (GpuCore core = GpuCore.open()) {
      System.out.println("gpus=" + core.devices().size());
      System.out.println("reason=" + core.noGpuReason());
      for (DeviceInfo g : core.devices()) {
        System.out.println("device=" + g.index() + " " + g.cudaOrdinal() + " " + g.nvmlIndex() + " "
            + g.uuid());
      }
      for (String n : core.discovery().notes()) {
        System.out.println("note=" + n);
      }
    }
  }
}
