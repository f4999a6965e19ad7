package dev.gpucore.bench;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/** Pointer objects over raw addresses for the bare baselines (no allocation, nothing owned). */
final class Addr {
  private Addr() {}

  static Pointer at(long addr) {
    return new Pointer() {
      {
        this.address = addr;
      }
    };
  }

  static FloatPointer floats(long addr) {
    return new FloatPointer(at(addr));
  }
}
