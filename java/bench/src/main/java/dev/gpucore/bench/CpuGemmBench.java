package dev.gpucore.bench;

import dev.gpucore.GpuCore;
import java.util.SplittableRandom;
import org.ejml.data.FMatrixRMaj;
import org.ejml.dense.row.CommonOps_FDRM;
import org.ejml.dense.row.CommonOps_MT_FDRM;
import org.ojalgo.matrix.store.R032Store;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * fp32 C = A·B on the CPU, n×n: gpucore's CPU backend (OpenBLAS, on gpucore's thread count)
 * against the pure-Java libraries EJML (single-threaded and its concurrent ops) and ojAlgo
 * (which threads by itself). Time per multiply; GFLOP/s = 2n^3 / time.
 */
public class CpuGemmBench extends BenchBase {
  @Param({"64", "256", "1024"})
  public int n;

  private GpuCore core;
  private float[] a;
  private float[] b;
  private float[] c;
  private FMatrixRMaj ea;
  private FMatrixRMaj eb;
  private FMatrixRMaj ec;
  private R032Store oa;
  private R032Store ob;
  private R032Store oc;

  @Setup(Level.Trial)
  public void setup() {
    core = openCpu();
    SplittableRandom r = new SplittableRandom(42);
    a = new float[n * n];
    b = new float[n * n];
    c = new float[n * n];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) r.nextDouble(-1, 1);
      b[i] = (float) r.nextDouble(-1, 1);
    }
    ea = FMatrixRMaj.wrap(n, n, a.clone());
    eb = FMatrixRMaj.wrap(n, n, b.clone());
    ec = new FMatrixRMaj(n, n);
    oa = R032Store.FACTORY.make(n, n);
    ob = R032Store.FACTORY.make(n, n);
    oc = R032Store.FACTORY.make(n, n);
    System.arraycopy(a, 0, oa.data, 0, a.length);
    System.arraycopy(b, 0, ob.data, 0, b.length);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    core.close();
  }

  @Benchmark
  public float[] gpucoreCpu() {
    core.blas().sgemm(false, false, n, n, n, 1f, a, n, b, n, 0f, c, n);
    return c;
  }

  @Benchmark
  public FMatrixRMaj ejml() {
    CommonOps_FDRM.mult(ea, eb, ec);
    return ec;
  }

  @Benchmark
  public FMatrixRMaj ejmlConcurrent() {
    CommonOps_MT_FDRM.mult(ea, eb, ec);
    return ec;
  }

  @Benchmark
  public R032Store ojalgo() {
    oc.fillByMultiplying(oa, ob);
    return oc;
  }
}
