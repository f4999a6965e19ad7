package dev.gpucore.cuda;

import dev.gpucore.GpuCoreException;
import dev.gpucore.cuda.bindings.GpuCoreNative;
import dev.gpucore.spi.FaultPlan;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Per-device state of the CUDA backend: its ordinal, whether a sticky fault poisoned it, and a
 * pool of internal lanes (stream + scratch) for synchronous calls from any thread.
 */
final class DeviceState {
  final int index;
  final int ordinal;
  private volatile String faulted;
  private final ConcurrentLinkedQueue<CudaStream> idle = new ConcurrentLinkedQueue<>();
  private final List<CudaStream> all = new ArrayList<>();
  private final StagingConfig staging;
  final FaultPlan faults;

  DeviceState(int index, int ordinal, StagingConfig staging, FaultPlan faults,
      long scratchCacheBytes) {
    this.index = index;
    this.ordinal = ordinal;
    this.staging = staging;
    this.faults = faults;
    this.scratchCache = scratchCacheBytes;
  }

  void markFaulted(String why) {
    if (faulted == null) {
      faulted = why;
    }
  }

  /** Why the device is unusable, or null. */
  String faulted() {
    return faulted;
  }

  /**
   * Reports a planned sticky fault ({@code gpucore.fault}) for {@code op} the way a real one
   * is reported: the device is marked faulted and the exception thrown.
   */
  void injectSticky(String op) {
    String msg = op + " failed on device " + index + " (CUDA ordinal " + ordinal
        + "): cudaErrorIllegalAddress (" + FaultPlan.ILLEGAL_ADDRESS + ") [" + faults.describe()
        + "]";
    markFaulted(msg);
    throw new GpuCoreException.DeviceFaulted(msg, false, FaultPlan.ILLEGAL_ADDRESS,
        "cudaErrorIllegalAddress");
  }

  /** Makes this device current on the calling thread, after checking it is not faulted. */
  void enter() {
    String f = faulted;
    if (f != null) {
      throw new GpuCoreException.DeviceFaulted(
          "device " + index + " is unusable after an earlier fault: " + f);
    }
    CudaErrors.check(GpuCoreNative.gc_set_device(ordinal), "cudaSetDevice", this);
  }

  /** Takes an idle internal lane, or creates one. Must be given back with {@link #release}. */
  CudaStream acquire() {
    CudaStream s = idle.poll();
    if (s != null) {
      return s;
    }
    s = CudaStream.create(this, staging);
    synchronized (all) {
      all.add(s);
    }
    return s;
  }

  void release(CudaStream s) {
    idle.add(s);
  }

  StagingConfig staging() {
    return staging;
  }

  // ---- scratch device memory for internal work (host-GEMM panels), reused across calls ----

  private final java.util.TreeMap<Long, java.util.ArrayDeque<Long>> scratchFree =
      new java.util.TreeMap<>();
  private long scratchCached;
  /** Bytes of idle scratch kept for reuse ({@code gpucore.scratch.cacheMiB}). */
  private final long scratchCache;

  /**
   * A device block of at least {@code bytes} (rounded up to 2 MiB): an idle cached block of at
   * most twice the size, else a new allocation; on out-of-memory the idle cache is freed and
   * the allocation tried once more. Give it back with {@link #releaseScratch}.
   */
  long scratch(long bytes) {
    long size = Math.max(2L << 20, (bytes + (2L << 20) - 1) & ~((2L << 20) - 1));
    synchronized (scratchFree) {
      var e = scratchFree.ceilingEntry(size);
      if (e != null && e.getKey() <= 2 * size) {
        long addr = e.getValue().poll();
        if (e.getValue().isEmpty()) {
          scratchFree.remove(e.getKey());
        }
        scratchCached -= e.getKey();
        scratchSizes.put(addr, e.getKey());
        return addr;
      }
    }
    if (faults.failScratch(size)) {
      trimScratch(0); // what a real out-of-memory does first
      throw new GpuCoreException.OutOfMemory("cudaMalloc(" + size + " bytes of scratch) failed"
          + " on device " + index + ": cudaErrorMemoryAllocation (" + CudaErrors.MEMORY_ALLOCATION
          + ") [" + faults.describe() + "]", false, CudaErrors.MEMORY_ALLOCATION,
          "cudaErrorMemoryAllocation");
    }
    long[] out = new long[1];
    int st = GpuCoreNative.gc_malloc(out, size);
    if (st == CudaErrors.MEMORY_ALLOCATION) {
      trimScratch(0);
      st = GpuCoreNative.gc_malloc(out, size);
    }
    CudaErrors.check(st, "cudaMalloc(" + size + " bytes of scratch)", this);
    synchronized (scratchFree) {
      scratchSizes.put(out[0], size);
    }
    return out[0];
  }

  private final java.util.HashMap<Long, Long> scratchSizes = new java.util.HashMap<>();

  /** Returns a block from {@link #scratch} to the cache (freeing the largest past the limit). */
  void releaseScratch(long addr) {
    synchronized (scratchFree) {
      Long size = scratchSizes.remove(addr);
      if (size == null) {
        return;
      }
      scratchFree.computeIfAbsent(size, k -> new java.util.ArrayDeque<>()).add(addr);
      scratchCached += size;
    }
    trimScratch(scratchCache);
  }

  /** Frees idle scratch, largest first, until at most {@code keep} bytes stay cached. */
  void trimScratch(long keep) {
    while (true) {
      long addr;
      synchronized (scratchFree) {
        if (scratchCached <= keep || scratchFree.isEmpty()) {
          return;
        }
        var e = scratchFree.lastEntry();
        addr = e.getValue().poll();
        if (e.getValue().isEmpty()) {
          scratchFree.remove(e.getKey());
        }
        scratchCached -= e.getKey();
      }
      GpuCoreNative.gc_free(addr);
    }
  }

  void close() {
    trimScratch(0);
    synchronized (all) {
      for (CudaStream s : all) {
        s.close();
      }
      all.clear();
      idle.clear();
    }
  }
}
