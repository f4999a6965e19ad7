/* The engine's GPU pipeline (gcb_cuda.c and its copies, compiled in) with settings of its own:
 * a call in the resident scheme, then calls in the streamed scheme whose C tiles are smaller,
 * then larger than the slots the resident call sized. Each stream's buffers must follow what
 * each scheme needs (the stand-in runtime aborts on a write past a device buffer). Prints
 * "N passed, M failed"; exit status 0 when all pass. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcb_internal.h"

static gcb_settings settings;
const gcb_settings *gcb_config(void) { return &settings; }

static int passed, failed;

static void call(const char *what, int m, int n, int k) {
  float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n);
  float *c = malloc(sizeof(float) * m * n);
  for (int i = 0; i < m * k; i++) a[i] = (float)(i % 7) - 3;
  for (int i = 0; i < k * n; i++) b[i] = (float)(i % 5) - 2;
  for (int i = 0; i < m * n; i++) c[i] = -1e30f;
  float al = 1, be = 0;
  char err[400] = "";
  int written = 0;
  int rc = gcb_gpu_gemm(4, GCB_PREC_NATIVE, 0, 0, m, n, k, &al, a, m, b, k, &be, c, m, NULL, -1,
                        &written, err, sizeof err);
  int bad = 0;
  for (int j = 0; j < n && !bad; j++) {
    for (int i = 0; i < m; i++) {
      double s = 0;
      for (int p = 0; p < k; p++) s += (double)a[i + (size_t)p * m] * b[p + (size_t)j * k];
      if (c[i + (size_t)j * m] != (float)s) { bad = 1; break; }
    }
  }
  if (rc == GCB_OK && !bad) {
    passed++;
  } else {
    failed++;
    printf("FAIL %s m=%d n=%d k=%d: rc %d (%s), C %s\n", what, m, n, k, rc, err, bad ? "wrong" : "right");
  }
  free(a); free(b); free(c);
}

int main(void) {
  settings.gpu_all = 1;
  settings.stage_bytes = 1 << 20; /* 1 MiB staging: resident slots of 4 tiles of 256 x 256 */
  settings.tile_dim = 256;
  settings.keep_bytes = (size_t)1 << 30;
  settings.copy_threads = 1;
  settings.resident = 1;
  call("resident", 256, 256, 16);
  settings.resident = 0;
  call("streamed, smaller C tiles", 128, 256, 16);
  call("streamed, larger C tiles", 1024, 256, 16);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
