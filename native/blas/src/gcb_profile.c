/* Stage profile of the GPU GEMM (gpucore.blas.profile, gpucore.blas.profileFile).
 *
 * While a profiled call runs, every copy and multiply it queues is bracketed by two CUDA events
 * on its stream, and the host clock measures packing operands into staging, unpacking C and
 * waiting for the GPU. When the call ends the events are read: per stage (A and B up, C up, the
 * multiplies, C down) the time the GPU spent on it (the union of its intervals), and how much of
 * the stages overlapped. One summary line per call goes to stderr; with a file named, every
 * interval is appended to it as a CSV row (times in ms from the call's first GPU operation). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>

#include "gcb_internal.h"

#define PROF_MAX 8192 /* intervals recorded per call; later ones are counted as dropped */

typedef struct {
  int kind, stream, ti, tj;
  size_t bytes;
} rec_t;

struct gcb_prof {
  gcb_prof_ops ops;
  void *ev[2 * PROF_MAX]; /* begin and end event of each interval, kept for later calls */
  int made;               /* events created so far */
  rec_t rec[PROF_MAX];
  int n, dropped, broken;
  double host_s[GCB_PROF_HOST_KINDS];
  size_t host_bytes[GCB_PROF_HOST_KINDS];
  double wall0;
};

static const char *const kind_names[GCB_PROF_KINDS] = {"up_a", "up_b", "up_c", "gemm", "down"};

static pthread_mutex_t file_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long calls; /* numbers the profiled calls of the process in the file */

double gcb_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

gcb_prof *gcb_prof_new(const gcb_prof_ops *ops) {
  gcb_prof *p = (gcb_prof *)calloc(1, sizeof *p);
  if (p != NULL) {
    p->ops = *ops;
  }
  return p;
}

void gcb_prof_start(gcb_prof *p) {
  p->n = 0;
  p->dropped = 0;
  memset(p->host_s, 0, sizeof p->host_s);
  memset(p->host_bytes, 0, sizeof p->host_bytes);
  p->wall0 = gcb_now();
}

/* The event of slot i, created when first needed; NULL when CUDA refuses one. */
static void *event(gcb_prof *p, int i) {
  while (p->made <= i) {
    if (p->broken || p->ops.create(&p->ev[p->made]) != 0) {
      p->broken = 1;
      return NULL;
    }
    p->made++;
  }
  return p->ev[i];
}

int gcb_prof_begin(gcb_prof *p, void *stream, int kind, int stream_index, int ti, int tj,
                   size_t bytes) {
  int i = p->n;
  void *a = i < PROF_MAX ? event(p, 2 * i) : NULL;
  void *b = a != NULL ? event(p, 2 * i + 1) : NULL;
  if (b == NULL || p->ops.record(a, stream) != 0) {
    p->dropped++;
    return -1;
  }
  p->rec[i] = (rec_t){kind, stream_index, ti, tj, bytes};
  p->n++;
  return i;
}

void gcb_prof_end(gcb_prof *p, int slot, void *stream) {
  if (slot >= 0 && p->ops.record(p->ev[2 * slot + 1], stream) != 0) {
    p->rec[slot].kind = -1; /* no end: left out of the figures */
  }
}

void gcb_prof_host(gcb_prof *p, int what, double seconds, size_t bytes) {
  p->host_s[what] += seconds;
  p->host_bytes[what] += bytes;
}

typedef struct {
  double t0, t1;
} span_t;

static int by_start(const void *x, const void *y) {
  double a = ((const span_t *)x)->t0, b = ((const span_t *)y)->t0;
  return a < b ? -1 : a > b;
}

/* Length of the union of n intervals (sorted here). */
static double union_of(span_t *s, int n) {
  if (n == 0) return 0;
  qsort(s, (size_t)n, sizeof *s, by_start);
  double total = 0, lo = s[0].t0, hi = s[0].t1;
  for (int i = 1; i < n; i++) {
    if (s[i].t0 > hi) {
      total += hi - lo;
      lo = s[i].t0;
      hi = s[i].t1;
    } else if (s[i].t1 > hi) {
      hi = s[i].t1;
    }
  }
  return total + hi - lo;
}

static double gbs(size_t bytes, double ms) {
  return ms > 0 ? (double)bytes / ms / 1e6 : 0;
}

