/* Host copies of the GEMM pipeline (packing operands into pinned staging, unpacking C) spread
 * over threads: one thread's memcpy cannot keep up with the GPU. Two pools, started at the first
 * large copy: one packs operands (the calling threads'), one unpacks C (the engine's drain
 * threads', gcb_copy_pool(1)), so packing and unpacking run at the same time. A copy that finds
 * its pool busy (another thread's GEMM) runs on the calling thread alone.
 * gpucore.blas.copyThreads sets the threads of both pools together (1: no pool). */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "gcb_internal.h"
#include "gpucore_stream_copy.h"

#define MAX_THREADS 16
#define PARALLEL_BYTES ((size_t)2 << 20)

typedef struct {
  pthread_mutex_t busy; /* one parallel copy at a time */
  pthread_mutex_t lock;
  pthread_cond_t work, done;
  int threads; /* workers started, besides the caller */
  struct {
    char *dst;
    const char *src;
    size_t ds, ss, len, cols;
    int to; /* GCB_TO_*: a conversion on the way */
    int parts, next, finished;
    unsigned long gen;
  } job;
} pool_t;

static pool_t pools[2] = {
    {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
     PTHREAD_COND_INITIALIZER, 0, {0}},
    {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
     PTHREAD_COND_INITIALIZER, 0, {0}},
};
static pthread_once_t start_once = PTHREAD_ONCE_INIT;
static __thread int my_pool; /* the pool this thread's copies use */

void gcb_copy_pool(int pool) { my_pool = pool == 1 ? 1 : 0; }

/* Part p of parts of a conversion (len: source bytes per column, floats). */
static void convert_part(char *dst, size_t ds, const char *src, size_t ss, size_t len,
                         size_t cols, int to, int p, int parts) {
  size_t n = len / 4;
  if (cols >= (size_t)parts) {
    size_t c0 = cols * p / parts, c1 = cols * (p + 1) / parts;
    if (ds * 2 == len && ss == len) {
      gcb_convert(dst + c0 * ds, src + c0 * ss, (c1 - c0) * n, to);
    } else {
      for (size_t j = c0; j < c1; j++) {
        gcb_convert(dst + j * ds, src + j * ss, n, to);
      }
    }
  } else {
    size_t e0 = n * p / parts, e1 = n * (p + 1) / parts;
    for (size_t j = 0; j < cols; j++) {
      gcb_convert(dst + j * ds + e0 * 2, src + j * ss + e0 * 4, e1 - e0, to);
    }
  }
}

static void run_part(char *dst, size_t ds, const char *src, size_t ss, size_t len, size_t cols,
                     int p, int parts) {
  if (cols >= (size_t)parts) {
    size_t c0 = cols * p / parts, c1 = cols * (p + 1) / parts;
    if (ds == len && ss == len) {
      gc_stream_copy(dst + c0 * ds, src + c0 * ss, (c1 - c0) * len);
    } else {
      for (size_t j = c0; j < c1; j++) {
        gc_stream_copy(dst + j * ds, src + j * ss, len);
      }
    }
  } else {
    size_t b0 = len * p / parts, b1 = len * (p + 1) / parts;
    for (size_t j = 0; j < cols; j++) {
      gc_stream_copy(dst + j * ds + b0, src + j * ss + b0, b1 - b0);
    }
  }
  gc_stream_fence(); /* the large copies store around the caches */
}

/* Takes parts of the pool's current job until none is left; called with its lock held, returns
 * with it. */
static void take_parts(pool_t *p) {
  while (p->job.next < p->job.parts) {
    int part = p->job.next++;
    char *dst = p->job.dst;
    const char *src = p->job.src;
    size_t ds = p->job.ds, ss = p->job.ss, len = p->job.len, cols = p->job.cols;
    int parts = p->job.parts, to = p->job.to;
    pthread_mutex_unlock(&p->lock);
    if (to == GCB_TO_SAME) {
      run_part(dst, ds, src, ss, len, cols, part, parts);
    } else {
      convert_part(dst, ds, src, ss, len, cols, to, part, parts);
    }
    pthread_mutex_lock(&p->lock);
    if (++p->job.finished == p->job.parts) {
      pthread_cond_broadcast(&p->done);
    }
  }
}

static void *worker(void *arg) {
  pool_t *p = (pool_t *)arg;
  unsigned long seen = 0;
  pthread_mutex_lock(&p->lock);
  for (;;) {
    while (p->job.gen == seen) {
      pthread_cond_wait(&p->work, &p->lock);
    }
    seen = p->job.gen;
    take_parts(p);
  }
  return NULL;
}

/* Threads: by default all cores (at most 16), a quarter of them unpacking (the copies up are
 * twice the bytes of those down, and must keep the bus busy). Each caller copies too. */
static void start(void) {
  int want = gcb_config()->copy_threads;
  if (want <= 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    want = cpus >= 4 ? (int)cpus : 1;
  }
  if (want > MAX_THREADS) {
    want = MAX_THREADS;
  }
  int unpack = want >= 4 ? want / 4 : 0;
  int counts[2] = {want - unpack, unpack};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  for (int q = 0; q < 2; q++) {
    for (int i = 1; i < counts[q]; i++) {
      pthread_t t;
      if (pthread_create(&t, &attr, worker, &pools[q]) != 0) {
        break;
      }
      pools[q].threads++;
    }
  }
  pthread_attr_destroy(&attr);
}

void gcb_copy2d(void *dst, size_t ds, const void *src, size_t ss, size_t len, size_t cols) {
  gcb_convert2d(dst, ds, src, ss, len, cols, GCB_TO_SAME);
}

void gcb_convert2d(void *dst, size_t ds, const void *src, size_t ss, size_t len, size_t cols,
                   int to) {
  if (len == 0 || cols == 0) {
    return;
  }
  if (len * cols < PARALLEL_BYTES) {
    goto alone;
  }
  pthread_once(&start_once, start);
  pool_t *p = &pools[my_pool];
  if (p->threads == 0 || pthread_mutex_trylock(&p->busy) != 0) {
    goto alone;
  }
  pthread_mutex_lock(&p->lock);
  p->job.dst = (char *)dst;
  p->job.src = (const char *)src;
  p->job.ds = ds;
  p->job.ss = ss;
  p->job.len = len;
  p->job.cols = cols;
  p->job.to = to;
  p->job.parts = (p->threads + 1) * 2;
  p->job.next = 0;
  p->job.finished = 0;
  p->job.gen++;
  pthread_cond_broadcast(&p->work);
  take_parts(p);
  while (p->job.finished < p->job.parts) {
    pthread_cond_wait(&p->done, &p->lock);
  }
  pthread_mutex_unlock(&p->lock);
  pthread_mutex_unlock(&p->busy);
  return;
alone:
  if (to != GCB_TO_SAME) {
    convert_part((char *)dst, ds, (const char *)src, ss, len, cols, to, 0, 1);
    return;
  }
  if (len * cols >= PARALLEL_BYTES) {
    run_part((char *)dst, ds, (const char *)src, ss, len, cols, 0, 1);
    return;
  }
  if (ds == len && ss == len) {
    memcpy(dst, src, len * cols);
    return;
  }
  for (size_t j = 0; j < cols; j++) {
    memcpy((char *)dst + j * ds, (const char *)src + j * ss, len);
  }
}
