package dev.gpucore.device;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * NVML's health counters of one GPU, as {@code nvidia-smi -q -d ECC,PAGE_RETIREMENT,ROW_REMAPPER,
 * PERFORMANCE} shows them. Immutable; read on demand through
 * {@link dev.gpucore.spi.GpuBackend#health(int)}.
 *
 * <p>Each part is a {@link Reading}: a value, or one line saying why it could not be read
 * ({@code "not supported"} on GPUs without the feature, {@code "no permission"}, NVML missing).
 * An unreadable part is normal (consumer GPUs have no ECC; GPUs since the A100 remap rows
 * instead of retiring pages) and never an exception.
 *
 * <p>How to read it: a pending page retirement or row remapping needs a GPU reset before the
 * device's results can be trusted; a failed row remapping means the GPU needs service.
 * Volatile ECC counts restart at driver load, aggregate ones persist for the GPU's life.
 *
 * @param ecc ECC mode and error counts
 * @param retiredPages pages retired for ECC errors (GPUs before the A100)
 * @param remappedRows DRAM rows remapped (the A100 and later)
 * @param clockEvents why the clocks are below their maximum now
 */
public record DeviceHealth(
    Reading<Ecc> ecc,
    Reading<RetiredPages> retiredPages,
    Reading<RemappedRows> remappedRows,
    Reading<ClockEvents> clockEvents) {

  /** Rejects null parts. */
  public DeviceHealth {
    if (ecc == null || retiredPages == null || remappedRows == null || clockEvents == null) {
      throw new IllegalArgumentException("every part of a DeviceHealth must be given");
    }
  }

  /** Health with every part unreadable for the same reason (no NVML, a backend without it). */
  public static DeviceHealth unknown(String why) {
    return new DeviceHealth(Reading.unavailable(why), Reading.unavailable(why),
        Reading.unavailable(why), Reading.unavailable(why));
  }

  /**
   * A value, or why it could not be read.
   *
   * @param value the value, or null when unavailable
   * @param unavailable why the value could not be read; empty when it was
   * @param <T> the value's type
   */
  public record Reading<T>(T value, String unavailable) {
    /** Normalises the reason; a reading has a value or a reason. */
    public Reading {
      unavailable = unavailable == null ? "" : unavailable;
      if (value == null && unavailable.isEmpty()) {
        unavailable = "unknown";
      }
    }

    /** A reading with a value. */
    public static <T> Reading<T> of(T value) {
      if (value == null) {
        throw new IllegalArgumentException("value must not be null");
      }
      return new Reading<>(value, "");
    }

    /** A reading without a value, for the reason given. */
    public static <T> Reading<T> unavailable(String why) {
      return new Reading<>(null, why == null || why.isBlank() ? "unknown" : why);
    }

    /** Whether the value was read. */
    public boolean available() {
      return value != null;
    }
  }

  /**
   * ECC mode and error counts ({@code nvmlDeviceGetEccMode}, {@code nvmlDeviceGetTotalEccErrors}).
   * Counts that could not be read (ECC off, a counter the GPU lacks) are {@link #UNKNOWN}.
   *
   * @param enabled whether ECC is on now
   * @param volatileCorrected corrected (single-bit) errors since the driver loaded
   * @param volatileUncorrected uncorrected (double-bit) errors since the driver loaded
   * @param aggregateCorrected corrected errors over the GPU's life
   * @param aggregateUncorrected uncorrected errors over the GPU's life
   */
  public record Ecc(boolean enabled, long volatileCorrected, long volatileUncorrected,
      long aggregateCorrected, long aggregateUncorrected) {
    /** Marker for a count that could not be read. */
    public static final long UNKNOWN = -1;
  }

  /**
   * Retired pages ({@code nvmlDeviceGetRetiredPages},
   * {@code nvmlDeviceGetRetiredPagesPendingStatus}).
   *
   * @param multipleSingleBit pages retired after repeated single-bit errors
   * @param doubleBit pages retired after a double-bit error
   * @param pending whether a retirement waits for a GPU reset (until then the page is in use)
   */
  public record RetiredPages(long multipleSingleBit, long doubleBit, boolean pending) {}

  /**
   * Remapped DRAM rows ({@code nvmlDeviceGetRemappedRows}).
   *
   * @param correctable rows remapped after correctable errors
   * @param uncorrectable rows remapped after uncorrectable errors
   * @param pending whether a remapping waits for a GPU reset
   * @param failed whether a remapping failed (no spare rows left: the GPU needs service)
   */
  public record RemappedRows(int correctable, int uncorrectable, boolean pending,
      boolean failed) {}

  /**
   * Why the clocks are held below their maximum ({@code nvmlDeviceGetCurrentClocksEventReasons},
   * formerly "throttle reasons"): a bit mask of NVML's {@code nvmlClocksEventReason*} values.
   *
   * @param mask the reasons as NVML returns them
   */
  public record ClockEvents(long mask) {
    /** NVML's reason bits and their names (as in {@code nvidia-smi -q -d PERFORMANCE}). */
    private static final Map<Long, String> NAMES = Map.of(
        0x1L, "gpu_idle",
        0x2L, "applications_clocks_setting",
        0x4L, "sw_power_cap",
        0x8L, "hw_slowdown",
        0x10L, "sync_boost",
        0x20L, "sw_thermal_slowdown",
        0x40L, "hw_thermal_slowdown",
        0x80L, "hw_power_brake_slowdown",
        0x100L, "display_clock_setting");

    /** Reasons that mean the hardware is slowed by heat, power delivery or an external signal. */
    private static final long SLOWDOWNS = 0x8L | 0x20L | 0x40L | 0x80L;

    /** The reasons set, by name, in bit order; unknown bits as {@code bit_N}. */
    public List<String> names() {
      List<String> out = new ArrayList<>();
      for (int bit = 0; bit < 64; bit++) {
        long b = 1L << bit;
        if ((mask & b) != 0) {
          out.add(NAMES.getOrDefault(b, "bit_" + bit));
        }
      }
      return out;
    }

    /** Whether a thermal, power-brake or hardware slowdown holds the clocks down. */
    public boolean slowdown() {
      return (mask & SLOWDOWNS) != 0;
    }
  }
}
