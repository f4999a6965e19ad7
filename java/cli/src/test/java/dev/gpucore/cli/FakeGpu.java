package dev.gpucore.cli;

import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.Half;
import dev.gpucore.spi.GemmCall;
import dev.gpucore.blas.Operand;
import dev.gpucore.cpu.CpuBackendProvider;
import dev.gpucore.device.DeviceHealth;
import dev.gpucore.device.DeviceInfo;
import dev.gpucore.device.Discovery;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.HostArray;
import dev.gpucore.reduce.Accumulation;
import dev.gpucore.reduce.ReduceOp;
import dev.gpucore.spi.BlasOps;
import dev.gpucore.spi.GpuBackend;
import dev.gpucore.spi.ReduceOps;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A stand-in GPU for the doctor's tests: one device whose memory is a Java array, whose GEMM
 * and reductions are plain float64 loops, with a configurable fault, health, and bugs (writing
 * into C's padding) so the doctor's GPU paths run, and can be seen to fail, without a GPU.
 */
final class FakeGpu implements GpuBackend {
  private static final AtomicLong NEXT = new AtomicLong(1L << 40);

  String faulted;
  DeviceHealth health = DeviceHealth.unknown("fake GPU");
  /** A GEMM bug: also writes the element after each row of C (the padding the doctor keeps). */
  boolean writesPadding;
  int driverCuda = 13000;
  int runtimeCuda = 13000;

  /** A core over a CPU backend and this fake, with the given settings. */
  GpuCore core(Map<String, String> settings) {
    Config config = Config.from(settings, Map.of());
    return dev.gpucore.spi.Cores.of(config, new CpuBackendProvider().open(config), this, null);
  }

  @Override
  public String name() {
    return "fake-gpu";
  }

  @Override
  public Discovery discovery() {
    return new Discovery(List.of(new DeviceInfo(0, 0, 0, "GPU-00000000-fake", "Fake GPU",
        "00000000:00:00.0", 9, 0, 1, 1L << 34, 0, 1L << 34, 0, 0, 40, 100.0, 700.0, List.of())),
        "580.00.00", driverCuda, runtimeCuda, true, List.of(), "");
  }

  @Override
  public String faulted(int device) {
    return faulted;
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
    return new Arr(device, dtype, length, NEXT.getAndAdd(length * dtype.bytes() + 256));
  }

  @Override
  public GpuStream createStream(int device) {
    return new GpuStream(new dev.gpucore.spi.StreamResource(device, () -> { })) {
      @Override
      public long handle() {
        return 1;
      }

      @Override
      public void synchronize() {}
    };
  }

  @Override
  public BlasOps blas() {
    return this::gemm;
  }

  private void gemm(GemmCall c) {
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
          set(c.c(), at, c.alpha() * s + (c.beta() == 0 ? 0 : c.beta() * get(c.c(), at)));
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

  @Override
  public ReduceOps reductions() {
    return new ReduceOps() {
      @Override
      public void reduceDeviceInto(ReduceOp op, Accumulation acc, DeviceArray x, long xOffset,
          DeviceArray y, long yOffset, long count, DeviceArray out, long outOffset,
          GpuStream stream) {
        double[] a = ((Arr) x).v;
        double v = switch (op) {
          case SUM, DOT, NORM2 -> {
            double s = 0;
            for (long i = 0; i < count; i++) {
              double t = a[(int) (xOffset + i)];
              s += op == ReduceOp.DOT ? t * ((Arr) y).v[(int) (yOffset + i)] : op == ReduceOp.NORM2
                  ? t * t : t;
            }
            yield op == ReduceOp.NORM2 ? Math.sqrt(s) : s;
          }
          case MAX, ARGMAX -> {
            long best = 0;
            for (long i = 1; i < count; i++) {
              if (a[(int) (xOffset + i)] > a[(int) (xOffset + best)]) {
                best = i;
              }
            }
            yield op == ReduceOp.MAX ? a[(int) (xOffset + best)] : best;
          }
          default -> throw new UnsupportedOperationException(op.name());
        };
        ((Arr) out).set(outOffset, v);
      }
    };
  }

  @Override
  public void close() {}

  /** Device memory as doubles, each write rounded to the array's type. */
  static final class Arr extends DeviceArray {
    final double[] v;

    Arr(int device, DType t, long n, long address) {
      super(new dev.gpucore.spi.DeviceMemory(device, t, n, address, () -> { }));
      v = new double[(int) n];
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
      Arrays.fill(v, value);
    }
  }
}
