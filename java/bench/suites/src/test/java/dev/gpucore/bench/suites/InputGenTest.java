package dev.gpucore.bench.suites;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The inputs every peer reproduces: deterministic, never zero, and the same as numpy's and C's. */
class InputGenTest {
  @Test
  void matchesThePeersSequence() {
    // the first values for seed 42, as peers_torch.py (numpy) and peers.c compute them
    float[] a = new float[3];
    InputGen.fill(a, 42);
    assertArrayEquals(new float[] {0.74156487f, 0.15991041f, 0.27860114f}, a, 1e-8f);
    assertEquals(a[1], (float) InputGen.value(42, 1));
  }

  @Test
  void deterministicInOpenIntervalAndSeedDependent() {
    float[] a = new float[100_000];
    float[] b = new float[100_000];
    InputGen.fill(a, 7);
    InputGen.fill(b, 7);
    assertArrayEquals(a, b);
    double sum = 0;
    for (float v : a) {
      assertTrue(v > 0f && v < 1f, "value " + v);
      sum += v;
    }
    assertEquals(0.5, sum / a.length, 0.01);
    InputGen.fill(b, 8);
    assertTrue(a[0] != b[0] || a[1] != b[1]);
    double[] d = new double[3];
    InputGen.fill(d, 42);
    assertEquals(0.74156487f, (float) d[0]);
  }
}
