/* The GPU side: the CUDA runtime and cuBLAS opened at run time (no CUDA headers or libraries at
 * build time), and a host-operand GEMM pipelined through pinned staging on a few streams.
 *
 * The few declarations below are written from NVIDIA's public CUDA runtime and cuBLAS
 * documentation (function signatures and enum values, stable within a major version).
 *
 * Pipeline: op(A) goes to the GPU by row blocks (all of it when it fits); C is cut into tiles of
 * a row block by a column block; tile t runs on stream t % STREAMS: its panel of op(B) (and its
 * C tile when beta != 0) is packed on the CPU into that stream's pinned staging and copied up,
 * multiplied by cuBLAS, and copied back into pinned staging; the CPU unpacks it into C the next
 * time that stream comes round, so packing, copies and multiplies of different tiles overlap.
 * Each thread has its own cuBLAS handle, streams, staging and device buffers on each GPU it uses.
 *
 * The GPU: the one a caller names (the engine's callers), else the one the JVM side chose for the
 * calling thread or the process (gcb_jni.c), else gpucore.gpu.list's first entry (else 0). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcb_internal.h"

typedef int cudaError_t;
typedef void *cudaStream_t;
typedef void *cudaEvent_t;
typedef void *cublasHandle_t;
typedef int cublasStatus_t;

enum {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_MEMORY_ALLOCATION = 2,
  CUDA_MEMCPY_HOST_TO_DEVICE = 1,
  CUDA_MEMCPY_DEVICE_TO_HOST = 2,
  CUDA_STREAM_NON_BLOCKING = 1,
  CUDA_EVENT_DISABLE_TIMING = 2,
  CUDA_DEV_ATTR_MULTIPROCESSOR_COUNT = 16,
  CUDA_DEV_ATTR_COMPUTE_CAPABILITY_MAJOR = 75,
  CUBLAS_STATUS_SUCCESS = 0,
  CUBLAS_STATUS_ALLOC_FAILED = 3,
  CUBLAS_OP_N = 0,
  CUBLAS_OP_T = 1,
  CUDA_R_32F = 0,
  CUDA_R_16F = 2,
  CUDA_R_16BF = 14,
  CUBLAS_COMPUTE_32F = 68,
  CUBLAS_COMPUTE_32F_FAST_TF32 = 77,
  CUBLAS_GEMM_DEFAULT = -1,
};

static struct {
  cudaError_t (*GetDeviceCount)(int *);
  cudaError_t (*SetDevice)(int);
  cudaError_t (*DeviceGetAttribute)(int *, int, int);
  cudaError_t (*StreamCreateWithFlags)(cudaStream_t *, unsigned);
  cudaError_t (*StreamSynchronize)(cudaStream_t);
  cudaError_t (*StreamWaitEvent)(cudaStream_t, cudaEvent_t, unsigned);
  cudaError_t (*EventCreateWithFlags)(cudaEvent_t *, unsigned);
  cudaError_t (*EventDestroy)(cudaEvent_t);
  cudaError_t (*EventRecord)(cudaEvent_t, cudaStream_t);
  cudaError_t (*EventSynchronize)(cudaEvent_t);
  cudaError_t (*EventElapsedTime)(float *, cudaEvent_t, cudaEvent_t);
  cudaError_t (*Malloc)(void **, size_t);
  cudaError_t (*Free)(void *);
  cudaError_t (*HostAlloc)(void **, size_t, unsigned);
  cudaError_t (*FreeHost)(void *);
  cudaError_t (*Memcpy2DAsync)(void *, size_t, const void *, size_t, size_t, size_t, int, cudaStream_t);
  cudaError_t (*MemGetInfo)(size_t *, size_t *);
  cudaError_t (*PointerGetAttributes)(void *, const void *); /* optional */
  const char *(*GetErrorString)(cudaError_t);
  cudaError_t (*GetLastError)(void);
  cublasStatus_t (*Create)(cublasHandle_t *);
  cublasStatus_t (*SetStream)(cublasHandle_t, cudaStream_t);
  cublasStatus_t (*Sgemm)(cublasHandle_t, int, int, int, int, int, const float *, const float *,
                          int, const float *, int, const float *, float *, int);
  cublasStatus_t (*Dgemm)(cublasHandle_t, int, int, int, int, int, const double *,
                          const double *, int, const double *, int, const double *, double *, int);
  cublasStatus_t (*GemmEx)(cublasHandle_t, int, int, int, int, int, const void *, const void *,
                           int, int, const void *, int, int, const void *, void *, int, int, int,
                           int);
} cu;

#define MAX_DEVICES 64         /* ordinals a thread can keep a context on */

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static int usable;            /* after the probe: a GPU can take work */
static int device;            /* the CUDA ordinal gpucore.gpu.list names */
static int device_count;      /* CUDA devices visible */
/* Chosen by the JVM side (gcb_jni.c): the process's GPU over gpucore.gpu.list, and the calling
 * thread's over both; -1 when not chosen. */
static int chosen_device = -1;
static __thread int thread_device = -1;
static int cc_major, sm_count;
static char unusable_why[400];
static char device_why[400];  /* why the configured device is not usable (device < 0) */
static volatile int broken;   /* a fault disabled the GPU for the rest of the process */
static char broken_why[400];
static pthread_mutex_t broken_lock = PTHREAD_MUTEX_INITIALIZER;

/* The first of names that opens: by the loader's search, then in $CUDA_HOME/lib64 and
 * /usr/local/cuda/lib64 (where the toolkit puts them when no loader path names them). */
static void *open_first(const char *const *names, char *why, size_t n) {
  const char *home = getenv("CUDA_HOME");
  const char *dirs[] = {NULL, home != NULL && home[0] != '\0' ? home : NULL, "/usr/local/cuda"};
  for (int d = 0; d < 3; d++) {
    if (d > 0 && dirs[d] == NULL) {
      continue;
    }
    for (int i = 0; names[i] != NULL; i++) {
      char path[4096];
      if (d == 0) {
        snprintf(path, sizeof path, "%s", names[i]);
      } else {
        snprintf(path, sizeof path, "%s/lib64/%s", dirs[d], names[i]);
      }
      void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
      if (h != NULL) {
        return h;
      }
      if (d == 0 && i == 0) {
        const char *e = dlerror();
        snprintf(why, n, "%s", e ? e : names[i]);
      }
    }
  }
  return NULL;
}

#define SYM(h, field, name)                                              \
  do {                                                                   \
    *(void **)(&cu.field) = dlsym(h, name);                              \
    if (cu.field == NULL) {                                              \
      snprintf(unusable_why, sizeof unusable_why, "%s lacks %s", lib, name); \
      return;                                                            \
    }                                                                    \
  } while (0)

