/*
 * gpucore CPU backend: OpenBLAS GEMM on Java arrays held in a JNI critical region (no copies).
 * The arrays arrive as pointers to their first element; the offsets, in elements, select the
 * matrices. One call runs a strided batch. Each function only forwards to cblas_?gemm.
 */
#ifndef GPUCORE_CPU_H
#define GPUCORE_CPU_H

#include <cblas.h>

static inline void gc_cpu_sgemm(int transA, int transB, int m, int n, int k, float alpha,
    const float* a, long long offA, int lda, long long strideA,
    const float* b, long long offB, int ldb, long long strideB, float beta,
    float* c, long long offC, int ldc, long long strideC, int batch) {
  for (int i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
        transB ? CblasTrans : CblasNoTrans, m, n, k, alpha, a + offA + i * strideA, lda,
        b + offB + i * strideB, ldb, beta, c + offC + i * strideC, ldc);
  }
}

static inline void gc_cpu_dgemm(int transA, int transB, int m, int n, int k, double alpha,
    const double* a, long long offA, int lda, long long strideA,
    const double* b, long long offB, int ldb, long long strideB, double beta,
    double* c, long long offC, int ldc, long long strideC, int batch) {
  for (int i = 0; i < batch; i++) {
    cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
        transB ? CblasTrans : CblasNoTrans, m, n, k, alpha, a + offA + i * strideA, lda,
        b + offB + i * strideB, ldb, beta, c + offC + i * strideC, ldc);
  }
}

/* 1 when two critical views of one array are one memory (the JVM pins, it does not copy). */
static inline int gc_cpu_same(const float* x, const float* y) { return x == y; }

#endif
