package dev.gpucore.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.device.DeviceInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The calibration's figures and their cache file: round trip, and every bad file refused. */
class RouteRatesTest {
  static RouteRates.Curve curve(double... pairs) {
    double[] f = new double[pairs.length / 2];
    double[] g = new double[pairs.length / 2];
    for (int i = 0; i < f.length; i++) {
      f[i] = pairs[2 * i];
      g[i] = pairs[2 * i + 1];
    }
    return new RouteRates.Curve(f, g);
  }

  static RouteRates rates(String key) {
    return new RouteRates(key, Instant.parse("2026-12-06T07:00:00Z"),
        curve(3.4e7, 300, 2.7e8, 700, 2.1e9, 1100), curve(3.4e7, 150, 2.1e9, 550),
        curve(1.7e10, 30000, 1.4e11, 45000), curve(1.7e10, 40000, 1.4e11, 52000), 27.5, 0.31);
  }

  @Test
  void aCurveInterpolatesOnLogScalesAndRampsBelowItsFirstPoint() {
    RouteRates.Curve c = curve(1e6, 10, 1e8, 1000);
    assertEquals(10, c.at(1e6), 1e-9);
    assertEquals(1000, c.at(1e8), 1e-9);
    assertEquals(100, c.at(1e7), 1e-9); // halfway on log scales
    assertEquals(1000, c.at(1e12), 1e-9); // flat above the last point
    assertEquals(10 * Math.pow(1e-4, 0.25), c.at(1e2), 1e-9); // fourth root below the first
    assertEquals(10, c.at(0), 1e-9);
  }