static void probe(void) {
  static const char *const cudart_names[] = {"libcudart.so.13", "libcudart.so.12", NULL};
  static const char *const cublas_names[] = {"libcublas.so.13", "libcublas.so.12", NULL};
  char why[300] = "";
  void *rt = open_first(cudart_names, why, sizeof why);
  if (rt == NULL) {
    snprintf(unusable_why, sizeof unusable_why, "the CUDA runtime cannot be loaded (%s)", why);
    return;
  }
  const char *lib = "libcudart";
  SYM(rt, GetDeviceCount, "cudaGetDeviceCount");
  SYM(rt, SetDevice, "cudaSetDevice");
  SYM(rt, DeviceGetAttribute, "cudaDeviceGetAttribute");
  SYM(rt, StreamCreateWithFlags, "cudaStreamCreateWithFlags");
  SYM(rt, StreamSynchronize, "cudaStreamSynchronize");
  SYM(rt, StreamWaitEvent, "cudaStreamWaitEvent");
  SYM(rt, EventCreateWithFlags, "cudaEventCreateWithFlags");
  SYM(rt, EventDestroy, "cudaEventDestroy");
  SYM(rt, EventRecord, "cudaEventRecord");
  SYM(rt, EventSynchronize, "cudaEventSynchronize");
  SYM(rt, EventElapsedTime, "cudaEventElapsedTime");
  SYM(rt, Malloc, "cudaMalloc");
  SYM(rt, Free, "cudaFree");
  SYM(rt, HostAlloc, "cudaHostAlloc");
  SYM(rt, FreeHost, "cudaFreeHost");
  SYM(rt, Memcpy2DAsync, "cudaMemcpy2DAsync");
  SYM(rt, MemGetInfo, "cudaMemGetInfo");
  *(void **)(&cu.PointerGetAttributes) = dlsym(rt, "cudaPointerGetAttributes");
  SYM(rt, GetErrorString, "cudaGetErrorString");
  SYM(rt, GetLastError, "cudaGetLastError");
  int count = 0;
  cudaError_t e = cu.GetDeviceCount(&count);
  if (e != CUDA_SUCCESS) { /* the count is not set on failure: never read it */
    snprintf(unusable_why, sizeof unusable_why, "cudaGetDeviceCount: %s", cu.GetErrorString(e));
    return;
  }
  if (count <= 0) {
    snprintf(unusable_why, sizeof unusable_why, "no CUDA device is visible");
    return;
  }
  const gcb_settings *s = gcb_config();
  device_count = count;
  device = 0;
  if (!s->gpu_all) {
    device = s->gpu_list[0];
    if (device >= count) { /* callers naming a device themselves (the engine's) are not affected */
      snprintf(device_why, sizeof device_why, "gpucore.gpu.list names GPU %d but %d are visible",
               device, count);
      device = -1;
    }
  }
  void *bl = open_first(cublas_names, why, sizeof why);
  if (bl == NULL) {
    snprintf(unusable_why, sizeof unusable_why, "cuBLAS cannot be loaded (%s)", why);
    return;
  }
  lib = "libcublas";
  SYM(bl, Create, "cublasCreate_v2");
  SYM(bl, SetStream, "cublasSetStream_v2");
  SYM(bl, Sgemm, "cublasSgemm_v2");
  SYM(bl, Dgemm, "cublasDgemm_v2");
  SYM(bl, GemmEx, "cublasGemmEx");
  if (cu.DeviceGetAttribute(&cc_major, CUDA_DEV_ATTR_COMPUTE_CAPABILITY_MAJOR, device) != CUDA_SUCCESS
      || cu.DeviceGetAttribute(&sm_count, CUDA_DEV_ATTR_MULTIPROCESSOR_COUNT, device) != CUDA_SUCCESS) {
    cc_major = 0;
    sm_count = 0;
  }
  usable = 1;
}

/* Whether a GPU can take work (on a device the caller names). */
static int usable_any(char *why, size_t n) {
  pthread_once(&probe_once, probe);
  if (!usable) {
    snprintf(why, n, "%s", unusable_why);
    return 0;
  }
  if (__atomic_load_n(&broken, __ATOMIC_ACQUIRE)) {
    pthread_mutex_lock(&broken_lock);
    snprintf(why, n, "disabled after a GPU failure: %s", broken_why);
    pthread_mutex_unlock(&broken_lock);
    return 0;
  }
  return 1;
}

void gcb_select_gpu(int ordinal) {
  __atomic_store_n(&chosen_device, ordinal < 0 ? -1 : ordinal, __ATOMIC_RELEASE);
}

void gcb_select_thread_gpu(int ordinal) {
  thread_device = ordinal < 0 ? -1 : ordinal;
}

int gcb_selected_gpu(void) {
  if (thread_device >= 0) return thread_device;
  return __atomic_load_n(&chosen_device, __ATOMIC_ACQUIRE);
}

/* The CUDA ordinal this thread's GEMMs use when the caller names none (-1: none usable). */
static int current_device(void) {
  int d = gcb_selected_gpu();
  return d >= 0 ? d : device;
}

int gcb_gpu_usable(char *why, size_t n) {
  if (!usable_any(why, n)) {
    return 0;
  }
  int d = current_device();
  if (gcb_selected_gpu() >= 0 && (d >= device_count || d >= MAX_DEVICES)) {
    snprintf(why, n, "GPU %d is chosen but %d are visible", d, device_count);
    return 0;
  }
  if (d < 0) {
    snprintf(why, n, "%s", device_why);
    return 0;
  }
  return 1;
}

void gcb_gpu_shape(int *cc, int *sms) {
  pthread_once(&probe_once, probe);
  *cc = usable ? cc_major : 0;
  *sms = usable ? sm_count : 0;
}

/* ---- per-thread context ---- */

/* Stream 0 uploads whole operands in the resident scheme (run_resident); every stream computes
 * tiles in the streamed one (run). */
#define STREAMS 4
/* C tiles in flight at once in the resident scheme: each compute stream's C staging and device
 * buffer hold up to this many tiles over STREAMS - 1 (as many as fit the staging). */
#define MAX_SLOTS 24

/* A C tile in flight, in its slot: a device buffer, the pinned staging it comes down into and
 * the event recorded once it is there. */
typedef struct {
  int pending;
  int i0, j0, rows, cols;
  void *dev;
  char *pin;
  cudaEvent_t ev;
} tile_t;

typedef struct {
  int ready;
  int device;                   /* the CUDA ordinal its streams and buffers belong to */
  cublasHandle_t h[STREAMS];    /* one per stream: no workspace shared by concurrent GEMMs */
  cudaStream_t st[STREAMS];
  cudaEvent_t ev_b[STREAMS][2]; /* staging half free again */
  cudaEvent_t ev_c[MAX_SLOTS];  /* C tile back in staging, one per slot */
  cudaEvent_t ev_a;             /* op(A) row block on the GPU */
  size_t stage;                 /* bytes of each staging buffer */
  char *pin_b[STREAMS];         /* two halves: packing one while the other is copied */
  char *pin_c[STREAMS];
  void *d_a, *d_b[STREAMS], *d_c[STREAMS];
  size_t cap_a, cap_b[STREAMS], cap_c[STREAMS]; /* bytes of each buffer */
  void *d_bf;                   /* all of op(B), in the resident scheme */
  size_t cap_bf;
  void *d_cf;                   /* all of C, when the resident scheme sums over parts of k */
  size_t cap_cf;
  int half[STREAMS];
  size_t held;                  /* device bytes counted in held_total */
  gcb_prof *prof;               /* with gpucore.blas.profile */
  /* The drain thread (resident scheme): waits for C tiles and unpacks them while the calling
   * thread packs operands. Slots go in a queue; the fields below are guarded by dl. */
  int drain_on;
  pthread_t drain;
  pthread_mutex_t dl;
  pthread_cond_t dcv;
  int dq[MAX_SLOTS], dq_head, dq_count;
  int queued[MAX_SLOTS];        /* slot waits in the queue or is being unpacked */
  int drain_quit;
  int drain_rc;                 /* the first failure of this call's unpacking */
  char drain_err[300];
  tile_t *dtiles;               /* this call's slots, C and its leading dimension */
  char *dcc;
  int dldc, des;
  /* per call */
  const gcb_io *io;
  int wrote;                    /* some of C was written */
  int pinned[3];                /* A, B, C are host memory the GPU reaches directly (pinned) */
  int prec;                     /* GCB_PREC_*: the multiply's precision */
  int to;                       /* GCB_TO_*: A and B converted on their way up */
  int ds;                       /* bytes of an element of A and B on the GPU */
  int tiles;                    /* C tiles multiplied */
} ctx_t;

/* A thread's contexts, one per device it used. */
typedef struct {
  ctx_t *dev[MAX_DEVICES];
} tls_t;

static pthread_key_t ctx_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static __thread tls_t *tctx;

