/* A stand-in for the CUDA runtime and cuBLAS, for testing libgpucore_blas.so's GPU path on a
 * machine without a GPU. Built twice by the tests, as libcudart.so.13 and libcublas.so.13.
 * "Device" memory is host memory; copies and GEMMs run at once on the calling thread;
 * streams are tokens and an event holds the time it was recorded at. Environment:
 *   FAKE_CUDA_DEVICES   device count (default 1; 0 makes cudaGetDeviceCount fail: no device)
 *   FAKE_CUDA_MEM       bytes of device memory (default 1 GiB); cudaMalloc past it fails (OOM)
 *   FAKE_CUBLAS_FAIL_AT the n-th GEMM (1-based, counted over the process) fails: a fault
 *   FAKE_CUDA_LOG       a file that gets one line per GEMM: "gemm OPA OPB M N K LDA LDB LDC dev=D"
 *                       (D: the calling thread's device, as cudaSetDevice set it)
 *   FAKE_CUDA_LIVE      a file that gets "live N" at exit: device bytes still allocated
 *   FAKE_CUDA_EXLOG     a file that gets one line per cublasGemmEx: "gemmex M N K ATYPE COMPUTE" */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

static size_t used;
static long gemms;

static size_t mem_limit(void) {
  const char *v = getenv("FAKE_CUDA_MEM");
  return v ? (size_t)strtoull(v, NULL, 10) : ((size_t)1 << 30);
}

/* Device blocks: a header before, a canary after, all live ones in a list. A write past the end
 * of a block (a buffer sized too small) is found when it is freed or at exit: the process
 * aborts with a message. */
typedef struct hdr {
  struct hdr *next, *prev;
  size_t size;
} hdr;
#define CANARY 64
static hdr live = {&live, &live, 0};
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;

static void check_canary(const hdr *h) {
  const unsigned char *c = (const unsigned char *)(h + 1) + h->size;
  for (int i = 0; i < CANARY; i++) {
    if (c[i] != 0xC5) {
      fprintf(stderr, "fake CUDA: a write past the end of a %zu-byte device buffer\n", h->size);
      abort();
    }
  }
}

#ifndef FAKE_CUBLAS
__attribute__((destructor)) static void report_live(void) {
  pthread_mutex_lock(&live_lock);
  for (hdr *h = live.next; h != &live; h = h->next) check_canary(h);
  pthread_mutex_unlock(&live_lock);
  const char *f = getenv("FAKE_CUDA_LIVE");
  FILE *o = f ? fopen(f, "w") : NULL;
  if (o) {
    fprintf(o, "live %zu\n", __atomic_load_n(&used, __ATOMIC_RELAXED));
    fclose(o);
  }
}
#endif

int cudaGetDeviceCount(int *n) {
  const char *v = getenv("FAKE_CUDA_DEVICES");
  int d = v ? atoi(v) : 1;
  if (d <= 0) return 100; /* no device */
  *n = d;
  return 0;
}
/* Each thread's device lives in the runtime; the cuBLAS build (FAKE_CUBLAS, linked against the
 * runtime build) reads it from there. */