void gcb_prof_report(gcb_prof *p, const char *routine, int m, int n, int k, const char *scheme,
                     int tiles) {
  double wall_ms = (gcb_now() - p->wall0) * 1e3;
  int count = p->n;
  span_t *all = (span_t *)malloc(sizeof(span_t) * (size_t)(count > 0 ? count : 1));
  span_t *one = (span_t *)malloc(sizeof(span_t) * (size_t)(count > 0 ? count : 1));
  double *t0 = (double *)malloc(sizeof(double) * 2 * (size_t)(count > 0 ? count : 1));
  if (all == NULL || one == NULL || t0 == NULL) {
    free(all);
    free(one);
    free(t0);
    return;
  }
  /* times from the first begin event (every interval's events have completed: the call synced) */
  int ok = count > 0 && p->ops.sync(p->ev[1]) == 0;
  for (int i = 0; ok && i < count; i++) {
    float a = 0, b = 0;
    if (p->rec[i].kind < 0) continue;
    if (p->ops.sync(p->ev[2 * i + 1]) != 0 || p->ops.elapsed(&a, p->ev[0], p->ev[2 * i]) != 0
        || p->ops.elapsed(&b, p->ev[0], p->ev[2 * i + 1]) != 0) {
      ok = 0;
      break;
    }
    t0[2 * i] = a;
    t0[2 * i + 1] = b;
  }
  /* three stages, one per engine of the GPU: copies up (A, B and C share the host-to-device
   * direction), multiplies, copies down */
  double lo = 0, hi = 0, busy[3] = {0}, sum = 0, top = 0, gpu_busy = 0;
  size_t up_ab = 0, up_c = 0, down = 0;
  int nall = 0;
  char gpu[600];
  if (ok) {
    for (int i = 0; i < count; i++) {
      if (p->rec[i].kind < 0) continue;
      if (nall == 0 || t0[2 * i] < lo) lo = t0[2 * i];
      if (nall == 0 || t0[2 * i + 1] > hi) hi = t0[2 * i + 1];
      all[nall++] = (span_t){t0[2 * i], t0[2 * i + 1]};
      int kd = p->rec[i].kind;
      if (kd == GCB_PROF_UP_A || kd == GCB_PROF_UP_B) up_ab += p->rec[i].bytes;
      if (kd == GCB_PROF_UP_C) up_c += p->rec[i].bytes;
      if (kd == GCB_PROF_DOWN) down += p->rec[i].bytes;
    }
    for (int st = 0; st < 3; st++) {
      int n1 = 0;
      for (int i = 0; i < count; i++) {
        int kd = p->rec[i].kind;
        if (kd < 0) continue;
        int stage = kd == GCB_PROF_GEMM ? 1 : kd == GCB_PROF_DOWN ? 2 : 0;
        if (stage == st) one[n1++] = (span_t){t0[2 * i], t0[2 * i + 1]};
      }
      busy[st] = union_of(one, n1);
      sum += busy[st];
      if (busy[st] > top) top = busy[st];
    }
    gpu_busy = union_of(all, nall);
    /* overlap: 1 when the stages together took no longer than the longest alone, 0 when serial */
    double overlap = sum - top > 1e-9 ? (sum - gpu_busy) / (sum - top) : 1;
    snprintf(gpu, sizeof gpu,
             "gpu span %.2f ms: up %.2f ms (%zu B A+B, %zu B C; %.1f GB/s), gemm %.2f ms "
             "(%.1f TFLOP/s), down %.2f ms (%.1f GB/s), busy %.2f ms, idle %.2f ms, overlap %.2f",
             hi - lo, busy[0], up_ab, up_c, gbs(up_ab + up_c, busy[0]), busy[1],
             busy[1] > 0 ? 2.0 * m * n * k / busy[1] / 1e9 : 0, busy[2], gbs(down, busy[2]),
             gpu_busy, hi - lo - gpu_busy, overlap);
  } else {
    snprintf(gpu, sizeof gpu, "gpu times unavailable");
  }
  fprintf(stderr,
          "gpucore_blas: profile %s m=%d n=%d k=%d scheme=%s tiles=%d wall %.2f ms | host pack "
          "%.2f ms (%.1f GB/s), wait %.2f ms; unpack %.2f ms (%.1f GB/s), tile wait %.2f ms | "
          "%s%s\n",
          routine, m, n, k, scheme, tiles, wall_ms, p->host_s[GCB_PROF_PACK] * 1e3,
          gbs(p->host_bytes[GCB_PROF_PACK], p->host_s[GCB_PROF_PACK] * 1e3),
          p->host_s[GCB_PROF_WAIT] * 1e3, p->host_s[GCB_PROF_UNPACK] * 1e3,
          gbs(p->host_bytes[GCB_PROF_UNPACK], p->host_s[GCB_PROF_UNPACK] * 1e3),
          p->host_s[GCB_PROF_TILE_WAIT] * 1e3, gpu,
          p->dropped ? " (some intervals not recorded)" : "");
  const char *path = gcb_config()->profile_file;
  if (ok && path[0] != '\0') {
    pthread_mutex_lock(&file_lock);
    unsigned long call = ++calls;
    FILE *f = fopen(path, "a");
    if (f != NULL) {
      if (ftell(f) == 0) {
        fputs("call,routine,m,n,k,scheme,kind,stream,tile_i,tile_j,bytes,start_ms,end_ms\n", f);
      }
      for (int i = 0; i < count; i++) {
        const rec_t *r = &p->rec[i];
        if (r->kind < 0) continue;
        fprintf(f, "%lu,%s,%d,%d,%d,%s,%s,%d,%d,%d,%zu,%.4f,%.4f\n", call, routine, m, n, k,
                scheme, kind_names[r->kind], r->stream, r->ti, r->tj, r->bytes, t0[2 * i] - lo,
                t0[2 * i + 1] - lo);
      }
      fclose(f);
    } else {
      fprintf(stderr, "gpucore_blas: gpucore.blas.profileFile %s cannot be opened\n", path);
    }
    pthread_mutex_unlock(&file_lock);
  }
  free(all);
  free(one);
  free(t0);
}