static void free_device(ctx_t *c) {
  if (c->d_a) cu.Free(c->d_a);
  if (c->d_bf) cu.Free(c->d_bf);
  c->d_bf = NULL;
  c->cap_bf = 0;
  if (c->d_cf) cu.Free(c->d_cf);
  c->d_cf = NULL;
  c->cap_cf = 0;
  for (int s = 0; s < STREAMS; s++) {
    if (c->d_b[s]) cu.Free(c->d_b[s]);
    if (c->d_c[s]) cu.Free(c->d_c[s]);
    c->d_b[s] = c->d_c[s] = NULL;
  }
  c->d_a = NULL;
  c->cap_a = 0;
  memset(c->cap_b, 0, sizeof c->cap_b);
  memset(c->cap_c, 0, sizeof c->cap_c);
}

/* Device bytes the engine's threads keep between calls (their buffers, reused by the next call). */
static size_t held_total;

static void drain_stop(ctx_t *c);

static void ctx_free_one(ctx_t *c) {
  if (c == NULL) return;
  drain_stop(c);
  __atomic_sub_fetch(&held_total, c->held, __ATOMIC_RELAXED);
  cu.SetDevice(c->device);
  for (int s = 0; s < STREAMS; s++) {
    if (c->st[s]) cu.StreamSynchronize(c->st[s]);
  }
  free_device(c);
  for (int s = 0; s < STREAMS; s++) {
    if (c->pin_b[s]) cu.FreeHost(c->pin_b[s]);
    if (c->pin_c[s]) cu.FreeHost(c->pin_c[s]);
  }
  free(c); /* handles, streams and events go with the process (the CUDA context owns them) */
}

static void ctx_free(void *p) {
  tls_t *t = (tls_t *)p;
  if (t == NULL) return;
  for (int d = 0; d < MAX_DEVICES; d++) {
    ctx_free_one(t->dev[d]);
  }
  free(t);
}

static void make_key(void) {
  pthread_key_create(&ctx_key, ctx_free);
}

static const char *cuda_err(cudaError_t e) {
  return cu.GetErrorString != NULL ? cu.GetErrorString(e) : "CUDA error";
}

/* Error plumbing: 1 = out of memory (retry smaller), 2 = anything else (a fault). */
#define CU(call, what)                                                           \
  do {                                                                           \
    cudaError_t e_ = (call);                                                     \
    if (e_ != CUDA_SUCCESS) {                                                    \
      snprintf(err, errn, "%s: %s", what, cuda_err(e_));                         \
      cu.GetLastError();                                                         \
      return e_ == CUDA_ERROR_MEMORY_ALLOCATION ? 1 : 2;                         \
    }                                                                            \
  } while (0)

/* As CU, where a failure sets rc (the loop around it ends on rc). */
#define CU_SET(call, what)                                                       \
  {                                                                              \
    cudaError_t e_ = (call);                                                     \
    if (e_ != CUDA_SUCCESS) {                                                    \
      snprintf(err, errn, "%s: %s", what, cuda_err(e_));                         \
      cu.GetLastError();                                                         \
      rc = e_ == CUDA_ERROR_MEMORY_ALLOCATION ? GCB_E_MEMORY : GCB_E_FAULT;      \
    }                                                                            \
  }

/* As CU_SET, inside a loop of run_resident: leaves the loop too. */
#define CU_BREAK(call, what)                                                     \
  {                                                                              \
    CU_SET(call, what);                                                          \
    if (rc) break;                                                               \
  }

static int prof_create(void **e) { return cu.EventCreateWithFlags(e, 0); }
static int prof_record(void *e, void *st) { return cu.EventRecord(e, st); }
static int prof_sync(void *e) { return cu.EventSynchronize(e); }
static int prof_elapsed(float *ms, void *a, void *b) { return cu.EventElapsedTime(ms, a, b); }

/* The start of an interval of the stage profile on stream s (-1 when not profiling). */
static int prof_begin(ctx_t *c, int s, int kind, int ti, int tj, size_t bytes) {
  return c->prof != NULL ? gcb_prof_begin(c->prof, c->st[s], kind, s, ti, tj, bytes) : -1;
}

static void prof_end(ctx_t *c, int s, int slot) {
  if (slot >= 0) gcb_prof_end(c->prof, slot, c->st[s]);
}

/* Waits for event e, the time counted in the profile as `what`. */
static cudaError_t wait_event(ctx_t *c, cudaEvent_t e, int what) {
  if (c->prof == NULL) return cu.EventSynchronize(e);
  double t = gcb_now();
  cudaError_t r = cu.EventSynchronize(e);
  gcb_prof_host(c->prof, what, gcb_now() - t, 0);
  return r;
}

static int ctx_get(ctx_t **out, int dev, char *err, size_t errn) {
  pthread_once(&key_once, make_key);
  if (tctx == NULL) {
    tctx = (tls_t *)calloc(1, sizeof *tctx);
    if (tctx == NULL) {
      snprintf(err, errn, "no host memory for the GPU context");
      return 1;
    }
    pthread_setspecific(ctx_key, tctx);
  }
  ctx_t *c = tctx->dev[dev];
  CU(cu.SetDevice(dev), "cudaSetDevice");
  if (c != NULL && c->ready) {
    *out = c;
    return 0;
  }
  if (c == NULL) {
    c = (ctx_t *)calloc(1, sizeof *c);
    if (c == NULL) {
      snprintf(err, errn, "no host memory for the GPU context");
      return 1;
    }
    c->device = dev;
    tctx->dev[dev] = c;
  }
  for (int s = 0; s < STREAMS; s++) {
    CU(cu.StreamCreateWithFlags(&c->st[s], CUDA_STREAM_NON_BLOCKING), "cudaStreamCreate");
    if (cu.Create(&c->h[s]) != CUBLAS_STATUS_SUCCESS || cu.SetStream(c->h[s], c->st[s]) != CUBLAS_STATUS_SUCCESS) {
      snprintf(err, errn, "cublasCreate failed");
      return 2;
    }
    CU(cu.EventCreateWithFlags(&c->ev_b[s][0], CUDA_EVENT_DISABLE_TIMING), "cudaEventCreate");
    CU(cu.EventCreateWithFlags(&c->ev_b[s][1], CUDA_EVENT_DISABLE_TIMING), "cudaEventCreate");
  }
  CU(cu.EventCreateWithFlags(&c->ev_a, CUDA_EVENT_DISABLE_TIMING), "cudaEventCreate");
  for (int q = 0; q < MAX_SLOTS; q++) {
    CU(cu.EventCreateWithFlags(&c->ev_c[q], CUDA_EVENT_DISABLE_TIMING), "cudaEventCreate");
  }
  c->stage = gcb_config()->stage_bytes;
  for (int s = 0; s < STREAMS; s++) {
    CU(cu.HostAlloc((void **)&c->pin_b[s], c->stage, 0), "cudaHostAlloc (staging)");
    CU(cu.HostAlloc((void **)&c->pin_c[s], c->stage, 0), "cudaHostAlloc (staging)");
  }
  if (gcb_config()->profile && c->prof == NULL) {
    static const gcb_prof_ops ops = {prof_create, prof_record, prof_sync, prof_elapsed};
    c->prof = gcb_prof_new(&ops);
  }
  c->ready = 1;
  *out = c;
  return 0;
}

/* A fault: the GPU is not used again by this process (its context may be unusable). */
static int fail(const char *err) {
  pthread_mutex_lock(&broken_lock);
  snprintf(broken_why, sizeof broken_why, "%s", err);
  pthread_mutex_unlock(&broken_lock);
  __atomic_store_n(&broken, 1, __ATOMIC_RELEASE);
  return GCB_E_FAULT;
}

static int ensure(void **p, size_t *cap, size_t bytes, char *err, size_t errn) {
  if (bytes == 0) bytes = 16;
  if (*cap >= bytes) return 0;
  if (*p) cu.Free(*p);
  *p = NULL;
  *cap = 0;
  CU(cu.Malloc(p, bytes), "cudaMalloc");
  *cap = bytes;
  return 0;
}

