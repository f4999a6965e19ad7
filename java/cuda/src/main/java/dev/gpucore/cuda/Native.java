package dev.gpucore.cuda;

import org.bytedeco.javacpp.Pointer;

/** Small helpers around JavaCPP pointers. */
final class Native {
  private Native() {}

  /** A pointer object at {@code address}, owning nothing (no allocation, no accounting). */
  static Pointer at(long address) {
    return new Pointer() {
      {
        this.address = address;
      }
    };
  }

  /** A string from a NUL-terminated byte buffer, bounded by the buffer. */
  static String cString(byte[] b) {
    int n = 0;
    while (n < b.length && b[n] != 0) {
      n++;
    }
    return new String(b, 0, n, java.nio.charset.StandardCharsets.UTF_8).trim();
  }
}
