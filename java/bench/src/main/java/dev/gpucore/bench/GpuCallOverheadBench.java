package dev.gpucore.bench;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.cuda.bindings.GpuCoreNative;
import dev.gpucore.memory.DeviceArray;
import dev.gpucore.memory.GpuStream;
import java.util.concurrent.TimeUnit;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Per-call overhead of a tiny GPU operation through gpucore's API against the same work called
 * bare: gpucore's own C entry point through JNI ({@code jni*}), and the CUDA runtime / cuBLAS
 * through JavaCPP on a stream and handle made here ({@code cudart*}, {@code cublas*}). The
 * difference is what the API adds: checks, lane selection, stream and handle lookup.
 * {@code *Sync} includes the stream synchronisation (round trip to the GPU); {@code *Async}
 * queues 100 launches and synchronises once (host-side launch cost per call).
 */
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class GpuCallOverheadBench extends BenchBase {
  private GpuCore core;
  private GpuStream stream;
  private DeviceArray one;
  private DeviceArray a4;
  private DeviceArray b4;
  private DeviceArray c4;
  private long addr;
  private long handle;
  // bare
  private CUstream_st bareStream;
  private cublasContext cublasHandle;
  private Pointer oneBare;
  private FloatPointer pa;
  private FloatPointer pb;
  private FloatPointer pc;
  private FloatPointer alpha;
  private FloatPointer beta;

  @Setup(Level.Trial)
  public void setup() {
    core = openGpu();
    stream = core.stream(0);
    one = core.allocate(0, DType.FLOAT32, 1);
    a4 = core.allocate(0, DType.FLOAT32, 16);
    b4 = core.allocate(0, DType.FLOAT32, 16);
    c4 = core.allocate(0, DType.FLOAT32, 16);
    a4.fill(1.0);
    b4.fill(2.0);
    addr = one.address();
    handle = stream.handle();
    bareStream = new CUstream_st();
    check(cudart.cudaStreamCreate(bareStream), "cudaStreamCreate");
    cublasHandle = new cublasContext();
    check(cublas.cublasCreate_v2(cublasHandle), "cublasCreate");
    check(cublas.cublasSetStream_v2(cublasHandle, bareStream), "cublasSetStream");
    oneBare = Addr.at(addr);
    pa = Addr.floats(a4.address());
    pb = Addr.floats(b4.address());
    pc = Addr.floats(c4.address());
    alpha = new FloatPointer(1f);
    beta = new FloatPointer(0f);
    // every path works before it is timed
    check(GpuCoreNative.gc_fill_f32(addr, 1, 0f, handle), "gc_fill_f32");
    check(GpuCoreNative.gc_stream_sync(handle), "gc_stream_sync");
    check(cudart.cudaMemsetAsync(oneBare, 0, 4, bareStream), "cudaMemsetAsync");
    check(cublas.cublasSgemm_v2(cublasHandle, cublas.CUBLAS_OP_N, cublas.CUBLAS_OP_N, 4, 4, 4,
        alpha, pa, 4, pb, 4, beta, pc, 4), "cublasSgemm");
    check(cudart.cudaStreamSynchronize(bareStream), "cudaStreamSynchronize");
    float[] c = new float[16];
    c4.copyTo(c);
    if (c[0] != 8f) {
      throw new IllegalStateException("bare cublasSgemm gave " + c[0] + ", expected 8");
    }
    core.blas().sgemm(false, false, 4, 4, 4, 1f, a4, 4, b4, 4, 0f, c4, 4, null);
    c4.copyTo(c);
    if (c[15] != 8f) {
      throw new IllegalStateException("gpucore sgemm gave " + c[15] + ", expected 8");
    }
  }

  private static void check(int status, String what) {
    if (status != 0) {
      throw new IllegalStateException(what + " failed with status " + status);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (core == null || !core.hasGpu()) {
      return;
    }
    cudart.cudaStreamSynchronize(bareStream);
    cublas.cublasDestroy_v2(cublasHandle);
    cudart.cudaStreamDestroy(bareStream);
    alpha.close();
    beta.close();
    for (AutoCloseable r : new AutoCloseable[] {one, a4, b4, c4, stream}) {
      try {
        r.close();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
    core.close();
  }

  /** gpucore: fill one element on a stream, then synchronise. */
  @Benchmark
  public void apiFillSync() {
    one.fill(0.0, stream);
    stream.synchronize();
  }

  /** gpucore's C entry point (same kernel), called bare through JNI. */
  @Benchmark
  public int jniFillSync() {
    return GpuCoreNative.gc_fill_f32(addr, 1, 0f, handle) | GpuCoreNative.gc_stream_sync(handle);
  }

  /** The CUDA runtime bare: cudaMemsetAsync of 4 bytes and cudaStreamSynchronize. */
  @Benchmark
  public int cudartMemsetSync() {
    return cudart.cudaMemsetAsync(oneBare, 0, 4, bareStream)
        | cudart.cudaStreamSynchronize(bareStream);
  }

  /** gpucore: 100 fills queued, one synchronisation; time per fill. */
  @Benchmark
  @OperationsPerInvocation(100)
  public void apiFillAsync() {
    for (int i = 0; i < 100; i++) {
      one.fill(0.0, stream);
    }
    stream.synchronize();
  }

  /** The same through gpucore's C entry point, bare. */
  @Benchmark
  @OperationsPerInvocation(100)
  public int jniFillAsync() {
    int s = 0;
    for (int i = 0; i < 100; i++) {
      s |= GpuCoreNative.gc_fill_f32(addr, 1, 0f, handle);
    }
    return s | GpuCoreNative.gc_stream_sync(handle);
  }

  /** gpucore: 4x4 SGEMM on device arrays, synchronous (internal lane). */
  @Benchmark
  public void apiSgemm4Sync() {
    core.blas().sgemm(false, false, 4, 4, 4, 1f, a4, 4, b4, 4, 0f, c4, 4, null);
  }

  /** cuBLAS bare: cublasSgemm_v2 on a handle and stream made here, then synchronise. */
  @Benchmark
  public int cublasSgemm4Sync() {
    return cublas.cublasSgemm_v2(cublasHandle, cublas.CUBLAS_OP_N, cublas.CUBLAS_OP_N, 4, 4, 4,
        alpha, pa, 4, pb, 4, beta, pc, 4) | cudart.cudaStreamSynchronize(bareStream);
  }

  /** gpucore: sum of one element, result brought to the host. */
  @Benchmark
  public double apiSum1Sync() {
    return core.reduce().sum(one);
  }
}
