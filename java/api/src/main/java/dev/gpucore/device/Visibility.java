package dev.gpucore.device;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The device-visibility conventions of CUDA and the NVIDIA Container Toolkit, read from the
 * environment.
 *
 * <ul>
 *   <li>{@code CUDA_VISIBLE_DEVICES}: applied by the CUDA runtime itself. A list of indices or
 *       UUIDs (a unique prefix of {@code GPU-...} is enough); the first entry that is invalid,
 *       out of range, repeated or unmatched hides itself and every entry after it; set but empty
 *       hides every device. gpucore reproduces these rules only to explain the result.
 *   <li>{@code CUDA_DEVICE_ORDER}: {@code FASTEST_FIRST} (CUDA's default) or {@code PCI_BUS_ID}
 *       (NVML's order); applied by the CUDA runtime.
 *   <li>{@code NVIDIA_VISIBLE_DEVICES}: {@code all}, {@code none}, {@code void}, or a list of NVML
 *       indices or UUIDs. The container runtime applies it when a container starts; gpucore
 *       applies it too (see {@link #nvidiaAllows}), so the same setting means the same thing on a
 *       bare host: {@code none}, {@code void} and the empty string hide every GPU.
 *   <li>{@code NV_GPU}: the legacy nvidia-docker variable, read like
 *       {@code NVIDIA_VISIBLE_DEVICES} when that is unset.
 * </ul>
 */
public final class Visibility {
  /** What a container-toolkit style variable asks for. */
  public enum Mode {
    /** Every device. */
    ALL,
    /** No device. */
    NONE,
    /** The listed devices. */
    LIST
  }

  private final String nvidiaVariable;
  private final String nvidiaRaw;
  private final Mode nvidiaMode;
  private final List<String> nvidiaEntries;
  private final String cudaVisible;
  private final String cudaDeviceOrder;
  private final boolean inContainer;

  private Visibility(String nvidiaVariable, String nvidiaRaw, String cudaVisible,
      String cudaDeviceOrder, boolean inContainer) {
    this.nvidiaVariable = nvidiaVariable;
    this.nvidiaRaw = nvidiaRaw;
    this.cudaVisible = cudaVisible;
    this.cudaDeviceOrder = cudaDeviceOrder;
    this.inContainer = inContainer;
    List<String> entries = new ArrayList<>();
    Mode mode;
    if (nvidiaRaw == null) {
      mode = Mode.ALL;
    } else {
      String v = nvidiaRaw.trim().toLowerCase(Locale.ROOT);
      if (v.equals("all")) {
        mode = Mode.ALL;
      } else if (v.isEmpty() || v.equals("none") || v.equals("void")) {
        mode = Mode.NONE;
      } else {
        mode = Mode.LIST;
        for (String e : nvidiaRaw.split(",")) {
          if (!e.isBlank()) {
            entries.add(e.trim());
          }
        }
      }
    }
    this.nvidiaMode = mode;
    this.nvidiaEntries = List.copyOf(entries);
  }

  /** Reads the process environment and detects whether this runs in a container. */
  public static Visibility fromEnvironment() {
    Map<String, String> env = System.getenv();
    return of(env, detectContainer(env));
  }

  /** Reads the given environment; {@code inContainer} says whether the runtime applied it. */
  public static Visibility of(Map<String, String> env, boolean inContainer) {
    String var = "NVIDIA_VISIBLE_DEVICES";
    String raw = env.get(var);
    if (raw == null && env.get("NV_GPU") != null) {
      var = "NV_GPU";
      raw = env.get("NV_GPU");
    }
    return new Visibility(var, raw, env.get("CUDA_VISIBLE_DEVICES"),
        env.get("CUDA_DEVICE_ORDER"), inContainer);
  }

  /**
   * Whether this process runs in a container: {@code GPUCORE_IN_CONTAINER} (true/false) if set,
   * else {@code /.dockerenv}, {@code /run/.containerenv} or the {@code container} variable.
   */
  public static boolean detectContainer(Map<String, String> env) {
    String forced = env.get(dev.gpucore.Setting.IN_CONTAINER.envName());
    if (forced != null && !forced.isBlank()) {
      try {
        return dev.gpucore.Setting.IN_CONTAINER.valueOf(forced);
      } catch (dev.gpucore.GpuCoreException.InvalidArgument e) {
        // reported by GpuCore.open, which validates every setting; detect meanwhile
      }
    }
    return env.get("container") != null
        || Files.exists(Path.of("/.dockerenv"))
        || Files.exists(Path.of("/run/.containerenv"));
  }

  /** Whether gpucore found itself in a container. */
  public boolean inContainer() {
    return inContainer;
  }

  /** {@code CUDA_VISIBLE_DEVICES} as set, or null when unset. */
  public String cudaVisibleDevices() {
    return cudaVisible;
  }

  /** {@code CUDA_DEVICE_ORDER} as set, or {@code FASTEST_FIRST} (CUDA's default). */
  public String cudaDeviceOrder() {
    String t = cudaDeviceOrder == null ? "" : cudaDeviceOrder.trim(); // trimmed, then tested:
    return t.isBlank() ? "FASTEST_FIRST" : t; // control characters alone came back as ""
  }

  /** The mode that {@code NVIDIA_VISIBLE_DEVICES} (or {@code NV_GPU}) asks for. */
  public Mode nvidiaMode() {
    return nvidiaMode;
  }

  /**
   * Whether a device with this NVML index and UUID passes {@code NVIDIA_VISIBLE_DEVICES} (or
   * {@code NV_GPU}) as gpucore applies it:
   *
   * <ul>
   *   <li>unset or {@code all}: every device;
   *   <li>{@code none}, {@code void} or empty: no device, in a container or not (where the
   *       container runtime applied it there is no GPU to hide anyway; where it did not, as in a
   *       process started with the variable set, gpucore honours it);
   *   <li>a list: UUID entries always select by UUID; index entries are NVML indices and are
   *       applied only outside a container, since inside one the runtime has already renumbered
   *       the devices it passed in (a list with an index entry is then left to the runtime).
   * </ul>
   */
  public boolean nvidiaAllows(int nvmlIndex, String uuid) {
    if (nvidiaRaw == null || nvidiaMode == Mode.ALL) {
      return true;
    }
    if (nvidiaMode == Mode.NONE) {
      return false;
    }
    boolean anyIndex = nvidiaEntries.stream().anyMatch(Visibility::isIndex);
    if (inContainer && anyIndex) {
      return true;
    }
    for (String e : nvidiaEntries) {
      if (isIndex(e)) {
        if (nvmlIndex >= 0 && parseIndexOrMax(e) == nvmlIndex) {
          return true;
        }
      } else if (uuid != null && !uuid.isEmpty() && uuid.equalsIgnoreCase(e)) {
        return true;
      }
    }
    return false;
  }

  /**
   * CUDA's rule for {@code CUDA_VISIBLE_DEVICES}: given the UUIDs of the devices in CUDA's
   * enumeration order, returns the positions that stay visible, in the order the variable
   * names them. {@code spec == null} keeps every device; an empty spec hides every device.
   */
  public static List<Integer> applyCudaVisibleDevices(String spec, List<String> uuidsInOrder) {
    List<Integer> out = new ArrayList<>();
    if (spec == null) {
      for (int i = 0; i < uuidsInOrder.size(); i++) {
        out.add(i);
      }
      return out;
    }
    for (String raw : spec.split(",", -1)) {
      String e = raw.trim();
      int match = -1;
      if (isIndex(e)) {
        try {
          int i = Integer.parseInt(e);
          match = i < uuidsInOrder.size() ? i : -1;
        } catch (NumberFormatException tooLarge) {
          match = -1;
        }
      } else if (e.regionMatches(true, 0, "GPU-", 0, 4) || e.regionMatches(true, 0, "MIG-", 0, 4)) {
        for (int i = 0; i < uuidsInOrder.size(); i++) {
          String u = uuidsInOrder.get(i);
          if (u != null && u.regionMatches(true, 0, e, 0, e.length()) && u.length() >= e.length()) {
            if (match >= 0) { // ambiguous prefix
              match = -1;
              break;
            }
            match = i;
          }
        }
      }
      if (match < 0 || out.contains(match)) {
        break; // an invalid entry hides itself and all after it
      }
      out.add(match);
    }
    return out;
  }

  /**
   * One line explaining why the variables leave the CUDA runtime no device, or empty when they
   * do not explain it. {@code uuids} are the UUIDs of the GPUs the driver has (from NVML), or
   * null when unknown.
   */
  public String explainNoDevice(List<String> uuids) {
    if (nvidiaRaw != null && nvidiaMode == Mode.NONE) {
      return nvidiaVariable + "=" + quote(nvidiaRaw) + " hides every GPU";
    }
    if (cudaVisible == null || (uuids != null && uuids.isEmpty())) {
      return ""; // no variable to blame, or no GPU to hide
    }
    if (cudaVisible.isBlank()) {
      return "CUDA_VISIBLE_DEVICES is set but empty, which hides every GPU";
    }
    String first = cudaVisible.split(",", -1)[0].trim();
    if (uuids == null || applyCudaVisibleDevices(cudaVisible, uuids).isEmpty()) {
      return "CUDA_VISIBLE_DEVICES=" + quote(cudaVisible) + " matches no device: its first entry "
          + quote(first) + " is not a valid index or UUID here, and CUDA hides an invalid entry "
          + "and every entry after it";
    }
    return "";
  }

  /**
   * One line for when CUDA sees {@code cudaCount} GPUs but {@code NVIDIA_VISIBLE_DEVICES} (or
   * {@code NV_GPU}) as gpucore applies it leaves none.
   */
  public String explainAllHidden(int cudaCount) {
    if (nvidiaMode == Mode.NONE) {
      return nvidiaVariable + "=" + quote(nvidiaRaw) + " hides every GPU";
    }
    return nvidiaVariable + "=" + quote(nvidiaRaw) + " matches none of the " + cudaCount
        + " GPU(s) the CUDA runtime sees (" + describe() + ")";
  }

  /** Describes the variables in force, for reports. */
  public String describe() {
    StringBuilder sb = new StringBuilder();
    sb.append("CUDA_VISIBLE_DEVICES=").append(cudaVisible == null ? "(unset)" : quote(cudaVisible));
    sb.append(", CUDA_DEVICE_ORDER=").append(cudaDeviceOrder());
    sb.append(", ").append(nvidiaVariable).append('=')
        .append(nvidiaRaw == null ? "(unset)" : quote(nvidiaRaw));
    if (nvidiaRaw != null) {
      sb.append(inContainer ? " (in a container)" : " (outside a container)");
    }
    return sb.toString();
  }

  private static int parseIndexOrMax(String s) {
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      return Integer.MAX_VALUE;
    }
  }

  private static boolean isIndex(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') { // ASCII digits only, as CUDA parses them
        return false;
      }
    }
    return true;
  }

  private static String quote(String s) {
    return "\"" + s + "\"";
  }
}
