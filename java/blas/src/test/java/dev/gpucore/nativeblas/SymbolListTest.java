package dev.gpucore.nativeblas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * symbols.txt, the library's BLAS exports and OpenBLAS's BLAS exports are the same set; besides
 * them the library exports only the engine's entry points (include/gpucore_engine.h) and three
 * JNI entry points for choosing the GPU.
 */
class SymbolListTest {

  @Test
  void listHasNoDuplicates() throws Exception {
    List<String> listed = Native.listedSymbols();
    assertEquals(listed.size(), new TreeSet<>(listed).size(), "a name is listed twice");
    assertTrue(listed.size() > 500, "only " + listed.size() + " names");
  }

  /** The JNI natives of GpuCoreBlasLibrary: the only exports that are not BLAS. */
  static final Set<String> CONTROL = Set.of(
      "Java_dev_gpucore_nativeblas_GpuCoreBlasLibrary_selectGpu0",
      "Java_dev_gpucore_nativeblas_GpuCoreBlasLibrary_selectThreadGpu0",
      "Java_dev_gpucore_nativeblas_GpuCoreBlasLibrary_selectedGpu0");

  @Test
  void libraryExportsExactlyTheListTheEngineAndTheControlEntryPoints() throws Exception {
    Set<String> expected = new TreeSet<>(Native.listedSymbols());
    expected.addAll(engine());
    expected.addAll(CONTROL);
    Set<String> exported = Native.exports(Native.library());
    assertEquals(expected, exported);
  }

  /** The engine's entry points, as include/gpucore_engine.h declares them. */
  static Set<String> engine() throws java.io.IOException {
    String header = java.nio.file.Files.readString(Native.symbolFile().resolveSibling(
        "../include/gpucore_engine.h").normalize());
    Set<String> names = new TreeSet<>();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\b(gpucore_engine_\\w+)\\(")
        .matcher(header);
    while (m.find()) {
      names.add(m.group(1));
    }
    assertTrue(names.contains("gpucore_engine_gemm"), "declarations not found: " + names);
    return names;
  }

  @Test
  void everyBlasSymbolOfOpenBlasIsListed() throws Exception {
    Set<String> openblas = Native.exports(Native.openblas());
    Set<String> blas = openblas.stream().filter(s -> Native.BLAS.matcher(s).matches())
        .collect(Collectors.toCollection(TreeSet::new));
    Set<String> listed = new TreeSet<>(Native.listedSymbols());
    Set<String> missing = new TreeSet<>(blas);
    missing.removeAll(listed);
    assertEquals(Set.of(), missing, "OpenBLAS exports BLAS routines the list lacks");
    // the families are all there
    for (String s : List.of("dgemm_", "zgemm_", "cblas_zgemm", "daxpby_", "domatcopy_",
        "zimatcopy_", "dgemmt_", "idamin_", "xerbla_", "lsame_", "cblas_xerbla", "srotmg_",
        "cdotc_", "cblas_cdotc_sub", "scasum_", "zhpr2_", "cgemm3m_", "sgeadd_")) {
      assertTrue(listed.contains(s), s + " is not listed");
    }
  }

  @Test
  void everyListedSymbolIsOpenBlasBlasAndNoLapackIs() throws Exception {
    Set<String> openblas = Native.exports(Native.openblas());
    for (String s : Native.listedSymbols()) {
      assertTrue(openblas.contains(s), s + " is listed but OpenBLAS does not export it");
      assertTrue(Native.BLAS.matcher(s).matches(), s + " is listed but is not BLAS");
    }
    Set<String> listed = new TreeSet<>(Native.listedSymbols());
    for (String lapack : List.of("dgetrf_", "dpotrf_", "zheev_", "dlaswp_", "crot_", "LAPACKE_dgesv")) {
      assertTrue(openblas.contains(lapack), "OpenBLAS should carry LAPACK's " + lapack);
      assertTrue(!listed.contains(lapack), lapack + " (LAPACK) is listed");
    }
  }

  @Test
  void theGemmsAreTheLibrarysOwn() throws Exception {
    assertEquals(Set.of("sgemm_", "dgemm_", "cblas_sgemm", "cblas_dgemm"), Native.ownSymbols());
  }
}
