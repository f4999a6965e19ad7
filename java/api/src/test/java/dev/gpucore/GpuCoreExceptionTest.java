package dev.gpucore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GpuCoreExceptionTest {
  @Test
  void nativeStatusIsKeptAsData() {
    var e = new GpuCoreException.DeviceFaulted("cublasGemmEx failed", true, 700,
        "cudaErrorIllegalAddress");
    assertEquals(700, e.code());
    assertEquals("cudaErrorIllegalAddress", e.codeName());
    assertTrue(e.outputPartlyWritten());
    var oom = new GpuCoreException.OutOfMemory("cublas", false, 3, "CUBLAS_STATUS_ALLOC_FAILED");
    assertEquals(3, oom.code());
    assertEquals("CUBLAS_STATUS_ALLOC_FAILED", oom.codeName());
  }

  @Test
  void noStatusMeansNoCode() {
    for (GpuCoreException e : new GpuCoreException[] {new GpuCoreException("x"),
        new GpuCoreException.InvalidArgument("lda must be at least 4"),
        new GpuCoreException.OutOfMemory("x", true), new GpuCoreException("x", 5, null)}) {
      assertEquals(GpuCoreException.NO_CODE, e.code(), e.getMessage());
      assertNull(e.codeName());
    }
  }
}
