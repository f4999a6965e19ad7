// Peer-to-peer copies between GPUs, the probe that decides whether a pair's peer access can be
// trusted, and the staged copy through page-locked host memory for pairs where it cannot.
// C API: include/gpucore_p2p.h.
#include "gpucore_p2p.h"
#include "internal.h"

#include <cuda_runtime.h>
#include <chrono>
#include <stdint.h>
#include <stdio.h>

namespace {

// A pattern word for index i: never 0 (so a zeroed destination always shows), different for
// every seed (so data left by an earlier probe cannot pass).
__device__ __forceinline__ uint32_t pattern(size_t i, uint32_t seed) {
  uint32_t x = (uint32_t)i * 2654435761u ^ seed ^ (uint32_t)(i >> 32);
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x | 1u;
}

__global__ void fill_pattern(uint32_t* x, size_t n, uint32_t seed) {
  size_t stride = (size_t)gridDim.x * blockDim.x;
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
    x[i] = pattern(i, seed);
  }
}

__global__ void count_mismatches(const uint32_t* x, size_t n, uint32_t seed,
                                 unsigned long long* out) {
  unsigned long long bad = 0;
  size_t stride = (size_t)gridDim.x * blockDim.x;
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
    bad += x[i] != pattern(i, seed);
  }
  if (bad) atomicAdd(out, bad);
}

// Small copies by the SMs of the issuing device through the peer mapping (the CUDA samples'
// copyp2p): 16-byte words where both ends allow, else bytes.
__global__ void copy_words(uint4* __restrict__ dst, const uint4* __restrict__ src, size_t n) {
  size_t stride = (size_t)gridDim.x * blockDim.x;
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) dst[i] = src[i];
}

__global__ void copy_bytes(unsigned char* __restrict__ dst, const unsigned char* __restrict__ src,
                           size_t n) {
  size_t stride = (size_t)gridDim.x * blockDim.x;
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) dst[i] = src[i];
}

unsigned blocks_for(size_t n) {
  size_t b = (n + 255) / 256;
  return (unsigned)(b > 1024 ? 1024 : (b == 0 ? 1 : b));
}

using clock_type = std::chrono::steady_clock;

// Polls `e` until it completes, fails or `timeout_ms` passes. 0: done, 1: timed out; a CUDA
// failure is returned through *status.
int poll_event(cudaEvent_t e, int timeout_ms, gc_status* status, const char* what) {
  auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  *status = GC_OK;
  for (;;) {
    cudaError_t r = cudaEventQuery(e);
    if (r == cudaSuccess) {
      (void)cudaGetLastError();  // drop the cudaErrorNotReady the queries left behind
      return 0;
    }
    if (r != cudaErrorNotReady) {
      *status = gc_check(r, what);
      return 0;
    }
    if (clock_type::now() > deadline) {
      (void)cudaGetLastError();
      return 1;
    }
  }
}

// Spins on query(h) (cudaStreamQuery or cudaEventQuery, named by what) until the work is done.
// A query that finds the work unfinished returns cudaErrorNotReady, which also lands in the
// thread's last-error slot: clear it (as PyTorch's CUDAStream::query does), or the next
// unrelated cudaGetLastError() check would report it.
template <typename H>
gc_status spin(cudaError_t (*query)(H), H h, const char* what) {
  cudaError_t r = query(h);
  if (r == cudaSuccess) return GC_OK;
  while (r == cudaErrorNotReady) r = query(h);
  if (r != cudaSuccess) return gc_check(r, what);
  (void)cudaGetLastError();
  return GC_OK;
}

gc_status spin_stream(cudaStream_t s) { return spin(cudaStreamQuery, s, "cudaStreamQuery"); }

gc_status spin_event(cudaEvent_t e) { return spin(cudaEventQuery, e, "cudaEventQuery"); }

gc_status wait_stream(cudaStream_t s, cudaEvent_t e, int mode) {
  switch (mode) {
    case GC_P2P_WAIT_SPIN_STREAM:
      return spin_stream(s);
    case GC_P2P_WAIT_SPIN_EVENT: {
      if (!e) return gc_invalid("gc_p2p_wait", "GC_P2P_WAIT_SPIN_EVENT needs an event");
      gc_status st = gc_check(cudaEventRecord(e, s), "cudaEventRecord");
      return st != GC_OK ? st : spin_event(e);
    }
    case GC_P2P_WAIT_BLOCK:
      return gc_check(cudaStreamSynchronize(s), "cudaStreamSynchronize");
    default:
      return gc_invalid("gc_p2p_wait", "wait_mode must be 0, 1 or 2");
  }
}

}  // namespace

