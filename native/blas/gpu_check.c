/* A GPU check of libgpucore_blas.so from C, meant to run under LD_PRELOAD (see gpu-check.sh).
 *
 *   gpu_check check OPENBLAS   sgemm_/dgemm_ (all four transposes, beta != 0, padded leading
 *                              dimensions) at n = 256..4096 against OpenBLAS: max relative error
 *   gpu_check time OPENBLAS N  sgemm_ and dgemm_ at n = N: the preloaded BLAS against OpenBLAS
 *
 * OPENBLAS is the path of libopenblas.so.0; it is opened on its own (dlopen, RTLD_LOCAL) so the
 * reference never goes through the preloaded library. Exit status 1 when a result is off. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void (*sgemm_fn)(const char *, const char *, const int *, const int *, const int *,
                         const float *, const float *, const int *, const float *, const int *,
                         const float *, float *, const int *);
typedef void (*dgemm_fn)(const char *, const char *, const int *, const int *, const int *,
                         const double *, const double *, const int *, const double *, const int *,
                         const double *, double *, const int *);

static sgemm_fn ob_s, my_s;
static dgemm_fn ob_d, my_d;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static unsigned long long seed = 42;
static double rnd(void) {
  seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(seed >> 11) / 9007199254740992.0 - 0.5;
}

static int check(int dbl, int ta, int tb, int n) {
  int m = n, k = n - 3 > 1 ? n - 3 : 1, nn = n + 5;
  int lda = (ta ? k : m) + 7, ldb = (tb ? nn : k) + 3, ldc = m + 9;
  size_t sa = (size_t)lda * (ta ? m : k), sb = (size_t)ldb * (tb ? k : nn), sc = (size_t)ldc * nn;
  size_t es = dbl ? 8 : 4;
  char *a = malloc(sa * es), *b = malloc(sb * es), *c1 = malloc(sc * es), *c2 = malloc(sc * es);
  if (!a || !b || !c1 || !c2) {
    printf("out of host memory at n=%d\n", n);
    return 1;
  }
  for (size_t i = 0; i < sa; i++) dbl ? (((double *)a)[i] = rnd()) : (((float *)a)[i] = (float)rnd());
  for (size_t i = 0; i < sb; i++) dbl ? (((double *)b)[i] = rnd()) : (((float *)b)[i] = (float)rnd());
  for (size_t i = 0; i < sc; i++) dbl ? (((double *)c1)[i] = rnd()) : (((float *)c1)[i] = (float)rnd());
  memcpy(c2, c1, sc * es);
  const char *tA = ta ? "T" : "N", *tB = tb ? "T" : "N";
  double t0 = now(), t1, t2;
  if (dbl) {
    double al = 1.25, be = 0.5;
    my_d(tA, tB, &m, &nn, &k, &al, (double *)a, &lda, (double *)b, &ldb, &be, (double *)c1, &ldc);
    t1 = now();
    ob_d(tA, tB, &m, &nn, &k, &al, (double *)a, &lda, (double *)b, &ldb, &be, (double *)c2, &ldc);
  } else {
    float al = 1.25f, be = 0.5f;
    my_s(tA, tB, &m, &nn, &k, &al, (float *)a, &lda, (float *)b, &ldb, &be, (float *)c1, &ldc);
    t1 = now();
    ob_s(tA, tB, &m, &nn, &k, &al, (float *)a, &lda, (float *)b, &ldb, &be, (float *)c2, &ldc);
  }
  t2 = now();
  double maxdiff = 0, maxref = 0;
  int pad_ok = 1;
  for (int j = 0; j < nn; j++) {
    for (int i = 0; i < ldc; i++) {
      size_t p = (size_t)j * ldc + i;
      double x = dbl ? ((double *)c1)[p] : ((float *)c1)[p];
      double y = dbl ? ((double *)c2)[p] : ((float *)c2)[p];
      if (i >= m) {
        if (x != y) pad_ok = 0; /* rows past m must be left alone */
        continue;
      }
      if (!(fabs(x - y) <= maxdiff)) maxdiff = isnan(x - y) ? INFINITY : fabs(x - y);
      if (fabs(y) > maxref) maxref = fabs(y);
    }
  }
  double rel = maxdiff / (maxref > 0 ? maxref : 1);
  double bound = (dbl ? 1e-13 : 2e-6) * sqrt((double)k);
  int ok = rel <= bound && pad_ok;
  printf("%s %s%s m=%d n=%d k=%d  max rel err %.2e (bound %.1e)%s  preloaded %.1f ms, OpenBLAS %.1f ms  %s\n",
         dbl ? "dgemm_" : "sgemm_", tA, tB, m, nn, k, rel, bound, pad_ok ? "" : " PADDING CHANGED",
         (t1 - t0) * 1e3, (t2 - t1) * 1e3, ok ? "ok" : "FAIL");
  free(a); free(b); free(c1); free(c2);
  return ok ? 0 : 1;
}

