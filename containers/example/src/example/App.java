package example;

import dev.gpucore.GpuCore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A tiny application on the gpucore base image: C = A·Aᵀ for a fixed n×n matrix through
 * {@code GpuCore} (on the GPU when one is visible and the call is worth it, else on the CPU),
 * then sum(C), checked against the exact value sum over k of (sum over i of a[i][k])², computed
 * in double. Writes its line to {@code $RESULTS_DIR/example.txt} (default /results) when that
 * directory is writable. Exits 1 when the result is wrong.
 *
 * <pre>java -cp /app/gpucore-example.jar:/opt/gpucore/lib/* example.App [n]</pre>
 */
public final class App {
  private App() {}

  public static void main(String[] args) throws IOException {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 512;
    float[] a = new float[n * n];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < n; k++) {
        a[i * n + k] = ((i * 31 + k * 17) % 101) / 100f;
      }
    }
    double expected = 0;
    for (int k = 0; k < n; k++) {
      double col = 0;
      for (int i = 0; i < n; i++) {
        col += a[i * n + k];
      }
      expected += col * col;
    }
    float[] c = new float[n * n];
    try (GpuCore core = GpuCore.open()) {
      String where = core.hasGpu()
          ? core.devices().size() + " GPU(s) visible"
          : "no GPU: " + core.noGpuReason();
      core.blas().sgemm(false, true, n, n, n, 1f, a, n, a, n, 0f, c, n);
      double sum = core.reduce().sum(c);
      double rel = Math.abs(sum - expected) / expected;
      boolean ok = rel <= 1e-5;
      String line = String.format(Locale.ROOT,
          "gpucore example: n=%d sum(A*A^T)=%.9e expected %.9e rel.err %.1e %s (backend %s; %s)",
          n, sum, expected, rel, ok ? "OK" : "WRONG", core.backendName(), where);
      System.out.println(line);
      Path results = Path.of(System.getenv().getOrDefault("RESULTS_DIR", "/results"));
      if (Files.isDirectory(results) && Files.isWritable(results)) {
        Files.writeString(results.resolve("example.txt"), line + "\n", StandardCharsets.UTF_8);
      }
      if (!ok) {
        System.exit(1);
      }
    }
  }
}
