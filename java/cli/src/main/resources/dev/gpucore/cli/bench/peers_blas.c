/*
 * gpucore bench peer: C = A*A^T then sum(C) through the Fortran BLAS interface (sgemm_), linked
 * either against OpenBLAS (the CPU peer) or against nvBLAS in front of OpenBLAS (the GPU peer:
 * nvBLAS intercepts sgemm_ on host arrays, moves the tiles to the GPU and C back). A is
 * row-major, so the row-major A*A^T is the column-major call sgemm_("T", "N") on the same
 * storage. Compiled on
 * the spot by `gpucore bench`; prints one JSON object per line.
 *
 *   peers_blas NAME probe
 *   peers_blas NAME e2e CASE fp32|fp64 SEED REPS WARMUP N:BUFFERS [N:BUFFERS ...]
 *
 * fp32 calls sgemm_, fp64 dgemm_ (on the same values, widened). Inputs: buffer j holds the sequence of InputGen.java for seed SEED+j (splitmix64, so every
 * peer computes on the very same numbers); runs rotate through the buffers. Timing: CLOCK_MONOTONIC
 * around each whole run (sgemm_ is synchronous, nvBLAS included). The sum is accumulated in
 * double with four accumulators, as gpucore's CPU backend does.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void sgemm_(const char *, const char *, const int *, const int *, const int *, const float *,
            const float *, const int *, const float *, const int *, const float *, float *,
            const int *);
void dgemm_(const char *, const char *, const int *, const int *, const int *, const double *,
            const double *, const int *, const double *, const int *, const double *, double *,
            const int *);
/* OpenBLAS only; weak so that a BLAS without it still links */
char *openblas_get_config(void) __attribute__((weak));
int openblas_get_num_threads(void) __attribute__((weak));

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static void fill(float *a, size_t n, uint64_t seed) {
  for (size_t i = 0; i < n; i++) {
    uint64_t z = mix(seed + (uint64_t)(i + 1) * 0x9E3779B97F4A7C15ULL);
    a[i] = (float)(((double)(z >> 40) + 0.5) * 0x1p-24);
  }
}

static double sumd(const double *x, size_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += x[i];
    s1 += x[i + 1];
    s2 += x[i + 2];
    s3 += x[i + 3];
  }
  for (; i < n; i++) s0 += x[i];
  return (s0 + s1) + (s2 + s3);
}

/* C = A*A^T for row-major A (the column-major call ("T", "N") on the same storage), then sum */
static void gemm(int fp64, int n, void *a, void *c) {
  if (fp64) {
    double one = 1, zero = 0;
    dgemm_("T", "N", &n, &n, &n, &one, a, &n, a, &n, &zero, c, &n);
  } else {
    float one = 1, zero = 0;
    sgemm_("T", "N", &n, &n, &n, &one, a, &n, a, &n, &zero, c, &n);
  }
}

static double sum(const float *x, size_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += x[i];
    s1 += x[i + 1];
    s2 += x[i + 2];
    s3 += x[i + 3];
  }
  for (; i < n; i++) s0 += x[i];
  return (s0 + s1) + (s2 + s3);
}

static void print_samples(const char *key, const int64_t *t, int n) {
  printf(",\"%s\":[", key);
  for (int i = 0; i < n; i++) printf("%s%lld", i ? "," : "", (long long)t[i]);
  printf("]");
}

