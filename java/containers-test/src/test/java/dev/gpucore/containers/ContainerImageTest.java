package dev.gpucore.containers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The container image, built and run for real: containers/test/run-container-test.sh builds the
 * runtime stage of containers/Dockerfile with buildah on a stand-in for the nvidia/cuda runtime
 * image, from the GPU test bundle of this very build, runs it (devices, HEALTHCHECK, demo, test
 * suite, user and environment checks), measures the layer it adds and builds and runs the example
 * application image on it. Exit 77 from the script means the environment cannot run it (no root,
 * no buildah, no Debian mirror...): the test is then skipped with that reason. Any other non-zero
 * exit is a failure.
 */
class ContainerImageTest {
  private static final int DEMO_N = 300;
  private static final long DEMO_SEED = 42;
  private static final long TIMEOUT_MINUTES = 20;
  private static final long LAYER_BUDGET_BYTES = 150_000_000L;

  @Test
  void runtimeImageBuildsAndRunsOnTheStandInBase() throws Exception {
    if (Boolean.getBoolean("gpucore.containers.skip")
        || "true".equalsIgnoreCase(System.getenv("GPUCORE_CONTAINERS_SKIP"))) {
      skip("switched off (-Dgpucore.containers.skip=true or GPUCORE_CONTAINERS_SKIP=true)");
    }
    if (!System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux")) {
      skip("needs Linux (buildah, debootstrap), this is " + System.getProperty("os.name"));
    }
    Path root = Path.of(property("gpucore.root"));
    Path script = root.resolve("containers/test/run-container-test.sh");
    assertTrue(Files.isRegularFile(script), "missing " + script);
    Path deps = Path.of(property("gpucore.containers.deps"));
    try (Stream<Path> jars = Files.list(deps)) {
      assertTrue(jars.anyMatch(p -> p.getFileName().toString().startsWith("gpucore-cli-")),
          "no gpucore-cli jar in " + deps + " (maven-dependency-plugin copies the bundle's jars there)");
    }
    Path work = Path.of(property("gpucore.containers.work"));
    Path tree = Path.of(property("gpucore.containers.tree"));
    double expected = demoSum(DEMO_N, DEMO_SEED);

    List<String> cmd = List.of("bash", script.toString(), "--deps", deps.toString(),
        "--work", work.toString(), "--expect-sum", Double.toString(expected),
        "--export-tree", tree.toString());
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    Path javaHome = Path.of(System.getProperty("java.home"));
    if (Files.isExecutable(javaHome.resolve("bin/jlink"))) {
      pb.environment().put("JAVA_HOME", javaHome.toString());
    }
    System.out.println("container test: " + String.join(" ", cmd));
    Process p = pb.start();
    List<String> output = new ArrayList<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(
          new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          System.out.println(line);
          synchronized (output) {
            output.add(line);
          }
        }
      } catch (IOException e) {
        // the process went away; its exit code says the rest
      }
    }, "container-test-output");
    reader.start();
    if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
      p.descendants().forEach(ProcessHandle::destroy);
      p.destroy();
      fail("container test did not finish in " + TIMEOUT_MINUTES + " minutes\n" + tail(output));
    }
    reader.join(10_000);
    int rc = p.exitValue();
    if (rc == 77) {
      String reason = last(output, "SKIP: ");
      skip(reason != null ? reason : "the script gave no reason (exit 77)");
    }
    assertEquals(0, rc, () -> "container test failed (exit " + rc + "): "
        + (last(output, "FAIL: ") != null ? last(output, "FAIL: ") : "see the output") + "\n" + tail(output));

    // The script checked these; check the outputs it kept once more, independently.
    String devices = Files.readString(work.resolve("devices.out"));
    assertTrue(devices.startsWith("No GPU visible: "),
        "gpucore devices in the container without a GPU printed: " + devices);
    String demo = Files.readString(work.resolve("demo.out"));
    Matcher m = Pattern.compile("(?m)^cpu : gemm .*sum\\(C\\) = ([-+0-9.eE]+)").matcher(demo);
    assertTrue(m.find(), "no 'cpu : gemm ... sum(C) = ...' line in the container's demo output:\n" + demo);
    double sum = Double.parseDouble(m.group(1));
    assertEquals(expected, sum, 1e-5 * expected, () -> "sum(C) of gpucore demo --n " + DEMO_N
        + " in the container; the reference assumes DemoCommand fills A row-major with "
        + "(float) SplittableRandom(seed).nextDouble()");
    List<String> inside = Files.readAllLines(work.resolve("inside.out"));
    assertNotEquals("0", inside.get(0), "the container runs as root");
    assertTrue(inside.contains("NVIDIA_VISIBLE_DEVICES=all"), "inside: " + inside);
    assertTrue(inside.contains("NVIDIA_DRIVER_CAPABILITIES=compute,utility"), "inside: " + inside);
    assertTrue(inside.contains("NVIDIA_REQUIRE_CUDA=cuda>=13.0"), "inside: " + inside);
    String size = Files.readString(work.resolve("layer-size.txt"));
    Matcher s = Pattern.compile("added layer\\(s\\): (\\d+) bytes uncompressed").matcher(size);
    assertTrue(s.find(), "no layer size in " + size);
    long raw = Long.parseLong(s.group(1));
    assertTrue(raw > 10_000_000L && raw <= LAYER_BUDGET_BYTES,
        "layer gpucore adds: " + raw + " bytes, expected a JRE and jars under " + LAYER_BUDGET_BYTES);
    assertTrue(Files.size(tree) > 10_000_000L, "runtime tree " + tree + " is too small");
    System.out.println("container test passed; " + size.lines().skip(1).findFirst().orElse("")
        + "; runtime tree: " + tree);
  }

  /**
   * sum(A·Aᵀ) for the demo's matrix, exactly in double: the sum over columns k of (sum over rows
   * i of a[i][k])². The demo fills A row-major with uniform [0, 1) floats from
   * SplittableRandom(seed).
   */
  static double demoSum(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] a = new float[n * n];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) r.nextDouble();
    }
    double total = 0;
    for (int k = 0; k < n; k++) {
      double col = 0;
      for (int i = 0; i < n; i++) {
        col += a[i * n + k];
      }
      total += col * col;
    }
    return total;
  }

  /** Skips the test, saying why in the build log and in the report. */
  private static void skip(String reason) {
    System.out.println("container test skipped: " + reason);
    assumeTrue(false, "container test skipped: " + reason);
  }

  private static String property(String name) {
    String v = System.getProperty(name);
    assertTrue(v != null && !v.isBlank(), "system property " + name + " is not set (the pom sets it)");
    return v;
  }

  private static String last(List<String> lines, String prefix) {
    synchronized (lines) {
      for (int i = lines.size() - 1; i >= 0; i--) {
        String l = lines.get(i);
        if (l.startsWith(prefix)) {
          return l.substring(prefix.length());
        }
      }
    }
    return null;
  }

  private static String tail(List<String> lines) {
    synchronized (lines) {
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }
  }
}
