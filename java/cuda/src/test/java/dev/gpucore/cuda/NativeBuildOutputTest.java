package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * {@code mvn -q} stays quiet about the native build: CMake's output reaches Maven's log (its
 * progress at INFO, which {@code -q} hides; its errors at ERROR), and CMake itself prints no
 * line that reads like an error when nothing is wrong. Runs in the Maven build only (it needs
 * the module's pom and CMake build folder).
 */
class NativeBuildOutputTest {
  static final Path POM = Path.of("pom.xml");
  static final Path BUILD = Path.of("target", "native-build");
  static final Path SOURCE = Path.of("..", "..", "native");

  @Test
  void cmakeRunsThroughMavensLog() throws Exception {
    assumeTrue(Files.isRegularFile(POM) && Files.isDirectory(SOURCE),
        "not in the source tree (the GPU bundle has no pom)");
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    Document pom = f.newDocumentBuilder().parse(POM.toFile());
    NodeList ids = pom.getElementsByTagName("artifactId");
    boolean found = false;
    for (int i = 0; i < ids.getLength(); i++) {
      if (!ids.item(i).getTextContent().trim().equals("exec-maven-plugin")) {
        continue;
      }
      Element plugin = (Element) ids.item(i).getParentNode();
      NodeList logger = plugin.getElementsByTagName("useMavenLogger");
      assertEquals(1, logger.getLength(), "exec-maven-plugin needs <useMavenLogger>");
      assertEquals("true", logger.item(0).getTextContent().trim());
      found = true;
    }
    assertTrue(found, "no exec-maven-plugin in " + POM);
  }

  @Test
  void configuringSaysNothingThatReadsLikeAnError() throws IOException, InterruptedException {
    assumeTrue(Files.isRegularFile(BUILD.resolve("CMakeCache.txt")) && Files.isDirectory(SOURCE),
        "no CMake build folder (runs in the Maven build, after the native build)");
    // the same configure step as the pom's cmake-configure execution, on its build folder
    Process p = new ProcessBuilder("cmake", "-S", SOURCE.toString(), "-B", BUILD.toString(),
        "-DCMAKE_BUILD_TYPE=Release").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "cmake did not finish");
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("-- Configuring done"), out);
    assertFalse(out.contains("Unable to find"), out);
    assertFalse(out.contains("Warning"), out);
  }
}
