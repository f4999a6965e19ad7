/* Calls a handful of BLAS routines through whatever BLAS the program is linked or preloaded with
 * and checks them against plain C loops. Exit status 0 when every check passes. Used by the
 * blas-test module both under LD_PRELOAD=libgpucore_blas.so and linked as libblas.so.3. */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm_decls.h"
#include "ref_gemm.h"
double ddot_(const int *, const double *, const int *, const double *, const int *);
double cblas_ddot(int, const double *, int, const double *, int);
void daxpy_(const int *, const double *, const double *, const int *, double *, const int *);
double dnrm2_(const int *, const double *, const int *);
int idamax_(const int *, const double *, const int *);
void dgemv_(const char *, const int *, const int *, const double *, const double *, const int *,
            const double *, const int *, const double *, double *, const int *);
double complex zdotc_(const int *, const double complex *, const int *, const double complex *,
                      const int *);
void cblas_zdotc_sub(int, const void *, int, const void *, int, void *);

static int failed, passed;

static void expect(const char *what, double got, double want, double tol) {
  double err = fabs(got - want) / (fabs(want) > 1 ? fabs(want) : 1);
  if (!(err <= tol)) {
    printf("FAIL %s: got %.17g, want %.17g (rel err %.3g)\n", what, got, want, err);
    failed++;
  } else {
    passed++;
  }
}

static double rnd(void) { return (double)rand() / RAND_MAX - 0.5; }

static void check_dgemm(int ta, int tb, int m, int n, int k) {
  int lda = (ta ? k : m) + 3, ldb = (tb ? n : k) + 2, ldc = m + 1;
  double *a = malloc(sizeof(double) * lda * (ta ? m : k));
  double *b = malloc(sizeof(double) * ldb * (tb ? k : n));
  double *c = malloc(sizeof(double) * ldc * n), *r = malloc(sizeof(double) * ldc * n);
  for (int i = 0; i < lda * (ta ? m : k); i++) a[i] = rnd();
  for (int i = 0; i < ldb * (tb ? k : n); i++) b[i] = rnd();
  for (int i = 0; i < ldc * n; i++) c[i] = r[i] = rnd();
  double alpha = 1.5, beta = -0.5;
  dgemm_(ta ? "T" : "N", tb ? "T" : "N", &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
  ref_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, r, ldc);
  double worst = 0;
  for (int j = 0; j < n; j++)
    for (int i = 0; i < m; i++) worst = fmax(worst, fabs(c[i + j * ldc] - r[i + j * ldc]));
  char what[64];
  snprintf(what, sizeof what, "dgemm_ %c%c %dx%dx%d", ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k);
  expect(what, worst, 0, 1e-12 * k);
  free(a); free(b); free(c); free(r);
}

int main(void) {
  srand(7);
  check_dgemm(0, 0, 37, 29, 41);
  check_dgemm(1, 0, 64, 64, 64);
  check_dgemm(0, 1, 300, 200, 100);
  check_dgemm(1, 1, 5, 7, 3);
  { /* sgemm_ and the CBLAS twins: a 2x2 case worked by hand */
    float a[] = {1, 2, 3, 4}, b[] = {5, 6, 7, 8}, c[] = {1, 1, 1, 1};
    float one = 1, zero = 0;
    int two = 2;
    sgemm_("N", "N", &two, &two, &two, &one, a, &two, b, &two, &zero, c, &two);
    expect("sgemm_ c11", c[0], 23, 0); /* column-major: a = [1 3; 2 4], b = [5 7; 6 8] */
    expect("sgemm_ c22", c[3], 46, 0);
    double ra[] = {1, 2, 3, 4}, rb[] = {5, 6, 7, 8}, rc[] = {1, 1, 1, 1};
    cblas_dgemm(101, 111, 111, 2, 2, 2, 1.0, ra, 2, rb, 2, 1.0, rc, 2); /* row-major */
    expect("cblas_dgemm row-major c11", rc[0], 20, 0);
    expect("cblas_dgemm row-major c12", rc[1], 23, 0);
    expect("cblas_dgemm row-major c21", rc[2], 44, 0);
    float fc[] = {0, 0, 0, 0};
    cblas_sgemm(102, 112, 111, 2, 2, 2, 2.0f, a, 2, b, 2, 0.0f, fc, 2); /* col-major, A' */
    expect("cblas_sgemm A'B c11", fc[0], 2 * (1 * 5 + 2 * 6), 0);
  }
  int n = 1000, one = 1;
  double *x = malloc(sizeof(double) * n), *y = malloc(sizeof(double) * n);
  double dot = 0, nrm = 0, best = -1;
  int imax = 0;
  for (int i = 0; i < n; i++) {
    x[i] = rnd();
    y[i] = rnd();
    dot += x[i] * y[i];
    nrm += x[i] * x[i];
    if (fabs(x[i]) > best) { best = fabs(x[i]); imax = i + 1; }
  }
  expect("ddot_", ddot_(&n, x, &one, y, &one), dot, 1e-12);
  expect("cblas_ddot", cblas_ddot(n, x, 1, y, 1), dot, 1e-12);
  expect("dnrm2_", dnrm2_(&n, x, &one), sqrt(nrm), 1e-12);
  expect("idamax_", idamax_(&n, x, &one), imax, 0);
  double alpha = 2;
  double y0 = y[10];
  daxpy_(&n, &alpha, x, &one, y, &one);
  expect("daxpy_", y[10], y0 + 2 * x[10], 1e-15);
  { /* dgemv_: y = A x for A = [1 3; 2 4] */
    double a[] = {1, 2, 3, 4}, v[] = {1, 1}, w[] = {0, 0}, z = 0, o = 1;
    int two = 2;
    dgemv_("N", &two, &two, &o, a, &two, v, &one, &z, w, &one);
    expect("dgemv_ y1", w[0], 4, 0);
    expect("dgemv_ y2", w[1], 6, 0);
  }
  { /* complex dot products: conj(x).y */
    double complex zx[] = {1 + 2 * I, 3 - 1 * I}, zy[] = {2 - 1 * I, 1 + 1 * I};
    int two = 2;
    double complex want = conj(zx[0]) * zy[0] + conj(zx[1]) * zy[1];
    double complex got = zdotc_(&two, zx, &one, zy, &one);
    expect("zdotc_ re", creal(got), creal(want), 1e-15);
    expect("zdotc_ im", cimag(got), cimag(want), 1e-15);
    double complex sub = 0;
    cblas_zdotc_sub(2, zx, 1, zy, 1, &sub);
    expect("cblas_zdotc_sub re", creal(sub), creal(want), 1e-15);
  }
  free(x);
  free(y);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
