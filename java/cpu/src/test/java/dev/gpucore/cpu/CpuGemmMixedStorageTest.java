package dev.gpucore.cpu;

import dev.gpucore.DType;
import dev.gpucore.GpuCore;
import dev.gpucore.blas.Operand;
import dev.gpucore.memory.HostArray;
import dev.gpucore.testkit.OnCpuBackend;
import dev.gpucore.testkit.SoakCases;
import dev.gpucore.testkit.SoakCases.GemmCase;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One GEMM whose operands live in different kinds of storage: a small Java array at offset 0
 * (which OpenBLAS can take as it is), a Java array at an offset, a host array. The CPU backend
 * once took the Java-array path for A alone and passed OpenBLAS a null B or C (a crash).
 */
@OnCpuBackend
class CpuGemmMixedStorageTest {
  static GpuCore core;

  enum Where { ARRAY, ARRAY_AT_OFFSET, HOST }

  @BeforeEach
  void useCore(GpuCore cpu) {
    core = cpu;
  }

  static Stream<Arguments> combinations() {
    List<Arguments> out = new ArrayList<>();
    for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
      for (Where a : Where.values()) {
        for (Where b : Where.values()) {
          for (Where c : Where.values()) {
            out.add(Arguments.of(t, a, b, c));
          }
        }
      }
    }
    return out.stream();
  }

  @ParameterizedTest
  @MethodSource("combinations")
  void operandsInDifferentStorageGiveTheRightResult(DType t, Where wa, Where wb, Where wc) {
    SplittableRandom r = new SplittableRandom(t.ordinal() * 100 + wa.ordinal() * 9
        + wb.ordinal() * 3 + wc.ordinal());
    GemmCase g = new GemmCase(r, t, true, 24); // row-major, offsets 0, one matrix
    List<HostArray> hosts = new ArrayList<>();
    try {
      Object c = storage(g.c0, t, wc, hosts);
      core.blas().gemm(g.gemm(), operand(storage(g.a, t, wa, hosts), wa), g.lda,
          operand(storage(g.b, t, wb, hosts), wb), g.ldb, operand(c, wc), g.ldc);
      double[] back = SoakCases.read(c);
      if (wc == Where.ARRAY_AT_OFFSET) {
        back = java.util.Arrays.copyOfRange(back, 3, back.length);
      }
      g.check(back, t + " A " + wa + ", B " + wb + ", C " + wc);
    } finally {
      hosts.forEach(HostArray::close);
    }
  }

  /** The mirror in the storage asked for; ARRAY_AT_OFFSET puts it 3 elements in. */
  static Object storage(double[] m, DType t, Where w, List<HostArray> hosts) {
    switch (w) {
      case HOST -> {
        HostArray h = core.allocateHost(t, m.length, false);
        hosts.add(h);
        SoakCases.put(h, m);
        return h;
      }
      case ARRAY_AT_OFFSET -> {
        double[] d = new double[m.length + 3];
        System.arraycopy(m, 0, d, 3, m.length);
        return t == DType.FLOAT32 ? SoakCases.floats(d) : d;
      }
      default -> {
        return t == DType.FLOAT32 ? SoakCases.floats(m) : m.clone();
      }
    }
  }

  static Operand operand(Object s, Where w) {
    return SoakCases.operand(s, w == Where.ARRAY_AT_OFFSET ? 3 : 0);
  }
}