extern "C" gc_status gc_p2p_can_access(int device, int peer, int* can) {
  if (!can) return gc_invalid("gc_p2p_can_access", "null output");
  *can = 0;
  return gc_check(cudaDeviceCanAccessPeer(can, device, peer), "cudaDeviceCanAccessPeer");
}

extern "C" gc_status gc_p2p_attributes(int src, int dst, int* attrs) {
  if (!attrs) return gc_invalid("gc_p2p_attributes", "null output");
  static const cudaDeviceP2PAttr which[GC_P2P_ATTR_COUNT] = {
      cudaDevP2PAttrPerformanceRank, cudaDevP2PAttrAccessSupported,
      cudaDevP2PAttrNativeAtomicSupported, cudaDevP2PAttrCudaArrayAccessSupported};
  gc_status first = GC_OK;
  for (int k = 0; k < GC_P2P_ATTR_COUNT; k++) {
    int v = -1;
    gc_status s = gc_check(cudaDeviceGetP2PAttribute(&v, which[k], src, dst),
                           "cudaDeviceGetP2PAttribute");
    attrs[k] = s == GC_OK ? v : -1;
    if (s != GC_OK && first == GC_OK) first = s;
  }
  return first;
}

extern "C" gc_status gc_p2p_enable(int device, int peer) {
  gc_status s = gc_check(cudaSetDevice(device), "cudaSetDevice");
  if (s != GC_OK) return s;
  cudaError_t e = cudaDeviceEnablePeerAccess(peer, 0);
  if (e == cudaErrorPeerAccessAlreadyEnabled) {
    (void)cudaGetLastError();  // not an error here; leave nothing in the last-error slot
    return GC_OK;
  }
  return gc_check(e, "cudaDeviceEnablePeerAccess");
}

extern "C" gc_status gc_p2p_disable(int device, int peer) {
  gc_status s = gc_check(cudaSetDevice(device), "cudaSetDevice");
  if (s != GC_OK) return s;
  cudaError_t e = cudaDeviceDisablePeerAccess(peer);
  if (e == cudaErrorPeerAccessNotEnabled) {
    (void)cudaGetLastError();
    return GC_OK;
  }
  return gc_check(e, "cudaDeviceDisablePeerAccess");
}

