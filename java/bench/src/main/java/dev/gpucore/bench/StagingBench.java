package dev.gpucore.bench;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.memory.HostArray;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The host half of staging: copying a Java array into off-heap memory and back
 * ({@link HostArray#put} / {@link HostArray#get}), against the JDK's own copies
 * ({@code System.arraycopy} between arrays, a direct {@link FloatBuffer}). Runs anywhere; time
 * per copy, so bytes / time is the bandwidth.
 */
public class StagingBench extends BenchBase {
  @Param({"65536", "1048576", "16777216"})
  public int bytes;

  private GpuCore core;
  private HostArray host;
  private float[] java;
  private float[] other;
  private FloatBuffer direct;

  @Setup(Level.Trial)
  public void setup() {
    core = openCpu();
    int n = bytes / 4;
    host = core.allocateHost(DType.FLOAT32, n, false);
    java = new float[n];
    other = new float[n];
    for (int i = 0; i < n; i++) {
      java[i] = i * 0.5f;
    }
    direct = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder()).asFloatBuffer();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    host.close();
    core.close();
  }

  @Benchmark
  public HostArray hostArrayPut() {
    host.put(0, java, 0, java.length);
    return host;
  }

  @Benchmark
  public float[] hostArrayGet() {
    host.get(0, other, 0, other.length);
    return other;
  }

  @Benchmark
  public float[] arraycopy() {
    System.arraycopy(java, 0, other, 0, java.length);
    return other;
  }

  @Benchmark
  public FloatBuffer directBufferPut() {
    direct.clear();
    direct.put(java);
    return direct;
  }
}
