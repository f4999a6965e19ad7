package dev.gpucore.spi;

import dev.gpucore.DType;
import dev.gpucore.device.Discovery;
import dev.gpucore.memory.HostArray;

/**
 * A compute backend. Implementations live in their own modules ({@code gpucore-cpu},
 * {@code gpucore-cuda}) and are found through {@link BackendProvider}. Methods here receive
 * arguments already checked by the API.
 */
public interface Backend extends AutoCloseable {
  /** Short name: {@code cpu} or {@code cuda}. */
  String name();

  /** The devices this backend uses (none for the CPU). */
  Discovery discovery();

  /** Allocates off-heap host memory; {@code pinned} may be ignored by backends without a GPU. */
  HostArray allocateHost(DType dtype, long length, boolean pinned);

  /** Threads the backend computes with on the CPU (for the router's cost model). */
  default int cpuThreads() {
    return Runtime.getRuntime().availableProcessors();
  }

  /** The backend's BLAS. */
  BlasOps blas();

  /** The backend's reductions. */
  ReduceOps reductions();

  /** Releases everything the backend holds. */
  @Override
  void close();
}