/* Reads cols columns of len bytes of an operand (base + offset, column stride ld bytes) into
 * staging (column stride sd bytes): from host memory, or through the caller's io. */
static int io_read(ctx_t *c, int operand, void *stage, size_t sd, const char *base, size_t offset,
                   size_t ld, size_t len, size_t cols, char *err, size_t errn) {
  double t = c->prof != NULL ? gcb_now() : 0;
  int to = operand < 2 ? c->to : GCB_TO_SAME; /* A and B may be converted; C never is */
  if (c->io == NULL || base != NULL) {
    gcb_convert2d(stage, sd, base + offset, ld, len, cols, to);
  } else if (c->io->copy(c->io->ctx, operand, 0, to, stage, sd, offset, ld, len, cols) != 0) {
    snprintf(err, errn, "reading operand %c failed", "ABC"[operand]);
    return GCB_E_COPY;
  }
  if (c->prof != NULL) gcb_prof_host(c->prof, GCB_PROF_PACK, gcb_now() - t, len * cols);
  return 0;
}

/* Writes cols columns of len bytes of C (base + offset, stride ld) from staging (stride sd). */
static int io_write(ctx_t *c, const void *stage, size_t sd, char *base, size_t offset, size_t ld,
                    size_t len, size_t cols, char *err, size_t errn) {
  c->wrote = 1;
  double t = c->prof != NULL ? gcb_now() : 0;
  if (c->io == NULL || base != NULL) {
    gcb_copy2d(base + offset, ld, stage, sd, len, cols);
  } else if (c->io->copy(c->io->ctx, 2, 1, GCB_TO_SAME, (void *)stage, sd, offset, ld, len,
                         cols) != 0) {
    snprintf(err, errn, "writing C failed");
    return GCB_E_COPY;
  }
  if (c->prof != NULL) gcb_prof_host(c->prof, GCB_PROF_UNPACK, gcb_now() - t, len * cols);
  return 0;
}

/* Copies the rows x cols block of operand A, B or C at base + off (column-major, leading dimension
 * sld elements of es bytes) into dst on the GPU (leading dimension dld elements of the call's
 * device size, converted on the way when the precision asks), through stream s's staging, in
 * chunks. */
static int upload(ctx_t *c, int s, int operand, char *dst, size_t dld, const char *base,
                  size_t off, size_t sld, size_t rows, size_t cols, int es, char *err, size_t errn) {
  static const int up_kind[3] = {GCB_PROF_UP_A, GCB_PROF_UP_B, GCB_PROF_UP_C};
  int rc;
  if (rows == 0 || cols == 0) {
    return 0;
  }
  if (c->pinned[operand]) { /* straight from the caller's pinned memory (never converted) */
    int slot = prof_begin(c, s, up_kind[operand], -1, -1, rows * cols * es);
    CU(cu.Memcpy2DAsync(dst, dld * es, base + off, sld * es, rows * es, cols,
                        CUDA_MEMCPY_HOST_TO_DEVICE, c->st[s]), "cudaMemcpy2DAsync (to the GPU)");
    prof_end(c, s, slot);
    return 0;
  }
  size_t ds = operand == 2 ? (size_t)es : (size_t)c->ds; /* C is never converted */
  size_t half = c->stage / 2;
  size_t col_bytes = rows * ds;
  size_t chunk_rows = rows, chunk_cols;
  if (col_bytes > half) {
    chunk_rows = half / ds;
    chunk_cols = 1;
  } else {
    chunk_cols = half / col_bytes;
  }
  for (size_t c0 = 0; c0 < cols; c0 += chunk_cols) {
    size_t cc = cols - c0 < chunk_cols ? cols - c0 : chunk_cols;
    for (size_t r0 = 0; r0 < rows; r0 += chunk_rows) {
      size_t rr = rows - r0 < chunk_rows ? rows - r0 : chunk_rows;
      int h = c->half[s];
      c->half[s] ^= 1;
      CU(wait_event(c, c->ev_b[s][h], GCB_PROF_WAIT), "staging copy");
      char *stage = c->pin_b[s] + h * half;
      if ((rc = io_read(c, operand, stage, rr * ds, base, off + (c0 * sld + r0) * es, sld * es,
                        rr * es, cc, err, errn))) {
        return rc;
      }
      int slot = prof_begin(c, s, up_kind[operand], -1, -1, rr * ds * cc);
      CU(cu.Memcpy2DAsync(dst + (c0 * dld + r0) * ds, dld * ds, stage, rr * ds, rr * ds, cc,
                          CUDA_MEMCPY_HOST_TO_DEVICE, c->st[s]), "cudaMemcpy2DAsync (to the GPU)");
      prof_end(c, s, slot);
      CU(cu.EventRecord(c->ev_b[s][h], c->st[s]), "cudaEventRecord");
    }
  }
  return 0;
}

static int unpack(ctx_t *c, const tile_t *t, char *cc, int ldc, int es, char *err, size_t errn) {
  return io_write(c, t->pin, (size_t)t->rows * es, cc,
                  ((size_t)t->j0 * ldc + t->i0) * es, (size_t)ldc * es, (size_t)t->rows * es,
                  (size_t)t->cols, err, errn);
}

static int finish(ctx_t *c, tile_t *t, char *cc, int ldc, int es, char *err, size_t errn) {
  if (!t->pending) return 0;
  CU(wait_event(c, t->ev, GCB_PROF_TILE_WAIT), "GEMM tile");
  t->pending = 0;
  return c->pinned[2] ? 0 : unpack(c, t, cc, ldc, es, err, errn);
}

/* ---- the drain thread ---- */

static void *drain_main(void *arg) {
  ctx_t *c = (ctx_t *)arg;
  gcb_copy_pool(1);
  cu.SetDevice(c->device);
  pthread_mutex_lock(&c->dl);
  for (;;) {
    while (c->dq_count == 0 && !c->drain_quit) {
      pthread_cond_wait(&c->dcv, &c->dl);
    }
    if (c->dq_count == 0) {
      break;
    }
    int q = c->dq[c->dq_head];
    tile_t *t = &c->dtiles[q];
    int skip = c->drain_rc != 0; /* after a failure: let the tile go, C is not trusted */
    pthread_mutex_unlock(&c->dl);
    char err[300] = "";
    int rc = skip ? 0 : finish(c, t, c->dcc, c->dldc, c->des, err, sizeof err);
    t->pending = 0;
    pthread_mutex_lock(&c->dl);
    if (rc != 0 && c->drain_rc == 0) {
      c->drain_rc = rc;
      snprintf(c->drain_err, sizeof c->drain_err, "%s", err);
    }
    c->dq_head = (c->dq_head + 1) % MAX_SLOTS;
    c->dq_count--;
    c->queued[q] = 0;
    pthread_cond_broadcast(&c->dcv);
  }
  pthread_mutex_unlock(&c->dl);
  return NULL;
}

/* Starts the context's drain thread (once); without one, tiles are unpacked by the caller. */
static void drain_start(ctx_t *c) {
  if (c->drain_on) return;
  if (pthread_mutex_init(&c->dl, NULL) != 0) return;
  if (pthread_cond_init(&c->dcv, NULL) != 0) {
    pthread_mutex_destroy(&c->dl);
    return;
  }
  if (pthread_create(&c->drain, NULL, drain_main, c) != 0) {
    pthread_cond_destroy(&c->dcv);
    pthread_mutex_destroy(&c->dl);
    return;
  }
  c->drain_on = 1;
}

static void drain_stop(ctx_t *c) {
  if (!c->drain_on) return;
  pthread_mutex_lock(&c->dl);
  c->drain_quit = 1;
  pthread_cond_broadcast(&c->dcv);
  pthread_mutex_unlock(&c->dl);
  pthread_join(c->drain, NULL);
  pthread_cond_destroy(&c->dcv);
  pthread_mutex_destroy(&c->dl);
  c->drain_on = 0;
}

