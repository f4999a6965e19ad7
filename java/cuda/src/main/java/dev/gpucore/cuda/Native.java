package dev.gpucore.cuda;

import org.bytedeco.javacpp.Pointer;

/** Small helpers around JavaCPP pointers. */
final class Native {
  private Native() {}

  /** A pointer object at {@code address}, owning nothing (no allocation, no accounting). */
  static Pointer at(long addr) {
    // (the parameter must not be called "address": inside the anonymous class that name is
    // the inherited field, and the field would be assigned to itself)
    return new Pointer() {
      {
        this.address = addr;
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
