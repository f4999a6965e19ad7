package dev.gpucore.bench.suites;

/** Argument checks shared by the suites, run before anything is opened. */
final class Checks {
  private Checks() {}

  /**
   * Fails when {@code bytes} of Java arrays cannot fit this JVM's heap ({@code -Xmx}).
   *
   * @param what the argument and value, as the message names them
   */
  static void heap(String what, long bytes) {
    long max = Runtime.getRuntime().maxMemory();
    if (bytes > max) {
      throw new IllegalArgumentException(what + " needs about " + Fmt.bytes(bytes)
          + " of Java heap; this JVM may use " + Fmt.bytes(max)
          + " (raise it with java -Xmx..., or GPUCORE_JAVA_OPTS=-Xmx... for the bundle)");
    }
  }
}