/* Slot q free for a new tile: its last tile unpacked (by the drain thread, else here). */
static int slot_free(ctx_t *c, tile_t *tiles, int q, char *cc, int ldc, int es, char *err,
                     size_t errn) {
  if (!c->drain_on) {
    return finish(c, &tiles[q], cc, ldc, es, err, errn);
  }
  pthread_mutex_lock(&c->dl);
  while (c->queued[q] && c->drain_rc == 0) {
    pthread_cond_wait(&c->dcv, &c->dl);
  }
  int rc = c->drain_rc;
  if (rc != 0) snprintf(err, errn, "%s", c->drain_err);
  pthread_mutex_unlock(&c->dl);
  return rc;
}

/* Hands slot q's queued tile to the drain thread (nothing without one). */
static void slot_submit(ctx_t *c, int q) {
  if (!c->drain_on) return;
  pthread_mutex_lock(&c->dl);
  c->queued[q] = 1;
  c->dq[(c->dq_head + c->dq_count) % MAX_SLOTS] = q;
  c->dq_count++;
  pthread_cond_broadcast(&c->dcv);
  pthread_mutex_unlock(&c->dl);
}

/* Waits until the drain thread has unpacked (or let go of) every tile handed to it; its first
 * failure, if any. */
static int drain_all(ctx_t *c, char *err, size_t errn) {
  if (!c->drain_on) return 0;
  pthread_mutex_lock(&c->dl);
  while (c->dq_count > 0) {
    pthread_cond_wait(&c->dcv, &c->dl);
  }
  int rc = c->drain_rc;
  if (rc != 0) snprintf(err, errn, "%s", c->drain_err);
  c->drain_rc = 0;
  c->dtiles = NULL;
  pthread_mutex_unlock(&c->dl);
  return rc;
}

/* Waits until every stream of the context is idle (after a failure: nothing still queued reads or
 * writes the context's buffers). */
static void sync_streams(ctx_t *c) {
  for (int s = 0; s < STREAMS; s++) {
    cu.StreamSynchronize(c->st[s]);
  }
  cu.GetLastError();
}

/* Queues C tile (i0, j0), rows x cols, on stream s once its operands are on the GPU (op(A)'s rows
 * at pa, op(B)'s columns at pb): C up first when beta != 0, the multiply, C down into the slot's
 * staging (or the caller's pinned C) and the event finish() waits for. The tile is multiplied
 * into dev (leading dimension ldd), or into slot t's device buffer when dev is NULL. With down
 * = 0 the tile stays on the GPU (a part of a sum over k): no copies, no event, and t may be NULL
 * (C must then be on the GPU already: beta_zero says not to bring it up). The slot's previous
 * tile must be finished (its staging unpacked). */
static int queue_tile(ctx_t *c, int s, tile_t *t, int es, int ta, int tb, int i0, int j0,
                      int rows, int cols, int k, const void *alpha, const void *pa, int lda_d,
                      const void *pb, int ldb_d, const void *beta, int beta_zero, char *cc,
                      int ldc, void *dev, int ldd, int down, char *err, size_t errn) {
  int rc, slot;
  size_t tile_bytes = (size_t)rows * cols * es;
  if (dev == NULL) {
    dev = t->dev;
    ldd = rows;
  }
  /* C's tile in host memory: the caller's pinned C itself, else the slot's staging */
  char *host = t == NULL ? NULL : c->pinned[2] ? cc + ((size_t)j0 * ldc + i0) * es : t->pin;
  size_t hld = c->pinned[2] ? (size_t)ldc * es : (size_t)rows * es;
  if (!beta_zero) {
    if (!c->pinned[2] && (rc = io_read(c, 2, host, hld, cc, ((size_t)j0 * ldc + i0) * es,
                                       (size_t)ldc * es, (size_t)rows * es, (size_t)cols, err,
                                       errn))) {
      return rc;
    }
    slot = prof_begin(c, s, GCB_PROF_UP_C, i0, j0, tile_bytes);
    CU(cu.Memcpy2DAsync(dev, (size_t)ldd * es, host, hld, (size_t)rows * es, cols,
                        CUDA_MEMCPY_HOST_TO_DEVICE, c->st[s]), "cudaMemcpy2DAsync (C up)");
    prof_end(c, s, slot);
  }
  int opa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, opb = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasStatus_t st;
  slot = prof_begin(c, s, GCB_PROF_GEMM, i0, j0, 0);
  if (c->prec != GCB_PREC_NATIVE) { /* fp32 C, fp32 sums; TF32 tensor cores or 16-bit A and B */
    int type = c->to == GCB_TO_BF16 ? CUDA_R_16BF : c->to == GCB_TO_FP16 ? CUDA_R_16F : CUDA_R_32F;
    int compute = c->prec == GCB_PREC_TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    st = cu.GemmEx(c->h[s], opa, opb, rows, cols, k, alpha, pa, type, lda_d, pb, type, ldb_d, beta,
                   dev, CUDA_R_32F, ldd, compute, CUBLAS_GEMM_DEFAULT);
  } else if (es == 4) {
    st = cu.Sgemm(c->h[s], opa, opb, rows, cols, k, (const float *)alpha, (const float *)pa, lda_d,
                  (const float *)pb, ldb_d, (const float *)beta, (float *)dev, ldd);
  } else {
    st = cu.Dgemm(c->h[s], opa, opb, rows, cols, k, (const double *)alpha, (const double *)pa,
                  lda_d, (const double *)pb, ldb_d, (const double *)beta, (double *)dev, ldd);
  }
  if (st != CUBLAS_STATUS_SUCCESS) {
    snprintf(err, errn, "%s: status %d",
             c->prec != GCB_PREC_NATIVE ? "cublasGemmEx" : es == 4 ? "cublasSgemm" : "cublasDgemm", st);
    return st == CUBLAS_STATUS_ALLOC_FAILED ? GCB_E_MEMORY : GCB_E_FAULT;
  }
  prof_end(c, s, slot);
  c->tiles++;
  if (!down) return 0;
  slot = prof_begin(c, s, GCB_PROF_DOWN, i0, j0, tile_bytes);
  if (c->pinned[2]) c->wrote = 1; /* C is written as the copy runs */
  CU(cu.Memcpy2DAsync(host, hld, dev, (size_t)ldd * es, (size_t)rows * es, cols,
                      CUDA_MEMCPY_DEVICE_TO_HOST, c->st[s]), "cudaMemcpy2DAsync (C down)");
  prof_end(c, s, slot);
  CU(cu.EventRecord(t->ev, c->st[s]), "cudaEventRecord");
  t->pending = 1;
  t->i0 = i0;
  t->j0 = j0;
  t->rows = rows;
  t->cols = cols;
  return 0;
}

