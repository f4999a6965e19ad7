package dev.gpucore.nativeblas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.blas.JavaBLAS;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.netlib.util.doubleW;
import org.netlib.util.floatW;

/**
 * netlib-java's JNIBLAS on libgpucore_blas.so: every routine of netlib's BLAS interface once, on
 * small random data, against netlib's JavaBLAS. Runs in a JVM of its own per netlib version (the
 * build sets dev.ludovic.netlib.blas.nativeLibPath and gpucore.netlib.expected).
 */
class NetlibEveryRoutineTest {
  private static final int N = 4;
  private static final int LEN = 64;

  /** One call: made on each BLAS with its own copy of the same random arrays. */
  interface Call {
    Object run(BLAS blas, Object[] arrays);
  }

  record Case(String routine, int arrays, boolean dbl, Call call, int length) {}

  private static Case c(String routine, int arrays, boolean dbl, Call call) {
    return new Case(routine, arrays, dbl, call, LEN);
  }

  private static double[] d(Object[] a, int i) {
    return (double[]) a[i];
  }

  private static float[] f(Object[] a, int i) {
    return (float[]) a[i];
  }

  static List<Case> cases() {
    List<Case> list = new ArrayList<>(List.of(
        c("dasum", 1, true, (b, a) -> { return b.dasum(N, d(a, 0), 1); }),
        c("daxpy", 2, true, (b, a) -> { b.daxpy(N, 1.5, d(a, 0), 1, d(a, 1), 1); return null; }),
        c("dcopy", 2, true, (b, a) -> { b.dcopy(N, d(a, 0), 1, d(a, 1), 1); return null; }),
        c("ddot", 2, true, (b, a) -> { return b.ddot(N, d(a, 0), 1, d(a, 1), 1); }),
        c("dnrm2", 1, true, (b, a) -> { return b.dnrm2(N, d(a, 0), 1); }),
        c("drot", 2, true, (b, a) -> { b.drot(N, d(a, 0), 1, d(a, 1), 1, 0.6, 0.8); return null; }),
        c("drotm", 3, true, (b, a) -> { d(a, 2)[0] = -1; b.drotm(N, d(a, 0), 1, d(a, 1), 1, d(a, 2)); return null; }),
        c("dscal", 1, true, (b, a) -> { b.dscal(N, 1.5, d(a, 0), 1); return null; }),
        c("dswap", 2, true, (b, a) -> { b.dswap(N, d(a, 0), 1, d(a, 1), 1); return null; }),
        c("dgbmv", 3, true, (b, a) -> { b.dgbmv("N", 4, 4, 1, 1, 1.5, d(a, 0), 3, d(a, 1), 1, 0.5, d(a, 2), 1); return null; }),
        c("dgemm", 3, true, (b, a) -> { b.dgemm("N", "T", 4, 4, 4, 1.5, d(a, 0), 4, d(a, 1), 4, 0.5, d(a, 2), 4); return null; }),
        c("dgemv", 3, true, (b, a) -> { b.dgemv("T", 4, 4, 1.5, d(a, 0), 4, d(a, 1), 1, 0.5, d(a, 2), 1); return null; }),
        c("dger", 3, true, (b, a) -> { b.dger(4, 4, 1.5, d(a, 0), 1, d(a, 1), 1, d(a, 2), 4); return null; }),
        c("dsbmv", 3, true, (b, a) -> { b.dsbmv("U", 4, 1, 1.5, d(a, 0), 2, d(a, 1), 1, 0.5, d(a, 2), 1); return null; }),
        c("dspmv", 3, true, (b, a) -> { b.dspmv("U", 4, 1.5, d(a, 0), d(a, 1), 1, 0.5, d(a, 2), 1); return null; }),
        c("dspr", 2, true, (b, a) -> { b.dspr("U", 4, 1.5, d(a, 0), 1, d(a, 1)); return null; }),
        c("dspr2", 3, true, (b, a) -> { b.dspr2("L", 4, 1.5, d(a, 0), 1, d(a, 1), 1, d(a, 2)); return null; }),
        c("dsymm", 3, true, (b, a) -> { b.dsymm("L", "U", 4, 4, 1.5, d(a, 0), 4, d(a, 1), 4, 0.5, d(a, 2), 4); return null; }),
        c("dsymv", 3, true, (b, a) -> { b.dsymv("U", 4, 1.5, d(a, 0), 4, d(a, 1), 1, 0.5, d(a, 2), 1); return null; }),
        c("dsyr", 2, true, (b, a) -> { b.dsyr("U", 4, 1.5, d(a, 0), 1, d(a, 1), 4); return null; }),
        c("dsyr2", 3, true, (b, a) -> { b.dsyr2("L", 4, 1.5, d(a, 0), 1, d(a, 1), 1, d(a, 2), 4); return null; }),
        c("dsyr2k", 3, true, (b, a) -> { b.dsyr2k("U", "N", 4, 4, 1.5, d(a, 0), 4, d(a, 1), 4, 0.5, d(a, 2), 4); return null; }),
        c("dsyrk", 2, true, (b, a) -> { b.dsyrk("U", "T", 4, 4, 1.5, d(a, 0), 4, 0.5, d(a, 1), 4); return null; }),
        c("dtbmv", 2, true, (b, a) -> { b.dtbmv("U", "N", "N", 4, 1, d(a, 0), 2, d(a, 1), 1); return null; }),
        c("dtbsv", 2, true, (b, a) -> { b.dtbsv("L", "N", "U", 4, 1, d(a, 0), 2, d(a, 1), 1); return null; }),
        c("dtpmv", 2, true, (b, a) -> { b.dtpmv("U", "T", "N", 4, d(a, 0), d(a, 1), 1); return null; }),
        c("dtpsv", 2, true, (b, a) -> { b.dtpsv("U", "N", "U", 4, d(a, 0), d(a, 1), 1); return null; }),
        c("dtrmm", 2, true, (b, a) -> { b.dtrmm("L", "U", "N", "N", 4, 4, 1.5, d(a, 0), 4, d(a, 1), 4); return null; }),
        c("dtrmv", 2, true, (b, a) -> { b.dtrmv("U", "N", "N", 4, d(a, 0), 4, d(a, 1), 1); return null; }),
        c("dtrsm", 2, true, (b, a) -> { b.dtrsm("R", "L", "T", "U", 4, 4, 1.5, d(a, 0), 4, d(a, 1), 4); return null; }),
        c("dtrsv", 2, true, (b, a) -> { b.dtrsv("L", "T", "U", 4, d(a, 0), 4, d(a, 1), 1); return null; }),
        c("sasum", 1, false, (b, a) -> { return b.sasum(N, f(a, 0), 1); }),
        c("saxpy", 2, false, (b, a) -> { b.saxpy(N, 1.5f, f(a, 0), 1, f(a, 1), 1); return null; }),
        c("scopy", 2, false, (b, a) -> { b.scopy(N, f(a, 0), 1, f(a, 1), 1); return null; }),
        c("sdot", 2, false, (b, a) -> { return b.sdot(N, f(a, 0), 1, f(a, 1), 1); }),
        c("snrm2", 1, false, (b, a) -> { return b.snrm2(N, f(a, 0), 1); }),
        c("srot", 2, false, (b, a) -> { b.srot(N, f(a, 0), 1, f(a, 1), 1, 0.6f, 0.8f); return null; }),
        c("srotm", 3, false, (b, a) -> { f(a, 2)[0] = -1; b.srotm(N, f(a, 0), 1, f(a, 1), 1, f(a, 2)); return null; }),
        c("sscal", 1, false, (b, a) -> { b.sscal(N, 1.5f, f(a, 0), 1); return null; }),
        c("sswap", 2, false, (b, a) -> { b.sswap(N, f(a, 0), 1, f(a, 1), 1); return null; }),
        c("sgbmv", 3, false, (b, a) -> { b.sgbmv("N", 4, 4, 1, 1, 1.5f, f(a, 0), 3, f(a, 1), 1, 0.5f, f(a, 2), 1); return null; }),
        c("sgemm", 3, false, (b, a) -> { b.sgemm("N", "T", 4, 4, 4, 1.5f, f(a, 0), 4, f(a, 1), 4, 0.5f, f(a, 2), 4); return null; }),
        c("sgemv", 3, false, (b, a) -> { b.sgemv("T", 4, 4, 1.5f, f(a, 0), 4, f(a, 1), 1, 0.5f, f(a, 2), 1); return null; }),
        c("sger", 3, false, (b, a) -> { b.sger(4, 4, 1.5f, f(a, 0), 1, f(a, 1), 1, f(a, 2), 4); return null; }),
        c("ssbmv", 3, false, (b, a) -> { b.ssbmv("U", 4, 1, 1.5f, f(a, 0), 2, f(a, 1), 1, 0.5f, f(a, 2), 1); return null; }),
        c("sspmv", 3, false, (b, a) -> { b.sspmv("U", 4, 1.5f, f(a, 0), f(a, 1), 1, 0.5f, f(a, 2), 1); return null; }),
        c("sspr", 2, false, (b, a) -> { b.sspr("U", 4, 1.5f, f(a, 0), 1, f(a, 1)); return null; }),
        c("sspr2", 3, false, (b, a) -> { b.sspr2("L", 4, 1.5f, f(a, 0), 1, f(a, 1), 1, f(a, 2)); return null; }),
        c("ssymm", 3, false, (b, a) -> { b.ssymm("L", "U", 4, 4, 1.5f, f(a, 0), 4, f(a, 1), 4, 0.5f, f(a, 2), 4); return null; }),
        c("ssymv", 3, false, (b, a) -> { b.ssymv("U", 4, 1.5f, f(a, 0), 4, f(a, 1), 1, 0.5f, f(a, 2), 1); return null; }),
        c("ssyr", 2, false, (b, a) -> { b.ssyr("U", 4, 1.5f, f(a, 0), 1, f(a, 1), 4); return null; }),
        c("ssyr2", 3, false, (b, a) -> { b.ssyr2("L", 4, 1.5f, f(a, 0), 1, f(a, 1), 1, f(a, 2), 4); return null; }),
        c("ssyr2k", 3, false, (b, a) -> { b.ssyr2k("U", "N", 4, 4, 1.5f, f(a, 0), 4, f(a, 1), 4, 0.5f, f(a, 2), 4); return null; }),
        c("ssyrk", 2, false, (b, a) -> { b.ssyrk("U", "T", 4, 4, 1.5f, f(a, 0), 4, 0.5f, f(a, 1), 4); return null; }),
        c("stbmv", 2, false, (b, a) -> { b.stbmv("U", "N", "N", 4, 1, f(a, 0), 2, f(a, 1), 1); return null; }),
        c("stbsv", 2, false, (b, a) -> { b.stbsv("L", "N", "U", 4, 1, f(a, 0), 2, f(a, 1), 1); return null; }),
        c("stpmv", 2, false, (b, a) -> { b.stpmv("U", "T", "N", 4, f(a, 0), f(a, 1), 1); return null; }),
        c("stpsv", 2, false, (b, a) -> { b.stpsv("U", "N", "U", 4, f(a, 0), f(a, 1), 1); return null; }),
        c("strmm", 2, false, (b, a) -> { b.strmm("L", "U", "N", "N", 4, 4, 1.5f, f(a, 0), 4, f(a, 1), 4); return null; }),
        c("strmv", 2, false, (b, a) -> { b.strmv("U", "N", "N", 4, f(a, 0), 4, f(a, 1), 1); return null; }),
        c("strsm", 2, false, (b, a) -> { b.strsm("R", "L", "T", "U", 4, 4, 1.5f, f(a, 0), 4, f(a, 1), 4); return null; }),
        c("strsv", 2, false, (b, a) -> { b.strsv("L", "T", "U", 4, f(a, 0), 4, f(a, 1), 1); return null; }),
        c("idamax", 1, true, (b, a) -> { return b.idamax(N, d(a, 0), 1); }),
        c("isamax", 1, false, (b, a) -> { return b.isamax(N, f(a, 0), 1); }),
        c("sdsdot", 2, false, (b, a) -> { return b.sdsdot(N, 0.25f, f(a, 0), 1, f(a, 1), 1); }),
        c("lsame", 0, true, (b, a) -> b.lsame("n", "N") && !b.lsame("n", "T"))));
    // GEMM is the library's own code (not a forwarder): more shapes, every transpose, offsets
    String[] t = {"N", "T"};
    for (String ta : t) {
      for (String tb : t) {
        list.add(new Case("dgemm", 3, true, (b, a) -> {
          b.dgemm(ta, tb, 37, 29, 23, -0.75, d(a, 0), 5, 40, d(a, 1), 7, 40, 1.25, d(a, 2), 3, 41);
          return null;
        }, 5000));
        list.add(new Case("sgemm", 3, false, (b, a) -> {
          b.sgemm(ta, tb, 37, 29, 23, -0.75f, f(a, 0), 5, 40, f(a, 1), 7, 40, 0f, f(a, 2), 3, 41);
          return null;
        }, 5000));
      }
    }
    return list;
  }

