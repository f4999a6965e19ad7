package dev.gpucore.spi;

import dev.gpucore.blas.Blas;
import dev.gpucore.p2p.PeerCopy;
import dev.gpucore.reduce.Reduce;
import java.util.function.Function;

/**
 * Creates the API's facades over a core's {@link Backends}: their constructors are not public,
 * so each facade class registers its factory here once, when it is initialized. Applications
 * obtain the facades from {@code GpuCore}.
 */
public final class Facades {
  private static volatile Function<Backends, Blas> blas;
  private static volatile Function<Backends, Reduce> reduce;
  private static volatile Function<Backends, PeerCopy> peer;
  private static final String ONCE = "a facade factory is registered once, by its class";

  private Facades() {}

  /** For {@link Blas}'s initializer; a second registration is refused. */
  public static synchronized void registerBlas(Function<Backends, Blas> factory) {
    blas = once(blas, factory, "factory", ONCE);
  }

  /** For {@link Reduce}'s initializer; a second registration is refused. */
  public static synchronized void registerReduce(Function<Backends, Reduce> factory) {
    reduce = once(reduce, factory, "factory", ONCE);
  }

  /** For {@link PeerCopy}'s initializer; a second registration is refused. */
  public static synchronized void registerPeer(Function<Backends, PeerCopy> factory) {
    peer = once(peer, factory, "factory", ONCE);
  }

  /** The GEMM facade over {@code backends} (its router built from their configuration). */
  public static Blas blas(Backends backends) {
    init(Blas.class);
    return blas.apply(backends);
  }

  /** The reduction facade over {@code backends}. */
  public static Reduce reduce(Backends backends) {
    init(Reduce.class);
    return reduce.apply(backends);
  }

  /** The peer-copy facade over {@code backends}. */
  public static PeerCopy peer(Backends backends) {
    init(PeerCopy.class);
    return peer.apply(backends);
  }

  /**
   * {@code value} (named {@code name}, not null) when nothing is registered yet ({@code old}
   * null); otherwise refused with {@code refusal}.
   */
  static <T> T once(T old, T value, String name, String refusal) {
    if (old != null) {
      throw new IllegalStateException(refusal);
    }
    return java.util.Objects.requireNonNull(value, name);
  }

  /** Runs the class's initializer (which registers its factory) if it has not run yet. */
  static void init(Class<?> c) {
    try {
      Class.forName(c.getName(), true, c.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException(e);
    }
  }
}
