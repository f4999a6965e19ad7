/*
 * gpucore bench's C peer, one program in three builds, compiled on the spot by `gpucore bench`
 * with gcc (every build prints one JSON object per line):
 *
 *   openblas, nvblas (default build, linked against OpenBLAS, or nvBLAS in front of OpenBLAS):
 *     peers NAME probe
 *     peers NAME e2e CASE fp32|fp64 SEED REPS WARMUP N:BUFFERS [N:BUFFERS ...]
 *     peers NAME gemm CASE SEED ROUNDS SAMPLE_MS BUDGET_S DTYPE:M:N:K:GROUP [...]
 *     peers NAME gemm-serve CASE SEED SAMPLE_MS   (the gemm cases sample by sample, on stdin)
 *   cudart (-DPEERS_CUDART, linked against libcudart):
 *     peers cudart probe ORDINAL
 *     peers cudart transfer ORDINAL REPS WARMUP SEED BYTES:BUFFERS [BYTES:BUFFERS ...]
 *
 * BLAS builds: C = A*A^T then sum(C) (e2e) through the Fortran BLAS interface (sgemm_/dgemm_;
 * nvBLAS intercepts them on host arrays, moves the tiles to the GPU and C back). A is row-major,
 * so the row-major A*A^T is the column-major call sgemm_("T", "N") on the same storage. gemm:
 * row-major C (MxN) = A (MxK) * B^T (B NxK) from host arrays of fp32 (sgemm_) or fp64 (dgemm_,
 * full 52-bit mantissas as GemmSuite.fill64) values (A = the sequence for SEED, B for SEED+1),
 * the column-major call ("T", "N") with B first; each line names GROUP and x = M, as gpucore's
 * row it stands beside; each sample is an untimed call then R back-to-back calls lasting at
 * least SAMPLE_MS (R from a doubling loop, as GemmSuite.java), reported per call; at most ROUNDS samples or BUDGET_S seconds per case (at least one). The
 * result is checked before timing: every row sum of C against the exact sum from the inputs.
 * e2e: fp32 calls sgemm_, fp64 dgemm_ (on the same values, widened). Timing: CLOCK_MONOTONIC around
 * each whole run (sgemm_ is synchronous, nvBLAS included). The sum is accumulated in double with
 * four accumulators, as gpucore's CPU backend does.
 *
 * cudart build: host <-> device copies with the bare CUDA runtime, the floor under gpucore's
 * transfer rows. Each copy is cudaMemcpyAsync on a stream created here, then
 * cudaStreamSynchronize: samples_ns is CLOCK_MONOTONIC around both (as gpucore's rows are
 * timed), event_samples_ns the CUDA events around the copy on the same stream. Where no NVIDIA
 * driver is installed at all the probe says so (the runtime itself calls that an insufficient
 * driver version).
 *
 * Inputs: buffer j holds the sequence of InputGen.java for seed SEED+j (splitmix64, so every
 * peer computes on the very same numbers); runs rotate through the buffers so that small cases
 * do not find their input in the CPU cache.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

#ifdef PEERS_CUDART
#include <cuda_runtime.h>
#include <dlfcn.h>

/* whether the NVIDIA driver library can be loaded at all */
static int has_driver(void) {
  void *h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
  if (h) {
    dlclose(h);
    return 1;
  }
  return 0;
}

static void fail_json(const char *what, cudaError_t e) {
  /* the runtime reports a missing driver as "driver version is insufficient": say what it is */
  if ((e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice) && !has_driver()) {
    printf("{\"peer\":\"cudart\",\"available\":false,\"reason\":\"no NVIDIA driver on this "
           "machine (libcuda.so.1 cannot be loaded)\"}\n");
  } else {
    printf("{\"peer\":\"cudart\",\"available\":false,\"reason\":\"%s: %s (%d): %s\"}\n", what,
           cudaGetErrorName(e), (int)e, cudaGetErrorString(e));
  }
  fflush(stdout);
}

