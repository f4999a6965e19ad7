package dev.gpucore.bench;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.HostArray;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Copies from and to Java arrays through gpucore's pipelined staging, against a pinned
 * {@link HostArray} (the floor: one DMA) and against staging by hand (put into the pinned array,
 * then one copy: what a user would write without gpucore's pipeline). Time per copy.
 */
public class GpuStagingBench extends BenchBase {
  @Param({"65536", "1048576", "16777216", "268435456"})
  public int bytes;

  private GpuCore core;
  private DeviceArray d;
  private HostArray pinned;
  private float[] java;

  @Setup(Level.Trial)
  public void setup() {
    core = openGpu();
    int n = bytes / 4;
    d = core.allocate(0, DType.FLOAT32, n);
    pinned = core.allocateHost(DType.FLOAT32, n, true);
    java = new float[n];
    for (int i = 0; i < n; i++) {
      java[i] = i * 0.5f;
    }
    pinned.put(0, java, 0, n);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (d != null) {
      d.close();
      pinned.close();
      core.close();
    }
  }

  @Benchmark
  public DeviceArray javaToDevice() {
    d.copyFrom(java);
    return d;
  }

  @Benchmark
  public float[] deviceToJava() {
    d.copyTo(java);
    return java;
  }

  @Benchmark
  public DeviceArray pinnedToDevice() {
    d.copyFrom(pinned);
    return d;
  }

  @Benchmark
  public HostArray deviceToPinned() {
    d.copyTo(pinned);
    return pinned;
  }

  @Benchmark
  public DeviceArray javaToDeviceByHand() {
    pinned.put(0, java, 0, java.length);
    d.copyFrom(pinned);
    return d;
  }
}
