package dev.gpucore.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.Config;
import dev.gpucore.GpuCore;
import dev.gpucore.blas.Gemm;
import dev.gpucore.blas.Operand;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Threads computing disjoint row blocks of one C held in a single Java array, at the same
 * time: each call may write only its own rows. (A call on part of a small array once went to
 * OpenBLAS through JNI's copy of the whole array, whose write-back overwrote the other
 * threads' rows.)
 */
class CpuGemmSharedArrayTest {
  /** In place (critical region, the default) and copied off-heap (0). */
  @ParameterizedTest(name = "gpucore.cpu.inPlaceMaxMs={0}")
  @ValueSource(strings = {"20", "0"})
  void rowBlocksOfOneArrayWrittenConcurrently(String inPlaceMaxMs) throws Exception {
    try (GpuCore core = GpuCore.open(Config.from(Map.of("gpucore.backend", "cpu",
        "gpucore.cpu.inPlaceMaxMs", inPlaceMaxMs), Map.of()))) {
      for (int round = 0; round < 50; round++) {
        SplittableRandom r = new SplittableRandom(System.nanoTime());
        int threads = 4;
        int rows = 8 + r.nextInt(40);
        int n = 5 + r.nextInt(60);
        int k = 3 + r.nextInt(60);
        int m = threads * rows;
        float[] a = new float[m * k];
        float[] b = new float[k * n];
        for (int i = 0; i < a.length; i++) {
          a[i] = (float) r.nextDouble(-1, 1);
        }
        for (int i = 0; i < b.length; i++) {
          b[i] = (float) r.nextDouble(-1, 1);
        }
        float[] c = new float[m * n];
        java.util.Arrays.fill(c, Float.NaN);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        java.util.concurrent.CountDownLatch others = new java.util.concurrent.CountDownLatch(
            threads - 1);
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
          int row0 = t * rows;
          boolean first = t == 0;
          ts[t] = new Thread(() -> {
            try {
              Runnable call = () -> core.blas().gemm(Gemm.of(rows, n, k), Operand.of(a, row0 * k),
                  k, Operand.of(b), n, Operand.of(c, row0 * n), n);
              if (first) {
                // the block at offset 0, again and again while the others write theirs once
                do {
                  call.run();
                } while (others.getCount() > 0);
              } else {
                call.run();
                others.countDown();
              }
            } catch (Throwable e) {
              failed.compareAndSet(null, e);
              others.countDown();
            }
          });
        }
        for (Thread t : ts) {
          t.start();
        }
        for (Thread t : ts) {
          t.join();
        }
        assertTrue(failed.get() == null, String.valueOf(failed.get()));
        for (int i = 0; i < m; i++) {
          for (int j = 0; j < n; j++) {
            double s = 0;
            double abs = 0;
            for (int p = 0; p < k; p++) {
              s += (double) a[i * k + p] * b[p * n + j];
              abs += Math.abs((double) a[i * k + p] * b[p * n + j]);
            }
            double err = Math.abs(c[i * n + j] - s);
            assertTrue(err <= 4 * k * 0x1p-24 * abs + 1e-30, "round " + round + ": C[" + i + ","
                + j + "] = " + c[i * n + j] + ", expected " + s + " (" + m + "x" + n + "x" + k
                + ", blocks of " + rows + " rows)");
          }
        }
      }
    }
  }
}
