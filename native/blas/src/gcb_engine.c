/* The engine's own entry points (include/gpucore_engine.h): the GPU pipeline of gcb_cuda.c for
 * callers other than sgemm_/dgemm_, such as gpucore's Java API. */
#include <stdio.h>

#include "gcb_internal.h"
#include "gpucore_engine.h"

#define EXPORT __attribute__((visibility("default")))

_Static_assert(GPUCORE_ENGINE_PREC_TF32 == GCB_PREC_TF32 && GPUCORE_ENGINE_PREC_BF16 == GCB_PREC_BF16
                   && GPUCORE_ENGINE_PREC_FP16 == GCB_PREC_FP16
                   && GPUCORE_ENGINE_TO_BF16 == GCB_TO_BF16 && GPUCORE_ENGINE_TO_FP16 == GCB_TO_FP16,
               "engine precisions");
_Static_assert(GPUCORE_ENGINE_E_MEMORY == GCB_E_MEMORY && GPUCORE_ENGINE_E_FAULT == GCB_E_FAULT
                   && GPUCORE_ENGINE_E_COPY == GCB_E_COPY
                   && GPUCORE_ENGINE_E_UNUSABLE == GCB_E_UNUSABLE,
               "engine result codes");

EXPORT int gpucore_engine_version(void) { return GPUCORE_ENGINE_VERSION; }

EXPORT int gpucore_engine_usable(char *why, int why_len) {
  char buf[400];
  int ok = gcb_gpu_usable(buf, sizeof buf);
  if (!ok && why != NULL && why_len > 0) {
    snprintf(why, (size_t)why_len, "%s", buf);
  }
  return ok;
}

EXPORT int gpucore_engine_gemm(int es, int precision, int ta, int tb, int m, int n, int k, double alpha,
                               const void *a, int lda, const void *b, int ldb, double beta,
                               void *c, int ldc, gpucore_engine_copy_fn copy, void *ctx,
                               int device, int *c_written, char *err, int err_len) {
  char buf[400] = "";
  if (c_written != NULL) *c_written = 0;
  if ((es != 4 && es != 8) || precision < GPUCORE_ENGINE_PREC_NATIVE
      || precision > GPUCORE_ENGINE_PREC_FP16 || (es == 8 && precision != GPUCORE_ENGINE_PREC_NATIVE)
      || ta < 0 || ta > 1 || tb < 0 || tb > 1 || m < 0 || n < 0 || k < 0
      || lda < (ta ? (k > 1 ? k : 1) : (m > 1 ? m : 1))
      || ldb < (tb ? (n > 1 ? n : 1) : (k > 1 ? k : 1)) || ldc < (m > 1 ? m : 1)) {
    if (err != NULL && err_len > 0) {
      snprintf(err, (size_t)err_len, "invalid arguments");
    }
    return GCB_E_UNUSABLE;
  }
  float af = (float)alpha, bf = (float)beta;
  const void *pa = es == 4 ? (const void *)&af : (const void *)&alpha;
  const void *pb = es == 4 ? (const void *)&bf : (const void *)&beta;
  gcb_io io = {copy, ctx};
  int rc = gcb_gpu_gemm(es, precision, ta, tb, m, n, k, pa, a, lda, b, ldb, pb, c, ldc,
                        copy != NULL ? &io : NULL, device, c_written, buf, sizeof buf);
  if (rc != GCB_OK && err != NULL && err_len > 0) {
    snprintf(err, (size_t)err_len, "%s", buf);
  }
  return rc;
}

EXPORT void gpucore_engine_copy2d(void *dst, size_t ds, const void *src, size_t ss, size_t len,
                                  size_t cols) {
  gcb_copy2d(dst, ds, src, ss, len, cols);
}

EXPORT void gpucore_engine_convert2d(void *dst, size_t ds, const void *src, size_t ss,
                                     size_t len, size_t cols, int convert) {
  gcb_convert2d(dst, ds, src, ss, len, cols, convert);
}

EXPORT void gpucore_engine_gpu_shape(int *cc_major, int *sms) {
  gcb_gpu_shape(cc_major, sms);
}

EXPORT int gpucore_engine_configure(const char *key, const char *value) {
  return gcb_configure(key, value);
}