static int run(ctx_t *c, int es, int ta, int tb, int m, int n, int k, const void *alpha,
               const char *a, int lda, const char *b, int ldb, const void *beta, char *cc, int ldc,
               int mb, int nb, char *err, size_t errn) {
  int rc;
  if ((rc = ensure(&c->d_a, &c->cap_a, (size_t)mb * k * c->ds, err, errn))) return rc;
  for (int s = 0; s < STREAMS; s++) {
    if ((rc = ensure(&c->d_b[s], &c->cap_b[s], (size_t)k * nb * c->ds, err, errn))) return rc;
    if ((rc = ensure(&c->d_c[s], &c->cap_c[s], (size_t)mb * nb * es, err, errn))) return rc;
  }
  int beta_zero = es == 4 ? *(const float *)beta == 0 : *(const double *)beta == 0;
  tile_t tiles[STREAMS]; /* one slot per stream */
  memset(tiles, 0, sizeof tiles);
  for (int s = 0; s < STREAMS; s++) {
    tiles[s].dev = c->d_c[s];
    tiles[s].pin = c->pin_c[s];
    tiles[s].ev = c->ev_c[s];
  }
  int next = 0;
  for (int i0 = 0; i0 < m; i0 += mb) {
    int rows = m - i0 < mb ? m - i0 : mb;
    /* every tile of the previous row block is done before its A is overwritten */
    for (int s = 0; s < STREAMS; s++) {
      if ((rc = finish(c, &tiles[s], cc, ldc, es, err, errn))) return rc;
    }
    int lda_d;
    if (!ta) { /* rows i0.. of A (m x k) */
      lda_d = rows;
      rc = upload(c, 0, 0, c->d_a, rows, a, (size_t)i0 * es, lda, rows, k, es, err, errn);
    } else { /* columns i0.. of A (k x m) */
      lda_d = k > 0 ? k : 1;
      rc = upload(c, 0, 0, c->d_a, lda_d, a, (size_t)i0 * lda * es, lda, k, rows, es, err, errn);
    }
    if (rc) return rc;
    CU(cu.EventRecord(c->ev_a, c->st[0]), "cudaEventRecord");
    for (int s = 1; s < STREAMS; s++) {
      CU(cu.StreamWaitEvent(c->st[s], c->ev_a, 0), "cudaStreamWaitEvent");
    }
    for (int j0 = 0; j0 < n; j0 += nb) {
      int cols = n - j0 < nb ? n - j0 : nb;
      int s = next;
      next = (next + 1) % STREAMS;
      if ((rc = finish(c, &tiles[s], cc, ldc, es, err, errn))) return rc;
      int ldb_d;
      if (!tb) { /* columns j0.. of B (k x n) */
        ldb_d = k > 0 ? k : 1;
        rc = upload(c, s, 1, c->d_b[s], ldb_d, b, (size_t)j0 * ldb * es, ldb, k, cols, es, err,
                    errn);
      } else { /* rows j0.. of B (n x k) */
        ldb_d = cols;
        rc = upload(c, s, 1, c->d_b[s], cols, b, (size_t)j0 * es, ldb, cols, k, es, err, errn);
      }
      if (rc) return rc;
      if ((rc = queue_tile(c, s, &tiles[s], es, ta, tb, i0, j0, rows, cols, k, alpha, c->d_a,
                           lda_d, c->d_b[s], ldb_d, beta, beta_zero, cc, ldc, NULL, 0, 1, err,
                           errn))) {
        return rc;
      }
    }
  }
  for (int s = 0; s < STREAMS; s++) {
    if ((rc = finish(c, &tiles[s], cc, ldc, es, err, errn))) return rc;
  }
  return 0;
}

/*
 * The resident scheme, for operands that fit the GPU together. op(A) goes up in row pieces and
 * op(B) in column pieces on stream 0, alternating A_0, B_0, A_1, B_1, ...; each C tile (i, j) is
 * multiplied as soon as A_i and B_j are up, on streams 1.. , and comes down into that stream's
 * staging, unpacked by the drain thread (else by the CPU the next time the stream comes round).
 * Uploads of later pieces overlap the multiplies and downloads of earlier tiles, and nothing
 * crosses the bus twice.
 *
 * With ks < k the sum over k is cut into parts of ks (a long inner dimension, such as a sum of
 * products laid along k): C stays on the GPU while each part's pieces go up into one of two sets
 * of buffers and its tiles are added into C (beta for the first part, then 1; a tile always on
 * the same stream); C comes down tile by tile during the last part. A set is filled again only
 * once the tiles of the part two back, which read it, are done.
 */
