/* The float64 reference GEMM of the check programs, column-major. */
#ifndef REF_GEMM_H
#define REF_GEMM_H

#include <stddef.h>

/* C = alpha*op(A)*op(B) + beta*C; with beta 0, C is not read (it may hold NaN). */
static void ref_gemm(int ta, int tb, int m, int n, int k, double alpha, const double *a, int lda,
                     const double *b, int ldb, double beta, double *c, int ldc) {
  for (int j = 0; j < n; j++) {
    for (int i = 0; i < m; i++) {
      double s = 0;
      for (int p = 0; p < k; p++) {
        double x = ta ? a[p + (size_t)i * lda] : a[i + (size_t)p * lda];
        double y = tb ? b[j + (size_t)p * ldb] : b[p + (size_t)j * ldb];
        s += x * y;
      }
      double *cij = &c[i + (size_t)j * ldc];
      *cij = alpha * s + (beta == 0 ? 0 : beta * *cij);
    }
  }
}

#endif
