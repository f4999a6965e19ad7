/* sgemm_, dgemm_, cblas_sgemm, cblas_dgemm: routed per call to the GPU or to OpenBLAS, in the
 * manner of nvBLAS. Every decision can be traced (gpucore.log.file, gpucore.trace). A call the
 * GPU fails (no memory after smaller tiles, a fault) reruns on OpenBLAS with C as it was. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcb_internal.h"
#include "gcb_symbols.h"
#include "gpucore_engine.h"

#define EXPORT __attribute__((visibility("default")))

typedef void (*fgemm_fn)(const char *, const char *, const int *, const int *, const int *,
                         const void *, const void *, const int *, const void *, const int *,
                         const void *, void *, const int *);
typedef void (*cblas_sgemm_fn)(int, int, int, int, int, int, float, const float *, int,
                               const float *, int, float, float *, int);
typedef void (*cblas_dgemm_fn)(int, int, int, int, int, int, double, const double *, int,
                               const double *, int, double, double *, int);

enum { ROW_MAJOR = 101, COL_MAJOR = 102, NO_TRANS = 111, TRANS = 112, CONJ_TRANS = 113 };

typedef struct {
  int es;              /* 4: float, 8: double */
  const char *name;    /* routine as called */
  int cblas;           /* entered through CBLAS */
  /* the call as made, for OpenBLAS */
  const char *fta, *ftb;
  const int *fm, *fn, *fk, *flda, *fldb, *fldc;
  int layout, cta, ctb, cm, cn, ck, clda, cldb, cldc;
  const void *alpha, *beta; /* pointers to float or double */
  const void *a, *b;
  void *c;
  /* the same call column-major, for the GPU */
  int valid, ta, tb, m, n, k, lda, ldb, ldc;
  long tm, tn;         /* m and n as the caller gave them, for the trace */
  const void *na, *nb;
  double alpha_d, beta_d;
} gemm_call;

static int fortran_trans(const char *t, int *out) {
  switch (t == NULL ? 0 : t[0]) {
    case 'N': case 'n': *out = 0; return 1;
    case 'T': case 't': case 'C': case 'c': *out = 1; return 1;
    default: return 0;
  }
}

static int max1(int v) { return v > 1 ? v : 1; }

/* Column-major checks, as BLAS makes them; a call failing them goes to OpenBLAS, which reports it. */
static int check(gemm_call *g) {
  if (g->m < 0 || g->n < 0 || g->k < 0) return 0;
  if (g->lda < max1(g->ta ? g->k : g->m)) return 0;
  if (g->ldb < max1(g->tb ? g->n : g->k)) return 0;
  if (g->ldc < max1(g->m)) return 0;
  return 1;
}

static void run_openblas(const gemm_call *g) {
  int idx = g->cblas ? (g->es == 4 ? GCB_IDX_cblas_sgemm : GCB_IDX_cblas_dgemm)
                     : (g->es == 4 ? GCB_IDX_sgemm_ : GCB_IDX_dgemm_);
  void *f = gcb_openblas(idx);
  if (f == NULL) {
    gcb_report_missing(idx);
    return;
  }
  if (!g->cblas) {
    ((fgemm_fn)f)(g->fta, g->ftb, g->fm, g->fn, g->fk, g->alpha, g->a, g->flda, g->b, g->fldb,
                  g->beta, g->c, g->fldc);
  } else if (g->es == 4) {
    ((cblas_sgemm_fn)f)(g->layout, g->cta, g->ctb, g->cm, g->cn, g->ck, *(const float *)g->alpha,
                        g->a, g->clda, g->b, g->cldb, *(const float *)g->beta, g->c, g->cldc);
  } else {
    ((cblas_dgemm_fn)f)(g->layout, g->cta, g->ctb, g->cm, g->cn, g->ck, *(const double *)g->alpha,
                        g->a, g->clda, g->b, g->cldb, *(const double *)g->beta, g->c, g->cldc);
  }
}

/* Rows [r0, r0 + rows) of the column-major call on OpenBLAS (the CPU share of a split call). */
static void run_openblas_rows(const gemm_call *g, int r0, int rows) {
  fgemm_fn f = (fgemm_fn)gcb_openblas(g->es == 4 ? GCB_IDX_sgemm_ : GCB_IDX_dgemm_);
  if (f == NULL) {
    return;
  }
  const char *ta = g->ta ? "T" : "N", *tb = g->tb ? "T" : "N";
  const char *a = (const char *)g->na + (size_t)r0 * g->es * (g->ta ? (size_t)g->lda : 1);
  char *c = (char *)g->c + (size_t)r0 * g->es;
  f(ta, tb, &rows, &g->n, &g->k, g->alpha, a, &g->lda, g->nb, &g->ldb, g->beta, c, &g->ldc);
}

