// Thin, status-returning wrappers over the CUDA runtime for the Java side's hot paths:
// addresses in and out, no allocation on the Java side.
#include "gpucore.h"
#include "internal.h"
#include "gpucore_stream_copy.h"

#include <cuda_runtime.h>
#include <stdio.h>
#include <string.h>

extern "C" gc_status gc_set_device(int ordinal) {
  return gc_check(cudaSetDevice(ordinal), "cudaSetDevice");
}

extern "C" gc_status gc_device_info(int ordinal, int* ints, size_t* total_mem, char* name,
                                    int name_len, char* uuid, int uuid_len, char* bus_id,
                                    int bus_id_len) {
  if (!ints || !total_mem || !name || !uuid || !bus_id || name_len < 1 || uuid_len < 41 ||
      bus_id_len < 16)
    return gc_invalid("gc_device_info", "null output or buffer too small");
  cudaDeviceProp p;
  gc_status s = gc_check(cudaGetDeviceProperties(&p, ordinal), "cudaGetDeviceProperties");
  if (s != GC_OK) return s;
  ints[0] = p.major;
  ints[1] = p.minor;
  ints[2] = p.multiProcessorCount;
  ints[3] = p.pciDomainID;
  ints[4] = p.pciBusID;
  ints[5] = p.pciDeviceID;
  *total_mem = p.totalGlobalMem;
  snprintf(name, (size_t)name_len, "%s", p.name);
  const unsigned char* u = (const unsigned char*)p.uuid.bytes;
  snprintf(uuid, (size_t)uuid_len,
           "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
           u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
           u[15]);
  return gc_check(cudaDeviceGetPCIBusId(bus_id, bus_id_len, ordinal), "cudaDeviceGetPCIBusId");
}

extern "C" gc_status gc_malloc(void** out, size_t bytes) {
  if (!out) return gc_invalid("gc_malloc", "null output");
  *out = nullptr;
  return gc_check(cudaMalloc(out, bytes == 0 ? 1 : bytes), "cudaMalloc");
}

extern "C" gc_status gc_free(void* p) { return p ? gc_check(cudaFree(p), "cudaFree") : GC_OK; }

extern "C" gc_status gc_malloc_async(void** out, size_t bytes, void* stream) {
  if (!out) return gc_invalid("gc_malloc_async", "null output");
  *out = nullptr;
  return gc_check(cudaMallocAsync(out, bytes == 0 ? 1 : bytes, (cudaStream_t)stream),
                  "cudaMallocAsync");
}

extern "C" gc_status gc_free_async(void* p, void* stream) {
  return p ? gc_check(cudaFreeAsync(p, (cudaStream_t)stream), "cudaFreeAsync") : GC_OK;
}

extern "C" gc_status gc_malloc_host(void** out, size_t bytes) {
  if (!out) return gc_invalid("gc_malloc_host", "null output");
  *out = nullptr;
  return gc_check(cudaMallocHost(out, bytes == 0 ? 1 : bytes), "cudaMallocHost");
}

extern "C" gc_status gc_free_host(void* p) {
  return p ? gc_check(cudaFreeHost(p), "cudaFreeHost") : GC_OK;
}

extern "C" gc_status gc_memset_async(void* p, int value, size_t bytes, void* stream) {
  if (bytes == 0) return GC_OK;
  if (!p) return gc_invalid("gc_memset_async", "null address");
  return gc_check(cudaMemsetAsync(p, value, bytes, (cudaStream_t)stream), "cudaMemsetAsync");
}

extern "C" gc_status gc_stream_create(void** out) {
  if (!out) return gc_invalid("gc_stream_create", "null output");
  *out = nullptr;
  return gc_check(cudaStreamCreateWithFlags((cudaStream_t*)out, cudaStreamNonBlocking),
                  "cudaStreamCreateWithFlags");
}

extern "C" gc_status gc_stream_destroy(void* s) {
  return s ? gc_check(cudaStreamDestroy((cudaStream_t)s), "cudaStreamDestroy") : GC_OK;
}

extern "C" gc_status gc_stream_sync(void* s) {
  return gc_check(cudaStreamSynchronize((cudaStream_t)s), "cudaStreamSynchronize");
}

extern "C" gc_status gc_event_create(void** out) {
  if (!out) return gc_invalid("gc_event_create", "null output");
  *out = nullptr;
  return gc_check(cudaEventCreateWithFlags((cudaEvent_t*)out, cudaEventDisableTiming),
                  "cudaEventCreateWithFlags");
}

extern "C" gc_status gc_timing_event_create(void** out) {
  if (!out) return gc_invalid("gc_timing_event_create", "null output");
  *out = nullptr;
  return gc_check(cudaEventCreate((cudaEvent_t*)out), "cudaEventCreate");
}

extern "C" gc_status gc_event_elapsed(float* ms, void* from, void* to) {
  if (!ms || !from || !to) return gc_invalid("gc_event_elapsed", "null argument");
  return gc_check(cudaEventElapsedTime(ms, (cudaEvent_t)from, (cudaEvent_t)to),
                  "cudaEventElapsedTime");
}

extern "C" gc_status gc_event_destroy(void* e) {
  return e ? gc_check(cudaEventDestroy((cudaEvent_t)e), "cudaEventDestroy") : GC_OK;
}

extern "C" gc_status gc_event_record(void* e, void* stream) {
  if (!e) return gc_invalid("gc_event_record", "null event");
  return gc_check(cudaEventRecord((cudaEvent_t)e, (cudaStream_t)stream), "cudaEventRecord");
}

extern "C" gc_status gc_event_sync(void* e) {
  if (!e) return gc_invalid("gc_event_sync", "null event");
  return gc_check(cudaEventSynchronize((cudaEvent_t)e), "cudaEventSynchronize");
}

static void host_copy(char* dst, const char* src, size_t bytes, int flags) {
  if (flags & GC_HOST_COPY_STREAMING) {
    gc_stream_copy(dst, src, bytes);
    gc_stream_fence();
  } else {
    memcpy(dst, src, bytes);
  }
}

extern "C" gc_status gc_host_copy_in(void* dst, const void* src_base, size_t src_offset,
                                     size_t bytes, int flags) {
  if (bytes == 0) return GC_OK;
  if (!dst || !src_base) return gc_invalid("gc_host_copy_in", "null address");
  if (flags & ~GC_HOST_COPY_STREAMING) return gc_invalid("gc_host_copy_in", "unknown flags");
  host_copy((char*)dst, (const char*)src_base + src_offset, bytes, flags);
  return GC_OK;
}

extern "C" gc_status gc_host_copy_out(void* dst_base, size_t dst_offset, const void* src,
                                      size_t bytes, int flags) {
  if (bytes == 0) return GC_OK;
  if (!dst_base || !src) return gc_invalid("gc_host_copy_out", "null address");
  if (flags & ~GC_HOST_COPY_STREAMING) return gc_invalid("gc_host_copy_out", "unknown flags");
  host_copy((char*)dst_base + dst_offset, (const char*)src, bytes, flags);
  return GC_OK;
}
