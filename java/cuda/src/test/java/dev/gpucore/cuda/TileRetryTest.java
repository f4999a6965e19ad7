package dev.gpucore.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gpucore.DType;
import dev.gpucore.GpuCoreException;
import dev.gpucore.blas.Operand;
import dev.gpucore.blas.Precision;
import dev.gpucore.spi.GemmCall;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The host GEMM's tile-retry policy (no GPU needed: the attempts are stand-ins). */
class TileRetryTest {
  private static GemmCall call(boolean transA, double beta) {
    Operand o = Operand.of(new float[1]);
    return new GemmCall(transA, false, 64, 64, 64, 1, beta, Precision.FP32, DType.FLOAT32, o, 64,
        o, 64, o, 64, 1, 0, 0, 0, null, GemmCall.OnHost.INSTANCE);
  }

  @Test
  void firstTryNeedsNoNote() {
    List<Integer> tried = new ArrayList<>();
    assertNull(CudaHostGemm.withTileRetry(call(false, 0), tried::add));
    assertEquals(List.of(1), tried);
  }

  @Test
  void outOfMemoryShrinksTilesByFourDownToOneSixteenth() {
    List<Integer> tried = new ArrayList<>();
    String note = CudaHostGemm.withTileRetry(call(false, 0), div -> {
      tried.add(div);
      if (div < 16) {
        throw new GpuCoreException.OutOfMemory("cudaMalloc failed");
      }
    });
    assertEquals(List.of(1, 4, 16), tried);
    assertTrue(note.contains("tiles 1/16"), note);
    var e = assertThrows(GpuCoreException.OutOfMemory.class,
        () -> CudaHostGemm.withTileRetry(call(false, 0), div -> {
          throw new GpuCoreException.OutOfMemory("cudaMalloc failed");
        }));
    assertTrue(e.getMessage().contains("also with tiles down to 1/16"), e.getMessage());
  }

  @Test
  void withoutRowPanelsOrAfterWritingCThereIsNoRetry() {
    GpuCoreException.OutOfMemory oom = new GpuCoreException.OutOfMemory("cudaMalloc failed");
    List<Integer> tried = new ArrayList<>();
    assertSame(oom, assertThrows(GpuCoreException.OutOfMemory.class,
        () -> CudaHostGemm.withTileRetry(call(true, 0), div -> {
          tried.add(div);
          throw oom;
        })));
    assertEquals(List.of(1), tried, "A transposed: smaller tiles would ask for the same memory");
    GpuCoreException.OutOfMemory partly = new GpuCoreException.OutOfMemory("late", true);
    assertSame(partly, assertThrows(GpuCoreException.OutOfMemory.class,
        () -> CudaHostGemm.withTileRetry(call(false, 1), div -> {
          throw partly;
        })));
  }
}