static int run_resident(ctx_t *c, int es, int ta, int tb, int m, int n, int k, int ks,
                        const void *alpha, const char *a, int lda, const char *b, int ldb,
                        const void *beta, char *cc, int ldc, int mt, int nt, int per_stream,
                        char *err, size_t errn) {
  int rc;
  size_t ds = (size_t)c->ds;
  int parts = k > ks ? (k + ks - 1) / ks : 1;
  if (parts == 1) ks = k;
  int sets = parts > 1 ? 2 : 1;
  size_t set_a = (size_t)m * ks * ds, set_b = (size_t)ks * n * ds;
  if ((rc = ensure(&c->d_a, &c->cap_a, sets * set_a, err, errn))) return rc;
  if ((rc = ensure(&c->d_bf, &c->cap_bf, sets * set_b, err, errn))) return rc;
  size_t tile_bytes = (size_t)mt * nt * es, cb = tile_bytes * per_stream;
  if (parts > 1) {
    if ((rc = ensure(&c->d_cf, &c->cap_cf, (size_t)m * n * es, err, errn))) return rc;
  } else {
    for (int s = 1; s < STREAMS; s++) {
      if ((rc = ensure(&c->d_c[s], &c->cap_c[s], cb, err, errn))) return rc;
    }
  }
  int na = (m + mt - 1) / mt, nbk = (n + nt - 1) / nt;
  /* events: one per piece (re-recorded in each part), the end of a part on each compute stream
   * per set, C up */
  int nev = na + nbk + 2 * STREAMS + 1;
  cudaEvent_t *ev = (cudaEvent_t *)calloc((size_t)nev, sizeof *ev);
  if (ev == NULL) {
    snprintf(err, errn, "no host memory for events");
    return GCB_E_MEMORY;
  }
  cudaEvent_t *ev_done = ev + na + nbk;
  int made = 0;
  rc = 0;
  for (; made < nev; made++) {
    cudaError_t e = cu.EventCreateWithFlags(&ev[made], CUDA_EVENT_DISABLE_TIMING);
    if (e != CUDA_SUCCESS) {
      snprintf(err, errn, "cudaEventCreate: %s", cuda_err(e));
      cu.GetLastError();
      rc = GCB_E_FAULT;
      break;
    }
  }
  cudaEvent_t ev_cup = ev[nev - 1];
  int beta_zero = es == 4 ? *(const float *)beta == 0 : *(const double *)beta == 0;
  static const float one_f = 1;
  static const double one_d = 1;
  const void *one = es == 4 ? (const void *)&one_f : (const void *)&one_d;
  int slots = (STREAMS - 1) * per_stream;
  tile_t tiles[MAX_SLOTS]; /* slot q: stream 1 + q % (STREAMS - 1), part q / (STREAMS - 1) */
  memset(tiles, 0, sizeof tiles);
  for (int q = 0; q < slots; q++) {
    int s = 1 + q % (STREAMS - 1);
    size_t off = (size_t)(q / (STREAMS - 1)) * tile_bytes;
    tiles[q].dev = parts > 1 ? NULL : (char *)c->d_c[s] + off;
    tiles[q].pin = c->pin_c[s] + off;
    tiles[q].ev = c->ev_c[q];
  }
  int next = 0;
  int turn[STREAMS] = {0}; /* the next slot of each stream, when C stays on the GPU */
  drain_start(c);
  if (c->drain_on) {
    pthread_mutex_lock(&c->dl);
    c->dtiles = tiles;
    c->dcc = cc;
    c->dldc = ldc;
    c->des = es;
    pthread_mutex_unlock(&c->dl);
  }
  if (rc == 0 && parts > 1 && !beta_zero) { /* C up once, before the first part adds into it */
    rc = upload(c, 0, 2, (char *)c->d_cf, (size_t)m, cc, 0, (size_t)ldc, (size_t)m, (size_t)n,
                es, err, errn);
    if (rc == 0) {
      CU_SET(cu.EventRecord(ev_cup, c->st[0]), "cudaEventRecord");
      for (int s = 1; rc == 0 && s < STREAMS; s++) {
        CU_SET(cu.StreamWaitEvent(c->st[s], ev_cup, 0), "cudaStreamWaitEvent");
      }
    }
  }
  for (int part = 0; rc == 0 && part < parts; part++) {
    int k0 = part * ks, kk = k - k0 < ks ? k - k0 : ks, set = part % sets;
    int last = part == parts - 1;
    char *da = (char *)c->d_a + set * set_a, *db = (char *)c->d_bf + set * set_b;
    int lda_d = ta ? kk : m; /* this part of op(A) as stored: m x kk (N) or kk x m (T) */
    int ldb_d = tb ? n : kk; /* of op(B): kk x n (N) or n x kk (T) */
    if (lda_d < 1) lda_d = 1;
    if (ldb_d < 1) ldb_d = 1;
    /* the set is read by the tiles of the part two back */
    for (int s = 1; rc == 0 && part >= 2 && s < STREAMS; s++) {
      CU_SET(cu.StreamWaitEvent(c->st[0], ev_done[set * STREAMS + s], 0), "cudaStreamWaitEvent");
    }
    int up_a = 0, up_b = 0; /* pieces up so far */
    for (int p = 0; rc == 0 && (up_a < na || up_b < nbk); p++) {
      int is_a = (p % 2 == 0 && up_a < na) || up_b >= nbk;
      if (is_a) {
        int i0 = up_a * mt, rows = m - i0 < mt ? m - i0 : mt;
        if (!ta) { /* rows i0.. of A (m x k), columns k0.. */
          rc = upload(c, 0, 0, da + (size_t)i0 * ds, lda_d, a, ((size_t)k0 * lda + i0) * es, lda,
                      rows, kk, es, err, errn);
        } else { /* columns i0.. of A (k x m), rows k0.. */
          rc = upload(c, 0, 0, da + (size_t)i0 * lda_d * ds, lda_d, a,
                      ((size_t)i0 * lda + k0) * es, lda, kk, rows, es, err, errn);
        }
        if (rc) break;
        CU_BREAK(cu.EventRecord(ev[up_a], c->st[0]), "cudaEventRecord");
        up_a++;
      } else {
        int j0 = up_b * nt, cols = n - j0 < nt ? n - j0 : nt;
        if (!tb) { /* columns j0.. of B (k x n), rows k0.. */
          rc = upload(c, 0, 1, db + (size_t)j0 * ldb_d * ds, ldb_d, b,
                      ((size_t)j0 * ldb + k0) * es, ldb, kk, cols, es, err, errn);
        } else { /* rows j0.. of B (n x k), columns k0.. */
          rc = upload(c, 0, 1, db + (size_t)j0 * ds, ldb_d, b, ((size_t)k0 * ldb + j0) * es, ldb,
                      cols, kk, es, err, errn);
        }
        if (rc) break;
        CU_BREAK(cu.EventRecord(ev[na + up_b], c->st[0]), "cudaEventRecord");
        up_b++;
      }
      /* the tiles this piece completes: row piece up_a-1 with every B piece up, or column piece
       * up_b-1 with every A piece up */
      int i_lo = is_a ? up_a - 1 : 0, i_hi = up_a;
      int j_lo = is_a ? 0 : up_b - 1, j_hi = up_b;
      for (int ti = i_lo; rc == 0 && ti < i_hi; ti++) {
        for (int tj = j_lo; rc == 0 && tj < j_hi; tj++) {
          int i0 = ti * mt, rows = m - i0 < mt ? m - i0 : mt;
          int j0 = tj * nt, cols = n - j0 < nt ? n - j0 : nt;
          int s, q = -1;
          if (parts == 1) {
            q = next;
            next = next + 1 < slots ? next + 1 : 0;
            s = 1 + q % (STREAMS - 1);
          } else { /* a tile keeps its stream: its parts add up in order */
            s = 1 + (int)(((long long)ti * nbk + tj) % (STREAMS - 1));
            if (last) {
              q = s - 1 + (STREAMS - 1) * turn[s];
              turn[s] = turn[s] + 1 < per_stream ? turn[s] + 1 : 0;
            }
          }
          if (q >= 0 && (rc = slot_free(c, tiles, q, cc, ldc, es, err, errn))) break;
          CU_BREAK(cu.StreamWaitEvent(c->st[s], ev[ti], 0), "cudaStreamWaitEvent");
          CU_BREAK(cu.StreamWaitEvent(c->st[s], ev[na + tj], 0), "cudaStreamWaitEvent");
          const char *pa = da + (ta ? (size_t)i0 * lda_d : (size_t)i0) * ds;
          const char *pb = db + (tb ? (size_t)j0 : (size_t)j0 * ldb_d) * ds;
          if (parts == 1) {
            rc = queue_tile(c, s, &tiles[q], es, ta, tb, i0, j0, rows, cols, kk, alpha, pa, lda_d,
                            pb, ldb_d, beta, beta_zero, cc, ldc, NULL, 0, 1, err, errn);
          } else {
            rc = queue_tile(c, s, q >= 0 ? &tiles[q] : NULL, es, ta, tb, i0, j0, rows, cols, kk,
                            alpha, pa, lda_d, pb, ldb_d, part == 0 ? beta : one, 1, cc, ldc,
                            (char *)c->d_cf + ((size_t)j0 * m + i0) * es, m, last, err, errn);
          }
          if (rc == 0 && q >= 0) slot_submit(c, q);
        }
      }
    }
    for (int s = 1; rc == 0 && parts > 1 && !last && s < STREAMS; s++) {
      CU_SET(cu.EventRecord(ev_done[set * STREAMS + s], c->st[s]), "cudaEventRecord");
    }
  }
  /* the rest, oldest first */
  for (int i = 0; rc == 0 && !c->drain_on && i < slots; i++) {
    rc = finish(c, &tiles[(next + i) % slots], cc, ldc, es, err, errn);
  }
  if (rc != 0 && c->drain_on) { /* the drain thread lets the tiles still queued go */
    pthread_mutex_lock(&c->dl);
    if (c->drain_rc == 0) {
      c->drain_rc = rc;
      snprintf(c->drain_err, sizeof c->drain_err, "%s", err);
    }
    pthread_mutex_unlock(&c->dl);
  }
  char derr[300];
  int drc = drain_all(c, derr, sizeof derr);
  if (rc == 0 && drc != 0) {
    rc = drc;
    snprintf(err, errn, "%s", derr);
  }
  if (rc) {
    sync_streams(c);
  }
  for (int i = 0; i < made; i++) {
    cu.EventDestroy(ev[i]);
  }
  free(ev);
  return rc;
}

/* Whether host memory p.. (elems elements of es bytes) is pinned: then the GPU copies it
 * directly, without staging. Asked of its first and last byte. */
static int pinned(const void *p, size_t elems, int es) {
  if (p == NULL || elems == 0 || cu.PointerGetAttributes == NULL) return 0;
  long attr[16]; /* struct cudaPointerAttributes: its memory type first (1: pinned host memory) */
  for (int end = 0; end < 2; end++) {
    memset(attr, 0, sizeof attr);
    const char *q = (const char *)p + (end ? elems * es - 1 : 0);
    if (cu.PointerGetAttributes(attr, q) != CUDA_SUCCESS) {
      cu.GetLastError();
      return 0;
    }
    int type;
    memcpy(&type, attr, sizeof type);
    if (type != 1) return 0;
  }
  return 1;
}

/* Device bytes the context holds. */
static size_t held_bytes(const ctx_t *c) {
  size_t n = c->cap_a + c->cap_bf + c->cap_cf;
  for (int s = 0; s < STREAMS; s++) {
    n += c->cap_b[s] + c->cap_c[s];
  }
  return n;
}

/* The start of a try at the call (the profile counts the last one only). */
static void begin_attempt(ctx_t *x) {
  x->tiles = 0;
  if (x->prof != NULL) gcb_prof_start(x->prof);
}

/*
 * The end of a call: whether C was written, and what the thread keeps. Its device buffers stay
 * for the next call while all the engine's threads together keep at most gpucore.scratch.cacheMiB;
 * past that this thread lets go of its own.
 */
