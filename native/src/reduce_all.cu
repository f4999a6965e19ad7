// Whole-range reductions: one launch of a grid of at most kBlocksPerSm blocks per SM (fewer for
// small n), each thread accumulating a grid-strided slice with 16-byte loads, kUnroll in flight;
// each block writes its state to the workspace and the last block to finish (integer ticket)
// combines the block states in block order and writes the result.
#include "reduce_common.cuh"

namespace gcr {
namespace {

template <typename R, typename T, bool kTwo>
__global__ void __launch_bounds__(kThreads, kBlocksPerSm)
    all_kernel(const T* __restrict__ x, const T* __restrict__ y, size_t n, void* out,
               int out_type, bool mean, char* ws) {
  typedef typename R::S S;
  __shared__ S sh[kWarps];
  __shared__ bool last;
  S s = R::init();
  const size_t G = (size_t)gridDim.x * kThreads;
  const size_t g = (size_t)blockIdx.x * kThreads + threadIdx.x;
  accumulate<R, T, kTwo>(s, x, y, n, g, G, 0);
  s = block_reduce<R>(s, sh);
  if (gridDim.x == 1) {
    if (threadIdx.x == 0) write_out(out, out_type, 0, R::result(s, n, mean), R::kIndex);
    return;
  }
  S* partial = reinterpret_cast<S*>(ws + kTicketBytes);
  unsigned* ticket = reinterpret_cast<unsigned*>(ws);
  if (threadIdx.x == 0) {
    partial[blockIdx.x] = s;
    __threadfence();
    last = atomicAdd(ticket, 1u) == gridDim.x - 1;
  }
  __syncthreads();
  if (!last) return;
  __threadfence();
  S t = R::init();
  for (unsigned b = threadIdx.x; b < gridDim.x; b += kThreads) t = R::merge(t, load_cg(partial + b));
  t = block_reduce<R>(t, sh);
  if (threadIdx.x == 0) {
    write_out(out, out_type, 0, R::result(t, n, mean), R::kIndex);
    *ticket = 0;  // ready for the next launch on this workspace
  }
}

struct AllLaunch : LaunchTarget {
  const void* x;
  const void* y;
  size_t n;

  template <typename R, typename T, bool kTwo>
  gc_status run() {
    const size_t per_block = (size_t)kThreads * Vec<T>::N * kUnroll;
    size_t cap = (size_t)sms * kBlocksPerSm;
    if (cap > (size_t)kMaxBlocks) cap = kMaxBlocks;
    size_t blocks = ceil_div(n, per_block);
    if (blocks > cap) blocks = cap;
    if (blocks < 1) blocks = 1;
    all_kernel<R, T, kTwo><<<(unsigned)blocks, kThreads, 0, stream>>>(
        static_cast<const T*>(x), static_cast<const T*>(y), n, out, out_type, mean, ws);
    return gc_check(cudaGetLastError(), "gc_reduce");
  }
};

}  // namespace
}  // namespace gcr

extern "C" gc_status gc_reduce(int op, int type, int acc, const void* x, const void* y, size_t n,
                               void* out, int out_type, void* workspace, size_t workspace_bytes,
                               void* stream) {
  using namespace gcr;
  gc_status st = check_common("gc_reduce", op, type, acc, x, y, n, 1, out, out_type, workspace,
                              workspace_bytes);
  if (st != GC_OK) return st;
  int sms = sm_count();
  if (sms <= 0) return gc_check(cudaErrorInvalidDevice, "gc_reduce (multiprocessor count)");
  AllLaunch l{{out, out_type, op == GC_REDUCE_MEAN, static_cast<char*>(workspace),
               (cudaStream_t)stream, sms},
              x, op == GC_REDUCE_DOT ? y : nullptr, n};
  return dispatch(op, type, acc, l);
}