static double median3(double x, double y, double z) {
  return x > y ? (y > z ? y : (x > z ? z : x)) : (x > z ? x : (y > z ? z : y));
}

static void timing(int dbl, int n) {
  size_t es = dbl ? 8 : 4, sz = (size_t)n * n;
  char *a = malloc(sz * es), *b = malloc(sz * es), *c = malloc(sz * es);
  if (!a || !b || !c) {
    printf("out of host memory at n=%d\n", n);
    return;
  }
  for (size_t i = 0; i < sz; i++) {
    if (dbl) { ((double *)a)[i] = rnd(); ((double *)b)[i] = rnd(); ((double *)c)[i] = 0; }
    else { ((float *)a)[i] = (float)rnd(); ((float *)b)[i] = (float)rnd(); ((float *)c)[i] = 0; }
  }
  double t[2][3];
  for (int who = 0; who < 2; who++) {
    for (int r = -1; r < 3; r++) { /* one warm-up call, then three timed */
      double t0 = now();
      if (dbl) {
        double al = 1, be = 0;
        (who == 0 ? my_d : ob_d)("N", "N", &n, &n, &n, &al, (double *)a, &n, (double *)b, &n, &be, (double *)c, &n);
      } else {
        float al = 1, be = 0;
        (who == 0 ? my_s : ob_s)("N", "N", &n, &n, &n, &al, (float *)a, &n, (float *)b, &n, &be, (float *)c, &n);
      }
      if (r >= 0) t[who][r] = now() - t0;
    }
  }
  double mine = median3(t[0][0], t[0][1], t[0][2]), ob = median3(t[1][0], t[1][1], t[1][2]);
  double flops = 2.0 * n * (double)n * n;
  printf("%s n=%d  preloaded %.1f ms (%.0f GFLOP/s)  OpenBLAS %.1f ms (%.0f GFLOP/s)  speed-up %.2fx\n",
         dbl ? "dgemm_" : "sgemm_", n, mine * 1e3, flops / mine / 1e9, ob * 1e3, flops / ob / 1e9,
         ob / mine);
  free(a); free(b); free(c);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s check|time OPENBLAS [N]\n", argv[0]);
    return 2;
  }
  void *ob = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
  if (ob == NULL) {
    fprintf(stderr, "cannot open %s: %s\n", argv[2], dlerror());
    return 2;
  }
  ob_s = (sgemm_fn)dlsym(ob, "sgemm_");
  ob_d = (dgemm_fn)dlsym(ob, "dgemm_");
  my_s = (sgemm_fn)dlsym(RTLD_DEFAULT, "sgemm_");
  my_d = (dgemm_fn)dlsym(RTLD_DEFAULT, "dgemm_");
  if (!ob_s || !ob_d || !my_s || !my_d) {
    fprintf(stderr, "sgemm_/dgemm_ not found (is a BLAS preloaded?)\n");
    return 2;
  }
  Dl_info info;
  if (dladdr((void *)my_s, &info)) {
    printf("sgemm_ comes from %s\n", info.dli_fname);
  }
  if (strcmp(argv[1], "time") == 0) {
    int n = argc > 3 ? atoi(argv[3]) : 8192;
    timing(0, n);
    timing(1, n);
    return 0;
  }
  int bad = 0;
  for (int n = 256; n <= (getenv("GPU_CHECK_MAX_N") ? atoi(getenv("GPU_CHECK_MAX_N")) : 4096); n *= 2) {
    for (int dbl = 0; dbl < 2; dbl++) {
      for (int t = 0; t < 4; t++) {
        if (n >= 2048 && t != 0 && t != 3) continue; /* the big sizes: NN and TT only */
        bad += check(dbl, t & 1, t >> 1, n);
      }
    }
  }
  printf("%s\n", bad ? "SOME RESULTS ARE OFF" : "all results within bounds");
  return bad ? 1 : 0;
}
