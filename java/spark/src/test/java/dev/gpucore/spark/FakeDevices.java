package dev.gpucore.spark;

import dev.gpucore.device.DeviceInfo;
import java.util.List;

/** gpucore device lists as discovery would give them, without a GPU. */
final class FakeDevices {
  private FakeDevices() {}

  static DeviceInfo gpu(int index, int cudaOrdinal, String uuid, String busId) {
    return new DeviceInfo(index, cudaOrdinal, index, uuid, "NVIDIA H100 80GB HBM3", busId, 9, 0, 132,
        80L << 30, 0, 80L << 30, 0, 0, 30, Double.NaN, Double.NaN, List.of());
  }

  static final String UUID_A = "GPU-6b2c1f0e-1a2b-4c3d-8e9f-0123456789ab";
  static final String UUID_B = "GPU-a1b2c3d4-e5f6-4789-8abc-def012345678";

  /**
   * Two GPUs whose CUDA order (fastest first) is not their PCI order: CUDA 0 is bus b3, CUDA 1
   * is bus 1a.
   */
  static List<DeviceInfo> twoOutOfPciOrder() {
    return List.of(gpu(0, 0, UUID_A, "00000000:B3:00.0"), gpu(1, 1, UUID_B, "00000000:1A:00.0"));
  }
}
