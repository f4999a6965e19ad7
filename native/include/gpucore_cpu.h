/*
 * gpucore CPU backend: OpenBLAS GEMM on Java arrays held in a JNI critical region (no copies).
 * The arrays arrive as pointers to their first element; the offsets, in elements, select the
 * matrices. Each function only forwards to cblas_?gemm (row-major).
 */
#ifndef GPUCORE_CPU_H
#define GPUCORE_CPU_H

#include <cblas.h>

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

#endif
