// Fill kernels, the reduction workspace, argument checks shared by the reduction entry points,
// and the fp32/fp64 sum shorthands. The reduction kernels are in reduce_all.cu (whole range),
// reduce_rows.cu (per row: contiguous) and reduce_cols.cu (per column: strided).
#include "reduce_common.cuh"

#include <atomic>

namespace {

constexpr int kFillThreads = 256;

template <typename T>
__global__ void fill_kernel(T* __restrict__ x, size_t n, T v) {
  size_t stride = (size_t)gridDim.x * blockDim.x;
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) x[i] = v;
}

__global__ void noop_kernel() {}

template <typename T>
gc_status launch_fill(void* x, size_t n, T v, void* stream, const char* name) {
  if (n == 0) return GC_OK;
  if (!x) return gc_invalid(name, "x is null");
  size_t blocks = (n + kFillThreads - 1) / kFillThreads;
  if (blocks > 65535u * 8) blocks = 65535u * 8;
  fill_kernel<T><<<(unsigned)blocks, kFillThreads, 0, (cudaStream_t)stream>>>((T*)x, n, v);
  return gc_check(cudaGetLastError(), name);
}

constexpr int kMaxDevices = 256;
std::atomic<int> g_sms[kMaxDevices];

}  // namespace

namespace gcr {

int sm_count() {
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  int c = (dev >= 0 && dev < kMaxDevices) ? g_sms[dev].load(std::memory_order_relaxed) : 0;
  if (c > 0) return c;
  if (cudaDeviceGetAttribute(&c, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess || c <= 0) {
    (void)cudaGetLastError();
    return 0;
  }
  if (dev >= 0 && dev < kMaxDevices) g_sms[dev].store(c, std::memory_order_relaxed);
  return c;
}

gc_status check_common(const char* name, int op, int type, int acc, const void* x, const void* y,
                       size_t reduced, size_t outputs, const void* out, int out_type,
                       const void* workspace, size_t workspace_bytes) {
  if (op < GC_REDUCE_SUM || op > GC_REDUCE_DOT) return gc_invalid(name, "unknown operation");
  if (type != GC_TYPE_F32 && type != GC_TYPE_F64) return gc_invalid(name, "type must be F32 or F64");
  if (acc != GC_ACC_INPUT && acc != GC_ACC_F64) return gc_invalid(name, "unknown accumulation");
  if (is_arg(op)) {
    if (out_type != GC_TYPE_I64 && out_type != GC_TYPE_F64)
      return gc_invalid(name, "argmin/argmax write indices: out_type must be I64 or F64");
  } else if (out_type != GC_TYPE_F32 && out_type != GC_TYPE_F64) {
    return gc_invalid(name, "out_type must be F32 or F64 for values");
  }
  if (outputs > 0 && !out) return gc_invalid(name, "out is null");
  if (!workspace) return gc_invalid(name, "workspace is null");
  if (workspace_bytes < kWorkspaceBytes)
    return gc_invalid(name, "workspace smaller than gc_reduce_workspace_bytes()");
  if (outputs > 0 && reduced > 0) {
    if (!x) return gc_invalid(name, "x is null");
    if (op == GC_REDUCE_DOT && !y) return gc_invalid(name, "y is null (dot reads two operands)");
  }
  if (outputs > 0 && reduced == 0 && needs_elements(op))
    return gc_invalid(name, "mean, min, max, argmin and argmax of an empty range are undefined");
  const size_t align = type == GC_TYPE_F32 ? 4 : 8;
  if ((reinterpret_cast<uintptr_t>(x) % align) != 0 ||
      (op == GC_REDUCE_DOT && reinterpret_cast<uintptr_t>(y) % align != 0))
    return gc_invalid(name, "x and y must be aligned to their element size");
  const size_t out_align = out_type == GC_TYPE_F32 ? 4 : 8;
  if (reinterpret_cast<uintptr_t>(out) % out_align != 0)
    return gc_invalid(name, "out must be aligned to its element size");
  return GC_OK;
}

}  // namespace gcr

extern "C" size_t gc_reduce_workspace_bytes(void) { return gcr::kWorkspaceBytes; }

extern "C" double gc_reduce_read_f64(const void* host_address) {
  return host_address ? *static_cast<const volatile double*>(host_address) : 0.0;
}

extern "C" gc_status gc_reduce_noop(void* stream) {
  noop_kernel<<<1, 32, 0, (cudaStream_t)stream>>>();
  return gc_check(cudaGetLastError(), "gc_reduce_noop");
}

extern "C" gc_status gc_fill_f32(void* x, size_t n, float v, void* stream) {
  return launch_fill<float>(x, n, v, stream, "gc_fill_f32");
}

extern "C" gc_status gc_fill_f64(void* x, size_t n, double v, void* stream) {
  return launch_fill<double>(x, n, v, stream, "gc_fill_f64");
}
