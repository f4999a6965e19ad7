package dev.gpucore.spi;

import dev.gpucore.DType;
import dev.gpucore.memory.HostArray;

/**
 * Host arrays over memory a backend allocated (pinned memory, for one). {@link HostArray}'s
 * constructor is not public: the class registers its factory here once, when it is
 * initialized.
 */
public final class HostMemory {
  /** Wraps native memory as a host array. */
  public interface Wrapper {
    /** A host array of {@code length} elements at {@code address}; {@code free} releases it. */
    HostArray wrap(DType dtype, long length, long address, boolean pinned, Runnable free);
  }

  private static volatile Wrapper wrapper;

  private HostMemory() {}

  /** For {@link HostArray}'s initializer; a second registration is refused. */
  public static synchronized void register(Wrapper w) {
    wrapper = Facades.once(wrapper, w, "wrapper",
        "the host-array factory is registered once, by HostArray");
  }

  /**
   * A host array of {@code length} elements of {@code dtype} at {@code address}, which must
   * stay valid until {@code free} runs (when the array is closed or collected).
   */
  public static HostArray wrap(DType dtype, long length, long address, boolean pinned,
      Runnable free) {
    Facades.init(HostArray.class);
    return wrapper.wrap(dtype, length, address, pinned, free);
  }
}