extern "C" gc_status gc_p2p_probe(int src, int dst, size_t bytes, int timeout_ms, int* verdict,
                                  long long* detail) {
  if (!verdict || !detail) return gc_invalid("gc_p2p_probe", "null output");
  if (src == dst) return gc_invalid("gc_p2p_probe", "src and dst are the same device");
  if (timeout_ms < 1) return gc_invalid("gc_p2p_probe", "timeout_ms must be >= 1");
  *verdict = GC_P2P_PROBE_OK;
  *detail = 0;
  size_t n = bytes < 4 ? 1 : (bytes + 3) / 4;
  uint32_t seed = (uint32_t)clock_type::now().time_since_epoch().count() * 2246822519u + 1u;

  uint32_t* s_buf = nullptr;
  uint32_t* d_buf = nullptr;
  unsigned long long* d_count = nullptr;
  unsigned long long* h_count = nullptr;
  cudaStream_t s_stream = nullptr, d_stream = nullptr;
  cudaEvent_t s_done = nullptr, d_done = nullptr;
  gc_status st = GC_OK;
  int timed_out = 0;

#define TRY(call, what)                 \
  do {                                  \
    st = gc_check((call), (what));      \
    if (st != GC_OK) goto cleanup;      \
  } while (0)

  {
    TRY(cudaSetDevice(src), "cudaSetDevice(probe source)");
    TRY(cudaMalloc((void**)&s_buf, n * 4), "cudaMalloc(probe source)");
    TRY(cudaStreamCreateWithFlags(&s_stream, cudaStreamNonBlocking), "cudaStreamCreate(probe)");
    TRY(cudaEventCreateWithFlags(&s_done, cudaEventDisableTiming), "cudaEventCreate(probe)");
    fill_pattern<<<blocks_for(n), 256, 0, s_stream>>>(s_buf, n, seed);
    TRY(cudaGetLastError(), "fill_pattern");
    TRY(cudaStreamSynchronize(s_stream), "cudaStreamSynchronize(probe fill)");

    TRY(cudaSetDevice(dst), "cudaSetDevice(probe destination)");
    TRY(cudaMalloc((void**)&d_buf, n * 4), "cudaMalloc(probe destination)");
    TRY(cudaMalloc((void**)&d_count, sizeof(unsigned long long)), "cudaMalloc(probe count)");
    TRY(cudaMallocHost((void**)&h_count, sizeof(unsigned long long)), "cudaMallocHost(probe)");
    TRY(cudaStreamCreateWithFlags(&d_stream, cudaStreamNonBlocking), "cudaStreamCreate(probe)");
    TRY(cudaEventCreateWithFlags(&d_done, cudaEventDisableTiming), "cudaEventCreate(probe)");
    TRY(cudaMemsetAsync(d_buf, 0, n * 4, d_stream), "cudaMemsetAsync(probe)");
    TRY(cudaMemsetAsync(d_count, 0, sizeof(unsigned long long), d_stream),
        "cudaMemsetAsync(probe)");
    TRY(cudaStreamSynchronize(d_stream), "cudaStreamSynchronize(probe zero)");

    // the peer copy, pushed by the source as gpucore's copies are, bounded by the timeout
    TRY(cudaSetDevice(src), "cudaSetDevice(probe source)");
    auto t0 = clock_type::now();
    TRY(cudaMemcpyPeerAsync(d_buf, dst, s_buf, src, n * 4, s_stream), "cudaMemcpyPeerAsync(probe)");
    TRY(cudaEventRecord(s_done, s_stream), "cudaEventRecord(probe)");
    if (poll_event(s_done, timeout_ms, &st, "peer copy (probe)")) {
      *verdict = GC_P2P_PROBE_COPY_TIMEOUT;
      timed_out = 1;
      goto cleanup;
    }
    if (st != GC_OK) goto cleanup;
    *detail = (long long)std::chrono::duration_cast<std::chrono::microseconds>(
                  clock_type::now() - t0).count();

    // the checksum on the destination
    TRY(cudaSetDevice(dst), "cudaSetDevice(probe destination)");
    count_mismatches<<<blocks_for(n), 256, 0, d_stream>>>(d_buf, n, seed, d_count);
    TRY(cudaGetLastError(), "count_mismatches");
    TRY(cudaMemcpyAsync(h_count, d_count, sizeof(unsigned long long), cudaMemcpyDeviceToHost,
                        d_stream), "cudaMemcpyAsync(probe count)");
    TRY(cudaEventRecord(d_done, d_stream), "cudaEventRecord(probe)");
    if (poll_event(d_done, timeout_ms, &st, "checksum (probe)")) {
      *verdict = GC_P2P_PROBE_CHECK_TIMEOUT;
      timed_out = 1;
      goto cleanup;
    }
    if (st != GC_OK) goto cleanup;
    if (*h_count != 0) {
      *verdict = GC_P2P_PROBE_MISMATCH;
      *detail = (long long)*h_count;
    }
  }
#undef TRY

cleanup:
  if (timed_out) {
    // the stuck copy may still write into these buffers: leave them (a few MiB, once per pair)
    return st;
  }
  {
    gc_status keep = st;
    cudaSetDevice(src);
    if (s_stream) cudaStreamSynchronize(s_stream);
    if (s_done) cudaEventDestroy(s_done);
    if (s_stream) cudaStreamDestroy(s_stream);
    if (s_buf) cudaFree(s_buf);
    cudaSetDevice(dst);
    if (d_stream) cudaStreamSynchronize(d_stream);
    if (d_done) cudaEventDestroy(d_done);
    if (d_stream) cudaStreamDestroy(d_stream);
    if (d_buf) cudaFree(d_buf);
    if (d_count) cudaFree(d_count);
    if (h_count) cudaFreeHost(h_count);
    (void)cudaGetLastError();  // nothing from the cleanup may leak into the next check
    return keep;
  }
}

