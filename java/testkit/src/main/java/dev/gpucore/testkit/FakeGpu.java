package dev.gpucore.testkit;

import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.GpuCoreException;
import dev.gpucore.Half;
import dev.gpucore.Setting;
import dev.gpucore.Settings;
import dev.gpucore.blas.Operand;
import dev.gpucore.device.DeviceHealth;
import dev.gpucore.device.DeviceInfo;
import dev.gpucore.device.Discovery;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.HostArray;
import dev.gpucore.p2p.CopyPath;
import dev.gpucore.p2p.PeerConfig;
import dev.gpucore.p2p.PeerLink;
import dev.gpucore.p2p.Route;
import dev.gpucore.p2p.Topology;
import dev.gpucore.p2p.Transfer;
import dev.gpucore.reduce.Accumulation;
import dev.gpucore.reduce.ReduceOp;
import dev.gpucore.spi.Backend;
import dev.gpucore.spi.BackendProvider;
import dev.gpucore.spi.BlasOps;
import dev.gpucore.spi.Cores;
import dev.gpucore.spi.DeviceMemory;
import dev.gpucore.spi.FaultPlan;
import dev.gpucore.spi.GemmCall;
import dev.gpucore.spi.GpuBackend;
import dev.gpucore.spi.PeerOps;
import dev.gpucore.spi.ReduceOps;
import dev.gpucore.spi.StreamResource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A configurable GPU backend made of host memory, for running the API's GPU paths (the router,
 * the host-operand pipeline and its recovery, the doctor, the bench) where no GPU exists.
 *
 * <ul>
 *   <li>Devices: {@code devices} GPUs named "Fake GPU (host memory)", UUID
 *       {@code GPU-0000000i-fake}; device memory is a Java array per device array (values kept
 *       rounded to the array's type), streams are no-ops.
 *   <li>Arithmetic: device-operand GEMMs and device reductions are float64 loops; host-operand
 *       GEMMs ({@link BlasOps#gemmFromHost}) run as the CUDA backend runs them — row panels of
 *       {@code gpucore.gemm.panelMiB / tile divisor}, every device buffer taken before any of C
 *       is written, panels spread over the healthy devices, tiles 1/4 then 1/16 after running
 *       out of memory — each panel computed by the CPU backend given to {@link #core}, or by the
 *       loops when there is none or a bug is set. Host reductions go to that CPU backend.
 *   <li>Peer copies, once {@link #withPeerCopies} is called: every pair of fake GPUs is a
 *       direct link; copies are recorded and done at once.
 *   <li>Faults: the core's {@link FaultPlan} ({@code gpucore.fault}): scratch out-of-memory,
 *       sticky GEMM faults (the device is then marked faulted); a device marked faulted by hand
 *       ({@link #fault}); a {@link #health} reading; driver and runtime CUDA versions.
 *   <li>Deliberate bugs, to see checks fail: {@link #writesPadding} (a GEMM also writes the
 *       element after each row of C) and {@link #offByOnePercent} (every element of C 1% off).
 * </ul>
 *
 * <p>What ran is recorded: {@link #panels} per device, and the tile {@link #divisors} and
 * {@link #rows} of C of each host GEMM received, and the {@link #peerCopies}.
 */
public final class FakeGpu implements GpuBackend {
  private static final AtomicLong NEXT = new AtomicLong(1L << 40);

  private final String[] faulted;
  private volatile Backend cpu;
  private volatile FaultPlan faults = FaultPlan.none();
  private volatile long panelBytes = 16L << 20;

  /** Health every device reports. */
  private volatile Settings settings = Settings.from(Map.of(), Map.of());
  public volatile DeviceHealth health = DeviceHealth.unknown("fake GPU");
  /** A GEMM bug: also writes the element after each row of C (the padding checks keep). */
  public volatile boolean writesPadding;
  /** A GEMM bug: every element of C 1% off. */
  public volatile boolean offByOnePercent;
  /** CUDA version the driver supports, as CUDA encodes it (13000 = 13.0). */
  public volatile int driverCuda = 13000;
  /** CUDA runtime version, as CUDA encodes it. */
  public volatile int runtimeCuda = 13000;
  /** Panels multiplied "on the GPU", per device. */
  public final AtomicInteger[] panels;
  /** Tile divisors of the host GEMMs tried, in order. */
  public final List<Integer> divisors = Collections.synchronizedList(new ArrayList<>());
  /** Rows of C (m) of the host GEMMs tried, in order. */
  public final List<Integer> rows = Collections.synchronizedList(new ArrayList<>());

  /** One fake GPU. */
  public FakeGpu() {
    this(1);
  }

  /** {@code devices} fake GPUs. */
  public FakeGpu(int devices) {
    if (devices < 1) {
      throw new IllegalArgumentException("devices must be at least 1, got " + devices);
    }
    this.faulted = new String[devices];
    this.panels = new AtomicInteger[devices];
    for (int i = 0; i < devices; i++) {
      panels[i] = new AtomicInteger();
    }
  }

  /**
   * A core over {@code cpu}'s backend and this fake, with {@code settings} (not the
   * environment); the fake takes its fault plan and panel size from them.
   */
  public GpuCore core(Map<String, String> settings, BackendProvider cpu) {
    Config config = Config.from(settings, Map.of());
    Backend c = cpu.open(config);
    configure(config, c);
    return Cores.of(config, c, this, null);
  }

  /**
   * Takes the fault plan and panel size of {@code config}; host work (reductions, GEMM panels)
   * goes to {@code cpu} (null: the fake's own loops, host reductions unsupported).
   */
  public FakeGpu configure(Config config, Backend cpu) {
    this.cpu = cpu;
    this.settings = config.settings();
    this.faults = FaultPlan.from(config.settings());
    this.panelBytes = (long) (config.settings().get(Setting.GEMM_PANEL_MIB) * (1 << 20));
    return this;
  }

  /** Marks {@code device} faulted with {@code why} (null: healthy again). */
  public void fault(int device, String why) {
    faulted[device] = why;
  }

  @Override
  public String name() {
    return "fake-gpu";
  }

  @Override
  public Discovery discovery() {
    List<DeviceInfo> infos = new ArrayList<>();
    for (int i = 0; i < faulted.length; i++) {
      infos.add(new DeviceInfo(i, i, i, String.format("GPU-%08d-fake", i),
          "Fake GPU (host memory)", String.format("00000000:%02x:00.0", i), 9, 0, 1, 1L << 34, 0,
          1L << 34, 0, 0, 40, 100.0, 700.0, List.of()));
    }
    return new Discovery(infos, "580.00.00", driverCuda, runtimeCuda, true,
        List.of("fake backend for tests"), "");
  }

  @Override
  public String faulted(int device) {
    return faulted[device];
  }

  @Override
  public DeviceHealth health(int device) {
    return health;
  }

  @Override
  public HostArray allocateHost(DType dtype, long length, boolean pinned) {
    return HostArray.allocatePageable(dtype, length);
  }

  @Override
  public DeviceArray allocate(int device, DType dtype, long length) {
    if (faults.failAlloc(length * dtype.bytes())) {
      throw new GpuCoreException.OutOfMemory("fake cudaMalloc(" + length * dtype.bytes()
          + " bytes) failed: cudaErrorMemoryAllocation (2) [" + faults.describe() + "]", false);
    }
    return new Arr(device, dtype, length, NEXT.getAndAdd(length * dtype.bytes() + 256));
  }

  /**
   * A stand-in routing model with round numbers, so that routing in tests does not hang on the
   * engine's fitted rates: the CPU at 10 GFLOP/s, the GPU at 1 TFLOP/s per device plus the bus
   * time of A, B and C at {@code busGBs} and the overhead; settings that override rates apply.
   * The engine's own model is tested with the CUDA module.
   */
  @Override
  public dev.gpucore.spi.RouteModel routeModel() {
    return in -> {
      double cpu = in.cpuGflops() > 0 ? in.cpuGflops() : 10;
      double gpu = (in.gpuGflops() > 0 ? in.gpuGflops() : 1000) * Math.max(1, in.gpus());
      double bus = in.busGBs() > 0 ? in.busGBs() : 35;
      double up = (in.bytesA() + in.bytesB() + (in.betaNonZero() ? in.bytesC() : 0)) / bus / 1e6;
      double down = in.bytesC() / bus / 1e6;
      double mul = in.flops() / gpu / 1e6;
      double gpuMs = in.overheadMs() + up + mul + down;
      double cpuMs = in.flops() / cpu / 1e6;
      return new dev.gpucore.spi.RouteModel.Estimate(gpuMs < cpuMs, gpuMs, cpuMs,
          in.bytesB() / bus / 1e6, up, mul, down, cpu, gpu);
    };
  }

  @Override
  public GpuStream createStream(int device) {
    return new Stream(device);
  }

  @Override
  public BlasOps blas() {
    return new BlasOps() {
      @Override
      public void gemm(GemmCall call) {
        loops(call);
      }

      @Override
      public String gemmFromHost(GemmCall call) {
        // the CUDA backend's tile-retry policy: tiles 1/4, then 1/16, after running out of memory
        int maxDiv = call.rowPanels() ? 16 : 1;
        for (int div = 1; ; div *= 4) {
          try {
            hostGemm(call, div);
            return div == 1 ? null : "ran on the GPU with tiles 1/" + div
                + " of gpucore.gemm.panelMiB after running out of device memory";
          } catch (GpuCoreException.OutOfMemory e) {
            if (e.outputPartlyWritten() && call.beta() != 0) {
              throw e;
            }
            if (div * 4 > maxDiv) {
              throw div == 1 ? e : new GpuCoreException.OutOfMemory(e.getMessage()
                  + " (also with tiles down to 1/" + div + " of gpucore.gemm.panelMiB)",
                  e.outputPartlyWritten());
            }
          }
        }
      }
    };
  }

  @Override
  public ReduceOps reductions() {
    return new ReduceOps() {
      @Override
      public double reduceHost(ReduceOp op, Accumulation acc, Object x, long xOffset, Object y,
          long yOffset, long count) {
        return host().reductions().reduceHost(op, acc, x, xOffset, y, yOffset, count);
      }

      @Override
      public void reduceHostMatrix(ReduceOp op, Accumulation acc, Object x, long xOffset,
          Object y, long yOffset, dev.gpucore.reduce.Matrix shape, boolean alongRows,
          Object out, long outOffset) {
        host().reductions().reduceHostMatrix(op, acc, x, xOffset, y, yOffset, shape, alongRows,
            out, outOffset);
      }

      @Override
      public double reduceDevice(ReduceOp op, Accumulation acc, DeviceArray x, long xOffset,
          DeviceArray y, long yOffset, long count, GpuStream stream) {
        return reduce(op, (Arr) x, xOffset, (Arr) y, yOffset, count, 1);
      }

      @Override
      public void reduceDeviceInto(ReduceOp op, Accumulation acc, DeviceArray x, long xOffset,
          DeviceArray y, long yOffset, long count, DeviceArray out, long outOffset,
          GpuStream stream) {
        ((Arr) out).set(outOffset, reduce(op, (Arr) x, xOffset, (Arr) y, yOffset, count, 1));
      }

      @Override
      public void reduceDeviceMatrix(ReduceOp op, Accumulation acc, DeviceArray x,
          long xOffset, DeviceArray y, long yOffset, dev.gpucore.reduce.Matrix shape,
          boolean perRow, DeviceArray out, long outOffset, GpuStream stream) {
        boolean rowMajor = shape.layout() == dev.gpucore.Layout.ROW_MAJOR;
        long outer = perRow ? shape.rows() : shape.cols();
        long inner = perRow ? shape.cols() : shape.rows();
        // element (r, c) sits at r * ld + c (row-major) or c * ld + r (column-major)
        long stride = perRow == rowMajor ? 1 : shape.ld();
        long step = perRow == rowMajor ? shape.ld() : 1;
        for (long k = 0; k < outer; k++) {
          ((Arr) out).set(outOffset + k, reduce(op, (Arr) x, xOffset + k * step, (Arr) y,
              yOffset + k * step, inner, stride));
        }
      }
    };
  }

  /** Every peer copy that reached the fake (after the facade's checks), in order. */
  public final List<Transfer> peerCopies = Collections.synchronizedList(new ArrayList<>());
  private volatile boolean peer;

  /**
   * Offers peer copies between the fake GPUs (by default it has none, as a backend without
   * them): every pair is a direct link, each copy is recorded in {@link #peerCopies} and done
   * at once.
   */
  public FakeGpu withPeerCopies() {
    peer = true;
    return this;
  }

  @Override
  public PeerOps peer() {
    if (!peer) {
      return GpuBackend.super.peer();
    }
    return new PeerOps() {
      @Override
      public PeerConfig config() {
        return PeerConfig.from(settings);
      }

      @Override
      public Topology topology() {
        throw new GpuCoreException.DeviceUnavailable("the fake GPUs have no topology");
      }

      @Override
      public PeerLink link(int srcDevice, int dstDevice) {
        return new PeerLink(srcDevice, dstDevice,
            srcDevice == dstDevice ? CopyPath.SAME_DEVICE : CopyPath.PEER, "fake GPUs");
      }

      @Override
      public void copy(DeviceArray src, long srcOffset, DeviceArray dst, long dstOffset,
          long count, Route route, GpuStream stream) {
        peerCopy(new Transfer(src, srcOffset, dst, dstOffset, count));
      }

      @Override
      public void copyAll(List<Transfer> transfers, Route route) {
        for (Transfer t : transfers) {
          peerCopy(t);
        }
      }
    };
  }

  private void peerCopy(Transfer t) {
    peerCopies.add(t);
    System.arraycopy(((Arr) t.src()).v, (int) t.srcOffset(), ((Arr) t.dst()).v,
        (int) t.dstOffset(), (int) t.count());
  }

  /**
   * A fake device array of {@code length} elements that claims to lie at {@code address} on
   * {@code device}, for checks that look at where arrays lie (two arrays overlapping on one
   * device, the same address on two devices).
   */
  public static DeviceArray arrayAt(int device, DType dtype, long length, long address) {
    return new Arr(device, dtype, length, address);
  }

  /** A fake stream of {@code device} that orders nothing. */
  public static GpuStream stream(int device) {
    return new Stream(device);
  }

  @Override
  public void close() {}

  private Backend host() {
    Backend c = cpu;
    if (c == null) {
      throw new UnsupportedOperationException(
          "host reductions are not supported by this backend (a fake GPU without a CPU backend)");
    }
    return c;
  }

  /**
   * A reduction of {@code count} device elements {@code stride} apart, in float64; index results
   * (counted in elements of the range) as doubles.
   */
  private static double reduce(ReduceOp op, Arr x, long xo, Arr y, long yo, long count,
      long stride) {
    double[] a = x.v;
    switch (op) {
      case SUM, MEAN, DOT, NORM2 -> {
        double s = 0;
        for (long i = 0; i < count; i++) {
          double t = a[(int) (xo + i * stride)];
          s += op == ReduceOp.DOT ? t * y.v[(int) (yo + i * stride)]
              : op == ReduceOp.NORM2 ? t * t : t;
        }
        return op == ReduceOp.NORM2 ? Math.sqrt(s) : op == ReduceOp.MEAN ? s / count : s;
      }
      default -> {
        boolean max = op == ReduceOp.MAX || op == ReduceOp.ARGMAX;
        long best = 0;
        for (long i = 1; i < count; i++) {
          double v = a[(int) (xo + i * stride)];
          double b = a[(int) (xo + best * stride)];
          if (max ? v > b : v < b) {
            best = i;
          }
        }
        return op == ReduceOp.MAX || op == ReduceOp.MIN ? a[(int) (xo + best * stride)] : best;
      }
    }
  }

  private void hostGemm(GemmCall call, int div) {
    divisors.add(div);
    rows.add(call.m());
    List<Integer> healthy = new ArrayList<>();
    for (int d = 0; d < faulted.length; d++) {
      if (faulted[d] == null) {
        healthy.add(d);
      }
    }
    if (healthy.isEmpty()) {
      throw new GpuCoreException.DeviceUnavailable("no healthy GPU is configured for host GEMM");
    }
    int eb = call.dtype().bytes();
    boolean panelMode = call.rowPanels();
    int panelRows = call.m();
    if (panelMode) {
      long rowBytes = (long) Math.max(call.lda(), call.ldc()) * eb;
      long p = panelBytes / div / Math.max(1, rowBytes);
      panelRows = (int) Math.max(Math.max(1, 64 / div), Math.min(call.m(), p));
    }
    // every buffer first, as the CUDA backend does: an out-of-memory leaves C untouched
    long aBytes = (panelMode ? GemmCall.spanOf(panelRows, call.aCols(), call.lda())
        : call.spanA()) * eb;
    long cBytes = GemmCall.spanOf(panelRows, call.n(), call.ldc()) * eb;
    for (long bytes : new long[] {call.spanB() * eb, aBytes, aBytes, cBytes, cBytes}) {
      if (faults.failScratch(bytes)) {
        throw new GpuCoreException.OutOfMemory("fake cudaMalloc(" + bytes + " bytes of "
            + "scratch) failed: cudaErrorMemoryAllocation (2) [" + faults.describe() + "]");
      }
    }
    if (!panelMode) {
      int d = healthy.get(0);
      sticky(d, false);
      compute(call);
      panels[d].incrementAndGet();
      return;
    }
    boolean written = false;
    int job = 0;
    for (int r0 = 0; r0 < call.m(); r0 += panelRows, job++) {
      int d = healthy.get(job % healthy.size());
      sticky(d, written);
      int n = Math.min(panelRows, call.m() - r0);
      Operand a = at(call.a(), call.a().offset() + (long) r0 * call.lda());
      Operand c = at(call.c(), call.c().offset() + (long) r0 * call.ldc());
      compute(call.with(n, a, c, 1));
      written = true;
      panels[d].incrementAndGet();
    }
  }

  /** One host GEMM (or panel): the CPU backend's, unless there is none or a bug is set. */
  private void compute(GemmCall call) {
    Backend c = cpu;
    if (c != null && !writesPadding && !offByOnePercent) {
      c.blas().gemm(call);
    } else {
      loops(call);
    }
  }

  private void sticky(int device, boolean written) {
    if (faults.stickyGemmNow()) {
      String msg = "cublasGemmEx failed on fake device " + device
          + ": cudaErrorIllegalAddress (" + FaultPlan.ILLEGAL_ADDRESS + ") ["
          + faults.describe() + "]";
      faulted[device] = msg;
      throw new GpuCoreException.DeviceFaulted(msg, written);
    }
  }

  private static Operand at(Operand o, long offset) {
    Object s = o.storage();
    if (s instanceof float[] f) {
      return Operand.of(f, Math.toIntExact(offset));
    }
    if (s instanceof double[] d) {
      return Operand.of(d, Math.toIntExact(offset));
    }
    return Operand.of((HostArray) s, offset);
  }

  /** A GEMM (every batch item) as float64 loops, on any operands, with the bugs set. */
  private void loops(GemmCall c) {
    for (int item = 0; item < c.batch(); item++) {
      long oa = c.a().offset() + item * c.strideA();
      long ob = c.b().offset() + item * c.strideB();
      long oc = c.c().offset() + item * c.strideC();
      for (int i = 0; i < c.m(); i++) {
        for (int j = 0; j < c.n(); j++) {
          double s = 0;
          for (int p = 0; p < c.k(); p++) {
            s += get(c.a(), oa + (c.transA() ? (long) p * c.lda() + i : (long) i * c.lda() + p))
                * get(c.b(), ob + (c.transB() ? (long) j * c.ldb() + p : (long) p * c.ldb() + j));
          }
          long at = oc + (long) i * c.ldc() + j;
          double v = c.alpha() * s + (c.beta() == 0 ? 0 : c.beta() * get(c.c(), at));
          set(c.c(), at, offByOnePercent ? v * 1.01 : v);
        }
        if (writesPadding) {
          set(c.c(), oc + (long) i * c.ldc() + c.n(), 0);
        }
      }
    }
  }

  private static double get(Operand o, long i) {
    Object s = o.storage();
    if (s instanceof float[] f) {
      return f[(int) i];
    }
    if (s instanceof double[] d) {
      return d[(int) i];
    }
    if (s instanceof HostArray h) {
      return h.getDouble(i);
    }
    return ((Arr) s).v[(int) i];
  }

  private static void set(Operand o, long i, double v) {
    Object s = o.storage();
    if (s instanceof float[] f) {
      f[(int) i] = (float) v;
    } else if (s instanceof double[] d) {
      d[(int) i] = v;
    } else if (s instanceof HostArray h) {
      h.setDouble(i, v);
    } else {
      ((Arr) s).set(i, v);
    }
  }

  /** Device memory as doubles, each write rounded to the array's type. */
  static final class Arr extends DeviceArray {
    final double[] v;

    Arr(int device, DType t, long n, long address) {
      super(new DeviceMemory(device, t, n, address, () -> { }));
      v = new double[Math.toIntExact(n)];
    }

    void set(long i, double x) {
      v[(int) i] = switch (dtype()) {
        case FLOAT64 -> x;
        case FLOAT32 -> (float) x;
        case BFLOAT16 -> Half.fromBfloat16(Half.toBfloat16((float) x));
        case FLOAT16 -> Half.fromFloat16(Half.toFloat16((float) x));
      };
    }

    @Override
    protected void fromJava(Object src, int srcOffset, long dstOffset, int count) {
      for (int i = 0; i < count; i++) {
        set(dstOffset + i, src instanceof float[] f ? f[srcOffset + i]
            : ((double[]) src)[srcOffset + i]);
      }
    }

    @Override
    protected void toJava(long srcOffset, Object dst, int dstOffset, int count) {
      for (int i = 0; i < count; i++) {
        double x = v[(int) (srcOffset + i)];
        if (dst instanceof float[] f) {
          f[dstOffset + i] = (float) x;
        } else {
          ((double[]) dst)[dstOffset + i] = x;
        }
      }
    }

    @Override
    protected void hostCopy(HostArray host, long hostOffset, long devOffset, long count,
        GpuStream stream, boolean toDevice) {
      for (long i = 0; i < count; i++) {
        if (toDevice) {
          set(devOffset + i, host.getDouble(hostOffset + i));
        } else {
          host.setDouble(hostOffset + i, v[(int) (devOffset + i)]);
        }
      }
    }

    @Override
    protected void deviceCopy(DeviceArray src, long srcOffset, long dstOffset, long count,
        GpuStream stream) {
      System.arraycopy(((Arr) src).v, (int) srcOffset, v, (int) dstOffset, (int) count);
    }

    @Override
    protected void doFill(double value, GpuStream stream) {
      for (int i = 0; i < v.length; i++) {
        set(i, value);
      }
    }
  }

  /** A stream that orders nothing (every fake operation is synchronous). */
  static final class Stream extends GpuStream {
    Stream(int device) {
      super(new StreamResource(device, () -> { }));
    }

    @Override
    public long handle() {
      return 1;
    }

    @Override
    public void synchronize() {}
  }
}
