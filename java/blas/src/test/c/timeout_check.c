/* How long the worker threads of the OpenBLAS that libgpucore_blas.so loads keep spinning after
 * a call. Linked against libblas.so.3 (the library under that name), so the library loads
 * OpenBLAS itself; OPENBLAS_NUM_THREADS=3 gives two workers. Prints OpenBLAS's thread timeout
 * exponent, the OPENBLAS_THREAD_TIMEOUT the program sees after the load ("unset" when none), and
 * the median CPU time of the whole process in an idle window after a threaded SGEMM. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void sgemm_(const char *, const char *, const int *, const int *, const int *, const float *,
            const float *, const int *, const float *, const int *, const float *, float *,
            const int *);

enum { N = 256, TRIALS = 5, WINDOW_MS = 200, QUIET_MS = 600 };

static double cpu_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(void) {
  static float a[N * N], c[N * N];
  const int n = N;
  const float one = 1, zero = 0;
  for (int i = 0; i < N * N; i++) {
    a[i] = 0.5f;
  }
  for (int i = 0; i < 20; i++) {
    sgemm_("N", "T", &n, &n, &n, &one, a, &n, a, &n, &zero, c, &n);
  }
  const char *path = getenv("GPUCORE_OPENBLAS");
  void *h = dlopen(path != NULL ? path : "libopenblas.so.0", RTLD_NOW | RTLD_NOLOAD);
  int (*timeout)(void) = h != NULL ? (int (*)(void))dlsym(h, "openblas_thread_timeout") : NULL;
  const char *var = getenv("OPENBLAS_THREAD_TIMEOUT");
  printf("openblas_thread_timeout %d\nvariable %s\n", timeout != NULL ? timeout() : -1,
         var != NULL ? var : "unset");
  sleep_ms(QUIET_MS);
  double spent[TRIALS];
  for (int t = 0; t < TRIALS; t++) {
    sgemm_("N", "T", &n, &n, &n, &one, a, &n, a, &n, &zero, c, &n);
    double before = cpu_ms();
    sleep_ms(WINDOW_MS);
    spent[t] = cpu_ms() - before;
    sleep_ms(QUIET_MS - WINDOW_MS);
  }
  if (c[0] != N * 0.25f) {
    printf("wrong product: %g\n", c[0]);
    return 1;
  }
  qsort(spent, TRIALS, sizeof spent[0], cmp);
  printf("idle_cpu_ms %.1f\n", spent[TRIALS / 2]);
  return 0;
}
