/* gpucore_engine_gemm (include/gpucore_engine.h) as gpucore's Java API calls it: operands the
 * engine never sees as pointers, read and written only through the copy function, every
 * transpose, both precisions, beta = 0 (C poisoned with NaN first) and beta != 0, padded leading
 * dimensions (the padding must stay as it was), checked against plain C loops; then host
 * pointers without a copy function, operands in pinned memory (copied by the GPU straight from
 * and into them, also beside an operand behind the copy function), a copy function that fails,
 * and bad arguments. With the argument "parts": long dimensions (parts_main).
 * Prints "N passed, M failed" and the number of copy calls; exit status 0 when all pass. */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpucore_engine.h"
#include "ref_gemm.h"

static int passed, failed;
static long copies;
static unsigned long long seed = 7;
static double rnd(void) {
  seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(seed >> 11) / 9007199254740992.0 - 0.5;
}

/* The operands, where only copy() looks. */
typedef struct {
  char *op[3];
  size_t bytes[3];
  int fail_at; /* the copy call that fails (0: none) */
  int calls;
} operands;

static int copy(void *ctx, int operand, int to_operand, int convert, void *staging,
                size_t staging_ld, size_t offset, size_t ld, size_t len, size_t cols) {
  operands *o = (operands *)ctx;
  /* C is written by the engine's drain thread, A and B are read by the caller's */
  __atomic_add_fetch(&copies, 1, __ATOMIC_RELAXED);
  if (__atomic_add_fetch(&o->calls, 1, __ATOMIC_RELAXED) == o->fail_at) return 1;
  if (operand < 0 || operand > 2 || (to_operand && operand != 2) || len > ld
      || (convert != GPUCORE_ENGINE_TO_SAME && (operand == 2 || len % 4 != 0))
      || (cols > 0 && offset + (cols - 1) * ld + len > o->bytes[operand])) {
    printf("FAIL copy out of bounds: operand %d offset %zu ld %zu len %zu cols %zu (size %zu)\n",
           operand, offset, ld, len, cols, o->bytes[operand]);
    failed++;
    return 1;
  }
  for (size_t j = 0; j < cols; j++) {
    char *x = o->op[operand] + offset + j * ld, *s = (char *)staging + j * staging_ld;
    if (to_operand) memcpy(x, s, len);
    else if (convert != GPUCORE_ENGINE_TO_SAME) gpucore_engine_convert2d(s, len / 2, x, len, len, 1, convert);
    else memcpy(s, x, len);
  }
  return 0;
}

static void check(const char *what, int ok) {
  if (ok) passed++;
  else {
    failed++;
    printf("FAIL %s\n", what);
  }
}

