package dev.gpucore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.gpucore.device.Visibility;
import dev.gpucore.p2p.PeerConfig;
import dev.gpucore.spi.Router;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;

/**
 * Fuzzes the settings: the configuration file ({@code gpucore.config}), system properties and
 * environment variables with their precedence, {@link Config}, every {@link Setting}'s
 * parser and range, the router's settings ({@link Router}, {@link Router#gpuList}) and the
 * peer-copy settings ({@link PeerConfig}). Every input must end in a value or in
 * {@link GpuCoreException.InvalidArgument} with a message: never another exception, never a
 * hang.
 *
 * <p>Input format (so seeds stay readable): the text up to the first {@code \u0001} is the
 * configuration file; each later {@code \u0001}-separated part is {@code P key=value} (a system
 * property) or {@code E key=value} (an environment variable). The file is always one the test
 * writes (a fuzzed {@code gpucore.config} is ignored: reading arbitrary paths is not the point);
 * a file text starting with {@code \u0002} names a file that does not exist.
 *
 * <p>{@code mvn verify} runs the seeds in {@code SettingsFuzzTestInputs/}; fuzz with
 * {@code JAZZER_FUZZ=1 mvn -pl java/api test -Dtest=SettingsFuzzTest#settings}.
 */
class SettingsFuzzTest {
  private static Path dir;

  static synchronized Path dir() {
    if (dir == null) {
      try {
        dir = Files.createTempDirectory("gpucore-settings-fuzz");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return dir;
  }

  @AfterAll
  static void cleanUp() throws IOException {
    if (dir != null) {
      try (var files = Files.list(dir)) {
        for (Path p : files.toList()) {
          Files.deleteIfExists(p);
        }
      }
      Files.deleteIfExists(dir);
    }
  }

  /** Runs {@code r}; InvalidArgument with a message is an accepted outcome. */
  static boolean accepted(Runnable r) {
    try {
      r.run();
      return true;
    } catch (GpuCoreException.InvalidArgument e) {
      assertNotNull(e.getMessage());
      assertFalse(e.getMessage().isBlank(), "an error must say what is wrong");
      return false;
    }
  }

  @FuzzTest(maxDuration = "3m")
  // no control characters here: a newline in an entry breaks the dictionary file Jazzer writes
  @DictionaryEntries({"gpucore.backend", "gpucore.cpu.threads", "gpucore.gemm.route",
      "gpucore.gemm.disable", "gpucore.gpu.list", "gpucore.gemm.panelMiB", "gpucore.gemm.fallback",
      "gpucore.trace", "gpucore.log.file", "gpucore.gemm.cpuGflops", "gpucore.gemm.busGBs",
      "gpucore.gemm.overheadMs", "gpucore.p2p", "gpucore.p2p.wait", "gpucore.p2p.stagedChunkMiB",
      "GPUCORE_GEMM_ROUTE", "GPUCORE_GPU_LIST", "GPUCORE_BACKEND", "=",
      " = ", "#", "!", "all", "auto", "cpu", "gpu", "cuda", "sgemm,dgemm",
      "dgemm_batched", "true", "false", "yes", "0,1", "1e9", "NaN", "Infinity", "-0", "0x1p3"})
  void settings(byte[] input) throws IOException {
    String text = new String(input, StandardCharsets.UTF_8);
    String[] parts = text.split("\u0001", -1);
    Map<Object, Object> props = new HashMap<>();
    Map<String, String> env = new HashMap<>();
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i];
      int eq = p.indexOf('=');
      if (p.length() < 2 || eq < 2) {
        continue;
      }
      String key = p.substring(2, eq);
      String value = p.substring(eq + 1);
      if (key.equalsIgnoreCase("gpucore.config") || key.equalsIgnoreCase("GPUCORE_CONFIG")) {
        continue;
      }
      if (p.charAt(0) == 'P') {
        props.put(key, value);
      } else if (p.charAt(0) == 'E') {
        env.put(key, value);
      }
    }
    Path file = dir().resolve("gpucore.conf");
    if (parts[0].startsWith("\u0002")) {
      props.put("gpucore.config", dir().resolve("missing.conf").toString());
    } else {
      Files.writeString(file, parts[0], StandardCharsets.UTF_8);
      props.put("gpucore.config", file.toString());
    }

    Settings[] s = new Settings[1];
    if (!accepted(() -> s[0] = Settings.from(props, env))) {
      return;
    }
    Settings settings = s[0];
    for (String w : settings.warnings()) {
      // every warning about the file names its line
      assertTrue(w.matches("\\Q" + settings.fileName() + "\\E line [1-9][0-9]*: .+"), w);
    }
    accepted(() -> {
      Config c = Config.from(props, env);
      assertTrue(c.cpuThreads() >= 0);
      assertNotNull(c.backend());
    });
    // precedence: a non-blank system property wins, then the environment variable
    for (Setting<?> key : Setting.all()) {
      Settings.Value got = settings.value(key);
      Object p = props.get(key.key());
      String e = env.get(key.envName());
      if (p != null && !p.toString().trim().isBlank()) {
        assertEquals(p.toString().trim(), got.text(), key.key());
        assertEquals(Settings.Source.PROPERTY, got.source(), key.key());
      } else if (e != null && !e.trim().isBlank()) {
        assertEquals(e.trim(), got.text(), key.key());
        assertEquals(Settings.Source.ENVIRONMENT, got.source(), key.key());
      }
      assertTrue(got.source() == Settings.Source.DEFAULT || !got.text().isBlank(),
          key + " must not come back blank");
      if (!accepted(() -> settings.get(key))) {
        // the error names the setting as it was written
        String m = assertThrows(GpuCoreException.InvalidArgument.class, () -> settings.get(key))
            .getMessage();
        assertTrue(m.startsWith(got.where()), m);
      }
    }
    accepted(settings::validate);
    for (int gpus = 0; gpus <= 3; gpus++) {
      int g = gpus;
      accepted(() -> new Router(settings, g, null,
          in -> new dev.gpucore.spi.RouteModel.Estimate(false, 0, 0, 0, 0, 0, 0, 0, 0), g));
      accepted(() -> {
        List<Integer> list = Router.gpuList(settings, g);
        assertEquals(list.size(), new HashSet<>(list).size(), "repeated GPU in " + list);
        for (int i : list) {
          assertTrue(i >= 0 && i < g, "GPU " + i + " of " + g);
        }
      });
    }
    accepted(() -> PeerConfig.from(settings));
    Visibility v = Visibility.of(env, false);
    assertNotNull(v.describe());
  }
}