/* 1: GPU, 0: CPU; why gets the reason. */
static int decide(const gemm_call *g, char *why, size_t wn) {
  const gcb_settings *s = gcb_config();
  if (!g->valid) {
    snprintf(why, wn, "invalid arguments (OpenBLAS reports them)");
    return 0;
  }
  if (g->m == 0 || g->n == 0) {
    snprintf(why, wn, "C is empty");
    return 0;
  }
  char gw[400];
  if (!gcb_gpu_usable(gw, sizeof gw)) {
    snprintf(why, wn, "no GPU: %s", gw);
    return 0;
  }
  if ((g->es == 4 && s->disable_sgemm) || (g->es == 8 && s->disable_dgemm)) {
    snprintf(why, wn, "%s is disabled for the GPU by gpucore.gemm.disable", g->es == 4 ? "sgemm" : "dgemm");
    return 0;
  }
  if (s->route == GCB_ROUTE_CPU) {
    snprintf(why, wn, "gpucore.gemm.route=cpu");
    return 0;
  }
  if (s->route == GCB_ROUTE_GPU) {
    snprintf(why, wn, "gpucore.gemm.route=gpu");
    return 1;
  }
  if (g->k == 0 || g->alpha_d == 0) {
    snprintf(why, wn, "nothing to multiply (k = 0 or alpha = 0): C = beta*C on the CPU");
    return 0;
  }
  double flops = 2.0 * g->m * g->n * g->k;
  if (s->min_flops > 0) {
    int gpu = flops >= s->min_flops;
    snprintf(why, wn, "%.3g flops %s gpucore.gemm.minFlops=%.3g", flops, gpu ? ">=" : "<", s->min_flops);
    return gpu;
  }
  gpucore_engine_model_in in = {0};
  in.precision = g->es == 8 ? GPUCORE_ENGINE_FP64 : GPUCORE_ENGINE_FP32;
  in.flops = flops;
  in.bytes_a = (double)g->m * g->k * g->es;
  in.bytes_b = (double)g->k * g->n * g->es;
  in.bytes_c = (double)g->m * g->n * g->es;
  in.beta_nonzero = g->beta_d != 0;
  in.gpus = 1;
  gcb_gpu_shape(&in.cc_major, &in.sms);
  in.cpu_threads = gcb_openblas_threads();
  in.cpu_gflops = s->cpu_gflops;
  in.gpu_gflops = s->gpu_gflops;
  in.bus_gbs = s->bus_gbs;
  in.overhead_ms = s->overhead_ms;
  gpucore_engine_model_out out;
  gpucore_engine_model(&in, &out);
  int gpu = out.gpu;
  snprintf(why, wn, "estimated GPU %.3f ms vs CPU %.3f ms at %.0f GFLOP/s", out.gpu_ms, out.cpu_ms,
           out.cpu_gflops);
  return gpu;
}

typedef struct {
  const gemm_call *g;
  int r0, rows;
} cpu_share;

static void *cpu_share_main(void *p) {
  cpu_share *s = (cpu_share *)p;
  run_openblas_rows(s->g, s->r0, s->rows);
  return NULL;
}

static void copy_c(const gemm_call *g, void *dst, int to_c) {
  size_t col = (size_t)g->m * g->es, ld = (size_t)g->ldc * g->es;
  if (to_c) {
    gcb_copy2d(g->c, ld, dst, col, col, (size_t)g->n);
  } else {
    gcb_copy2d(dst, col, g->c, ld, col, (size_t)g->n);
  }
}

static void route(gemm_call *g) {
  g->valid = g->valid && check(g);
  if (g->cblas) {
    g->tm = g->cm;
    g->tn = g->cn;
  } else {
    g->tm = g->m;
    g->tn = g->n;
  }
  char why[600];
  int gpu = decide(g, why, sizeof why);
  const char *routine = g->name;
  if (!gpu) {
    gcb_trace(routine, g->tm, g->tn, g->k, "cpu", why);
    run_openblas(g);
    return;
  }
  const gcb_settings *s = gcb_config();
  void *saved = NULL;
  if (s->fallback && g->beta_d != 0) {
    saved = malloc((size_t)g->m * g->n * g->es);
    if (saved == NULL) {
      gcb_trace(routine, g->tm, g->tn, g->k, "cpu", "no host memory to keep C for a fallback");
      run_openblas(g);
      return;
    }
    copy_c(g, saved, 0);
  }
  int cpu_rows = s->cpu_ratio > 0 ? (int)floor(g->m * s->cpu_ratio) : 0;
  if (cpu_rows >= g->m || g->k == 0) {
    cpu_rows = 0;
  }
  int gpu_rows = g->m - cpu_rows;
  pthread_t th;
  cpu_share share = {g, gpu_rows, cpu_rows};
  int split = cpu_rows > 0 && pthread_create(&th, NULL, cpu_share_main, &share) == 0;
  if (cpu_rows > 0 && !split) {
    gpu_rows = g->m; /* no thread: the GPU takes every row */
  }
  char err[400] = "";
  int rc = gcb_gpu_gemm(g->es, GCB_PREC_NATIVE, g->ta, g->tb, gpu_rows, g->n, g->k, g->alpha, g->na, g->lda, g->nb,
                        g->ldb, g->beta, g->c, g->ldc, NULL, -1, NULL, err, sizeof err);
  if (split) {
    pthread_join(th, NULL);
  }
  if (rc == 0) {
    if (gcb_tracing()) {
      char line[800];
      if (split) {
        snprintf(line, sizeof line, "%s; gpucore.gemm.cpuRatio=%g: %d of %d rows of C on the CPU meanwhile",
                 why, s->cpu_ratio, cpu_rows, g->m);
      } else {
        snprintf(line, sizeof line, "%s", why);
      }
      gcb_trace(routine, g->tm, g->tn, g->k, "gpu", line);
    }
    free(saved);
    return;
  }
  if (!s->fallback) {
    fprintf(stderr, "gpucore_blas: %s failed on the GPU (%s) and gpucore.gemm.fallback=false: C is undefined\n",
            routine, err);
    gcb_trace(routine, g->tm, g->tn, g->k, "gpu-failed", err);
    return;
  }
  if (saved != NULL) {
    copy_c(g, saved, 1);
    free(saved);
  }
  char line[900];
  snprintf(line, sizeof line, "GPU failed (%s); rerun on OpenBLAS with C as it was", err);
  gcb_trace(routine, g->tm, g->tn, g->k, "cpu", line);
  run_openblas(g);
}