/* One call at precision prec (GPUCORE_ENGINE_PREC_*); via: 1 through copy(), 0 host pointers. */
static void one(int es, int prec, int ta, int tb, int m, int n, int k, double beta, int via) {
  int ra = ta ? k : m, ca = ta ? m : k, rb = tb ? n : k, cb = tb ? k : n;
  int lda = ra + 3, ldb = rb + 2, ldc = m + 4;
  size_t sa = (size_t)lda * ca, sb = (size_t)ldb * cb, sc = (size_t)ldc * n;
  double *a = malloc(sa * 8), *b = malloc(sb * 8), *c = malloc(sc * 8), *r = malloc(sc * 8);
  for (size_t i = 0; i < sa; i++) a[i] = es == 4 ? (float)rnd() : rnd();
  for (size_t i = 0; i < sb; i++) b[i] = es == 4 ? (float)rnd() : rnd();
  for (size_t i = 0; i < sc; i++) c[i] = beta == 0 && (i % ldc) < (size_t)m ? NAN : (float)rnd();
  memcpy(r, c, sc * 8);
  double alpha = -1.25;
  ref_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, r, ldc);
  operands o = {{0}, {sa * es, sb * es, sc * es}, 0, 0};
  double *src[3] = {a, b, c};
  size_t cnt[3] = {sa, sb, sc};
  for (int i = 0; i < 3; i++) {
    o.op[i] = malloc(o.bytes[i]);
    for (size_t p = 0; p < cnt[i]; p++) {
      if (es == 4) ((float *)o.op[i])[p] = (float)src[i][p];
      else ((double *)o.op[i])[p] = src[i][p];
    }
  }
  char err[400] = "";
  int written = -1;
  int rc = via ? gpucore_engine_gemm(es, prec, ta, tb, m, n, k, alpha, NULL, lda, NULL, ldb, beta, NULL,
                                     ldc, copy, &o, -1, &written, err, sizeof err)
               : gpucore_engine_gemm(es, prec, ta, tb, m, n, k, alpha, o.op[0], lda, o.op[1], ldb, beta,
                                     o.op[2], ldc, NULL, NULL, -1, &written, err, sizeof err);
  double worst = 0;
  int pad = 1;
  for (int j = 0; j < n; j++) {
    for (int i = 0; i < ldc; i++) {
      size_t p = i + (size_t)j * ldc;
      double got = es == 4 ? ((float *)o.op[2])[p] : ((double *)o.op[2])[p];
      double want = es == 4 ? (double)(float)c[p] : c[p];
      if (i >= m) {
        if (!(got == want)) pad = 0;
        continue;
      }
      double d = fabs(got - r[p]);
      if (!(d <= worst)) worst = isnan(d) ? INFINITY : d;
    }
  }
  /* inputs in [-0.5, 0.5], |alpha| 1.25: 16-bit operands round each input by at most u (2^-8
   * bf16, 2^-11 fp16), a product by 2u of at most 0.25 */
  int half = prec == GPUCORE_ENGINE_PREC_BF16 || prec == GPUCORE_ENGINE_PREC_FP16;
  double u = prec == GPUCORE_ENGINE_PREC_BF16 ? 0x1p-8 : 0x1p-11;
  double tol = half ? 2 * u * 0.25 * 1.25 * k + 1e-5 * k : (es == 8 ? 1e-12 : 1e-5) * k;
  char what[240];
  snprintf(what, sizeof what, "%cgemm prec %d %c%c m=%d n=%d k=%d beta=%g %s: rc %d (%s) err %.3g pad %d written %d",
           es == 8 ? 'd' : 's', prec, ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, beta,
           via ? "copy" : "host", rc, err, worst, pad, written);
  /* 16-bit operands must show their rounding (else they were not converted) */
  check(what, rc == GPUCORE_ENGINE_OK && worst <= tol && (!half || worst > 1e-4) && pad
                  && written == 1);
  for (int i = 0; i < 3; i++) free(o.op[i]);
  free(a); free(b); free(c); free(r);
}

/* Long dimensions, with device memory and staging enough for the resident scheme: a long inner
 * dimension summed in parts with C on the GPU (k at least twice 4 tiles of 1024), every
 * transpose, beta = 0 and not, through the copy function and from host pointers, BF16; and
 * dimensions of several tiles, alone and with parts of k. */
