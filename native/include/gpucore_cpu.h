/*
 * gpucore CPU backend: OpenBLAS GEMM on Java arrays held in a JNI critical region (no copies).
 * The arrays arrive as pointers to their first element; the offsets, in elements, select the
 * matrices. Each GEMM function only forwards to cblas_?gemm (row-major).
 */
#ifndef GPUCORE_CPU_H
#define GPUCORE_CPU_H

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* OpenBLAS's own entry points (exported by libopenblas, not declared in cblas.h). */
#ifdef __cplusplus
extern "C" {
#endif
void openblas_read_env(void);
unsigned int openblas_thread_timeout(void);
int blas_thread_shutdown_(void);
#ifdef __cplusplus
}
#endif

static inline void gc_cpu_sgemm(int transA, int transB, int m, int n, int k, float alpha,
    const float* a, long long offA, int lda, const float* b, long long offB, int ldb,
    float beta, float* c, long long offC, int ldc) {
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
      transB ? CblasTrans : CblasNoTrans, m, n, k, alpha, a + offA, lda, b + offB, ldb, beta,
      c + offC, ldc);
}

static inline void gc_cpu_dgemm(int transA, int transB, int m, int n, int k, double alpha,
    const double* a, long long offA, int lda, const double* b, long long offB, int ldb,
    double beta, double* c, long long offC, int ldc) {
  cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
      transB ? CblasTrans : CblasNoTrans, m, n, k, alpha, a + offA, lda, b + offB, ldb, beta,
      c + offC, ldc);
}

/* 1 when two critical views of one array are one memory (the JVM pins, it does not copy). */
static inline int gc_cpu_same(const float* x, const float* y) { return x == y; }

/*
 * After a call, OpenBLAS's worker threads spin for 2^exponent clock ticks before they sleep
 * (its OPENBLAS_THREAD_TIMEOUT, read from the environment when the library loads and used when
 * it starts its threads). Sets the variable, has OpenBLAS read its environment again, restores
 * the variable as it was (child processes see no change) and stops OpenBLAS's threads: its next
 * threaded call starts them with the new value. No BLAS call may run meanwhile. Returns the
 * value OpenBLAS now holds, or -1 when the variable could not be set.
 */
static inline int gc_cpu_thread_timeout(int exponent) {
  char value[16];
  char* old = getenv("OPENBLAS_THREAD_TIMEOUT");
  char* kept = old != NULL ? strdup(old) : NULL;
  int ok;
  snprintf(value, sizeof value, "%d", exponent);
  ok = setenv("OPENBLAS_THREAD_TIMEOUT", value, 1) == 0;
  if (ok) {
    openblas_read_env();
  }
  if (kept != NULL) {
    setenv("OPENBLAS_THREAD_TIMEOUT", kept, 1);
    free(kept);
  } else {
    unsetenv("OPENBLAS_THREAD_TIMEOUT");
  }
  if (!ok) {
    return -1;
  }
  blas_thread_shutdown_();
  return (int) openblas_thread_timeout();
}

#endif