static void fortran_gemm(int es, const char *name, const char *ta, const char *tb, const int *m,
                         const int *n, const int *k, const void *alpha, const void *a,
                         const int *lda, const void *b, const int *ldb, const void *beta, void *c,
                         const int *ldc) {
  gemm_call g;
  memset(&g, 0, sizeof g);
  g.es = es;
  g.name = name;
  g.fta = ta; g.ftb = tb; g.fm = m; g.fn = n; g.fk = k; g.flda = lda; g.fldb = ldb; g.fldc = ldc;
  g.alpha = alpha; g.beta = beta; g.a = a; g.b = b; g.c = c;
  g.valid = fortran_trans(ta, &g.ta) && fortran_trans(tb, &g.tb) && m && n && k && lda && ldb
            && ldc && alpha && beta;
  if (g.valid) {
    g.m = *m; g.n = *n; g.k = *k; g.lda = *lda; g.ldb = *ldb; g.ldc = *ldc;
    g.na = a; g.nb = b;
    g.alpha_d = es == 4 ? *(const float *)alpha : *(const double *)alpha;
    g.beta_d = es == 4 ? *(const float *)beta : *(const double *)beta;
  }
  route(&g);
}

static int cblas_trans(int t, int *out) {
  if (t == NO_TRANS) { *out = 0; return 1; }
  if (t == TRANS || t == CONJ_TRANS) { *out = 1; return 1; }
  return 0;
}

static void cblas_gemm(int es, const char *name, int layout, int ta, int tb, int m, int n, int k,
                       const void *alpha, const void *a, int lda, const void *b, int ldb,
                       const void *beta, void *c, int ldc) {
  gemm_call g;
  memset(&g, 0, sizeof g);
  g.es = es;
  g.name = name;
  g.cblas = 1;
  g.layout = layout; g.cta = ta; g.ctb = tb; g.cm = m; g.cn = n; g.ck = k;
  g.clda = lda; g.cldb = ldb; g.cldc = ldc;
  g.k = k;
  g.alpha = alpha; g.beta = beta; g.a = a; g.b = b; g.c = c;
  int t1, t2;
  g.valid = (layout == ROW_MAJOR || layout == COL_MAJOR) && cblas_trans(ta, &t1) && cblas_trans(tb, &t2);
  if (g.valid) {
    if (layout == COL_MAJOR) {
      g.ta = t1; g.tb = t2; g.m = m; g.n = n; g.lda = lda; g.ldb = ldb; g.na = a; g.nb = b;
    } else { /* row-major C = op(A)op(B) is column-major C' = op(B)'op(A)' */
      g.ta = t2; g.tb = t1; g.m = n; g.n = m; g.lda = ldb; g.ldb = lda; g.na = b; g.nb = a;
    }
    g.ldc = ldc;
    g.alpha_d = es == 4 ? *(const float *)alpha : *(const double *)alpha;
    g.beta_d = es == 4 ? *(const float *)beta : *(const double *)beta;
  }
  route(&g);
}

EXPORT void sgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k,
                   const float *alpha, const float *a, const int *lda, const float *b,
                   const int *ldb, const float *beta, float *c, const int *ldc) {
  fortran_gemm(4, "sgemm_", ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

EXPORT void dgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k,
                   const double *alpha, const double *a, const int *lda, const double *b,
                   const int *ldb, const double *beta, double *c, const int *ldc) {
  fortran_gemm(8, "dgemm_", ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

EXPORT void cblas_sgemm(int layout, int ta, int tb, int m, int n, int k, float alpha,
                        const float *a, int lda, const float *b, int ldb, float beta, float *c,
                        int ldc) {
  cblas_gemm(4, "cblas_sgemm", layout, ta, tb, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc);
}

EXPORT void cblas_dgemm(int layout, int ta, int tb, int m, int n, int k, double alpha,
                        const double *a, int lda, const double *b, int ldb, double beta,
                        double *c, int ldc) {
  cblas_gemm(8, "cblas_dgemm", layout, ta, tb, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc);
}