  @Test
  void netlibSelectsJniblasOnTheLibrary() {
    BLAS blas = BLAS.getInstance();
    assertEquals("dev.ludovic.netlib.blas.JNIBLAS", blas.getClass().getName(),
        "netlib did not load " + System.getProperty("dev.ludovic.netlib.blas.nativeLibPath"));
    String expected = System.getProperty("gpucore.netlib.expected");
    String jar = BLAS.class.getProtectionDomain().getCodeSource().getLocation().getPath();
    assertTrue(expected != null && jar.endsWith("blas-" + expected + ".jar"),
        "netlib comes from " + jar + ", expected version " + expected);
  }

  @Test
  void everyRoutineOfTheInterfaceHasACase() {
    Set<String> routines = Arrays.stream(BLAS.class.getMethods())
        .filter(m -> !Modifier.isStatic(m.getModifiers()))
        .map(Method::getName)
        .collect(Collectors.toCollection(TreeSet::new));
    Set<String> covered = cases().stream().map(Case::routine)
        .collect(Collectors.toCollection(TreeSet::new));
    covered.add("drotg");
    covered.add("srotg");
    covered.add("drotmg");
    covered.add("srotmg");
    assertEquals(routines, covered);
    assertTrue(routines.size() >= 69, routines.toString());
  }