  @Test
  void aCurveRefusesBadPoints() {
    assertThrows(IllegalArgumentException.class, () -> curve());
    assertThrows(IllegalArgumentException.class, () -> curve(1e6, 10, 1e5, 20)); // descending
    assertThrows(IllegalArgumentException.class, () -> curve(1e6, 0));
    assertThrows(IllegalArgumentException.class, () -> curve(1e6, Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> curve(1e6, Double.POSITIVE_INFINITY));
    assertThrows(IllegalArgumentException.class,
        () -> new RouteRates.Curve(new double[] {1}, new double[] {1, 2}));
  }

  @Test
  void aMonotoneCurveNeverFallsAsCallsGrow() {
    RouteRates.Curve c = RouteCalibration.monotone(new double[] {1, 2, 3}, new double[] {5, 4, 6});
    assertEquals(List.of(5.0, 5.0, 6.0), java.util.Arrays.stream(c.gflops()).boxed().toList());
  }

  @Test
  void aSmallCallMeasuredSlowerThanALargerOneGetsItsTime() {
    // n = 256 measured at 4 GFLOP/s (8 ms) beside n = 512 at 445 (0.6 ms): 256 gets 0.6 ms
    double f256 = 2.0 * 256 * 256 * 256;
    double f512 = 8 * f256;
    RouteRates.Curve c = RouteCalibration.monotone(new double[] {f256, f512, 8 * f512},
        new double[] {4, 445, 1900});
    assertEquals(445.0 / 8, c.gflops()[0], 1e-9);
    assertEquals(List.of(445.0, 1900.0),
        java.util.Arrays.stream(c.gflops()).skip(1).boxed().toList());
  }

  @Test
  void theFasterOfTwoMeasurementsIsKeptAtEachSize() {
    RouteRates.Curve a = new RouteRates.Curve(new double[] {1, 8, 64}, new double[] {2, 50, 60});
    RouteRates.Curve b = new RouteRates.Curve(new double[] {1, 8}, new double[] {20, 40});
    RouteRates.Curve f = RouteCalibration.faster(a, b);
    assertEquals(List.of(1.0, 8.0, 64.0), java.util.Arrays.stream(f.flops()).boxed().toList());
    assertEquals(List.of(20.0, 50.0, 60.0), java.util.Arrays.stream(f.gflops()).boxed().toList());
    assertEquals(f.gflops()[0], RouteCalibration.faster(b, a).gflops()[0]);
  }

  @Test
  void theFileRoundTrips(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("sub/dir/routing.properties");
    RouteRates r = rates("host=a;gpus=H100 GPU-1;cpuThreads=16;version=1");
    r.write(f); // makes the directories
    RouteRates.Loaded l = RouteRates.read(f, r.key());
    assertNull(l.why());
    assertEquals(r, l.rates());
    assertEquals(r.cpuFp32().at(5e8), l.rates().cpuFp32().at(5e8), 0);
    try (var s = Files.list(f.getParent())) {
      assertEquals(List.of(f), s.toList()); // no temporary file left
    }
  }

  @Test
  void aMissingFileIsNoCalibration(@TempDir Path dir) {
    RouteRates.Loaded l = RouteRates.read(dir.resolve("none"), "k");
    assertNull(l.rates());
    assertTrue(l.why().startsWith("no calibration file"), l.why());
    l = RouteRates.read(dir, "k"); // a directory
    assertNull(l.rates());
    assertTrue(l.why().startsWith("cannot read"), l.why());
  }

  @Test
  void anotherKeyOrFormatIsNoCalibration(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("r.properties");
    rates("host=other").write(f);
    RouteRates.Loaded l = RouteRates.read(f, "host=this");
    assertNull(l.rates());
    assertTrue(l.why().contains("another machine or version (host=other)"), l.why());
    Files.writeString(f, rates("k").text().replace("format=1", "format=2"));
    l = RouteRates.read(f, "k");
    assertNull(l.rates());
    assertTrue(l.why().contains("another format (2)"), l.why());
  }

  @Test
  void everyCorruptFileIsNoCalibrationNeverAnException(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("r.properties");
    String good = rates("k").text();
    List<String> bad = List.of("", "garbage\u0000\u0001", good.substring(0, good.length() / 2),
        good.replace("cpu.fp32=", "cpu.fp32=x"), good.replace("bus.gbs=27.5", "bus.gbs=-1"),
        good.replace("overhead.ms=0.31", "overhead.ms=NaN"),
        good.replaceAll("measured=.*", "measured=yesterday"),
        good.replaceAll("gpu.fp64=.*", "gpu.fp64=1\\:2,1\\:3"), good.replaceAll("cpu.fp64=.*", ""),
        "key=k\nformat=1\n\\u00");
    for (String text : bad) {
      Files.writeString(f, text, StandardCharsets.UTF_8);
      RouteRates.Loaded l = RouteRates.read(f, "k");
      assertNull(l.rates(), text);
      assertNotNull(l.why(), text);
    }
    Files.write(f, new byte[RouteRates.MAX_FILE_BYTES + 1]);
    assertTrue(RouteRates.read(f, "k").why().contains("larger than"));
  }

  @Test
  void theKeyNamesHostGpusThreadsAndVersionAndTheDefaultFileFollowsXdg() {
    DeviceInfo h100 = new DeviceInfo(0, 0, 0, "GPU-1234", "H100", "00000000:01:00.0", 9, 0, 132,
        80L << 30, 0, 80L << 30, 0, 0, 40, 100, 700, List.of());
    String key = RouteCalibration.key("node7", List.of(h100, h100), 32, "0.1.0");
    assertEquals("host=node7;gpus=H100 GPU-1234,H100 GPU-1234;cpuThreads=32;version=0.1.0", key);
    Path xdg = RouteCalibration.defaultFile(Map.of("XDG_CACHE_HOME", "/c"), "/home/u", key);
    assertEquals(Path.of("/c/gpucore"), xdg.getParent());
    assertTrue(xdg.getFileName().toString().matches("routing-[0-9a-f]{16}\\.properties"), xdg.toString());
    assertEquals(Path.of("/home/u/.cache/gpucore").resolve(xdg.getFileName()),
        RouteCalibration.defaultFile(Map.of(), "/home/u", key));
    // a relative XDG_CACHE_HOME is ignored, as the specification says
    assertEquals(Path.of("/home/u/.cache/gpucore").resolve(xdg.getFileName()),
        RouteCalibration.defaultFile(Map.of("XDG_CACHE_HOME", "rel"), "/home/u", key));
    // another key, another file
    assertTrue(!xdg.equals(RouteCalibration.defaultFile(Map.of("XDG_CACHE_HOME", "/c"), "/home/u",
        key.replace("32", "16"))));
    assertTrue(!RouteCalibration.hostName().isBlank());
  }
}
