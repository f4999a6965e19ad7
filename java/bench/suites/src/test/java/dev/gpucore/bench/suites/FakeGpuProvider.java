package dev.gpucore.bench.suites;

import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.Half;
import dev.gpucore.spi.GemmCall;
import dev.gpucore.device.DeviceInfo;
import dev.gpucore.device.Discovery;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.HostArray;
import dev.gpucore.reduce.Accumulation;
import dev.gpucore.reduce.Matrix;
import dev.gpucore.reduce.ReduceOp;
import dev.gpucore.spi.Backend;
import dev.gpucore.spi.BackendProvider;
import dev.gpucore.spi.BlasOps;
import dev.gpucore.spi.GpuBackend;
import dev.gpucore.spi.ReduceOps;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A GPU backend made of host memory, for driving the bench's GPU rows without a GPU. Never
 * registered on the test class path: {@link FakeGpuBenchTest} names it in a services file of a
 * child JVM only. Its GEMM takes device operands (16-bit arrays kept rounded to their type) and,
 * as the GPU route of host GEMMs, Java arrays. With {@code FAKE_GPU_WRONG=1} its GEMM is off by
 * 1% (to see checks fail).
 */
public final class FakeGpuProvider implements BackendProvider {
  @Override
  public String name() {
    return "fake-gpu";
  }

  @Override
  public int rank() {
    return 1000;
  }

  @Override
  public Backend open(Config config) {
    return new FakeBackend();
  }

  static final class FakeBackend implements GpuBackend {
    private static final AtomicLong NEXT = new AtomicLong(1L << 40);
    private final boolean wrong = "1".equals(System.getenv("FAKE_GPU_WRONG"));
    private final Discovery discovery = new Discovery(List.of(new DeviceInfo(0, 0, -1,
        "GPU-00000000-fake", "Fake GPU (host memory)", "00000000:00:00.0", 9, 0, 1, 1L << 34,
        0, 1L << 34, 0, 0, 40, 100.0, 700.0, List.of())), "0.0", 13000, 13000, false,
        List.of("fake backend for tests"), "");

    @Override
    public String name() {
      return "fake-gpu";
    }

    @Override
    public Discovery discovery() {
      return discovery;
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
      return new Stream(device);
    }

    @Override
    public BlasOps blas() {
      return this::gemm;
    }

    private void gemm(GemmCall c) {
      // device operands (Arr) and, for the GPU route of host GEMMs, Java arrays
      Mem a = mem(c.a().storage());
      Mem b = mem(c.b().storage());
      Mem out = mem(c.c().storage());
      long oa = c.a().offset();
      long ob = c.b().offset();
      long oc = c.c().offset();
      for (int i = 0; i < c.m(); i++) {
        for (int j = 0; j < c.n(); j++) {
          double s = 0;
          for (int p = 0; p < c.k(); p++) {
            double x = a.get(oa + (c.transA() ? (long) p * c.lda() + i : (long) i * c.lda() + p));
            double y = b.get(ob + (c.transB() ? (long) j * c.ldb() + p : (long) p * c.ldb() + j));
            s += x * y;
          }
          long at = oc + (long) i * c.ldc() + j;
          double v = c.alpha() * s + (c.beta() == 0 ? 0 : c.beta() * out.get(at));
          out.set(at, wrong ? v * 1.01 : v);
        }
      }
    }

    private static Mem mem(Object storage) {
      if (storage instanceof Arr arr) {
        return arr;
      }
      if (storage instanceof float[] f) {
        return new Mem() {
          @Override
          public double get(long i) {
            return f[(int) i];
          }

          @Override
          public void set(long i, double v) {
            f[(int) i] = (float) v;
          }
        };
      }
      double[] d = (double[]) storage;
      return new Mem() {
        @Override
        public double get(long i) {
          return d[(int) i];
        }

        @Override
        public void set(long i, double v) {
          d[(int) i] = v;
        }
      };
    }

    @Override
    public ReduceOps reductions() {
      return new ReduceOps() {
        @Override
        public double reduceDevice(ReduceOp op, Accumulation acc, DeviceArray x, long xOffset,
            DeviceArray y, long yOffset, long count, GpuStream stream) {
          return range(op, (Arr) x, xOffset, (Arr) y, yOffset, count, 1);
        }

        @Override
        public void reduceDeviceInto(ReduceOp op, Accumulation acc, DeviceArray x,
            long xOffset, DeviceArray y, long yOffset, long count, DeviceArray out,
            long outOffset, GpuStream stream) {
          ((Arr) out).set(outOffset, range(op, (Arr) x, xOffset, (Arr) y, yOffset, count, 1));
        }

        @Override
        public void reduceDeviceMatrix(ReduceOp op, Accumulation acc, DeviceArray x,
            long xOffset, DeviceArray y, long yOffset, Matrix shape, boolean perRow,
            DeviceArray out, long outOffset, GpuStream stream) {
          boolean rowMajor = shape.layout() == dev.gpucore.Layout.ROW_MAJOR;
          long outer = perRow ? shape.rows() : shape.cols();
          long inner = perRow ? shape.cols() : shape.rows();
          // element (r, c) sits at r * ld + c (row-major) or c * ld + r (column-major)
          long stride = perRow == rowMajor ? 1 : shape.ld();
          long step = perRow == rowMajor ? shape.ld() : 1;
          for (long k = 0; k < outer; k++) {
            ((Arr) out).set(outOffset + k, range(op, (Arr) x, xOffset + k * step, (Arr) y,
                yOffset + k * step, inner, stride));
          }
        }
      };
    }

