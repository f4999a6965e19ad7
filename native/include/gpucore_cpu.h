/*
 * gpucore CPU backend: OpenBLAS GEMM on Java arrays held in a JNI critical region (no copies).
 * The arrays arrive as pointers to their first element; the offsets, in elements, select the
 * matrices. Each GEMM function only forwards to cblas_?gemm (row-major); the copy functions move
 * parts of arrays to and from off-heap memory for the calls too long to run in place.
 */
#ifndef GPUCORE_CPU_H
#define GPUCORE_CPU_H

#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpucore_stream_copy.h"

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

/*
 * Copies n bytes. With nt, copies of 1 KiB and more store around the caches
 * (gpucore_stream_copy.h): for large copies whose destination is not read again at once. The
 * fence orders those stores before the caller's later ones (another thread reads them after a
 * join).
 */
static inline void gc_cpu_move(char* dst, const char* src, size_t n, int nt) {
  if (!nt || n < 1024) {
    memcpy(dst, src, n);
    return;
  }
  gc_stream_copy(dst, src, n);
  gc_stream_fence();
}

/*
 * Copies count elements between a Java array held in a critical region (from element offset)
 * and memory at address mem: into the memory when toMem, else back into the array.
 */
static inline void gc_cpu_copy_f(float* array, long long offset, long long mem, long long count,
    int toMem, int nt) {
  float* m = (float*) (intptr_t) mem;
  if (toMem) {
    gc_cpu_move((char*) m, (const char*) (array + offset), (size_t) count * sizeof(float), nt);
  } else {
    gc_cpu_move((char*) (array + offset), (const char*) m, (size_t) count * sizeof(float), nt);
  }
}

static inline void gc_cpu_copy_d(double* array, long long offset, long long mem,
    long long count, int toMem, int nt) {
  double* m = (double*) (intptr_t) mem;
  if (toMem) {
    gc_cpu_move((char*) m, (const char*) (array + offset), (size_t) count * sizeof(double), nt);
  } else {
    gc_cpu_move((char*) (array + offset), (const char*) m, (size_t) count * sizeof(double), nt);
  }
}

/* OpenBLAS's build as it runs here: version, options and, for a DYNAMIC_ARCH build, the kernels it
 * picked for this CPU (e.g. "OpenBLAS 0.3.31 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64"). */
static inline const char* gc_cpu_openblas_config(void) { return openblas_get_config(); }

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
