package dev.gpucore.cuda;

import dev.gpucore.GpuCoreException;
import dev.gpucore.cuda.bindings.GpuCoreNative;
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

  DeviceState(int index, int ordinal, StagingConfig staging) {
    this.index = index;
    this.ordinal = ordinal;
    this.staging = staging;
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
    s = CudaStream.create(this, staging, true);
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

  void close() {
    synchronized (all) {
      for (CudaStream s : all) {
        s.close();
      }
      all.clear();
      idle.clear();
    }
  }
}