    /** {@code op} over {@code count} elements {@code stride} apart, in fp64 (plain loops). */
    static double range(ReduceOp op, Arr x, long off, Arr y, long yOff, long count, long stride) {
      double acc = op == ReduceOp.MAX || op == ReduceOp.ARGMAX ? Double.NEGATIVE_INFINITY : 0;
      long arg = 0;
      for (long i = 0; i < count; i++) {
        double v = x.get(off + i * stride);
        switch (op) {
          case SUM -> acc += v;
          case NORM2 -> acc += v * v;
          case DOT -> acc += v * y.get(yOff + i * stride);
          case MAX, ARGMAX -> {
            if (v > acc) {
              acc = v;
              arg = i;
            }
          }
          default -> throw new UnsupportedOperationException(op.name());
        }
      }
      return switch (op) {
        case NORM2 -> Math.sqrt(acc);
        case ARGMAX -> arg;
        default -> acc;
      };
    }

    @Override
    public void close() {}
  }

  /** Element access to an operand's storage. */
  interface Mem {
    double get(long i);

    void set(long i, double v);
  }

  /** Device memory: float[] for FLOAT32 and the 16-bit types (kept rounded), double[] for FLOAT64. */
  static final class Arr extends DeviceArray implements Mem {
    final float[] f;
    final double[] d;

    Arr(int device, DType t, long n, long address) {
      super(new dev.gpucore.spi.DeviceMemory(device, t, n, address, () -> { }));
      f = t != DType.FLOAT64 ? new float[(int) n] : null;
      d = t == DType.FLOAT64 ? new double[(int) n] : null;
    }

    @Override
    public double get(long i) {
      return f != null ? f[(int) i] : d[(int) i];
    }

    @Override
    public void set(long i, double v) {
      if (f != null) {
        f[(int) i] = round((float) v);
      } else {
        d[(int) i] = v;
      }
    }

    /** The value as this array's type holds it. */
    private float round(float v) {
      return switch (dtype()) {
        case BFLOAT16 -> Half.fromBfloat16(Half.toBfloat16(v));
        case FLOAT16 -> Half.fromFloat16(Half.toFloat16(v));
        default -> v;
      };
    }

    private Object data() {
      return f != null ? f : d;
    }

    @Override
    protected void fromJava(Object src, int srcOffset, long dstOffset, int count) {
      System.arraycopy(src, srcOffset, data(), (int) dstOffset, count);
      if (dtype().isHalf()) {
        for (int i = 0; i < count; i++) {
          f[(int) dstOffset + i] = round(f[(int) dstOffset + i]);
        }
      }
    }

    @Override
    protected void toJava(long srcOffset, Object dst, int dstOffset, int count) {
      System.arraycopy(data(), (int) srcOffset, dst, dstOffset, count);
    }

    @Override
    protected void hostCopy(HostArray host, long hostOffset, long devOffset, long count,
        GpuStream stream, boolean toDevice) {
      if (f != null) {
        if (toDevice) {
          host.get(hostOffset, f, (int) devOffset, (int) count);
        } else {
          host.put(hostOffset, f, (int) devOffset, (int) count);
        }
      } else if (toDevice) {
        host.get(hostOffset, d, (int) devOffset, (int) count);
      } else {
        host.put(hostOffset, d, (int) devOffset, (int) count);
      }
    }

    @Override
    protected void deviceCopy(DeviceArray src, long srcOffset, long dstOffset, long count,
        GpuStream stream) {
      System.arraycopy(((Arr) src).data(), (int) srcOffset, data(), (int) dstOffset, (int) count);
    }

    @Override
    protected void doFill(double value, GpuStream stream) {
      if (f != null) {
        Arrays.fill(f, round((float) value));
      } else {
        Arrays.fill(d, value);
      }
    }
  }

  static final class Stream extends GpuStream {
    Stream(int device) {
      super(new dev.gpucore.spi.StreamResource(device, () -> { }));
    }

    @Override
    public long handle() {
      return 1;
    }

    @Override
    public void synchronize() {}
  }
}
