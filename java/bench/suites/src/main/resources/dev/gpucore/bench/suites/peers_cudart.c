/*
 * gpucore bench peer: host <-> device copies with the bare CUDA runtime, the floor under
 * gpucore's transfer rows. Compiled on the spot by `gpucore bench` with gcc against
 * libcudart; prints one JSON object per line.
 *
 *   peers_cudart probe ORDINAL
 *   peers_cudart transfer ORDINAL REPS WARMUP SEED BYTES:BUFFERS [BYTES:BUFFERS ...]
 *
 * Each copy is cudaMemcpyAsync on a stream created here, followed by cudaStreamSynchronize:
 * samples_ns is CLOCK_MONOTONIC around both (as gpucore's rows are timed), event_samples_ns the
 * CUDA events recorded around the copy on the same stream. Host buffers rotate (BUFFERS of them)
 * so that small copies do not find their source in the CPU cache.
 */
#define _POSIX_C_SOURCE 199309L
#include <cuda_runtime.h>
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

static void fail_json(const char *what, cudaError_t e) {
  printf("{\"peer\":\"cudart\",\"available\":false,\"reason\":\"%s: %s (%d): %s\"}\n", what,
         cudaGetErrorName(e), (int)e, cudaGetErrorString(e));
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
  if (argc < 3) {
    fprintf(stderr, "usage: peers_cudart probe ORDINAL | transfer ORDINAL REPS WARMUP SEED BYTES:BUFFERS...\n");
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
    fprintf(stderr, "peers_cudart: unknown mode or missing arguments\n");
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
      fprintf(stderr, "peers_cudart: bad size '%s'\n", argv[ai]);
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
        fprintf(stderr, "peers_cudart: out of host memory\n");
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
