/* GEMMs through whatever BLAS is linked or preloaded, every transpose and both precisions,
 * Fortran and CBLAS (row- and column-major), beta = 0 (C poisoned with NaN first) and beta != 0,
 * padded leading dimensions, checked against plain C loops; rows of C past m must stay as they
 * were. Prints "N passed, M failed"; exit status 0 when all pass. Argument: the size scale
 * (default 1: m, n, k around 300) and the number of threads making these calls at once (1). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm_decls.h"
#include "ref_gemm.h"

static int passed, failed;
static __thread unsigned long long seed = 11;
static double rnd(void) {
  seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(seed >> 11) / 9007199254740992.0 - 0.5;
}

/* mode: 0 Fortran, 1 CBLAS column-major, 2 CBLAS row-major */
static void one(int dbl, int mode, int ta, int tb, int m, int n, int k, double beta) {
  /* column-major view of the problem the call computes (row-major is its transpose) */
  int rm = mode == 2;
  int M = rm ? n : m, N = rm ? m : n;
  int opA_T = rm ? tb : ta, opB_T = rm ? ta : tb; /* col-major C' = op(B)' op(A)' */
  int ra = ta ? k : m, ca = ta ? m : k, rb = tb ? n : k, cb = tb ? k : n;
  int lda = (rm ? ca : ra) + 3, ldb = (rm ? cb : rb) + 2, ldc = (rm ? n : m) + 4;
  size_t sa = (size_t)lda * (rm ? ra : ca), sb = (size_t)ldb * (rm ? rb : cb);
  size_t sc = (size_t)ldc * (rm ? m : n);
  double *a = malloc(sa * 8), *b = malloc(sb * 8), *c = malloc(sc * 8), *r = malloc(sc * 8);
  for (size_t i = 0; i < sa; i++) a[i] = rnd();
  for (size_t i = 0; i < sb; i++) b[i] = rnd();
  for (size_t i = 0; i < sc; i++) c[i] = beta == 0 && (i % ldc) < (size_t)M ? NAN : rnd();
  if (!dbl) { /* round the inputs to float so the reference sees what the call sees */
    for (size_t i = 0; i < sa; i++) a[i] = (float)a[i];
    for (size_t i = 0; i < sb; i++) b[i] = (float)b[i];
    for (size_t i = 0; i < sc; i++) c[i] = (float)c[i];
  }
  memcpy(r, c, sc * 8);
  double alpha = -1.25;
  /* reference on the column-major view: A' is (rm ? B : A) ... */
  ref_gemm(opA_T, opB_T, M, N, k, alpha, rm ? b : a, rm ? ldb : lda, rm ? a : b, rm ? lda : ldb,
           beta, r, ldc);
  const char *TA = ta ? "T" : "N", *TB = tb ? "T" : "N";
  int order = rm ? 101 : 102, cta = ta ? 112 : 111, ctb = tb ? 112 : 111;
  if (dbl) {
    if (mode == 0) dgemm_(TA, TB, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
    else cblas_dgemm(order, cta, ctb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  } else {
    float *fa = malloc(sa * 4), *fb = malloc(sb * 4), *fc = malloc(sc * 4);
    for (size_t i = 0; i < sa; i++) fa[i] = (float)a[i];
    for (size_t i = 0; i < sb; i++) fb[i] = (float)b[i];
    for (size_t i = 0; i < sc; i++) fc[i] = (float)c[i];
    float fal = (float)alpha, fbe = (float)beta;
    if (mode == 0) sgemm_(TA, TB, &m, &n, &k, &fal, fa, &lda, fb, &ldb, &fbe, fc, &ldc);
    else cblas_sgemm(order, cta, ctb, m, n, k, fal, fa, lda, fb, ldb, fbe, fc, ldc);
    for (size_t i = 0; i < sc; i++) c[i] = fc[i];
    free(fa); free(fb); free(fc);
  }
  double worst = 0;
  int pad = 1;
  for (int j = 0; j < N; j++) {
    for (int i = 0; i < ldc; i++) {
      size_t p = i + (size_t)j * ldc;
      if (i >= M) {
        if (!(c[p] == r[p])) pad = 0;
        continue;
      }
      double d = fabs(c[p] - r[p]);
      if (!(d <= worst)) worst = isnan(d) ? INFINITY : d;
    }
  }
  double tol = (dbl ? 1e-12 : 1e-5) * k;
  if (worst <= tol && pad) {
    __atomic_add_fetch(&passed, 1, __ATOMIC_RELAXED);
  } else {
    __atomic_add_fetch(&failed, 1, __ATOMIC_RELAXED);
    printf("FAIL %cgemm %s %s%s m=%d n=%d k=%d beta=%g: max err %.3g%s\n", dbl ? 'd' : 's',
           mode == 0 ? "fortran" : mode == 1 ? "cblas-col" : "cblas-row", TA, TB, m, n, k, beta,
           worst, pad ? "" : ", padding changed");
  }
  free(a); free(b); free(c); free(r);
}

static double scale = 1;

static void *all(void *arg) {
  seed = 11 + (unsigned long long)(size_t)arg;
  int m = (int)(310 * scale), n = (int)(270 * scale), k = (int)(150 * scale);
  for (int dbl = 0; dbl < 2; dbl++)
    for (int mode = 0; mode < 3; mode++)
      for (int t = 0; t < 4; t++)
        one(dbl, mode, t & 1, t >> 1, m, n, k, t == 1 ? 0.0 : 0.5);
  return NULL;
}

int main(int argc, char **argv) {
  scale = argc > 1 ? atof(argv[1]) : 1;
  int threads = argc > 2 ? atoi(argv[2]) : 1;
  pthread_t th[64];
  for (int i = 1; i < threads && i < 64; i++) pthread_create(&th[i], NULL, all, (void *)(size_t)i);
  all(NULL);
  for (int i = 1; i < threads && i < 64; i++) pthread_join(th[i], NULL);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
