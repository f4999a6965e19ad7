/* The GPU chosen through the library's JVM entry points (the JNI natives of
 * GpuCoreBlasLibrary, called here as plain C functions): for the process, then per thread over
 * it, then cleared; each step runs one dgemm_ and prints the choice the library reports. Run
 * with the stand-in CUDA runtime (fake_cuda.c) logging the device of each GEMM. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gemm_decls.h"

void Java_dev_gpucore_nativeblas_GpuCoreBlasLibrary_selectGpu0(void *, void *, int32_t);
void Java_dev_gpucore_nativeblas_GpuCoreBlasLibrary_selectThreadGpu0(void *, void *, int32_t);
int32_t Java_dev_gpucore_nativeblas_GpuCoreBlasLibrary_selectedGpu0(void *, void *);

#define N 64
static double a[N * N], b[N * N], c[N * N];

static void one_gemm(const char *step) {
  int n = N;
  double one = 1, zero = 0;
  dgemm_("N", "N", &n, &n, &n, &one, a, &n, b, &n, &zero, c, &n);
  printf("%s selected=%d\n", step, Java_dev_gpucore_nativeblas_GpuCoreBlasLibrary_selectedGpu0(NULL, NULL));
  fflush(stdout);
}

static void *worker(void *p) {
  int d = (int)(intptr_t)p;
  Java_dev_gpucore_nativeblas_GpuCoreBlasLibrary_selectThreadGpu0(NULL, NULL, d);
  one_gemm("thread");
  Java_dev_gpucore_nativeblas_GpuCoreBlasLibrary_selectThreadGpu0(NULL, NULL, -1);
  one_gemm("thread-cleared");
  return NULL;
}

int main(void) {
  for (int i = 0; i < N * N; i++) {
    a[i] = (i % 7) - 3;
    b[i] = (i % 5) - 2;
  }
  one_gemm("settings");
  Java_dev_gpucore_nativeblas_GpuCoreBlasLibrary_selectGpu0(NULL, NULL, 1);
  one_gemm("process");
  for (int d = 2; d <= 3; d++) { /* one after the other: the log's order is fixed */
    pthread_t t;
    if (pthread_create(&t, NULL, worker, (void *)(intptr_t)d) != 0) return 1;
    pthread_join(t, NULL);
  }
  one_gemm("process");
  Java_dev_gpucore_nativeblas_GpuCoreBlasLibrary_selectGpu0(NULL, NULL, 7);
  one_gemm("beyond");
  Java_dev_gpucore_nativeblas_GpuCoreBlasLibrary_selectGpu0(NULL, NULL, -1);
  one_gemm("cleared");
  return 0;
}
