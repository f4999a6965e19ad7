// Small BLAS helpers the cuBLAS calls need around them, and the fault drill.
#include "gpucore.h"
#include "internal.h"

#include <cuda_runtime.h>

#include <cstdint>

namespace {

template <typename T>
__global__ void scale2d_kernel(T* __restrict__ c, long long rows, long long cols, long long ld,
                               T beta) {
  long long total = rows * cols;
  long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
    long long r = i / cols, col = i - r * cols;
    T* p = c + r * ld + col;
    *p = beta == T(0) ? T(0) : beta * *p;  // beta = 0 never reads C (BLAS semantics)
  }
}

template <typename T>
gc_status scale2d(void* c, long long rows, long long cols, long long ld, T beta, void* stream,
                  const char* name) {
  if (rows <= 0 || cols <= 0) return GC_OK;
  if (!c || ld < cols) return gc_invalid(name, "null matrix or ld < cols");
  long long total = rows * cols;
  long long blocks = (total + 255) / 256;
  if (blocks > 65535LL * 8) blocks = 65535LL * 8;
  scale2d_kernel<T><<<(unsigned)blocks, 256, 0, (cudaStream_t)stream>>>((T*)c, rows, cols, ld,
                                                                        beta);
  return gc_check(cudaGetLastError(), name);
}

}  // namespace

extern "C" gc_status gc_scale2d_f32(void* c, long long rows, long long cols, long long ld,
                                    float beta, void* stream) {
  return scale2d<float>(c, rows, cols, ld, beta, stream, "gc_scale2d_f32");
}

extern "C" gc_status gc_scale2d_f64(void* c, long long rows, long long cols, long long ld,
                                    double beta, void* stream) {
  return scale2d<double>(c, rows, cols, ld, beta, stream, "gc_scale2d_f64");
}

namespace {
__global__ void fill_u16_kernel(unsigned short* __restrict__ x, size_t n, unsigned short v) {
  size_t stride = (size_t)gridDim.x * blockDim.x;
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) x[i] = v;
}
}  // namespace

extern "C" gc_status gc_fill_u16(void* x, size_t n, unsigned short bits, void* stream) {
  if (n == 0) return GC_OK;
  if (!x) return gc_invalid("gc_fill_u16", "x is null");
  size_t blocks = (n + 255) / 256;
  if (blocks > 65535u * 8) blocks = 65535u * 8;
  fill_u16_kernel<<<(unsigned)blocks, 256, 0, (cudaStream_t)stream>>>((unsigned short*)x, n,
                                                                      bits);
  return gc_check(cudaGetLastError(), "gc_fill_u16");
}

namespace {
__global__ void store_through_bad_pointer(float* p) {
  // an address in the first page, never mapped on the device
  p[threadIdx.x] = 1.0f;
}
}  // namespace

extern "C" gc_status gc_drill_illegal_address(void) {
  store_through_bad_pointer<<<1, 32>>>(reinterpret_cast<float*>(static_cast<uintptr_t>(0x100)));
  cudaError_t launch = cudaGetLastError();
  if (launch != cudaSuccess) return gc_check(launch, "gc_drill_illegal_address launch");
  return gc_check(cudaDeviceSynchronize(), "gc_drill_illegal_address (cudaDeviceSynchronize)");
}
