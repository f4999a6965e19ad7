package dev.gpucore.spark;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Layout;
import dev.gpucore.Setting;
import dev.gpucore.Settings;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.HostArray;
import dev.gpucore.memory.NativeResource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;

/**
 * The device side of {@link BlockPipeline} on a GPU, kept between block steps: two sets of A
 * and B buffers, C, two GEMM streams, and per lane two pinned staging buffers with a stream
 * each (so that waiting for one buffer's copy does not wait for the other's). Lanes and buffers
 * follow gpucore's staging settings, as its copies from Java arrays do:
 * {@code gpucore.staging.threads} lanes (0: the core count, at most 16) and buffers of
 * {@code gpucore.staging.chunkMiB} MiB (small enough to stay in the CPU's cache while they are
 * copied). Device buffers grow to the largest blocks seen.
 *
 * <p>A block step takes a workspace of its core, device and element type from the idle ones
 * (or makes one) and gives it back at the end; the idle ones together hold at most
 * {@code gpucore.spark.blockCacheMiB} MiB of device memory (a system property, default 2048;
 * 0 keeps none), the oldest released first. A workspace that failed is released at once.
 */
final class BlockWorkspace implements BlockPipeline.Ops, AutoCloseable {
  /** Floats a lane rounds or widens at a time (in the core's cache). */
  static final int SCRATCH = 1 << 15;

  private static final Deque<BlockWorkspace> IDLE = new ArrayDeque<>();

  final GpuCore core;
  final int device;
  final DType dtype;
  private final int lanes;
  private final int chunk;
  private final DeviceArray[] a = new DeviceArray[2];
  private final DeviceArray[] b = new DeviceArray[2];
  private DeviceArray c;
  private final GpuStream[] gemmStreams = new GpuStream[2];
  private final HostArray[][] staging;
  private final GpuStream[][] copyStreams;
  private final float[][] scratch;
  private Precision precision = Precision.FP64;

  private BlockWorkspace(GpuCore core, int device, DType dtype) {
    this.core = core;
    this.device = device;
    this.dtype = dtype;
    Settings s = core.config().settings();
    this.lanes = Setting.stagingThreads(s);
    this.chunk = (int) (((long) s.get(Setting.STAGING_CHUNK_MIB) << 20) / dtype.bytes());
    this.staging = new HostArray[lanes][2];
    this.copyStreams = new GpuStream[lanes][2];
    this.scratch = new float[lanes][];
  }