extern "C" gc_status gc_p2p_stream_create(int device, void** out) {
  if (!out) return gc_invalid("gc_p2p_stream_create", "null output");
  *out = nullptr;
  gc_status s = gc_check(cudaSetDevice(device), "cudaSetDevice");
  return s != GC_OK ? s : gc_stream_create(out);  // on the device now current
}

extern "C" gc_status gc_p2p_event_create(int device, void** out) {
  if (!out) return gc_invalid("gc_p2p_event_create", "null output");
  *out = nullptr;
  gc_status s = gc_check(cudaSetDevice(device), "cudaSetDevice");
  return s != GC_OK ? s : gc_event_create(out);  // on the device now current
}

extern "C" gc_status gc_p2p_stream_destroy(int device, void* stream) {
  if (!stream) return GC_OK;
  gc_status s = gc_check(cudaSetDevice(device), "cudaSetDevice");
  if (s != GC_OK) return s;
  return gc_check(cudaStreamDestroy((cudaStream_t)stream), "cudaStreamDestroy");
}

extern "C" gc_status gc_p2p_event_destroy(int device, void* event) {
  if (!event) return GC_OK;
  gc_status s = gc_check(cudaSetDevice(device), "cudaSetDevice");
  if (s != GC_OK) return s;
  return gc_check(cudaEventDestroy((cudaEvent_t)event), "cudaEventDestroy");
}

extern "C" gc_status gc_p2p_stream_wait_event(void* stream, void* event) {
  if (!event) return gc_invalid("gc_p2p_stream_wait_event", "null event");
  return gc_check(cudaStreamWaitEvent((cudaStream_t)stream, (cudaEvent_t)event, 0),
                  "cudaStreamWaitEvent");
}

extern "C" gc_status gc_p2p_event_record(void* event, void* stream) {
  if (!event) return gc_invalid("gc_p2p_event_record", "null event");
  return gc_check(cudaEventRecord((cudaEvent_t)event, (cudaStream_t)stream), "cudaEventRecord");
}

extern "C" gc_status gc_p2p_kernel_copy(void* dst, const void* src, size_t bytes,
                                        int issue_device, void* stream) {
  if (bytes == 0) return GC_OK;
  if (!dst || !src) return gc_invalid("gc_p2p_kernel_copy", "null address");
  gc_status s = gc_check(cudaSetDevice(issue_device), "cudaSetDevice");
  if (s != GC_OK) return s;
  cudaStream_t st = (cudaStream_t)stream;
  if ((((uintptr_t)dst | (uintptr_t)src | bytes) & 15) == 0) {
    size_t n = bytes / 16;
    copy_words<<<blocks_for(n), 256, 0, st>>>((uint4*)dst, (const uint4*)src, n);
  } else {
    copy_bytes<<<blocks_for(bytes), 256, 0, st>>>((unsigned char*)dst, (const unsigned char*)src,
                                                  bytes);
  }
  return gc_check(cudaGetLastError(), "gc_p2p_kernel_copy");
}

extern "C" gc_status gc_p2p_copy(void* dst, int dst_device, const void* src, int src_device,
                                 size_t bytes, int issue_device, void* stream) {
  if (bytes == 0) return GC_OK;
  if (!dst || !src) return gc_invalid("gc_p2p_copy", "null address");
  gc_status s = gc_check(cudaSetDevice(issue_device), "cudaSetDevice");
  if (s != GC_OK) return s;
  if (dst_device == src_device) {
    return gc_check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice,
                                    (cudaStream_t)stream), "cudaMemcpyAsync(D2D)");
  }
  return gc_check(cudaMemcpyPeerAsync(dst, dst_device, src, src_device, bytes,
                                      (cudaStream_t)stream), "cudaMemcpyPeerAsync");
}

extern "C" gc_status gc_p2p_copy_wait(void* dst, int dst_device, const void* src, int src_device,
                                      size_t bytes, int issue_device, void* stream, void* event,
                                      int wait_mode, size_t kernel_max_bytes) {
  gc_status s = src_device != dst_device && bytes <= kernel_max_bytes
                    ? gc_p2p_kernel_copy(dst, src, bytes, issue_device, stream)
                    : gc_p2p_copy(dst, dst_device, src, src_device, bytes, issue_device, stream);
  if (s != GC_OK) return s;
  return wait_stream((cudaStream_t)stream, (cudaEvent_t)event, wait_mode);
}