#ifdef FAKE_CUBLAS
int fake_current_device(void);
#else
static __thread int current_device;
int fake_current_device(void) { return current_device; }
#endif
int cudaSetDevice(int d) {
#ifndef FAKE_CUBLAS
  current_device = d;
#endif
  (void)d;
  return 0;
}
int cudaDeviceGetAttribute(int *v, int attr, int d) {
  (void)d;
  *v = attr == 75 ? 9 : 132;
  return 0;
}
int cudaStreamCreateWithFlags(void **s, unsigned f) { (void)f; *s = malloc(1); return 0; }
int cudaStreamSynchronize(void *s) { (void)s; return 0; }
int cudaStreamWaitEvent(void *s, void *e, unsigned f) { (void)s; (void)e; (void)f; return 0; }
/* Work runs at once, so an event is the time it was recorded at. */
int cudaEventCreateWithFlags(void **e, unsigned f) {
  (void)f;
  *e = calloc(1, sizeof(double));
  return *e ? 0 : 2;
}
int cudaEventDestroy(void *e) { free(e); return 0; }
int cudaEventRecord(void *e, void *s) {
  (void)s;
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  *(double *)e = (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
  return 0;
}
int cudaEventSynchronize(void *e) { (void)e; return 0; }
int cudaEventElapsedTime(float *ms, void *a, void *b) {
  *ms = (float)(*(double *)b - *(double *)a);
  return 0;
}
int cudaMalloc(void **p, size_t n) {
  if (__atomic_add_fetch(&used, n, __ATOMIC_RELAXED) > mem_limit()) {
    __atomic_sub_fetch(&used, n, __ATOMIC_RELAXED);
    return 2; /* cudaErrorMemoryAllocation */
  }
  hdr *h = malloc(sizeof(hdr) + n + CANARY);
  if (h == NULL) {
    __atomic_sub_fetch(&used, n, __ATOMIC_RELAXED);
    return 2;
  }
  h->size = n;
  memset(h + 1, 0x7f, n); /* garbage, as device memory is */
  memset((char *)(h + 1) + n, 0xC5, CANARY);
  pthread_mutex_lock(&live_lock);
  h->next = live.next;
  h->prev = &live;
  live.next->prev = h;
  live.next = h;
  pthread_mutex_unlock(&live_lock);
  *p = h + 1;
  return 0;
}
int cudaFree(void *p) {
  if (p == NULL) return 0;
  hdr *h = (hdr *)p - 1;
  check_canary(h);
  pthread_mutex_lock(&live_lock);
  h->prev->next = h->next;
  h->next->prev = h->prev;
  pthread_mutex_unlock(&live_lock);
  __atomic_sub_fetch(&used, h->size, __ATOMIC_RELAXED);
  free(h);
  return 0;
}
/* Pinned host memory: malloc'ed, remembered (for cudaPointerGetAttributes), with the copies
 * that read or wrote it counted (fake_copies_touching). */
#define MAX_PINNED 256
static struct {
  char *p;
  size_t n;
  long copies;
} pinned[MAX_PINNED];
static pthread_mutex_t pinned_lock = PTHREAD_MUTEX_INITIALIZER;

static int pinned_at(const void *q) { /* with pinned_lock held */
  for (int i = 0; i < MAX_PINNED; i++) {
    if (pinned[i].p != NULL && (const char *)q >= pinned[i].p && (const char *)q < pinned[i].p + pinned[i].n) {
      return i;
    }
  }
  return -1;
}

int cudaHostAlloc(void **p, size_t n, unsigned f) {
  (void)f;
  *p = malloc(n);
  if (*p == NULL) return 2;
  pthread_mutex_lock(&pinned_lock);
  for (int i = 0; i < MAX_PINNED; i++) {
    if (pinned[i].p == NULL) {
      pinned[i].p = *p;
      pinned[i].n = n;
      pinned[i].copies = 0;
      break;
    }
  }
  pthread_mutex_unlock(&pinned_lock);
  return 0;
}
int cudaFreeHost(void *p) {
  pthread_mutex_lock(&pinned_lock);
  int i = pinned_at(p);
  if (i >= 0) pinned[i].p = NULL;
  pthread_mutex_unlock(&pinned_lock);
  free(p);
  return 0;
}
/* The memory type first, as in struct cudaPointerAttributes: 1 pinned host, 0 anything else. */
int cudaPointerGetAttributes(void *attr, const void *q) {
  pthread_mutex_lock(&pinned_lock);
  *(int *)attr = pinned_at(q) >= 0 ? 1 : 0;
  pthread_mutex_unlock(&pinned_lock);
  return 0;
}
/* Copies that read or wrote the pinned allocation holding p. */
long fake_copies_touching(const void *p) {
  pthread_mutex_lock(&pinned_lock);
  int i = pinned_at(p);
  long n = i >= 0 ? pinned[i].copies : -1;
  pthread_mutex_unlock(&pinned_lock);
  return n;
}
int cudaMemcpy2DAsync(void *dst, size_t dpitch, const void *src, size_t spitch, size_t width,
                      size_t height, int kind, void *s) {
  (void)kind; (void)s;
  if (width > dpitch || width > spitch) return 1; /* invalid value */
  pthread_mutex_lock(&pinned_lock);
  int i = pinned_at(src), j = pinned_at(dst);
  if (i >= 0) pinned[i].copies++;
  if (j >= 0) pinned[j].copies++;
  pthread_mutex_unlock(&pinned_lock);
  for (size_t r = 0; r < height; r++) {
    memcpy((char *)dst + r * dpitch, (const char *)src + r * spitch, width);
  }
  return 0;
}
int cudaMemGetInfo(size_t *free_b, size_t *total) {
  *total = mem_limit();
  size_t u = __atomic_load_n(&used, __ATOMIC_RELAXED);
  *free_b = *total > u ? *total - u : 0;
  return 0;
}
const char *cudaGetErrorString(int e) {
  switch (e) {
    case 2: return "out of memory";
    case 100: return "no CUDA-capable device is detected";
    default: return "fake CUDA error";
  }
}
int cudaGetLastError(void) { return 0; }

int cublasCreate_v2(void **h) { *h = malloc(1); return 0; }
int cublasSetStream_v2(void *h, void *s) { (void)h; (void)s; return 0; }

static int fail_now(void) {
  long g = __atomic_add_fetch(&gemms, 1, __ATOMIC_RELAXED);
  const char *v = getenv("FAKE_CUBLAS_FAIL_AT");
  return v != NULL && atol(v) == g;
}

static void log_gemm(int ta, int tb, int m, int n, int k, int lda, int ldb, int ldc) {
  const char *f = getenv("FAKE_CUDA_LOG");
  if (f == NULL) return;
  FILE *o = fopen(f, "a");
  if (o == NULL) return;
  fprintf(o, "gemm %d %d %d %d %d %d %d %d dev=%d\n", ta, tb, m, n, k, lda, ldb, ldc, fake_current_device());
  fclose(o);
}

#define GEMM(NAME, T)                                                                          \
  int NAME(void *h, int ta, int tb, int m, int n, int k, const T *alpha, const T *a, int lda,  \
           const T *b, int ldb, const T *beta, T *c, int ldc) {                                \
    (void)h;                                                                                   \
    if (fail_now()) return 13; /* CUBLAS_STATUS_EXECUTION_FAILED */                            \
    if (lda < (ta ? k : m) || ldb < (tb ? n : k) || ldc < m) return 7; /* invalid value */    \
    log_gemm(ta, tb, m, n, k, lda, ldb, ldc);                                                  \
    for (int j = 0; j < n; j++) {                                                              \
      for (int i = 0; i < m; i++) {                                                            \
        double s = 0;                                                                          \
        for (int p = 0; p < k; p++) {                                                          \
          double x = ta ? a[p + (size_t)i * lda] : a[i + (size_t)p * lda];                     \
          double y = tb ? b[j + (size_t)p * ldb] : b[p + (size_t)j * ldb];                     \
          s += x * y;                                                                          \
        }                                                                                      \
        T *cij = &c[i + (size_t)j * ldc];                                                      \
        *cij = (T)(*alpha * s + (*beta == 0 ? 0 : *beta * *cij));                              \
      }                                                                                        \
    }                                                                                          \
    return 0;                                                                                  \
  }
GEMM(cublasSgemm_v2, float)
GEMM(cublasDgemm_v2, double)

/* An element of a cublasGemmEx operand as a double: CUDA_R_32F (0), CUDA_R_16F (2) or
 * CUDA_R_16BF (14). */
static double elem(const void *p, int type, size_t i) {
  if (type == 0) return ((const float *)p)[i];
  unsigned h = ((const unsigned short *)p)[i];
  if (type == 14) {
    unsigned u = h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
  }
  int e = (h >> 10) & 31, m = h & 1023;
  double v = e == 0 ? m * 0x1p-24 : e == 31 ? (m ? NAN : INFINITY) : (1024 + m) * ldexp(1, e - 25);
  return h & 0x8000 ? -v : v;
}

/* fp32 C only, as the engine asks; FAKE_CUDA_LOG lines as the others, then " ex=ATYPE/COMPUTE" */
int cublasGemmEx(void *h, int ta, int tb, int m, int n, int k, const void *alpha, const void *a,
                 int atype, int lda, const void *b, int btype, int ldb, const void *beta, void *c,
                 int ctype, int ldc, int compute, int algo) {
  (void)h; (void)algo;
  if (fail_now()) return 13;
  if (ctype != 0 || atype != btype || (atype != 0 && atype != 2 && atype != 14)
      || (compute != 68 && compute != 77)) return 15; /* not supported */
  if (lda < (ta ? k : m) || ldb < (tb ? n : k) || ldc < m) return 7;
  log_gemm(ta, tb, m, n, k, lda, ldb, ldc);
  const char *f = getenv("FAKE_CUDA_EXLOG");
  FILE *o = f ? fopen(f, "a") : NULL;
  if (o) {
    fprintf(o, "gemmex %d %d %d %d %d\n", m, n, k, atype, compute);
    fclose(o);
  }
  float al = *(const float *)alpha, be = *(const float *)beta;
  for (int j = 0; j < n; j++) {
    for (int i = 0; i < m; i++) {
      double s = 0;
      for (int p = 0; p < k; p++) {
        double x = elem(a, atype, ta ? p + (size_t)i * lda : i + (size_t)p * lda);
        double y = elem(b, btype, tb ? j + (size_t)p * ldb : p + (size_t)j * ldb);
        s += x * y;
      }
      float *cij = &((float *)c)[i + (size_t)j * ldc];
      *cij = (float)(al * s + (be == 0 ? 0 : be * *cij));
    }
  }
  return 0;
}