  @TestFactory
  Stream<DynamicTest> everyRoutineMatchesJavaBlas() {
    BLAS jni = BLAS.getInstance();
    BLAS ref = JavaBLAS.getInstance();
    Random rnd = new Random(16);
    return cases().stream().map(k -> DynamicTest.dynamicTest(k.routine(), () -> {
      Object[] mine = new Object[k.arrays()];
      Object[] theirs = new Object[k.arrays()];
      for (int i = 0; i < k.arrays(); i++) {
        if (k.dbl()) {
          double[] v = new double[k.length()];
          for (int j = 0; j < v.length; j++) {
            v[j] = rnd.nextDouble() - 0.5;
          }
          mine[i] = v;
          theirs[i] = v.clone();
        } else {
          float[] v = new float[k.length()];
          for (int j = 0; j < v.length; j++) {
            v[j] = rnd.nextFloat() - 0.5f;
          }
          mine[i] = v;
          theirs[i] = v.clone();
        }
      }
      Object got = k.call().run(jni, mine);
      Object want = k.call().run(ref, theirs);
      String what = k.routine();
      if (want instanceof Double w) {
        assertClose(what + " result", w, (Double) got, 1e-12);
      } else if (want instanceof Float w) {
        assertClose(what + " result", w, (Float) got, 1e-5);
      } else {
        assertEquals(want, got, what + " result");
      }
      for (int i = 0; i < k.arrays(); i++) {
        if (k.dbl()) {
          for (int j = 0; j < k.length(); j++) {
            assertClose(what + " array " + i + "[" + j + "]", d(theirs, i)[j], d(mine, i)[j], 1e-12);
          }
        } else {
          for (int j = 0; j < k.length(); j++) {
            assertClose(what + " array " + i + "[" + j + "]", f(theirs, i)[j], f(mine, i)[j], 1e-5);
          }
        }
      }
    }));
  }