  /** The idle limit in bytes: {@code gpucore.spark.blockCacheMiB}, default 2048. */
  static long idleLimitBytes() {
    String v = System.getProperty("gpucore.spark.blockCacheMiB", "2048");
    try {
      long mib = Long.parseLong(v.trim());
      if (mib >= 0) {
        return mib << 20;
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw new IllegalArgumentException("gpucore.spark.blockCacheMiB must be a number of MiB, "
        + "0 or more, got " + v);
  }

  /** An idle workspace of this core, device and type, else a new one. */
  static BlockWorkspace take(GpuCore core, int device, DType dtype) {
    idleLimitBytes(); // a malformed setting fails before any allocation
    synchronized (IDLE) {
      for (Iterator<BlockWorkspace> it = IDLE.iterator(); it.hasNext(); ) {
        BlockWorkspace w = it.next();
        if (w.core == core && w.device == device && w.dtype == dtype) {
          it.remove();
          return w;
        }
      }
    }
    return new BlockWorkspace(core, device, dtype);
  }

  /** Keeps {@code w} for the next block step, within the idle limit. */
  static void give(BlockWorkspace w) {
    long limit = idleLimitBytes();
    List<BlockWorkspace> release = new ArrayList<>();
    synchronized (IDLE) {
      if (limit == 0 || w.deviceBytes() > limit) {
        release.add(w);
      } else {
        IDLE.addFirst(w);
        long total = 0;
        for (BlockWorkspace x : IDLE) {
          total += x.deviceBytes();
        }
        while (total > limit) {
          BlockWorkspace old = IDLE.removeLast();
          total -= old.deviceBytes();
          release.add(old);
        }
      }
    }
    release.forEach(BlockWorkspace::close);
  }

  /** Releases every idle workspace; returns how many. */
  static int releaseIdle() {
    List<BlockWorkspace> all;
    synchronized (IDLE) {
      all = new ArrayList<>(IDLE);
      IDLE.clear();
    }
    all.forEach(BlockWorkspace::close);
    return all.size();
  }

  /** Idle workspaces now. */
  static int idleCount() {
    synchronized (IDLE) {
      return IDLE.size();
    }
  }

  /**
   * Makes room for A and B of up to {@code aLen} and {@code bLen} elements in the sets that
   * {@code steps} steps use, and C of {@code cLen}; on running out of device memory, releases
   * the idle workspaces and tries once more.
   */
  void prepare(long aLen, long bLen, long cLen, int steps, Precision p) {
    precision = p;
    try {
      allocate(aLen, bLen, cLen, steps);
    } catch (GpuCoreException.OutOfMemory e) {
      if (releaseIdle() == 0) {
        throw e;
      }
      allocate(aLen, bLen, cLen, steps);
    }
  }

  private void allocate(long aLen, long bLen, long cLen, int steps) {
    for (int s = 0; s < Math.min(2, steps); s++) {
      a[s] = grown(a[s], aLen);
      b[s] = grown(b[s], bLen);
    }
    c = grown(c, cLen);
    for (int s = 0; s < 2; s++) {
      if (gemmStreams[s] == null) {
        gemmStreams[s] = core.stream(device);
      }
    }
    for (int l = 0; l < lanes; l++) {
      for (int i = 0; i < 2; i++) {
        if (staging[l][i] == null) {
          staging[l][i] = core.allocateHost(dtype, chunk, true);
          copyStreams[l][i] = core.stream(device);
        }
      }
      if (dtype == DType.FLOAT32 && scratch[l] == null) {
        scratch[l] = new float[SCRATCH];
      }
    }
  }

  private DeviceArray grown(DeviceArray old, long length) {
    if (old != null && old.length() >= length) {
      return old;
    }
    if (old != null) {
      old.close();
    }
    return core.allocate(device, dtype, Math.max(1, length));
  }

  /** Device memory held by the buffers. */
  long deviceBytes() {
    long sum = c == null ? 0 : c.byteSize();
    for (int s = 0; s < 2; s++) {
      sum += a[s] == null ? 0 : a[s].byteSize();
      sum += b[s] == null ? 0 : b[s].byteSize();
    }
    return sum;
  }

  @Override
  public int lanes() {
    return lanes;
  }

  @Override
  public int chunk() {
    return chunk;
  }

  @Override
  public void pack(int lane, int buf, double[] src, int offset, int count) {
    HostCopy.pack(src, offset, staging[lane][buf], count, scratch[lane]);
  }

  @Override
  public void send(int lane, int buf, int set, boolean toB, long dstOffset, int count) {
    (toB ? b : a)[set].copyFromAsync(staging[lane][buf], 0, dstOffset, count, copyStreams[lane][buf]);
  }

  @Override
  public void fetch(int lane, int buf, long srcOffset, int count) {
    c.copyToAsync(srcOffset, staging[lane][buf], 0, count, copyStreams[lane][buf]);
  }

  @Override
  public void unpack(int lane, int buf, double[] dst, int offset, int count) {
    HostCopy.unpack(staging[lane][buf], count, dst, offset, scratch[lane]);
  }

  @Override
  public void await(int lane, int buf) {
    GpuStream s = copyStreams[lane][buf];
    if (s != null) {
      s.synchronize();
    }
  }

  @Override
  public void gemm(int stream, int set, long aOffset, long cOffset, int m, int w, int k, int j0,
      boolean accumulate) {
    Gemm g = Gemm.of(m, w, k).layout(Layout.COLUMN_MAJOR).scale(1, accumulate ? 1 : 0)
        .precision(precision);
    core.blas().gemm(g, Operand.of(a[set], aOffset), m, Operand.of(b[set], (long) j0 * k), k,
        Operand.of(c, cOffset), m, gemmStreams[stream]);
  }

  @Override
  public void syncGemm(int stream) {
    if (gemmStreams[stream] != null) {
      gemmStreams[stream].synchronize();
    }
  }

  /** Waits for everything queued, then releases every resource (errors ignored). */
  @Override
  public void close() {
    List<NativeResource> all = new ArrayList<>();
    for (int s = 0; s < 2; s++) {
      all.add(gemmStreams[s]);
      all.add(a[s]);
      all.add(b[s]);
    }
    all.add(c);
    for (int l = 0; l < lanes; l++) {
      for (int i = 0; i < 2; i++) {
        all.add(copyStreams[l][i]);
        all.add(staging[l][i]);
      }
    }
    for (NativeResource r : all) {
      if (r instanceof GpuStream s && !s.isClosed()) {
        try {
          s.synchronize();
        } catch (RuntimeException e) {
          // released below all the same
        }
      }
    }
    for (NativeResource r : all) {
      if (r != null) {
        try {
          r.close();
        } catch (RuntimeException e) {
          // the others are still released
        }
      }
    }
  }
}
