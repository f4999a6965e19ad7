/* Host copies of the GEMM pipeline (packing operands into pinned staging, unpacking C) spread
 * over a few threads: one thread's memcpy cannot keep up with the GPU. A small pool, started at
 * the first large copy; a copy that finds the pool busy (another thread's GEMM) runs on the
 * calling thread alone. gpucore.blas.copyThreads sets the pool's size (1: no pool). */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <emmintrin.h>
#endif

#include "gcb_internal.h"

#define MAX_THREADS 16
#define PARALLEL_BYTES ((size_t)2 << 20)

static pthread_mutex_t busy = PTHREAD_MUTEX_INITIALIZER; /* one parallel copy at a time */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static pthread_once_t start_once = PTHREAD_ONCE_INIT;
static int threads; /* workers started, besides the caller */
static struct {
  char *dst;
  const char *src;
  size_t ds, ss, len, cols;
  int parts, next, finished;
  unsigned long gen;
} job;

/* memcpy for the large copies of the pipeline, whose destination is not read again soon (pinned
 * staging goes to the GPU, C goes back to its caller): stores that bypass the cache, so the
 * destination's lines are not first read from memory. Ordered before later stores by the fence
 * at the end of each part. */
static void stream_copy(char *dst, const char *src, size_t n) {
#if defined(__x86_64__)
  size_t head = (16 - ((uintptr_t)dst & 15)) & 15;
  if (n < 256 || head > n) {
    memcpy(dst, src, n);
    return;
  }
  memcpy(dst, src, head);
  dst += head;
  src += head;
  n -= head;
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m128i a = _mm_loadu_si128((const __m128i *)(src + i));
    __m128i b = _mm_loadu_si128((const __m128i *)(src + i + 16));
    __m128i c = _mm_loadu_si128((const __m128i *)(src + i + 32));
    __m128i d = _mm_loadu_si128((const __m128i *)(src + i + 48));
    _mm_stream_si128((__m128i *)(dst + i), a);
    _mm_stream_si128((__m128i *)(dst + i + 16), b);
    _mm_stream_si128((__m128i *)(dst + i + 32), c);
    _mm_stream_si128((__m128i *)(dst + i + 48), d);
  }
  memcpy(dst + i, src + i, n - i);
#else
  memcpy(dst, src, n);
#endif
}

static void fence(void) {
#if defined(__x86_64__)
  _mm_sfence();
#endif
}

static void run_part(char *dst, size_t ds, const char *src, size_t ss, size_t len, size_t cols,
                     int p, int parts) {
  if (cols >= (size_t)parts) {
    size_t c0 = cols * p / parts, c1 = cols * (p + 1) / parts;
    if (ds == len && ss == len) {
      stream_copy(dst + c0 * ds, src + c0 * ss, (c1 - c0) * len);
    } else {
      for (size_t j = c0; j < c1; j++) {
        stream_copy(dst + j * ds, src + j * ss, len);
      }
    }
  } else {
    size_t b0 = len * p / parts, b1 = len * (p + 1) / parts;
    for (size_t j = 0; j < cols; j++) {
      stream_copy(dst + j * ds + b0, src + j * ss + b0, b1 - b0);
    }
  }
  fence();
}

/* Takes parts of the current job until none is left; called with lock held, returns with it. */
static void take_parts(void) {
  while (job.next < job.parts) {
    int p = job.next++;
    char *dst = job.dst;
    const char *src = job.src;
    size_t ds = job.ds, ss = job.ss, len = job.len, cols = job.cols;
    int parts = job.parts;
    pthread_mutex_unlock(&lock);
    run_part(dst, ds, src, ss, len, cols, p, parts);
    pthread_mutex_lock(&lock);
    if (++job.finished == job.parts) {
      pthread_cond_broadcast(&done);
    }
  }
}

static void *worker(void *arg) {
  (void)arg;
  unsigned long seen = 0;
  pthread_mutex_lock(&lock);
  for (;;) {
    while (job.gen == seen) {
      pthread_cond_wait(&work, &lock);
    }
    seen = job.gen;
    take_parts();
  }
  return NULL;
}

static void start(void) {
  int want = gcb_config()->copy_threads;
  if (want <= 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    want = cpus >= 16 ? 8 : cpus >= 4 ? (int)(cpus / 2) : 1;
  }
  if (want > MAX_THREADS) {
    want = MAX_THREADS;
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  for (int i = 1; i < want; i++) {
    pthread_t t;
    if (pthread_create(&t, &attr, worker, NULL) != 0) {
      break;
    }
    threads++;
  }
  pthread_attr_destroy(&attr);
}

void gcb_copy2d(void *dst, size_t ds, const void *src, size_t ss, size_t len, size_t cols) {
  if (len == 0 || cols == 0) {
    return;
  }
  if (len * cols < PARALLEL_BYTES) {
    goto alone;
  }
  pthread_once(&start_once, start);
  if (threads == 0 || pthread_mutex_trylock(&busy) != 0) {
    goto alone;
  }
  pthread_mutex_lock(&lock);
  job.dst = (char *)dst;
  job.src = (const char *)src;
  job.ds = ds;
  job.ss = ss;
  job.len = len;
  job.cols = cols;
  job.parts = (threads + 1) * 2;
  job.next = 0;
  job.finished = 0;
  job.gen++;
  pthread_cond_broadcast(&work);
  take_parts();
  while (job.finished < job.parts) {
    pthread_cond_wait(&done, &lock);
  }
  pthread_mutex_unlock(&lock);
  pthread_mutex_unlock(&busy);
  return;
alone:
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