  @Test
  void rotgAndRotmgMatchJavaBlas() {
    BLAS jni = BLAS.getInstance();
    BLAS ref = JavaBLAS.getInstance();
    doubleW[] x = {new doubleW(0.3), new doubleW(-0.4), new doubleW(0), new doubleW(0)};
    doubleW[] y = {new doubleW(0.3), new doubleW(-0.4), new doubleW(0), new doubleW(0)};
    jni.drotg(x[0], x[1], x[2], x[3]);
    ref.drotg(y[0], y[1], y[2], y[3]);
    for (int i = 0; i < 4; i++) {
      assertClose("drotg " + i, y[i].val, x[i].val, 1e-14);
    }
    floatW[] fx = {new floatW(0.3f), new floatW(-0.4f), new floatW(0), new floatW(0)};
    floatW[] fy = {new floatW(0.3f), new floatW(-0.4f), new floatW(0), new floatW(0)};
    jni.srotg(fx[0], fx[1], fx[2], fx[3]);
    ref.srotg(fy[0], fy[1], fy[2], fy[3]);
    for (int i = 0; i < 4; i++) {
      assertClose("srotg " + i, fy[i].val, fx[i].val, 1e-6);
    }
    double[] pj = new double[5];
    double[] pr = new double[5];
    doubleW d1 = new doubleW(2), d2 = new doubleW(3), x1 = new doubleW(0.5);
    doubleW e1 = new doubleW(2), e2 = new doubleW(3), y1 = new doubleW(0.5);
    jni.drotmg(d1, d2, x1, 0.7, pj);
    ref.drotmg(e1, e2, y1, 0.7, pr);
    assertClose("drotmg d1", e1.val, d1.val, 1e-14);
    assertClose("drotmg d2", e2.val, d2.val, 1e-14);
    assertClose("drotmg x1", y1.val, x1.val, 1e-14);
    for (int i = 0; i < 5; i++) {
      assertClose("drotmg param " + i, pr[i], pj[i], 1e-14);
    }
    float[] qj = new float[5];
    float[] qr = new float[5];
    floatW g1 = new floatW(2), g2 = new floatW(3), gx = new floatW(0.5f);
    floatW h1 = new floatW(2), h2 = new floatW(3), hx = new floatW(0.5f);
    jni.srotmg(g1, g2, gx, 0.7f, qj);
    ref.srotmg(h1, h2, hx, 0.7f, qr);
    assertClose("srotmg d1", h1.val, g1.val, 1e-6);
    assertClose("srotmg x1", hx.val, gx.val, 1e-6);
    for (int i = 0; i < 5; i++) {
      assertClose("srotmg param " + i, qr[i], qj[i], 1e-6);
    }
  }

