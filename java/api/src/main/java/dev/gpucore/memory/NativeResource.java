package dev.gpucore.memory;

import dev.gpucore.GpuCoreException;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Base of every native resource gpucore hands out. {@link #close()} releases it at once and is
 * idempotent; a {@link Cleaner} is only the safety net, and a resource it has to release is
 * logged as a leak (with the allocation site when {@code -Dgpucore.leakSites=true}) and counted
 * in {@link NativeMemory#leaks()}.
 */
public abstract class NativeResource implements AutoCloseable {
  private static final Cleaner CLEANER = Cleaner.create();
  private static final boolean SITES = leakSites();

  /** {@code gpucore.leakSites}, read once; a malformed value is reported by GpuCore.open. */
  private static boolean leakSites() {
    try {
      return dev.gpucore.Settings.fromEnvironment().get(dev.gpucore.Setting.LEAK_SITES);
    } catch (dev.gpucore.GpuCoreException.InvalidArgument e) {
      return false;
    }
  }
  private static final System.Logger LOG = System.getLogger("dev.gpucore.leaks");

  private final Release release;
  private final Cleaner.Cleanable cleanable;

  /**
   * Registers the resource. {@code free} must not refer to this object (it runs after it is
   * unreachable); it is called exactly once.
   */
  protected NativeResource(NativeMemory.Kind kind, long bytes, String what, Runnable free) {
    this.release = new Release(kind, bytes, what, free,
        SITES ? new Throwable("allocated here") : null);
    NativeMemory.added(kind, bytes);
    this.cleanable = CLEANER.register(this, release);
  }

  /** Whether {@link #close()} has been called. */
  public final boolean isClosed() {
    return release.closed.get();
  }

  /** Throws if closed, naming the resource. */
  protected final void ensureOpen() {
    if (release.closed.get()) {
      throw new GpuCoreException.InvalidArgument(release.what + " is closed");
    }
  }

  /** Releases the native resource now; later calls do nothing. */
  @Override
  public void close() {
    if (release.closed.compareAndSet(false, true)) {
      cleanable.clean();
    }
  }

  private static final class Release implements Runnable {
    final AtomicBoolean closed = new AtomicBoolean();
    final NativeMemory.Kind kind;
    final long bytes;
    final String what;
    final Runnable free;
    final Throwable site;

    Release(NativeMemory.Kind kind, long bytes, String what, Runnable free, Throwable site) {
      this.kind = kind;
      this.bytes = bytes;
      this.what = what;
      this.free = free;
      this.site = site;
    }

    @Override
    public void run() {
      if (closed.compareAndSet(false, true)) {
        NativeMemory.leaked();
        LOG.log(System.Logger.Level.WARNING,
            "gpucore: " + what + " was not closed; released by the garbage collector"
                + (site == null ? " (run with -Dgpucore.leakSites=true to see where it was allocated)" : ""),
            site);
      }
      try {
        free.run();
      } finally {
        NativeMemory.removed(kind, bytes);
      }
    }
  }
}