#define CK(call)                                   \
  do {                                             \
    cudaError_t e_ = (call);                       \
    if (e_ != cudaSuccess) {                       \
      fail_json(#call, e_);                        \
      return 1;                                    \
    }                                              \
  } while (0)

static void emit(const char *group, const char *kase, size_t bytes, int bufs, const int64_t *h,
                 const float *ev, int reps) {
  printf("{\"peer\":\"cudart\",\"suite\":\"transfer\",\"group\":\"%s\",\"case\":\"%s\",\"x\":%zu,"
         "\"buffers\":%d,\"label\":\"C cudaMemcpyAsync, %s host memory\",\"timing\":"
         "\"host-sync (clock_gettime around cudaMemcpyAsync + cudaStreamSynchronize)\","
         "\"samples_ns\":[",
         group, kase, bytes, bufs, kase);
  for (int i = 0; i < reps; i++) printf("%s%lld", i ? "," : "", (long long)h[i]);
  printf("],\"event_samples_ns\":[");
  for (int i = 0; i < reps; i++) printf("%s%lld", i ? "," : "", (long long)(ev[i] * 1e6));
  printf("]}\n");
  fflush(stdout);
}

/* times one direction over rotating host buffers; returns 0 on success */
static int run(const char *group, const char *kase, void **host, int bufs, void *dev, size_t bytes,
               int toDevice, int reps, int warmup, cudaStream_t s, cudaEvent_t e0, cudaEvent_t e1) {
  int64_t *h = malloc(sizeof(int64_t) * reps);
  float *ev = malloc(sizeof(float) * reps);
  for (int i = -warmup; i < reps; i++) {
    void *hp = host[(i + warmup * bufs) % bufs];
    int64_t t0 = now_ns();
    CK(cudaEventRecord(e0, s));
    CK(cudaMemcpyAsync(toDevice ? dev : hp, toDevice ? hp : dev, bytes,
                       toDevice ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost, s));
    CK(cudaEventRecord(e1, s));
    CK(cudaStreamSynchronize(s));
    int64_t t1 = now_ns();
    if (i >= 0) {
      h[i] = t1 - t0;
      CK(cudaEventElapsedTime(&ev[i], e0, e1));
    }
  }
  emit(group, kase, bytes, bufs, h, ev, reps);
  free(h);
  free(ev);
  return 0;
}

int main(int argc, char **argv) {
  /* argv[1] is the role, "cudart" */
  argc--;
  argv++;
  if (argc < 3) {
    fprintf(stderr, "usage: peers cudart probe ORDINAL | cudart transfer ORDINAL REPS WARMUP SEED BYTES:BUFFERS...\n");
    return 2;
  }
  int ordinal = atoi(argv[2]);
  int count = 0;
  CK(cudaGetDeviceCount(&count));
  if (ordinal < 0 || ordinal >= count) {
    printf("{\"peer\":\"cudart\",\"available\":false,\"reason\":\"CUDA device %d does not exist (%d visible)\"}\n",
           ordinal, count);
    return 1;
  }
  CK(cudaSetDevice(ordinal));
  if (strcmp(argv[1], "probe") == 0) {
    int rt = 0, drv = 0;
    struct cudaDeviceProp p;
    CK(cudaRuntimeGetVersion(&rt));
    CK(cudaDriverGetVersion(&drv));
    CK(cudaGetDeviceProperties(&p, ordinal));
    printf("{\"peer\":\"cudart\",\"available\":true,\"version\":\"CUDA runtime %d.%d, driver %d.%d, %s\"}\n",
           rt / 1000, (rt % 1000) / 10, drv / 1000, (drv % 1000) / 10, p.name);
    return 0;
  }
  if (strcmp(argv[1], "transfer") != 0 || argc < 7) {
    fprintf(stderr, "peers cudart: unknown mode or missing arguments\n");
    return 2;
  }
  int reps = atoi(argv[3]), warmup = atoi(argv[4]);
  uint64_t seed = strtoull(argv[5], NULL, 10);
  cudaStream_t s;
  cudaEvent_t e0, e1;
  CK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  CK(cudaEventCreate(&e0));
  CK(cudaEventCreate(&e1));
  for (int ai = 6; ai < argc; ai++) {
    unsigned long long b = 0;
    int bufs = 1;
    if (sscanf(argv[ai], "%llu:%d", &b, &bufs) < 1 || b < 4 || bufs < 1) {
      fprintf(stderr, "peers cudart: bad size '%s'\n", argv[ai]);
      return 2;
    }
    size_t bytes = (size_t)b;
    void *dev;
    void **pinned = calloc(bufs, sizeof(void *)), **pageable = calloc(bufs, sizeof(void *));
    CK(cudaMalloc(&dev, bytes));
    for (int j = 0; j < bufs; j++) {
      CK(cudaMallocHost(&pinned[j], bytes));
      pageable[j] = malloc(bytes);
      if (!pageable[j]) {
        fprintf(stderr, "peers cudart: out of host memory\n");
        return 1;
      }
      fill((float *)pinned[j], bytes / 4, seed + (uint64_t)j);
      memcpy(pageable[j], pinned[j], bytes);
    }
    if (run("H2D", "pinned", pinned, bufs, dev, bytes, 1, reps, warmup, s, e0, e1)) return 1;
    if (run("D2H", "pinned", pinned, bufs, dev, bytes, 0, reps, warmup, s, e0, e1)) return 1;
    if (run("H2D", "pageable", pageable, bufs, dev, bytes, 1, reps, warmup, s, e0, e1)) return 1;
    if (run("D2H", "pageable", pageable, bufs, dev, bytes, 0, reps, warmup, s, e0, e1)) return 1;
    for (int j = 0; j < bufs; j++) {
      cudaFreeHost(pinned[j]);
      free(pageable[j]);
    }
    free(pinned);
    free(pageable);
    cudaFree(dev);
  }
  return 0;
}

#else /* the BLAS builds */

void sgemm_(const char *, const char *, const int *, const int *, const int *, const float *,
            const float *, const int *, const float *, const int *, const float *, float *,
            const int *);
void dgemm_(const char *, const char *, const int *, const int *, const int *, const double *,
            const double *, const int *, const double *, const int *, const double *, double *,
            const int *);
/* OpenBLAS only; weak so that a BLAS without it still links */
char *openblas_get_config(void) __attribute__((weak));
int openblas_get_num_threads(void) __attribute__((weak));




/* The sum of x[0..n) in fp64, over four interleaved partial sums: one body for both types */
#define DEFINE_SUM(name, T)                                                                   \
  static double name(const T *x, size_t n) {                                                 \
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;                                                    \
    size_t i = 0;                                                                             \
    for (; i + 3 < n; i += 4) {                                                               \
      s0 += x[i];                                                                             \
      s1 += x[i + 1];                                                                         \
      s2 += x[i + 2];                                                                         \
      s3 += x[i + 3];                                                                         \
    }                                                                                         \
    for (; i < n; i++) s0 += x[i];                                                            \
    return (s0 + s1) + (s2 + s3);                                                             \
  }
DEFINE_SUM(sum, float)
DEFINE_SUM(sumd, double)

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

static void print_samples(const char *key, const int64_t *t, int n) {
  printf(",\"%s\":[", key);
  for (int i = 0; i < n; i++) printf("%s%lld", i ? "," : "", (long long)t[i]);
  printf("]");
}

static const char *config(void) {
  return openblas_get_config ? openblas_get_config() : "unknown BLAS";
}

/* full 52-bit mantissas in (0, 1), as GemmSuite.fill64 */
static void fill64(double *a, size_t n, uint64_t seed) {
  for (size_t i = 0; i < n; i++) {
    uint64_t z = mix(seed + (uint64_t)(i + 1) * 0x9E3779B97F4A7C15ULL);
    a[i] = ((double)(z >> 12) + 0.5) * 0x1p-52;
  }
}

/* one host gemm case: row-major C (m x n) = A (m x k) * B^T (B n x k), fp32 or fp64 */
struct gcase {
  int fp64, m, n, k;
};

/* row-major C = A*B^T: column-major C^T = B^T' * A', i.e. ("T", "N") on B's then A's storage */
static void gemm_abt(const struct gcase *g, const void *a, const void *b, void *c) {
  if (g->fp64) {
    double one = 1, zero = 0;
    dgemm_("T", "N", &g->n, &g->m, &g->k, &one, b, &g->k, a, &g->k, &zero, c, &g->n);
  } else {
    float one = 1, zero = 0;
    sgemm_("T", "N", &g->n, &g->m, &g->k, &one, b, &g->k, a, &g->k, &zero, c, &g->n);
  }
}

static int64_t gemm_loop(const struct gcase *g, const void *a, const void *b, void *c, int calls) {
  int64_t t0 = now_ns();
  for (int i = 0; i < calls; i++) gemm_abt(g, a, b, c);
  return now_ns() - t0;
}

static double at(const struct gcase *g, const void *x, size_t i) {
  return g->fp64 ? ((const double *)x)[i] : ((const float *)x)[i];
}

/* one host gemm case with its operands, its check and the samples taken so far */
struct hcase {
  struct gcase g;
  char dt[8], group[64];
  void *a, *b, *c;
  double total, worst;
  int calls, got, cap;
  int64_t *s;
};

/* DTYPE:M:N:K:GROUP, nothing after it; 0 when it parses */
static int hcase_parse(const char *arg, struct hcase *h) {
  memset(h, 0, sizeof(*h));
  int end = 0;
  if (sscanf(arg, "%7[a-z0-9]:%d:%d:%d:%63[^ \t\r\n]%n", h->dt, &h->g.m, &h->g.n, &h->g.k,
             h->group, &end) != 5
      || arg[end] != 0 || h->g.m < 1 || h->g.n < 1 || h->g.k < 1
      || (strcmp(h->dt, "fp32") != 0 && strcmp(h->dt, "fp64") != 0)) {
    fprintf(stderr, "peers: bad gemm case '%s'\n", arg);
    return 1;
  }
  h->g.fp64 = strcmp(h->dt, "fp64") == 0;
  return 0;
}

static void hcase_free(struct hcase *h) {
  free(h->a); free(h->b); free(h->c); free(h->s);
  h->a = h->b = h->c = NULL;
  h->s = NULL;
}

/*
 * Fills A and B from SEED, runs the check (C poisoned, then every row sum against
 * sum_p A[i,p] * (sum_j B[j,p])) and sets the calls per sample for TARGET ns: a loop doubled
 * until it lasts a fifth of the target, then scaled. 1 when there is no memory for it (freed).
 */
static int hcase_open(struct hcase *h, uint64_t seed, int64_t target) {
  const struct gcase *g = &h->g;
  size_t es = g->fp64 ? sizeof(double) : sizeof(float);
  size_t m = (size_t)g->m, n = (size_t)g->n, k = (size_t)g->k;
  h->a = malloc(m * k * es);
  h->b = malloc(n * k * es);
  h->c = malloc(m * n * es);
  h->cap = 16;
  h->s = malloc(sizeof(int64_t) * h->cap);
  if (!h->a || !h->b || !h->c || !h->s) {
    hcase_free(h);
    return 1;
  }
  void *a = h->a, *b = h->b, *c = h->c;
  if (g->fp64) {
    fill64(a, m * k, seed);
    fill64(b, n * k, seed + 1);
    for (size_t i = 0; i < m * n; i++) ((double *)c)[i] = 0.0 / 0.0;
  } else {
    fill(a, m * k, seed);
    fill(b, n * k, seed + 1);
    for (size_t i = 0; i < m * n; i++) ((float *)c)[i] = 0.0f / 0.0f;
  }
  gemm_abt(g, a, b, c);
  double *sb = calloc(k, sizeof(double));
  for (size_t j = 0; j < n; j++)
    for (size_t p = 0; p < k; p++) sb[p] += at(g, b, j * k + p);
  for (size_t i = 0; i < m; i++) {
    double want = 0, got = 0;
    for (size_t p = 0; p < k; p++) want += at(g, a, i * k + p) * sb[p];
    for (size_t j = 0; j < n; j++) got += at(g, c, i * n + j);
    h->total += got;
    double r = got == got ? (got > want ? got - want : want - got) / want : 1e300;
    if (r > h->worst) h->worst = r;
  }
  free(sb);
  gemm_abt(g, a, b, c);
  int calls = 1;
  int64_t t = gemm_loop(g, a, b, c, calls);
  while (t < target / 5 && calls < 5000) {
    calls = calls * 2 > 5000 ? 5000 : calls * 2;
    t = gemm_loop(g, a, b, c, calls);
  }
  if (t < 2 * target) { /* once more, the faster of the two: one hiccup must not set R */
    int64_t t2 = gemm_loop(g, a, b, c, calls);
    if (t2 < t) t = t2;
  }
  double per = (t > 0 ? (double)t : 1.0) / calls;
  double want = target / per;
  h->calls = want < 1 ? 1 : want > 5000 ? 5000 : (int)(want + 0.999999);
  return 0;
}

/* one sample, as gpucore's rounds take theirs: an untimed call, then R calls; ns per call */
static int64_t hcase_sample(struct hcase *h) {
  gemm_abt(&h->g, h->a, h->b, h->c);
  int64_t per = (gemm_loop(&h->g, h->a, h->b, h->c, h->calls) + h->calls / 2) / h->calls;
  if (h->got == h->cap) {
    int64_t *s = realloc(h->s, sizeof(int64_t) * h->cap * 2);
    if (s) {
      h->s = s;
      h->cap *= 2;
    }
  }
  if (h->got < h->cap) h->s[h->got++] = per;
  return per;
}

/* the case's line when it has no samples: WHY */
static void hcase_skip(const char *name, const char *kase, const struct hcase *h,
                       const char *why) {
  printf("{\"peer\":\"%s\",\"suite\":\"gemm\",\"group\":\"%s\",\"case\":\"%s\","
         "\"x\":%d,\"skipped\":\"%s\"}\n", name, h->group, kase, h->g.m, why);
  fflush(stdout);
}

/* the case's line: its check and its samples */
static void hcase_print(const char *name, const char *kase, const struct hcase *h,
                        const char *order) {
  const struct gcase *g = &h->g;
  const char *fn = g->fp64 ? "dgemm_" : "sgemm_";
  printf("{\"peer\":\"%s\",\"suite\":\"gemm\",\"group\":\"%s\",\"case\":\"%s\","
         "\"x\":%d,\"dtype\":\"%s\",\"m\":%d,\"n\":%d,\"k\":%d,"
         "\"timing\":\"host: clock_gettime around %d back-to-back %s calls / %d%s\","
         "\"label\":\"C %s%s\",\"calls_per_sample\":%d,\"sum\":%.17g,"
         "\"rowsum_max_rel\":%.3g", name, h->group, kase, g->m, h->dt, g->m, g->n, g->k,
         h->calls, fn, h->calls, order, fn,
         strcmp(name, "nvblas") == 0 ? " via nvBLAS (host arrays)" : " (OpenBLAS)", h->calls,
         h->total, h->worst);
  print_samples("samples_ns", h->s, h->got);
  printf("}\n");
  fflush(stdout);
}

static int gemm_mode(const char *name, int argc, char **argv) {
  if (argc < 9) {
    fprintf(stderr, "peers: gemm needs CASE SEED ROUNDS SAMPLE_MS BUDGET_S "
                    "fp32|fp64:M:N:K:GROUP...\n");
    return 2;
  }
  const char *kase = argv[3];
  uint64_t seed = strtoull(argv[4], NULL, 10);
  int rounds = atoi(argv[5]);
  int64_t target = (int64_t)atoi(argv[6]) * 1000000LL;
  int64_t budget = (int64_t)atoi(argv[7]) * 1000000000LL;
  if (rounds < 1) rounds = 1;
  for (int ai = 8; ai < argc; ai++) {
    struct hcase h;
    if (hcase_parse(argv[ai], &h)) return 2;
    if (hcase_open(&h, seed, target)) {
      hcase_skip(name, kase, &h, "out of host memory");
      continue;
    }
    int64_t deadline = now_ns() + budget;
    for (int r = 0; r < rounds && (r < 1 || now_ns() < deadline); r++) hcase_sample(&h);
    hcase_print(name, kase, &h, "");
    hcase_free(&h);
  }
  return 0;
}

/*
 * gemm-serve CASE SEED SAMPLE_MS: the same cases, each sample on request, so that the caller
 * can interleave them with its own. Commands on stdin, one per line, each answered with one
 * JSON line on stdout: "open DTYPE:M:N:K:GROUP" (fills and checks the case and sets its calls
 * per sample: {"ready":true,"calls_per_sample":R}, or the case's line with "skipped"),
 * "sample" ({"sample_ns":T}), "end" (the case's line, as gemm prints it) and "quit".
 */
static int gemm_serve(const char *name, int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "peers: gemm-serve needs CASE SEED SAMPLE_MS\n");
    return 2;
  }
  const char *kase = argv[3];
  uint64_t seed = strtoull(argv[4], NULL, 10);
  int64_t target = (int64_t)atoi(argv[5]) * 1000000LL;
  struct hcase h;
  int open = 0;
  char line[256];
  while (fgets(line, sizeof line, stdin)) {
    size_t len = strlen(line);
    if (len == sizeof line - 1 && line[len - 1] != '\n') {
      fprintf(stderr, "peers: a command longer than %d characters\n", (int)sizeof line - 2);
      return 2;
    }
    line[strcspn(line, "\r\n")] = 0;
    if (strncmp(line, "open ", 5) == 0 && !open) {
      if (hcase_parse(line + 5, &h)) return 2;
      if (hcase_open(&h, seed, target)) {
        hcase_skip(name, kase, &h, "out of host memory");
        continue;
      }
      open = 1;
      printf("{\"ready\":true,\"calls_per_sample\":%d}\n", h.calls);
    } else if (strcmp(line, "sample") == 0 && open) {
      printf("{\"sample_ns\":%lld}\n", (long long)hcase_sample(&h));
    } else if (strcmp(line, "end") == 0 && open) {
      if (h.got == 0) {
        hcase_skip(name, kase, &h, "no sample was asked for");
      } else {
        hcase_print(name, kase, &h, ", samples interleaved with gpucore's rounds");
      }
      hcase_free(&h);
      open = 0;
    } else if (strcmp(line, "quit") == 0) {
      break;
    } else {
      fprintf(stderr, "peers: unexpected command '%s'%s\n", line, open ? " (a case is open)" : "");
      return 2;
    }
    fflush(stdout);
  }
  if (open) hcase_free(&h);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: peers NAME probe | NAME e2e CASE fp32|fp64 SEED REPS WARMUP N:BUFFERS...\n");
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
  if (strcmp(argv[2], "gemm") == 0) {
    return gemm_mode(name, argc, argv);
  }
  if (strcmp(argv[2], "gemm-serve") == 0) {
    return gemm_serve(name, argc, argv);
  }
  if (strcmp(argv[2], "e2e") != 0 || argc < 9) {
    fprintf(stderr, "peers: unknown mode or missing arguments\n");
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
      fprintf(stderr, "peers: bad size '%s'\n", argv[ai]);
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

#endif