  @Test
  void gemmsAreTracedThroughTheLibrary() throws Exception {
    BLAS jni = BLAS.getInstance();
    double[] a = new double[30 * 20];
    double[] b = new double[20 * 10];
    double[] c = new double[30 * 10];
    Arrays.fill(a, 1);
    Arrays.fill(b, 2);
    jni.dgemm("N", "N", 30, 10, 20, 1, a, 30, b, 20, 0, c, 30);
    assertEquals(40, c[0], 0);
    assertEquals(40, c[c.length - 1], 0);
    Path log = Path.of(System.getenv("GPUCORE_LOG_FILE"));
    assertTrue(Files.exists(log), "no trace at " + log);
    List<String> lines = Files.readAllLines(log);
    assertTrue(lines.stream().anyMatch(l -> l.contains(" dgemm_ m=30 n=10 k=20 route=")),
        String.join("\n", lines));
    if (!Files.exists(Path.of("/dev/nvidiactl"))) {
      assertTrue(lines.stream().filter(l -> l.contains(" dgemm_ ") || l.contains(" sgemm_ "))
          .allMatch(l -> l.contains("route=cpu reason=no GPU: ")), String.join("\n", lines));
    }
  }

  private static void assertClose(String what, double want, double got, double tol) {
    double err = Math.abs(got - want) / Math.max(1, Math.abs(want));
    assertTrue(err <= tol || (Double.isNaN(want) && Double.isNaN(got)),
        what + ": got " + got + ", want " + want);
  }
}