static int parts_main(void) {
  for (int es = 4; es <= 8; es += 4)
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++)
        one(es, 0, ta, tb, 41, 29, 8300, (ta + tb) % 2 ? 0.0 : 0.5, (ta + 2 * tb + es) % 3 != 0);
  one(4, GPUCORE_ENGINE_PREC_BF16, 0, 1, 37, 33, 8200, 0.5, 1);
  one(4, 0, 0, 0, 4200, 21, 35, 0.5, 1);
  one(8, 0, 1, 0, 19, 4150, 40, 0.0, 1);
  one(8, 0, 0, 1, 4100, 23, 8300, 0.5, 1);
  printf("%d passed, %d failed, %ld copies\n", passed, failed, copies);
  return failed == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "parts") == 0) return parts_main();
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  check("version", gpucore_engine_version() == GPUCORE_ENGINE_VERSION);
  char why[400] = "";
  check("usable", gpucore_engine_usable(why, sizeof why) == 1);
  for (int es = 4; es <= 8; es += 4)
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++)
        for (int bz = 0; bz < 2; bz++)
          one(es, 0, ta, tb, 150 * scale + 7, 130 * scale + 3, 90 * scale + 1, bz ? 0.0 : 0.5, 1);
  one(4, 0, 0, 0, 200, 190, 70, 0.5, 0);
  one(8, 0, 1, 1, 200, 190, 70, 0.0, 0);
  /* TF32, BF16, FP16 on floats: through the copy function and from host pointers */
  for (int prec = GPUCORE_ENGINE_PREC_TF32; prec <= GPUCORE_ENGINE_PREC_FP16; prec++) {
    one(4, prec, 0, 1, 150 * scale + 7, 130 * scale + 3, 90 * scale + 1, 0.5, 1);
    one(4, prec, 1, 0, 200, 190, 70, 0.0, 0);
  }
  long before = copies;
  one(8, 0, 0, 1, 1, 1, 1, 0.5, 1); /* the smallest call */
  check("copies counted", copies > before);

  /* operands in pinned memory (the stand-in runtime's cudaHostAlloc, which counts the copies that
   * touch an allocation): the GPU reads A and B and writes C where they are, no staging */
  {
    void *rt = dlopen("libcudart.so.13", RTLD_NOW);
    int (*host_alloc)(void **, size_t, unsigned) = rt ? dlsym(rt, "cudaHostAlloc") : NULL;
    long (*touching)(const void *) = rt ? dlsym(rt, "fake_copies_touching") : NULL;
    check("stand-in runtime with pinned memory", host_alloc != NULL && touching != NULL);
    for (int es = 4; host_alloc && touching && es <= 8; es += 4) {
      for (int via = 0; via < 2; via++) { /* via: B behind the copy function */
        int m = 300, n = 260, k = 170, lda = m + 5, ldb = k + 1, ldc = m + 2;
        void *pa, *pb, *pc;
        host_alloc(&pa, (size_t)lda * k * es, 0);
        host_alloc(&pb, (size_t)ldb * n * es, 0);
        host_alloc(&pc, (size_t)ldc * n * es, 0);
        double *a = malloc((size_t)lda * k * 8), *b = malloc((size_t)ldb * n * 8);
        double *r = malloc((size_t)ldc * n * 8);
        for (size_t i = 0; i < (size_t)lda * k; i++) a[i] = es == 4 ? (float)rnd() : rnd();
        for (size_t i = 0; i < (size_t)ldb * n; i++) b[i] = es == 4 ? (float)rnd() : rnd();
        for (size_t i = 0; i < (size_t)ldc * n; i++) r[i] = es == 4 ? (float)rnd() : rnd();
        for (size_t i = 0; i < (size_t)lda * k; i++) {
          if (es == 4) ((float *)pa)[i] = (float)a[i]; else ((double *)pa)[i] = a[i];
        }
        for (size_t i = 0; i < (size_t)ldb * n; i++) {
          if (es == 4) ((float *)pb)[i] = (float)b[i]; else ((double *)pb)[i] = b[i];
        }
        for (size_t i = 0; i < (size_t)ldc * n; i++) {
          if (es == 4) ((float *)pc)[i] = (float)r[i]; else ((double *)pc)[i] = r[i];
        }
        ref_gemm(0, 0, m, n, k, 0.75, a, lda, b, ldb, 0.5, r, ldc);
        operands o = {{NULL, (char *)pb, NULL}, {0, (size_t)ldb * n * es, 0}, 0, 0};
        long ta0 = touching(pa), tb0 = touching(pb), tc0 = touching(pc);
        char err[400] = "";
        int written = -1;
        int rc = gpucore_engine_gemm(es, 0, 0, 0, m, n, k, 0.75, pa, lda, via ? NULL : pb, ldb, 0.5,
                                     pc, ldc, via ? copy : NULL, via ? &o : NULL, -1, &written,
                                     err, sizeof err);
        double worst = 0;
        for (int j = 0; j < n; j++) {
          for (int i = 0; i < m; i++) {
            size_t q = i + (size_t)j * ldc;
            double got = es == 4 ? ((float *)pc)[q] : ((double *)pc)[q];
            double d = fabs(got - r[q]);
            if (!(d <= worst)) worst = isnan(d) ? INFINITY : d;
          }
        }
        char what[300];
        snprintf(what, sizeof what,
                 "pinned %cgemm%s: rc %d (%s) err %.3g written %d, copies touching A %ld, B %ld, C %ld",
                 es == 8 ? 'd' : 's', via ? " (B through the copy function)" : "", rc, err, worst,
                 written, touching(pa) - ta0, touching(pb) - tb0, touching(pc) - tc0);
        check(what, rc == GPUCORE_ENGINE_OK && worst <= (es == 8 ? 1e-12 : 1e-5) * k
                        && written == 1 && touching(pa) > ta0 && touching(pc) > tc0
                        && (via ? touching(pb) == tb0 : touching(pb) > tb0));
        free(a); free(b); free(r);
      }
    }
    /* BF16 from pinned floats: A and B are converted on the way up (through staging, no copy of
     * the GPU's touches them), C still comes down in place */
    if (host_alloc && touching) {
      int m = 256, n = 192, k = 160;
      float *pa, *pb, *pc;
      host_alloc((void **)&pa, (size_t)m * k * 4, 0);
      host_alloc((void **)&pb, (size_t)k * n * 4, 0);
      host_alloc((void **)&pc, (size_t)m * n * 4, 0);
      for (int i = 0; i < m * k; i++) pa[i] = 1.0f + 0x1p-12f * (i % 7); /* not bf16 values */
      for (int i = 0; i < k * n; i++) pb[i] = 1.0f;
      for (int i = 0; i < m * n; i++) pc[i] = NAN;
      long ta0 = touching(pa), tc0 = touching(pc);
      char err[400] = "";
      int written = -1;
      int rc = gpucore_engine_gemm(4, GPUCORE_ENGINE_PREC_BF16, 0, 0, m, n, k, 1.0, pa, m, pb, k,
                                   0.0, pc, m, NULL, NULL, -1, &written, err, sizeof err);
      int exact = 1; /* each 1 + x 2^-12 rounds to 1 in bf16: every C element is k */
      for (int i = 0; i < m * n; i++) exact &= pc[i] == (float)k;
      char what[300];
      snprintf(what, sizeof what, "pinned BF16: rc %d (%s) C = k everywhere %d, copies touching A %ld, C %ld",
               rc, err, exact, touching(pa) - ta0, touching(pc) - tc0);
      check(what, rc == GPUCORE_ENGINE_OK && exact && touching(pa) == ta0 && touching(pc) > tc0);
    }
  }

  /* a copy function that fails: reading A at once, then writing C after tiles were multiplied */
  float x[64 * 64], y[64 * 64], z[64 * 64];
  for (int i = 0; i < 64 * 64; i++) x[i] = y[i] = z[i] = 1;
  for (int at = 1; at <= 2; at++) {
    operands o = {{(char *)x, (char *)y, (char *)z}, {sizeof x, sizeof y, sizeof z}, 0, 0};
    o.fail_at = at == 1 ? 1 : 1000000;
    char err[400] = "";
    int written = -1;
    if (at == 2) { /* count the calls of a good run, then fail the last one (a write of C) */
      gpucore_engine_gemm(4, 0, 0, 0, 64, 64, 64, 1.0, NULL, 64, NULL, 64, 0.0, NULL, 64, copy, &o,
                          -1, &written, err, sizeof err);
      o.fail_at = o.calls;
      o.calls = 0;
    }
    int rc = gpucore_engine_gemm(4, 0, 0, 0, 64, 64, 64, 1.0, NULL, 64, NULL, 64, 0.0, NULL, 64, copy,
                                 &o, -1, &written, err, sizeof err);
    char what[600];
    snprintf(what, sizeof what, "failing copy %d: rc %d written %d err \"%s\"", at, rc, written, err);
    check(what, rc == GPUCORE_ENGINE_E_COPY && written == (at == 2)
                    && strstr(err, at == 1 ? "reading operand A failed" : "writing C failed") != NULL);
  }
  /* and the GPU is still usable after them */
  check("usable after failing copies", gpucore_engine_usable(NULL, 0) == 1);

  /* bad arguments: refused before any work */
  char err[400] = "";
  int written = -1;
  int rc = gpucore_engine_gemm(2, 0, 0, 0, 4, 4, 4, 1, x, 4, y, 4, 0, z, 4, NULL, NULL, -1, &written,
                               err, sizeof err);
  check("elem_bytes 2 refused", rc == GPUCORE_ENGINE_E_UNUSABLE && strstr(err, "invalid") && written == 0);
  rc = gpucore_engine_gemm(4, 0, 0, 0, 8, 4, 4, 1, x, 4, y, 4, 0, z, 8, NULL, NULL, -1, &written, err,
                           sizeof err);
  check("lda < m refused", rc == GPUCORE_ENGINE_E_UNUSABLE && strstr(err, "invalid"));
  rc = gpucore_engine_gemm(4, 0, 0, 0, 4, 4, 4, 1, x, 4, y, 4, 0, z, 4, NULL, NULL, 63, &written, err,
                           sizeof err);
  check("device 63 refused", rc == GPUCORE_ENGINE_E_UNUSABLE && strstr(err, "GPU 63 is not visible"));
  rc = gpucore_engine_gemm(8, GPUCORE_ENGINE_PREC_BF16, 0, 0, 4, 4, 4, 1, x, 4, y, 4, 0, z, 4, NULL,
                           NULL, -1, &written, err, sizeof err);
  check("BF16 on doubles refused", rc == GPUCORE_ENGINE_E_UNUSABLE && strstr(err, "invalid"));
  printf("%d passed, %d failed, %ld copies\n", passed, failed, copies);
  return failed == 0 ? 0 : 1;
}
