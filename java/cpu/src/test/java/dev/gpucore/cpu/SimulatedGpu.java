package dev.gpucore.cpu;

import dev.gpucore.Config;
import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import dev.gpucore.blas.GemmCall;
import dev.gpucore.blas.Operand;
import dev.gpucore.device.DeviceInfo;
import dev.gpucore.device.Discovery;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import dev.gpucore.memory.HostArray;
import dev.gpucore.spi.Backend;
import dev.gpucore.spi.BlasOps;
import dev.gpucore.spi.FaultPlan;
import dev.gpucore.spi.GpuBackend;
import dev.gpucore.spi.ReduceOps;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in GPU backend for exercising the API's recovery paths in CI, where no GPU exists. It
 * takes host-operand GEMMs the way the CUDA backend does — row panels of {@code panelMiB / tile
 * divisor}, all device buffers taken before any of C is written, panels spread over its healthy
 * devices, C written panel by panel — and honours the same {@link FaultPlan}
 * ({@code gpucore.fault}): scratch out-of-memory and sticky GEMM faults. The arithmetic is the
 * CPU backend's. It holds no device arrays.
 */
final class SimulatedGpu implements GpuBackend {
  private final Backend cpu;
  private final FaultPlan faults;
  private final long panelBytes;
  private final String[] faulted;
  private final Discovery discovery;
  /** Panels multiplied "on the GPU", per device. */
  final AtomicInteger[] panels;
  /** Tile divisors of the calls received, in order. */
  final List<Integer> divisors = java.util.Collections.synchronizedList(new ArrayList<>());
  /** Rows of C (m) of the calls received, in order. */
  final List<Integer> rows = java.util.Collections.synchronizedList(new ArrayList<>());

  SimulatedGpu(Config config, Backend cpu, int devices) {
    this.cpu = cpu;
    this.faults = FaultPlan.from(config.settings());
    this.panelBytes = (long) (config.settings().getDouble("gpucore.gemm.panelMiB", 16, 1,
        1 << 16) * (1 << 20));
    this.faulted = new String[devices];
    this.panels = new AtomicInteger[devices];
    List<DeviceInfo> infos = new ArrayList<>();
    for (int i = 0; i < devices; i++) {
      panels[i] = new AtomicInteger();
      infos.add(new DeviceInfo(i, i, -1, "GPU-simulated-" + i, "Simulated GPU", "", 9, 0, 132,
          1L << 34, 0, 1L << 34, -1, -1, -1, -1, -1, List.of()));
    }
    this.discovery = new Discovery(infos, "", 13000, 13000, false, List.of("simulated"), "");
  }

  @Override
  public String name() {
    return "simulated-gpu";
  }

  @Override
  public Discovery discovery() {
    return discovery;
  }

  @Override
  public String faulted(int device) {
    return faulted[device];
  }

  @Override
  public HostArray allocateHost(DType dtype, long length, boolean pinned) {
    return cpu.allocateHost(dtype, length, false);
  }

  @Override
  public DeviceArray allocate(int device, DType dtype, long length) {
    throw new UnsupportedOperationException("the simulated GPU holds no device arrays");
  }

  @Override
  public GpuStream createStream(int device) {
    throw new UnsupportedOperationException("the simulated GPU has no streams");
  }

  @Override
  public BlasOps blas() {
    return new BlasOps() {
      @Override
      public void gemm(GemmCall call) {
        throw new UnsupportedOperationException("the simulated GPU holds no device arrays");
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
    return cpu.reductions();
  }

  @Override
  public void close() {}

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
    int rows = call.m();
    if (panelMode) {
      long rowBytes = (long) Math.max(call.lda(), call.ldc()) * eb;
      long p = panelBytes / div / Math.max(1, rowBytes);
      rows = (int) Math.max(Math.max(1, 64 / div), Math.min(call.m(), p));
    }
    // every buffer first, as the CUDA backend does: an out-of-memory leaves C untouched
    long aBytes = (panelMode ? GemmCall.spanOf(rows, call.aCols(), call.lda()) : call.spanA()) * eb;
    long cBytes = GemmCall.spanOf(rows, call.n(), call.ldc()) * eb;
    for (long bytes : new long[] {call.spanB() * eb, aBytes, aBytes, cBytes, cBytes}) {
      if (faults.failScratch(bytes)) {
        throw new GpuCoreException.OutOfMemory("simulated cudaMalloc(" + bytes + " bytes of "
            + "scratch) failed: cudaErrorMemoryAllocation (2) [" + faults.describe() + "]");
      }
    }
    if (!panelMode) {
      int d = healthy.get(0);
      sticky(d, false);
      cpu.blas().gemm(call);
      panels[d].incrementAndGet();
      return;
    }
    boolean written = false;
    int job = 0;
    for (int r0 = 0; r0 < call.m(); r0 += rows, job++) {
      int d = healthy.get(job % healthy.size());
      sticky(d, written);
      int n = Math.min(rows, call.m() - r0);
      Operand a = at(call.a(), call.a().offset() + (long) r0 * call.lda());
      Operand c = at(call.c(), call.c().offset() + (long) r0 * call.ldc());
      cpu.blas().gemm(call.with(n, a, c, 1));
      written = true;
      panels[d].incrementAndGet();
    }
  }

  private void sticky(int device, boolean written) {
    if (faults.stickyGemmNow()) {
      String msg = "cublasGemmEx failed on simulated device " + device
          + ": cudaErrorIllegalAddress (700) [" + faults.describe() + "]";
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
}
