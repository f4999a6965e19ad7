package dev.gpucore.spi;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Locale;
import java.util.Properties;

/**
 * Figures of the routing model measured on one machine ({@link RouteCalibration}): the CPU's
 * and one GPU's GEMM rate by the size of a call, in fp32 and fp64, the bus bandwidth and the
 * GPU's fixed cost per host GEMM, and what they were measured for ({@code key}: host, GPUs, CPU
 * threads, library version) and when. Kept in a small properties file; a file that cannot be
 * read, is malformed or was written for another key is no calibration ({@link #read}).
 *
 * @param key what the figures are valid for ({@link RouteCalibration#key})
 * @param measured when they were measured
 * @param cpuFp32 the CPU's fp32 GEMM rate by flops per call
 * @param cpuFp64 the CPU's fp64 GEMM rate
 * @param gpuFp32 one GPU's fp32 GEMM rate on device operands
 * @param gpuFp64 one GPU's fp64 GEMM rate on device operands
 * @param busGBs host-device bandwidth from Java arrays in GB/s, each way (the mean of both)
 * @param overheadMs the GPU's fixed cost of a host GEMM in ms: its measured time less the model's
 *     bus and multiply time
 */
public record RouteRates(String key, Instant measured, Curve cpuFp32, Curve cpuFp64,
    Curve gpuFp32, Curve gpuFp64, double busGBs, double overheadMs) {

  /** The file format's version: files of another are measured again. */
  public static final int FORMAT = 1;
  /** The largest file read: a calibration is a few hundred bytes. */
  static final int MAX_FILE_BYTES = 64 << 10;

  public RouteRates {
    java.util.Objects.requireNonNull(key, "key");
    java.util.Objects.requireNonNull(measured, "measured");
    java.util.Objects.requireNonNull(cpuFp32, "cpuFp32");
    java.util.Objects.requireNonNull(cpuFp64, "cpuFp64");
    java.util.Objects.requireNonNull(gpuFp32, "gpuFp32");
    java.util.Objects.requireNonNull(gpuFp64, "gpuFp64");
    if (!(busGBs > 0) || Double.isInfinite(busGBs)) {
      throw new IllegalArgumentException("busGBs must be positive, got " + busGBs);
    }
    if (!(overheadMs >= 0) || Double.isInfinite(overheadMs)) {
      throw new IllegalArgumentException("overheadMs must be at least 0, got " + overheadMs);
    }
  }

  /**
   * A GEMM rate by the work of a call: GFLOP/s measured at some flops, interpolated between
   * them on log scales; below the first point it falls as the fourth root of the work (as the
   * built-in CPU model's does), above the last it stays at the last.
   *
   * @param flops the points' flops, ascending and positive
   * @param gflops the rates there, positive
   */
  public record Curve(double[] flops, double[] gflops) {
    public Curve {
      if (flops == null || gflops == null || flops.length == 0 || flops.length != gflops.length) {
        throw new IllegalArgumentException("a curve needs as many rates as points, at least one");
      }
      flops = flops.clone();
      gflops = gflops.clone();
      for (int i = 0; i < flops.length; i++) {
        if (!(flops[i] > 0) || Double.isInfinite(flops[i]) || !(gflops[i] > 0)
            || Double.isInfinite(gflops[i]) || (i > 0 && !(flops[i] > flops[i - 1]))) {
          throw new IllegalArgumentException("a curve's points must be positive, finite and "
              + "ascending: " + Arrays.toString(flops) + " -> " + Arrays.toString(gflops));
        }
      }
    }

    @Override
    public double[] flops() {
      return flops.clone();
    }

    @Override
    public double[] gflops() {
      return gflops.clone();
    }

    /** The rate in GFLOP/s for a call of {@code f} flops. */
    public double at(double f) {
      int last = flops.length - 1;
      if (!(f > 0)) {
        return gflops[0];
      }
      if (f <= flops[0]) {
        return gflops[0] * Math.sqrt(Math.sqrt(f / flops[0]));
      }
      if (f >= flops[last]) {
        return gflops[last];
      }
      int i = 1;
      while (flops[i] < f) {
        i++;
      }
      double t = Math.log(f / flops[i - 1]) / Math.log(flops[i] / flops[i - 1]);
      return Math.exp(Math.log(gflops[i - 1]) + t * Math.log(gflops[i] / gflops[i - 1]));
    }

    /** {@code flops:gflops} pairs, comma-separated (the file's form). */
    public String text() {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < flops.length; i++) {
        b.append(i == 0 ? "" : ",").append(number(flops[i])).append(':')
            .append(number(gflops[i]));
      }
      return b.toString();
    }

    /** The points as a person reads them: the n of a square call of that work and its rate. */
    public String describe() {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < flops.length; i++) {
        b.append(i == 0 ? "" : ", ").append("n=")
            .append(Math.round(Math.cbrt(flops[i] / 2))).append(' ')
            .append(String.format(Locale.ROOT, "%.0f", gflops[i]));
      }
      return b.append(" GFLOP/s").toString();
    }

    /** Parses {@link #text()}; throws IllegalArgumentException when malformed. */
    static Curve parse(String text) {
      if (text == null) {
        throw new IllegalArgumentException("missing");
      }
      String[] parts = text.trim().split(",");
      double[] f = new double[parts.length];
      double[] g = new double[parts.length];
      for (int i = 0; i < parts.length; i++) {
        String[] p = parts[i].trim().split(":");
        if (p.length != 2) {
          throw new IllegalArgumentException("not flops:gflops: " + parts[i]);
        }
        f[i] = Double.parseDouble(p[0].trim());
        g[i] = Double.parseDouble(p[1].trim());
      }
      return new Curve(f, g);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Curve c && Arrays.equals(flops, c.flops)
          && Arrays.equals(gflops, c.gflops);
    }

    @Override
    public int hashCode() {
      return 31 * Arrays.hashCode(flops) + Arrays.hashCode(gflops);
    }

    @Override
    public String toString() {
      return text();
    }
  }

  private static String number(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d)
        : Double.toString(d);
  }

  /** The file's text: properties, the key first. */
  public String text() {
    Properties p = new Properties();
    p.setProperty("format", Integer.toString(FORMAT));
    p.setProperty("key", key);
    p.setProperty("measured", measured.toString());
    p.setProperty("cpu.fp32", cpuFp32.text());
    p.setProperty("cpu.fp64", cpuFp64.text());
    p.setProperty("gpu.fp32", gpuFp32.text());
    p.setProperty("gpu.fp64", gpuFp64.text());
    p.setProperty("bus.gbs", number(busGBs));
    p.setProperty("overhead.ms", number(overheadMs));
    StringWriter w = new StringWriter();
    try {
      p.store(w, "gpucore routing calibration (gpucore calibrate measures it again)");
    } catch (IOException e) {
      throw new IllegalStateException(e); // a StringWriter does not fail
    }
    return w.toString();
  }

  /**
   * Writes the file: to a temporary file beside it, then moved over it, so that a reader sees
   * the old file or the new one, never half of one.
   *
   * @throws IOException when the directory cannot be made or the file cannot be written
   */
  public void write(Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    Path tmp = Files.createTempFile(dir, ".routing-", ".tmp");
    try {
      Files.writeString(tmp, text(), StandardCharsets.UTF_8);
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * A file's calibration, or why there is none to use.
   *
   * @param rates the figures, or null
   * @param why why {@code rates} is null: no file, written for another key, malformed
   */
  public record Loaded(RouteRates rates, String why) {}

  /**
   * Reads {@code file}; never throws. Its figures when it holds a calibration of this
   * {@link #FORMAT} for {@code key}; otherwise null and why.
   */
  public static Loaded read(Path file, String key) {
    String text;
    try (InputStream in = Files.newInputStream(file)) {
      byte[] b = in.readNBytes(MAX_FILE_BYTES + 1);
      if (b.length > MAX_FILE_BYTES) {
        return new Loaded(null, file + " is larger than " + (MAX_FILE_BYTES >> 10) + " KiB");
      }
      text = new String(b, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return new Loaded(null, "no calibration file " + file);
    } catch (IOException | RuntimeException e) {
      return new Loaded(null, "cannot read " + file + ": " + e);
    }
    Properties p = new Properties();
    try {
      p.load(new StringReader(text));
    } catch (IOException | IllegalArgumentException e) {
      return new Loaded(null, file + " is malformed: " + e.getMessage());
    }
    if (!Integer.toString(FORMAT).equals(p.getProperty("format"))) {
      return new Loaded(null, file + " is of another format (" + p.getProperty("format") + ")");
    }
    if (!key.equals(p.getProperty("key"))) {
      return new Loaded(null, file + " was measured for another machine or version ("
          + p.getProperty("key") + ")");
    }
    try {
      return new Loaded(new RouteRates(key, Instant.parse(p.getProperty("measured", "")),
          Curve.parse(p.getProperty("cpu.fp32")), Curve.parse(p.getProperty("cpu.fp64")),
          Curve.parse(p.getProperty("gpu.fp32")), Curve.parse(p.getProperty("gpu.fp64")),
          Double.parseDouble(p.getProperty("bus.gbs", "")),
          Double.parseDouble(p.getProperty("overhead.ms", ""))), null);
    } catch (IllegalArgumentException | DateTimeParseException | NullPointerException e) {
      return new Loaded(null, file + " is malformed: " + e.getMessage());
    }
  }
}
