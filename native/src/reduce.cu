// Fill and deterministic sum kernels.
//
// Sum: one launch of a fixed grid (GC_REDUCE_BLOCKS blocks) where each thread accumulates a
// grid-strided slice in fp64, each block writes its partial to the workspace, and the last
// block to finish (found with an atomic ticket on an integer, not on floats) adds the partials
// in a fixed order. The order of every addition depends only on n, so results are bitwise
// reproducible run after run.
#include "gpucore.h"
#include "internal.h"

#include <cuda_runtime.h>
#include <stdint.h>

namespace {

constexpr int kThreads = 256;
constexpr int kBlocks = 1024;  // fixed, so the summation order does not depend on the device

template <typename T>
__global__ void fill_kernel(T* __restrict__ x, size_t n, T v) {
  size_t stride = (size_t)gridDim.x * blockDim.x;
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) x[i] = v;
}

__device__ __forceinline__ double block_sum(double v, double* shared) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  v = (threadIdx.x < blockDim.x / 32) ? shared[lane] : 0.0;
  if (warp == 0)
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}

struct Workspace {
  double partial[kBlocks];
  unsigned int ticket;
};

template <typename T>
__device__ __forceinline__ double load_sum4(const T* x, size_t i);

template <>
__device__ __forceinline__ double load_sum4<float>(const float* x, size_t i) {
  float4 v = __ldg(reinterpret_cast<const float4*>(x) + i);
  return ((double)v.x + (double)v.y) + ((double)v.z + (double)v.w);
}
template <>
__device__ __forceinline__ double load_sum4<double>(const double* x, size_t i) {
  double2 a = __ldg(reinterpret_cast<const double2*>(x) + 2 * i);
  double2 b = __ldg(reinterpret_cast<const double2*>(x) + 2 * i + 1);
  return (a.x + a.y) + (b.x + b.y);
}

template <typename T>
__global__ void __launch_bounds__(kThreads) sum_kernel(const T* __restrict__ x, size_t n,
                                                        T* __restrict__ out, Workspace* ws) {
  __shared__ double shared[kThreads / 32];
  __shared__ bool last;
  const size_t tid = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  const size_t stride = (size_t)gridDim.x * blockDim.x;
  double acc = 0.0;
  const bool aligned = (reinterpret_cast<uintptr_t>(x) % 16) == 0;
  size_t head = 0;
  if (aligned) {
    const size_t n4 = n / 4;
    size_t i = tid;
    // two independent vector loads in flight per iteration
    for (; i + stride < n4; i += 2 * stride) {
      double a = load_sum4<T>(x, i);
      double b = load_sum4<T>(x, i + stride);
      acc += a;
      acc += b;
    }
    for (; i < n4; i += stride) acc += load_sum4<T>(x, i);
    head = n4 * 4;
  }
  for (size_t i = head + tid; i < n; i += stride) acc += (double)x[i];

  double b = block_sum(acc, shared);
  if (threadIdx.x == 0) {
    ws->partial[blockIdx.x] = b;
    __threadfence();
    unsigned int t = atomicAdd(&ws->ticket, 1u);
    last = (t == gridDim.x - 1);
  }
  __syncthreads();
  if (!last) return;
  __threadfence();
  // The last block adds the partials in a fixed order.
  double v = 0.0;
  for (int i = threadIdx.x; i < (int)gridDim.x; i += blockDim.x)
    v += ((volatile double*)ws->partial)[i];
  v = block_sum(v, shared);
  if (threadIdx.x == 0) {
    *out = (T)v;
    ws->ticket = 0;  // ready for the next call on this workspace
  }
}

template <typename T>
gc_status launch_sum(const void* x, size_t n, void* out, void* workspace, void* stream,
                     const char* name) {
  if (!out) return gc_invalid(name, "out is null");
  if (!workspace) return gc_invalid(name, "workspace is null");
  if (n > 0 && !x) return gc_invalid(name, "x is null");
  cudaStream_t s = (cudaStream_t)stream;
  Workspace* ws = (Workspace*)workspace;
  sum_kernel<T><<<kBlocks, kThreads, 0, s>>>((const T*)x, n, (T*)out, ws);
  return gc_check(cudaGetLastError(), name);
}

template <typename T>
gc_status launch_fill(void* x, size_t n, T v, void* stream, const char* name) {
  if (n == 0) return GC_OK;
  if (!x) return gc_invalid(name, "x is null");
  size_t blocks = (n + kThreads - 1) / kThreads;
  if (blocks > 65535u * 8) blocks = 65535u * 8;
  fill_kernel<T><<<(unsigned)blocks, kThreads, 0, (cudaStream_t)stream>>>((T*)x, n, v);
  return gc_check(cudaGetLastError(), name);
}

}  // namespace

extern "C" size_t gc_reduce_workspace_bytes(void) { return sizeof(Workspace); }

extern "C" gc_status gc_sum_f32(const void* x, size_t n, void* out, void* workspace,
                                void* stream) {
  return launch_sum<float>(x, n, out, workspace, stream, "gc_sum_f32");
}

extern "C" gc_status gc_sum_f64(const void* x, size_t n, void* out, void* workspace,
                                void* stream) {
  return launch_sum<double>(x, n, out, workspace, stream, "gc_sum_f64");
}

extern "C" gc_status gc_fill_f32(void* x, size_t n, float v, void* stream) {
  return launch_fill<float>(x, n, v, stream, "gc_fill_f32");
}

extern "C" gc_status gc_fill_f64(void* x, size_t n, double v, void* stream) {
  return launch_fill<double>(x, n, v, stream, "gc_fill_f64");
}
