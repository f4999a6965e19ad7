package dev.gpucore.cpu;

import dev.gpucore.DType;
import dev.gpucore.device.Discovery;
import dev.gpucore.memory.HostArray;
import dev.gpucore.spi.Backend;
import dev.gpucore.spi.BlasOps;
import dev.gpucore.spi.ReduceOps;
import java.util.List;

/** The CPU backend: OpenBLAS for BLAS, plain Java for reductions. */
public final class CpuBackend implements Backend {
  private final int threads;
  private final CpuBlas blas;
  private final CpuReduce reduce = new CpuReduce();

  CpuBackend(int threads, double inPlaceMaxMs) {
    this(threads, inPlaceMaxMs, CpuBlas.PANEL_MIN, CpuBlas.REPACK_MAX);
  }

  /**
   * With panels' repacking up to {@code repackMax} of the copies ({@code gpucore.cpu.repackMax}),
   * slabs of k where {@code kSlabs} ({@code gpucore.cpu.kSlabs}) and OpenBLAS's thread spin ({@code gpucore.cpu.threadTimeout}; 0: as OpenBLAS has it), set
   * only when {@code firstLoad}: no OpenBLAS was in the process before this backend loaded it.
   */
  CpuBackend(int threads, double inPlaceMaxMs, double repackMax, boolean kSlabs,
      int threadTimeout, boolean firstLoad) {
    this(threads, new CpuBlas(threads, inPlaceMaxMs, CpuBlas.PANEL_MIN, repackMax, kSlabs));
    threadTimeout(threadTimeout, firstLoad);
  }

  /** With in-place panels as thin and as many as given (tests split every long call). */
  CpuBackend(int threads, double inPlaceMaxMs, int panelMin, double repackMax) {
    this(threads, new CpuBlas(threads, inPlaceMaxMs, panelMin, repackMax, true));
  }

  private CpuBackend(int threads, CpuBlas blas) {
    this.threads = threads;
    this.blas = blas;
    org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(threads);
  }

  private static boolean timeoutSet;
  private static int timeoutHeld;

  /**
   * Sets how long OpenBLAS's worker threads spin after a call, 2^{@code exponent} clock ticks,
   * once per process: the first backend that asks sets it, and only when it loaded OpenBLAS
   * itself ({@code firstLoad}), before any GEMM: the setting stops OpenBLAS's threads, which
   * could cut into a call in flight from another user of an OpenBLAS loaded earlier (netlib
   * through the drop-in BLAS library, another backend). Later backends find it set. 0 leaves
   * OpenBLAS as it is. Returns the exponent OpenBLAS holds from gpucore, 0 for none.
   */
  static synchronized int threadTimeout(int exponent, boolean firstLoad) {
    if (!timeoutSet && exponent > 0) {
      timeoutSet = true;
      if (!firstLoad) {
        return timeoutHeld; // OpenBLAS was there before: its spin stays as it was
      }
      try {
        timeoutHeld = Math.max(0,
            dev.gpucore.cpu.bindings.CpuBlasNative.gc_cpu_thread_timeout(exponent));
      } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
        timeoutHeld = 0; // without gpucore's glue OpenBLAS keeps its own spin
      }
    }
    return timeoutHeld;
  }

  /** Whether an OpenBLAS library is mapped into this process (unreadable maps: assumed so). */
  static boolean openBlasLoaded() {
    try (java.util.stream.Stream<String> maps = java.nio.file.Files.lines(
        java.nio.file.Path.of("/proc/self/maps"))) {
      return maps.anyMatch(l -> l.contains("libopenblas"));
    } catch (java.io.IOException | java.io.UncheckedIOException e) {
      return true;
    }
  }

  /** Threads OpenBLAS was given. */
  @Override
  public int cpuThreads() {
    return threads;
  }

  @Override
  public String name() {
    return "cpu";
  }

  @Override
  public Discovery discovery() {
    return Discovery.none("the CPU backend has no GPU", List.of());
  }

  @Override
  public HostArray allocateHost(DType dtype, long length, boolean pinned) {
    return HostArray.allocatePageable(dtype, length);
  }

  @Override
  public BlasOps blas() {
    return blas;
  }

  @Override
  public ReduceOps reductions() {
    return reduce;
  }

  @Override
  public void close() {
    blas.close(); // OpenBLAS itself holds no per-backend state
  }
}