extern "C" gc_status gc_p2p_wait(int device, void* stream, void* event, int wait_mode) {
  gc_status s = gc_check(cudaSetDevice(device), "cudaSetDevice");
  if (s != GC_OK) return s;
  return wait_stream((cudaStream_t)stream, (cudaEvent_t)event, wait_mode);
}

extern "C" gc_status gc_p2p_staged(void* dst, int dst_device, void* dst_stream, const void* src,
                                   int src_device, void* src_stream, size_t bytes,
                                   void* const* buffers, void* const* d2h_events,
                                   void* const* h2d_events, int nbuf, size_t chunk_bytes,
                                   int after_device, void* after_stream, void* after_event,
                                   void* done_event) {
  if (bytes == 0) return GC_OK;
  if (!dst || !src || !buffers || !d2h_events || !h2d_events || nbuf < 1 || chunk_bytes == 0)
    return gc_invalid("gc_p2p_staged", "null address, no buffers or chunk_bytes 0");
  if (after_stream && (!after_event || !done_event))
    return gc_invalid("gc_p2p_staged", "after_stream needs after_event and done_event");
  cudaStream_t ss = (cudaStream_t)src_stream;
  cudaStream_t ds = (cudaStream_t)dst_stream;
  gc_status s;
#define STEP(call, what)           \
  do {                             \
    s = gc_check((call), (what));  \
    if (s != GC_OK) return s;      \
  } while (0)
  if (after_stream) {
    STEP(cudaSetDevice(after_device), "cudaSetDevice");
    STEP(cudaEventRecord((cudaEvent_t)after_event, (cudaStream_t)after_stream),
         "cudaEventRecord(staged start)");
    STEP(cudaStreamWaitEvent(ss, (cudaEvent_t)after_event, 0), "cudaStreamWaitEvent");
    STEP(cudaStreamWaitEvent(ds, (cudaEvent_t)after_event, 0), "cudaStreamWaitEvent");
  }
  const char* from = (const char*)src;
  char* to = (char*)dst;
  size_t chunks = (bytes + chunk_bytes - 1) / chunk_bytes;
  for (size_t i = 0; i < chunks; i++) {
    int b = (int)(i % (size_t)nbuf);
    size_t off = i * chunk_bytes;
    size_t n = bytes - off < chunk_bytes ? bytes - off : chunk_bytes;
    cudaEvent_t full = (cudaEvent_t)d2h_events[b];
    cudaEvent_t drained = (cudaEvent_t)h2d_events[b];
    // source side: refill buffer b once its last upload (this call's or an earlier one's) is done
    STEP(cudaSetDevice(src_device), "cudaSetDevice");
    STEP(cudaStreamWaitEvent(ss, drained, 0), "cudaStreamWaitEvent(buffer drained)");
    STEP(cudaMemcpyAsync(buffers[b], from + off, n, cudaMemcpyDeviceToHost, ss),
         "cudaMemcpyAsync(D2H, staged)");
    STEP(cudaEventRecord(full, ss), "cudaEventRecord(buffer full)");
    // destination side: upload it once it is full
    STEP(cudaSetDevice(dst_device), "cudaSetDevice");
    STEP(cudaStreamWaitEvent(ds, full, 0), "cudaStreamWaitEvent(buffer full)");
    STEP(cudaMemcpyAsync(to + off, buffers[b], n, cudaMemcpyHostToDevice, ds),
         "cudaMemcpyAsync(H2D, staged)");
    STEP(cudaEventRecord(drained, ds), "cudaEventRecord(buffer drained)");
  }
  if (after_stream) {
    STEP(cudaSetDevice(dst_device), "cudaSetDevice");
    STEP(cudaEventRecord((cudaEvent_t)done_event, ds), "cudaEventRecord(staged done)");
    STEP(cudaSetDevice(after_device), "cudaSetDevice");
    STEP(cudaStreamWaitEvent((cudaStream_t)after_stream, (cudaEvent_t)done_event, 0),
         "cudaStreamWaitEvent(staged done)");
  }
#undef STEP
  return GC_OK;
}
