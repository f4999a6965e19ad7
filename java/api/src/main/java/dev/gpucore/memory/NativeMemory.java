package dev.gpucore.memory;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Live counts of native memory and handles held through gpucore, per kind. Every
 * {@link NativeResource} adds itself when created and removes itself when released, so tests
 * can assert that the counts come back to where they started.
 */
public final class NativeMemory {
  /** Kinds of native resource gpucore tracks. */
  public enum Kind {
    /** Device memory (cudaMalloc). */
    DEVICE,
    /** Page-locked host memory (cudaMallocHost). */
    PINNED,
    /** Ordinary off-heap host memory. */
    PAGEABLE,
    /** Streams, events, library handles (counted, zero bytes). */
    HANDLE
  }

  private static final AtomicLong[] BYTES = new AtomicLong[Kind.values().length];
  private static final AtomicLong[] COUNT = new AtomicLong[Kind.values().length];
  private static final AtomicLong LEAKS = new AtomicLong();

  static {
    for (int i = 0; i < BYTES.length; i++) {
      BYTES[i] = new AtomicLong();
      COUNT[i] = new AtomicLong();
    }
  }

  private NativeMemory() {}

  static void added(Kind kind, long bytes) {
    BYTES[kind.ordinal()].addAndGet(bytes);
    COUNT[kind.ordinal()].incrementAndGet();
  }

  static void removed(Kind kind, long bytes) {
    BYTES[kind.ordinal()].addAndGet(-bytes);
    COUNT[kind.ordinal()].decrementAndGet();
  }

  static void leaked() {
    LEAKS.incrementAndGet();
  }

  /** Bytes of this kind held now. */
  public static long liveBytes(Kind kind) {
    return BYTES[kind.ordinal()].get();
  }

  /** Number of resources of this kind held now. */
  public static long liveCount(Kind kind) {
    return COUNT[kind.ordinal()].get();
  }

  /** Resources released by the garbage collector instead of {@code close()} since start. */
  public static long leaks() {
    return LEAKS.get();
  }

  /** One line with every count, for logs and test failures. */
  public static String summary() {
    StringBuilder sb = new StringBuilder();
    for (Kind k : Kind.values()) {
      sb.append(k.name().toLowerCase(java.util.Locale.ROOT)).append('=')
          .append(liveCount(k)).append('/').append(liveBytes(k)).append("B ");
    }
    return sb.append("leaks=").append(leaks()).toString();
  }
}
