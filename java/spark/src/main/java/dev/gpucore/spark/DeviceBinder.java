package dev.gpucore.spark;

import dev.gpucore.device.DeviceInfo;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maps a GPU address that Spark assigned (from a discovery script) to a device of this process.
 *
 * <p>Addresses are, as Spark's discovery scripts print them:
 *
 * <ul>
 *   <li>an ordinal {@code N}: the N-th GPU in PCI bus order, i.e. the CUDA ordinal under
 *       {@code CUDA_DEVICE_ORDER=PCI_BUS_ID} (what {@code nvidia-smi}'s index and
 *       {@code gpucore devices --spark-discovery} print). It is matched through the bus id, so
 *       the CUDA ordinal bound is right in this process's own order whatever its
 *       {@code CUDA_DEVICE_ORDER};
 *   <li>a UUID ({@code GPU-...}, or the bare hexadecimal form);
 *   <li>a PCI bus id ({@code 0000:65:00.0} or NVML's {@code 00000000:65:00.0}).
 * </ul>
 *
 * <p>Spark-free: the plugin hands it the addresses and gpucore's device list.
 */
public final class DeviceBinder {
  private static final Pattern ORDINAL = Pattern.compile("[0-9]{1,4}");
  private static final Pattern UUID = Pattern.compile(
      "(?i)(?:GPU-|MIG-)?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})");
  private static final Pattern BUS_ID = Pattern.compile(
      "(?i)(?:([0-9a-f]{1,8}):)?([0-9a-f]{1,2}):([0-9a-f]{1,2})\\.([0-7])");

  private DeviceBinder() {}

  /**
   * A GPU address bound to a device.
   *
   * @param address the address as Spark gave it
   * @param cudaOrdinal the CUDA ordinal in this process (what the BLAS library uses)
   * @param device gpucore's index of the device ({@link DeviceInfo#index}), or -1 where gpucore
   *     sees no GPU and the ordinal is taken as it stands
   * @param how one line: how it was matched
   */
  public record Bound(String address, int cudaOrdinal, int device, String how) {}

  /**
   * Binds {@code address} to one of {@code devices}.
   *
   * @param address the address Spark assigned
   * @param devices gpucore's devices in this process ({@code GpuCore.devices()})
   * @param noGpuReason why gpucore sees no GPU, used when {@code devices} is empty
   * @throws IllegalArgumentException when the address is malformed or names no device here
   */
  public static Bound bind(String address, List<DeviceInfo> devices, String noGpuReason) {
    Objects.requireNonNull(devices, "devices");
    if (address == null || address.isBlank()) {
      throw new IllegalArgumentException("address must be a GPU ordinal, UUID or PCI bus id, got "
          + (address == null ? "null" : "\"" + address + "\""));
    }
    String a = address.strip();
    if (ORDINAL.matcher(a).matches()) {
      int n = Integer.parseInt(a);
      if (devices.isEmpty()) {
        return new Bound(address, n, -1, "ordinal " + n + " passed on as it stands: gpucore sees no GPU here"
            + (noGpuReason == null || noGpuReason.isEmpty() ? "" : " (" + noGpuReason + ")"));
      }
      List<DeviceInfo> ordered = pciOrder(devices);
      if (n >= ordered.size()) {
        throw new IllegalArgumentException("address " + a + " names GPU " + n + " in PCI bus order, but "
            + ordered.size() + " GPU(s) are visible here");
      }
      DeviceInfo d = ordered.get(n);
      boolean byBus = devices.stream().noneMatch(x -> x.pciBusId().isEmpty());
      return bound(address, d, byBus ? "ordinal " + n + " in PCI bus order is bus " + d.pciBusId()
          : "ordinal " + n + " taken as a CUDA ordinal (no bus ids known)");
    }
    Matcher u = UUID.matcher(a);
    if (u.matches()) {
      String want = u.group(1).toLowerCase(Locale.ROOT);
      for (DeviceInfo d : devices) {
        Matcher m = UUID.matcher(d.uuid());
        if (m.matches() && m.group(1).toLowerCase(Locale.ROOT).equals(want)) {
          return bound(address, d, "UUID " + d.uuid());
        }
      }
      throw new IllegalArgumentException("address " + a + " (a UUID) names no GPU visible here"
          + (devices.isEmpty() ? ": gpucore sees none" + reason(noGpuReason) : "; visible: " + uuids(devices)));
    }
    long[] bus = busId(a);
    if (bus != null) {
      for (DeviceInfo d : devices) {
        long[] b = busId(d.pciBusId());
        if (b != null && java.util.Arrays.equals(b, bus)) {
          return bound(address, d, "bus id " + d.pciBusId());
        }
      }
      throw new IllegalArgumentException("address " + a + " (a PCI bus id) names no GPU visible here"
          + (devices.isEmpty() ? ": gpucore sees none" + reason(noGpuReason) : ""));
    }
    throw new IllegalArgumentException("address must be a GPU ordinal, UUID or PCI bus id, got \""
        + address + "\"");
  }

  private static String reason(String r) {
    return r == null || r.isEmpty() ? "" : " (" + r + ")";
  }

  private static Bound bound(String address, DeviceInfo d, String how) {
    if (d.cudaOrdinal() < 0) {
      throw new IllegalArgumentException("address " + address + " names " + d.name() + " (" + how
          + "), which has no CUDA ordinal in this process");
    }
    return new Bound(address, d.cudaOrdinal(), d.index(), how + " -> CUDA ordinal " + d.cudaOrdinal()
        + " (gpucore device " + d.index() + ")");
  }

  private static String uuids(List<DeviceInfo> devices) {
    List<String> out = new ArrayList<>();
    for (DeviceInfo d : devices) {
      out.add(d.uuid());
    }
    return String.join(", ", out);
  }

  /**
   * The devices in PCI bus order (what ordinal addresses count in); by CUDA ordinal where a bus
   * id is missing.
   */
  public static List<DeviceInfo> pciOrder(List<DeviceInfo> devices) {
    List<DeviceInfo> out = new ArrayList<>(devices);
    if (devices.stream().allMatch(d -> busId(d.pciBusId()) != null)) {
      out.sort(Comparator.comparing((DeviceInfo d) -> busId(d.pciBusId()), java.util.Arrays::compare));
    } else {
      out.sort(Comparator.comparingInt(DeviceInfo::cudaOrdinal));
    }
    return out;
  }

  /** {domain, bus, device, function} of a PCI bus id, or null when it is not one. */
  static long[] busId(String s) {
    if (s == null) {
      return null;
    }
    Matcher m = BUS_ID.matcher(s.strip());
    if (!m.matches()) {
      return null;
    }
    return new long[] {m.group(1) == null ? 0 : Long.parseLong(m.group(1), 16),
        Long.parseLong(m.group(2), 16), Long.parseLong(m.group(3), 16), Long.parseLong(m.group(4), 16)};
  }
}
