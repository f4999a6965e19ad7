package dev.gpucore.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * docs/spark.md's steps with spark-submit, in local-cluster mode: a Spark installation whose
 * jars/ holds Spark's jars only (links to those on this class path), gpucore's jars given with
 * --jars, the documented settings, and an application that checks every executor bound its GPU
 * and got JNIBLAS. SparkSubmit's main runs in a child JVM as bin/spark-submit would start it
 * (without spark.testing: the executors get only SPARK_HOME/jars and the --jars).
 */
class SparkSubmitTest {
  @Test
  void sparkSubmitWithTheDocumentedSettingsGetsJniBlasThroughGpucore() throws Exception {
    SparkFixture.assumeSparkExecution();
    Path work = SparkFixture.work("submit");
    Path home = Files.createDirectories(work.resolve("spark"));
    Path jars = Files.createDirectories(home.resolve("jars"));
    Files.createDirectories(home.resolve("launcher/target/scala-2.13"));
    List<String> gpucore = new ArrayList<>();
    Path classes = null;
    Path testClasses = null;
    for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path p = Path.of(e);
      String name = p.getFileName().toString();
      if (Files.isDirectory(p)) {
        if (name.equals("classes")) {
          classes = p;
        } else if (name.equals("test-classes")) {
          testClasses = p;
        }
      } else if (e.contains("/dev/gpucore/") || name.startsWith("gpucore-")) {
        if (!name.contains("-tests")) {
          gpucore.add(p.toString()); // gpucore's own jars
        } else {
          testClasses = p;
        }
      } else if (e.contains("/org/bytedeco/")) {
        gpucore.add(p.toString()); // what gpucore needs besides Spark
      } else if (!e.contains("junit") && !e.contains("opentest4j") && !e.contains("apiguardian")
          && !e.contains("surefire")) {
        Files.createSymbolicLink(jars.resolve(name), p); // Spark and what it brings
      }
    }
    if (classes != null) {
      gpucore.add(jar(classes, work.resolve("gpucore-spark.jar"), "").toString());
    }
    Path app = testClasses != null && Files.isDirectory(testClasses)
        ? jar(testClasses, work.resolve("app.jar"), "dev/gpucore/spark/SubmitApp")
        : testClasses;
    Path script = SparkFixture.discoveryScript(work, List.of(List.of("0"), List.of("1")));
    Path trace = work.resolve("gpucore-blas.trace");

    List<String> cmd = new ArrayList<>(List.of(
        ProcessHandle.current().info().command().orElse("java")));
    cmd.addAll(List.of(System.getProperty("gpucore.spark.javaOptions", "").split(" ")));
    cmd.addAll(List.of("-cp", home.resolve("conf") + File.pathSeparator + jars + "/*",
        "org.apache.spark.deploy.SparkSubmit",
        "--master", "local-cluster[2,1,1024]",
        "--jars", String.join(",", gpucore),
        "--conf", "spark.plugins=dev.gpucore.spark.GpuCorePlugin",
        "--conf", "spark.executor.resource.gpu.amount=1",
        "--conf", "spark.task.resource.gpu.amount=1",
        "--conf", "spark.executor.resource.gpu.discoveryScript=" + script,
        "--conf", "spark.executorEnv.GPUCORE_LOG_FILE=" + trace,
        // local-cluster's workers offer the GPUs, as a standalone cluster's do
        "--conf", "spark.worker.resource.gpu.amount=1",
        "--conf", "spark.worker.resource.gpu.discoveryScript=" + script,
        "--conf", "spark.executor.memory=512m",
        "--conf", "spark.ui.enabled=false",
        "--conf", "spark.local.dir=" + work.resolve("local"),
        "--class", "dev.gpucore.spark.SubmitApp", app.toString()));
    cmd.removeIf(String::isEmpty);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(work.resolve("spark-submit.log").toFile());
    pb.environment().put("SPARK_HOME", home.toString());
    pb.environment().put("SPARK_SCALA_VERSION", "2.13");
    Process p = pb.start();
    assertTrue(p.waitFor(180, TimeUnit.SECONDS), "spark-submit did not finish in 180 s");
    String log = Files.readString(work.resolve("spark-submit.log"));
    String seen = String.join("\n", log.lines().filter(l -> l.startsWith("seen: ")
        || l.startsWith("submit-app: ")).toList());
    assertEquals(0, p.exitValue(), seen.isEmpty() ? tail(log) : seen);
    assertTrue(log.contains("submit-app: ok"), seen);
    assertTrue(seen.contains("address 0 selected 0") && seen.contains("address 1 selected 1"), seen);
  }

  private static String tail(String log) {
    List<String> l = log.lines().toList();
    return String.join("\n", l.subList(Math.max(0, l.size() - 40), l.size()));
  }

  /** A jar of the class files under dir whose paths start with prefix. */
  private static Path jar(Path dir, Path out, String prefix) throws IOException {
    try (OutputStream o = Files.newOutputStream(out); JarOutputStream j = new JarOutputStream(o);
         Stream<Path> s = Files.walk(dir)) {
      for (Path f : s.filter(Files::isRegularFile).sorted().toList()) {
        String name = dir.relativize(f).toString().replace(File.separatorChar, '/');
        if (name.startsWith(prefix)) {
          j.putNextEntry(new JarEntry(name));
          Files.copy(f, j);
          j.closeEntry();
        }
      }
    }
    return out;
  }
}