static int end_call(ctx_t *x, int rc, int *c_written, const char *err, int es, int m, int n,
                    int k, const char *scheme) {
  if (c_written != NULL) *c_written = x->wrote;
  x->io = NULL;
  if (x->prof != NULL && rc == GCB_OK) {
    gcb_prof_report(x->prof, es == 4 ? "sgemm" : "dgemm", m, n, k, scheme, x->tiles);
  }
  size_t now = held_bytes(x);
  __atomic_add_fetch(&held_total, now, __ATOMIC_RELAXED);
  size_t total = __atomic_sub_fetch(&held_total, x->held, __ATOMIC_RELAXED);
  x->held = now;
  if (total > gcb_config()->keep_bytes) {
    free_device(x);
    __atomic_sub_fetch(&held_total, now, __ATOMIC_RELAXED);
    x->held = 0;
  }
  return rc == GCB_E_FAULT ? fail(err) : rc;
}

int gcb_gpu_gemm(int es, int prec, int ta, int tb, int m, int n, int k, const void *alpha,
                 const void *a, int lda, const void *b, int ldb, const void *beta, void *c,
                 int ldc, const gcb_io *io, int dev, int *c_written, char *err, size_t errn) {
  if (c_written != NULL) *c_written = 0;
  if (m == 0 || n == 0) return GCB_OK;
  char why[400];
  if (dev < 0 ? !gcb_gpu_usable(why, sizeof why) : !usable_any(why, sizeof why)) {
    snprintf(err, errn, "%s", why);
    return GCB_E_UNUSABLE;
  }
  if (dev < 0) {
    dev = current_device();
  } else if (dev >= MAX_DEVICES || dev >= device_count) {
    snprintf(err, errn, "GPU %d is not visible (%d are)", dev, device_count);
    return GCB_E_UNUSABLE;
  }
  ctx_t *x;
  int rc = ctx_get(&x, dev, err, errn);
  if (rc) {
    return rc == GCB_E_FAULT ? fail(err) : GCB_E_MEMORY;
  }
  x->io = io;
  x->wrote = 0;
  x->prec = es == 4 ? prec : GCB_PREC_NATIVE;
  x->to = x->prec == GCB_PREC_BF16 ? GCB_TO_BF16 : x->prec == GCB_PREC_FP16 ? GCB_TO_FP16 : GCB_TO_SAME;
  x->ds = x->to == GCB_TO_SAME ? es : 2;
  /* A and B straight from pinned memory unless they are converted on the way */
  int direct = x->to == GCB_TO_SAME && k > 0;
  x->pinned[0] = direct && pinned(a, ta ? (size_t)(m - 1) * lda + k : (size_t)(k - 1) * lda + m, es);
  x->pinned[1] = direct && pinned(b, tb ? (size_t)(k - 1) * ldb + n : (size_t)(n - 1) * ldb + k, es);
  x->pinned[2] = pinned(c, (size_t)(n - 1) * ldc + m, es);

  size_t stage = x->stage;
  /* C tiles of at most gpucore.blas.tileDim columns (and rows, in the resident scheme); a C tile
   * fits one staging buffer */
  int tile_dim = gcb_config()->tile_dim;
  size_t nb = n < tile_dim ? (size_t)n : (size_t)tile_dim, mb = (size_t)m;
  if (mb * nb * es > stage) {
    nb = stage / (mb * es);
    if (nb < 64) {
      nb = (size_t)n < 64 ? (size_t)n : 64;
      mb = stage / (nb * es);
    }
  }
  size_t free_b = 0, total_b = 0;
  if (cu.MemGetInfo(&free_b, &total_b) != CUDA_SUCCESS) {
    free_b = 0;
  }
  /* the resident scheme when A, B and the C tiles fit (with 256 MiB to spare) */
  if (gcb_config()->resident) { /* gpucore.blas.resident=false: always the streamed scheme */
    size_t t = (size_t)tile_dim;
    while (t > 64 && t * t * es > stage) t /= 2;
    size_t mt = (size_t)m < t ? (size_t)m : t, nt = (size_t)n < t ? (size_t)n : t;
    /* as many tiles in flight per stream as its staging holds */
    size_t per_stream = stage / (mt * nt * es);
    if (per_stream > MAX_SLOTS / (STREAMS - 1)) per_stream = MAX_SLOTS / (STREAMS - 1);
    if (per_stream < 1) per_stream = 1;
    /* a long inner dimension (k at least twice the larger of m, n and 4 tiles) is summed in
     * parts of that size with C kept on the GPU: the first tiles start sooner, fewer bytes are
     * held, and C crosses the bus once */
    size_t span = (size_t)m > (size_t)n ? (size_t)m : (size_t)n;
    if (span < 4 * t) span = 4 * t;
    size_t ks = (size_t)k >= 2 * span ? span : (size_t)k;
    /* what the scheme reuses of what the thread holds: A, B and all of C (summed) or the slots'
     * C tiles; the C buffers of the other form are let go, so that they do not stand in the way */
    if (ks < (size_t)k) {
      for (int s = 1; s < STREAMS; s++) {
        if (x->d_c[s]) cu.Free(x->d_c[s]);
        x->d_c[s] = NULL;
        x->cap_c[s] = 0;
      }
    } else if (x->d_cf) {
      cu.Free(x->d_cf);
      x->d_cf = NULL;
      x->cap_cf = 0;
    }
    size_t held = x->cap_a + x->cap_bf + x->cap_cf;
    for (int s = 1; s < STREAMS; s++) held += x->cap_c[s];
    size_t budget = free_b + held > (256u << 20) ? (free_b + held - (256u << 20)) : 0;
    size_t need = ks < (size_t)k
        ? 2 * ((size_t)m * ks + ks * (size_t)n) * x->ds + (size_t)m * n * es
        : ((size_t)m * k + (size_t)k * n) * x->ds + (STREAMS - 1) * per_stream * mt * nt * es;
    if (need <= budget) {
      begin_attempt(x);
      rc = run_resident(x, es, ta, tb, m, n, k, (int)ks, alpha, (const char *)a, lda,
                        (const char *)b, ldb, beta, (char *)c, ldc, (int)mt, (int)nt,
                        (int)per_stream, err, errn);
      if (rc == GCB_OK || rc != GCB_E_MEMORY || x->wrote) {
        return end_call(x, rc, c_written, err, es, m, n, k, ks < (size_t)k ? "summed" : "resident");
      }
      /* out of memory before any of C came down: the streamed scheme needs less */
      free_device(x);
      if (cu.MemGetInfo(&free_b, &total_b) != CUDA_SUCCESS) free_b = 0;
    }
  }
  rc = GCB_E_MEMORY;
  for (int attempt = 0; attempt < 6; attempt++) {
    /* the streamed scheme has no use for all of B or C */
    size_t held = held_bytes(x) - x->cap_bf - x->cap_cf;
    size_t budget = free_b + held > (256u << 20) ? (free_b + held - (256u << 20)) : 0;
    while ((mb * (size_t)k + STREAMS * (size_t)k * nb) * x->ds + STREAMS * mb * nb * es > budget
           && (mb > 256 || nb > 64)) {
      if (mb > 256) mb = (mb + 1) / 2;
      else nb = (nb + 1) / 2;
    }
    begin_attempt(x);
    rc = run(x, es, ta, tb, m, n, k, alpha, (const char *)a, lda, (const char *)b, ldb, beta,
             (char *)c, ldc, (int)mb, (int)nb, err, errn);
    if (rc == GCB_OK) break;
    sync_streams(x);
    /* a failed copy, or C partly written: the caller decides (no second try over a changed C) */
    if (rc != GCB_E_MEMORY || x->wrote) break;
    /* out of memory: let go of this thread's device buffers and retry with smaller tiles */
    free_device(x);
    if (cu.MemGetInfo(&free_b, &total_b) != CUDA_SUCCESS) free_b = 0;
    if (mb > 256) mb = (mb + 1) / 2;
    else if (nb > 64) nb = (nb + 1) / 2;
    else break;
  }
  return end_call(x, rc, c_written, err, es, m, n, k, "streamed");
}
