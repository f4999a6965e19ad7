package dev.gpucore.cuda;

/** Condenses native-library load failures into one line a person can act on. */
final class LoadErrors {
  private LoadErrors() {}

  /** The most specific message in the cause chain, e.g. "libcuda.so.1: cannot open ...". */
  static String describe(Throwable t) {
    String best = null;
    for (Throwable c = t; c != null; c = c.getCause()) {
      String m = c.getMessage();
      if (m == null) {
        continue;
      }
      if (m.contains("cannot open shared object file") || m.contains(".so")) {
        best = m;
      } else if (best == null) {
        best = m;
      }
    }
    if (best == null) {
      best = t.getClass().getSimpleName();
    }
    // keep only the part after the last "): " or "error: " JavaCPP chains
    int i = best.lastIndexOf("lib");
    String tail = best;
    int so = best.indexOf("cannot open shared object file");
    if (so > 0 && i >= 0) {
      int start = best.lastIndexOf(' ', best.lastIndexOf(':', so - 1) - 1) + 1;
      tail = best.substring(Math.max(0, start)).trim();
    }
    return tail.length() > 300 ? tail.substring(0, 300) + "..." : tail;
  }

  /** One line for a failure to load the CUDA runtime. */
  static String cudaRuntime(Throwable t) {
    String d = describe(t);
    if (d.contains("libcuda.so")) {
      return "no NVIDIA driver on this machine (" + d + ")";
    }
    if (d.contains("libcudart.so") || d.contains("libcublas")) {
      return "the CUDA 13 runtime libraries are missing (" + d + "); install the CUDA 13 "
          + "runtime or use an nvidia/cuda:13 image";
    }
    return "the CUDA runtime could not be loaded (" + d + ")";
  }
}
