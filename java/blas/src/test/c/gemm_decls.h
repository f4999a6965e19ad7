/* The GEMM entry points the check programs call, Fortran and CBLAS, declared here because the
 * programs link against whatever BLAS is at hand and include none of its headers. */
#ifndef GEMM_DECLS_H
#define GEMM_DECLS_H

void dgemm_(const char *, const char *, const int *, const int *, const int *, const double *,
            const double *, const int *, const double *, const int *, const double *, double *,
            const int *);
void sgemm_(const char *, const char *, const int *, const int *, const int *, const float *,
            const float *, const int *, const float *, const int *, const float *, float *,
            const int *);
void cblas_dgemm(int, int, int, int, int, int, double, const double *, int, const double *, int,
                 double, double *, int);
void cblas_sgemm(int, int, int, int, int, int, float, const float *, int, const float *, int,
                 float, float *, int);

#endif
