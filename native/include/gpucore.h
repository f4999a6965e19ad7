/*
 * gpucore native C API.
 *
 * Every function returns a gc_status: 0 on success, a positive CUDA runtime error code
 * (cudaError_t) when a CUDA call failed, or a negative gpucore code for bad arguments.
 * Nothing here throws, aborts or prints. gc_status_name() and gc_last_error() (per thread)
 * give the name and text of the last failure on the calling thread.
 *
 * Pointers are plain addresses (device or host) so that the Java side can pass offsets
 * without allocating; streams are cudaStream_t passed as void*.
 */
#ifndef GPUCORE_H
#define GPUCORE_H

#include <stddef.h>
#include <stdint.h>

#include "gpucore_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GC_OK 0
#define GC_ERR_INVALID_ARGUMENT (-1)
#define GC_ERR_INTERNAL (-2)

/* Version of this C API (major*1000 + minor). */
int gc_api_version(void); /* 1001: adds gc_malloc_async, gc_free_async, gc_drill_illegal_address;
                             1002: gc_host_copy_in/out take flags (GC_HOST_COPY_STREAMING) */

/* Name and message of a status code (static strings; never NULL). */
const char* gc_status_name(gc_status s);
/* Text of the last failure on the calling thread ("" if none). */
const char* gc_last_error(void);

/* CUDA versions as reported by the runtime (e.g. 13000). Status of the runtime call. */
gc_status gc_versions(int* driver_version, int* runtime_version);
/* Number of visible CUDA devices; *count is left 0 on failure. */
gc_status gc_device_count(int* count);

/* Fills n elements at device address x with value v, asynchronously on stream. */
gc_status gc_fill_f32(void* x, size_t n, float v, void* stream);
gc_status gc_fill_f64(void* x, size_t n, double v, void* stream);

/* Reductions (gc_reduce*, gc_reduce_workspace_bytes): gpucore_reduce.h, included below. */

/*
 * Asynchronous copy of bytes between addresses (kind: cudaMemcpyKind, 4 = default, inferred
 * from the addresses), on stream.
 */
gc_status gc_memcpy_async(void* dst, const void* src, size_t bytes, int kind, void* stream);

/*
 * C = beta * C for a row-major rows x cols matrix with leading dimension ld (beta = 0 writes
 * zeros without reading C), asynchronously on stream.
 */
gc_status gc_scale2d_f32(void* c, long long rows, long long cols, long long ld, float beta,
                         void* stream);
gc_status gc_scale2d_f64(void* c, long long rows, long long cols, long long ld, double beta,
                         void* stream);

/* Fills n 16-bit elements (bfloat16 or binary16 bit patterns) with `bits`, on stream. */
gc_status gc_fill_u16(void* x, size_t n, unsigned short bits, void* stream);

/* Makes `ordinal` the calling thread's current device. */
gc_status gc_set_device(int ordinal);

/*
 * Identity and capability of CUDA device `ordinal`:
 * ints[0..5] = cc major, cc minor, multiprocessors, pci domain, pci bus, pci device;
 * *total_mem = device memory in bytes; name, uuid ("GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
 * and bus_id ("0000:65:00.0") are NUL-terminated within their lengths.
 */
gc_status gc_device_info(int ordinal, int* ints, size_t* total_mem, char* name, int name_len,
                         char* uuid, int uuid_len, char* bus_id, int bus_id_len);

/* Device memory (on the current device), page-locked host memory, and their release. */
gc_status gc_malloc(void** out, size_t bytes);
gc_status gc_free(void* p);
gc_status gc_malloc_host(void** out, size_t bytes);
gc_status gc_free_host(void* p);
gc_status gc_memset_async(void* p, int value, size_t bytes, void* stream);
/*
 * Stream-ordered device memory (cudaMallocAsync / cudaFreeAsync, the current device's default
 * pool): usable by work queued on `stream` after the allocation, released after the work queued
 * on `stream` before the free. A zero-byte request allocates one byte; freeing NULL does nothing.
 */
gc_status gc_malloc_async(void** out, size_t bytes, void* stream);
gc_status gc_free_async(void* p, void* stream);

/* Non-blocking streams and timing-free events on the current device. */
gc_status gc_stream_create(void** out);
gc_status gc_stream_destroy(void* s);
gc_status gc_stream_sync(void* s);
gc_status gc_event_create(void** out);
gc_status gc_event_destroy(void* e);
gc_status gc_event_record(void* e, void* stream);
gc_status gc_event_sync(void* e);
/* A timing event, and the milliseconds between two completed ones. */
gc_status gc_timing_event_create(void** out);
gc_status gc_event_elapsed(float* ms, void* from, void* to);

/*
 * Host-to-host copies for staging Java arrays: bytes from src_base + src_offset to dst, and from
 * src to dst_base + dst_offset. The Java side passes arrays held in a JNI critical region, so
 * these must not call back into the JVM. flags: 0 (memcpy) or GC_HOST_COPY_STREAMING: stores
 * that bypass the CPU caches (non-temporal, x86-64; memcpy elsewhere), for destinations not read
 * again soon (pinned staging on its way to a GPU, a large Java array coming back), ordered
 * before the call returns. Any other flag bit is an invalid argument.
 */
#define GC_HOST_COPY_STREAMING 1
gc_status gc_host_copy_in(void* dst, const void* src_base, size_t src_offset, size_t bytes,
                          int flags);
gc_status gc_host_copy_out(void* dst_base, size_t dst_offset, const void* src, size_t bytes,
                           int flags);

/* Memory information of the current device. */
gc_status gc_mem_info(size_t* free_bytes, size_t* total_bytes);

/*
 * Fault drill: launches a kernel that stores through an invalid device address on the current
 * device and waits for it. Returns the resulting (sticky) status, cudaErrorIllegalAddress (700)
 * on current GPUs, after which the process's context on that device is unusable. Only for
 * tests and `gpucore doctor`-style drills run in a throw-away child process.
 */
gc_status gc_drill_illegal_address(void);

#ifdef __cplusplus
}
#endif

/* The reduction API (gc_reduce*, gc_reduce_workspace_bytes). */
#include "gpucore_reduce.h"

#endif /* GPUCORE_H */