static const char *config(void) {
  return openblas_get_config ? openblas_get_config() : "unknown BLAS";
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: peers_blas NAME probe | NAME e2e CASE fp32|fp64 SEED REPS WARMUP N:BUFFERS...\n");
    return 2;
  }
  const char *name = argv[1];
  if (strcmp(argv[2], "probe") == 0) {
    /* a tiny call proves the library loads and computes */
    /* row-major A = [[1,2],[3,4]]: A*A^T = [[5,11],[11,25]] */
    float a[4] = {1, 2, 3, 4}, c[4] = {0};
    int two = 2;
    float one = 1, zero = 0;
    sgemm_("T", "N", &two, &two, &two, &one, a, &two, a, &two, &zero, c, &two);
    int ok = c[0] == 5 && c[1] == 11 && c[2] == 11 && c[3] == 25;
    printf("{\"peer\":\"%s\",\"available\":%s,\"version\":\"%s\",\"threads\":%d%s}\n", name,
           ok ? "true" : "false", config(),
           openblas_get_num_threads ? openblas_get_num_threads() : -1,
           ok ? "" : ",\"reason\":\"a 2x2 sgemm_ gave a wrong result\"");
    return ok ? 0 : 1;
  }
  if (strcmp(argv[2], "e2e") != 0 || argc < 9) {
    fprintf(stderr, "peers_blas: unknown mode or missing arguments\n");
    return 2;
  }
  const char *kase = argv[3];
  int fp64 = strcmp(argv[4], "fp64") == 0;
  size_t esz = fp64 ? sizeof(double) : sizeof(float);
  uint64_t seed = strtoull(argv[5], NULL, 10);
  int reps = atoi(argv[6]), warmup = atoi(argv[7]);
  for (int ai = 8; ai < argc; ai++) {
    int n = 0, bufs = 1;
    if (sscanf(argv[ai], "%d:%d", &n, &bufs) < 1 || n < 1 || bufs < 1) {
      fprintf(stderr, "peers_blas: bad size '%s'\n", argv[ai]);
      return 2;
    }
    size_t nn = (size_t)n * n;
    void **A = calloc(bufs, sizeof(void *));
    void *C = malloc(nn * esz);
    int oom = C == NULL;
    for (int j = 0; j < bufs; j++) {
      A[j] = malloc(nn * esz);
      if (!A[j]) {
        oom = 1;
      } else if (fp64) {
        /* the same values as fp32, widened: fill floats into the upper half, then widen */
        float *f = (float *)((char *)A[j] + nn * sizeof(float));
        fill(f, nn, seed + (uint64_t)j);
        double *d = A[j];
        for (size_t i = 0; i < nn; i++) d[i] = f[i];
      } else {
        fill(A[j], nn, seed + (uint64_t)j);
      }
    }
    if (oom) {
      printf("{\"peer\":\"%s\",\"suite\":\"e2e\",\"group\":\"e2e\",\"case\":\"%s\",\"x\":%d,"
             "\"skipped\":\"out of host memory\"}\n", name, kase, n);
      fflush(stdout);
      continue;
    }
    /* check run (buffer 0), then warm-ups */
    gemm(fp64, n, A[0], C);
    double sum0 = fp64 ? sumd(C, nn) : sum(C, nn);
    for (int w = 0; w < warmup; w++) {
      gemm(fp64, n, A[w % bufs], C);
      (void)(fp64 ? sumd(C, nn) : sum(C, nn));
    }
    int64_t *tot = malloc(sizeof(int64_t) * reps), *tg = malloc(sizeof(int64_t) * reps),
            *ts = malloc(sizeof(int64_t) * reps);
    for (int r = 0; r < reps; r++) {
      int64_t t0 = now_ns();
      gemm(fp64, n, A[r % bufs], C);
      int64_t t1 = now_ns();
      volatile double s = fp64 ? sumd(C, nn) : sum(C, nn);
      (void)s;
      int64_t t2 = now_ns();
      tg[r] = t1 - t0;
      ts[r] = t2 - t1;
      tot[r] = t2 - t0;
    }
    printf("{\"peer\":\"%s\",\"suite\":\"e2e\",\"group\":\"e2e\",\"case\":\"%s\",\"x\":%d,"
           "\"timing\":\"host (clock_gettime around the synchronous gemm call + sum)\",\"sum\":%.17g,"
           "\"buffers\":%d,\"label\":\"%s\"",
           name, kase, n, sum0, bufs,
           strcmp(name, "nvblas") == 0 ? (fp64 ? "C dgemm_ on host arrays via nvBLAS, CPU sum"
                                               : "C sgemm_ on host arrays via nvBLAS, CPU sum")
                                       : (fp64 ? "C dgemm_ + sum" : "C sgemm_ + sum"));
    print_samples("samples_ns", tot, reps);
    printf(",\"stages\":{\"gemm\":[");
    for (int r = 0; r < reps; r++) printf("%s%lld", r ? "," : "", (long long)tg[r]);
    printf("],\"sum\":[");
    for (int r = 0; r < reps; r++) printf("%s%lld", r ? "," : "", (long long)ts[r]);
    printf("]}}\n");
    fflush(stdout);
    free(tot); free(tg); free(ts); free(C);
    for (int j = 0; j < bufs; j++) free(A[j]);
    free(A);
  }
  return 0;
}
