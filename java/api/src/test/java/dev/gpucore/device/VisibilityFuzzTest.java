package dev.gpucore.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

/**
 * Fuzzes the parsing of {@code CUDA_VISIBLE_DEVICES}, {@code CUDA_DEVICE_ORDER},
 * {@code NVIDIA_VISIBLE_DEVICES} / {@code NV_GPU} and {@code GPUCORE_IN_CONTAINER}: nothing in
 * {@link Visibility} may throw for any value, and the results keep CUDA's rules (positions in
 * range, none twice, none for an empty value, every device for an unset one).
 *
 * <p>Input: {@code \u0001}-separated parts, in order NVIDIA_VISIBLE_DEVICES, NV_GPU,
 * CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER, GPUCORE_IN_CONTAINER (a part that is exactly
 * {@code \u0002}, or missing, leaves the variable unset), then the UUIDs of the devices, one per
 * part. {@code mvn verify} runs the seeds in {@code VisibilityFuzzTestInputs/}.
 */
class VisibilityFuzzTest {
  static final String[] VARS = {"NVIDIA_VISIBLE_DEVICES", "NV_GPU", "CUDA_VISIBLE_DEVICES",
      "CUDA_DEVICE_ORDER", "GPUCORE_IN_CONTAINER"};

  @FuzzTest(maxDuration = "3m")
  // no control characters here: a newline in an entry breaks the dictionary file Jazzer writes
  @DictionaryEntries({",", "GPU-", "MIG-", "all", "none", "void", "0", "1",
      "PCI_BUS_ID", "FASTEST_FIRST", "true", "GPU-8a2c", "4294967296", "-1", " "})
  void variables(byte[] input) {
    String[] parts = new String(input, StandardCharsets.UTF_8).split("\u0001", -1);
    Map<String, String> env = new HashMap<>();
    for (int i = 0; i < VARS.length && i < parts.length; i++) {
      if (!parts[i].equals("\u0002")) {
        env.put(VARS[i], parts[i]);
      }
    }
    List<String> uuids = parts.length > VARS.length
        ? new ArrayList<>(Arrays.asList(parts).subList(VARS.length, parts.length))
        : new ArrayList<>();
    if (uuids.size() > 64) {
      uuids = uuids.subList(0, 64);
    }

    boolean container = Visibility.detectContainer(env);
    for (boolean inContainer : new boolean[] {false, true, container}) {
      Visibility v = Visibility.of(env, inContainer);
      assertNotNull(v.nvidiaMode());
      assertNotNull(v.describe());
      assertNotNull(v.cudaDeviceOrder());
      assertFalse(v.cudaDeviceOrder().isBlank());
      assertNotNull(v.explainNoDevice(uuids));
      assertNotNull(v.explainNoDevice(null));
      assertNotNull(v.explainAllHidden(uuids.size()));
      for (int i = -1; i <= uuids.size(); i++) {
        String uuid = i >= 0 && i < uuids.size() ? uuids.get(i) : null;
        boolean allowed = v.nvidiaAllows(i, uuid);
        if (v.nvidiaMode() == Visibility.Mode.ALL) {
          assertTrue(allowed, "mode ALL hides nothing");
        } else if (v.nvidiaMode() == Visibility.Mode.NONE) {
          assertFalse(allowed, "mode NONE hides everything");
        }
      }
    }

    String spec = env.get("CUDA_VISIBLE_DEVICES");
    List<Integer> visible = Visibility.applyCudaVisibleDevices(spec, uuids);
    assertEquals(visible.size(), new HashSet<>(visible).size(), "a device twice: " + visible);
    for (int p : visible) {
      assertTrue(p >= 0 && p < uuids.size(), "position " + p + " of " + uuids.size());
    }
    if (spec == null) {
      assertEquals(uuids.size(), visible.size(), "unset keeps every device");
    } else if (spec.isBlank()) {
      assertTrue(visible.isEmpty(), "set but empty hides every device");
    }
  }
}
