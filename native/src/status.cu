// Status codes and the per-thread last-error text of the gpucore C API.
#include "gpucore.h"
#include "internal.h"

#include <cuda_runtime.h>
#include <stdio.h>
#include <string.h>

static thread_local char g_last_error[512];

extern "C" int gc_api_version(void) { return 1002; }

extern "C" const char* gc_status_name(gc_status s) {
  if (s == GC_OK) return "GC_OK";
  if (s == GC_ERR_INVALID_ARGUMENT) return "GC_ERR_INVALID_ARGUMENT";
  if (s == GC_ERR_INTERNAL) return "GC_ERR_INTERNAL";
  if (s > 0) return cudaGetErrorName((cudaError_t)s);
  return "GC_ERR_UNKNOWN";
}

extern "C" const char* gc_last_error(void) { return g_last_error; }

void gc_set_error(const char* where, const char* what) {
  snprintf(g_last_error, sizeof g_last_error, "%s: %s", where, what);
}

gc_status gc_check(cudaError_t e, const char* where) {
  if (e == cudaSuccess) return GC_OK;
  // Clears the thread's last-error slot for non-sticky errors (out of memory and the like),
  // so that the next unrelated check does not fail. Sticky errors stay sticky regardless.
  (void)cudaGetLastError();
  snprintf(g_last_error, sizeof g_last_error, "%s: %s (%s)", where, cudaGetErrorString(e),
           cudaGetErrorName(e));
  return (gc_status)e;
}

gc_status gc_invalid(const char* where, const char* what) {
  gc_set_error(where, what);
  return GC_ERR_INVALID_ARGUMENT;
}

extern "C" gc_status gc_versions(int* driver_version, int* runtime_version) {
  if (!driver_version || !runtime_version) return gc_invalid("gc_versions", "null output");
  *driver_version = 0;
  *runtime_version = 0;
  gc_status s = gc_check(cudaRuntimeGetVersion(runtime_version), "cudaRuntimeGetVersion");
  if (s != GC_OK) return s;
  return gc_check(cudaDriverGetVersion(driver_version), "cudaDriverGetVersion");
}

extern "C" gc_status gc_device_count(int* count) {
  if (!count) return gc_invalid("gc_device_count", "null output");
  int c = 0;
  gc_status s = gc_check(cudaGetDeviceCount(&c), "cudaGetDeviceCount");
  *count = (s == GC_OK) ? c : 0;  // never expose the count of a failed call
  return s;
}

extern "C" gc_status gc_memcpy_async(void* dst, const void* src, size_t bytes, int kind,
                                     void* stream) {
  if (bytes == 0) return GC_OK;
  if (!dst || !src) return gc_invalid("gc_memcpy_async", "null address");
  if (kind < 0 || kind > 4) return gc_invalid("gc_memcpy_async", "kind must be 0..4");
  return gc_check(cudaMemcpyAsync(dst, src, bytes, (cudaMemcpyKind)kind, (cudaStream_t)stream),
                  "cudaMemcpyAsync");
}

extern "C" gc_status gc_mem_info(size_t* free_bytes, size_t* total_bytes) {
  if (!free_bytes || !total_bytes) return gc_invalid("gc_mem_info", "null output");
  return gc_check(cudaMemGetInfo(free_bytes, total_bytes), "cudaMemGetInfo");
}
