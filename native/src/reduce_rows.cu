// Per-row reductions of a row-major matrix (each output reduces `cols` contiguous elements):
//  - kTpr threads per row (1, 8, 32 or a whole block of 256, chosen from the row's byte length),
//    each thread accumulating its slice with 16-byte loads, a shuffle or block tree per row, and
//    the result written by the row's first thread; one launch, no workspace;
//  - few long rows (too few rows to fill the chip): each row cut into P parts reduced by P
//    blocks, whose states the last block of the row (integer ticket per row) combines in order.
// The choice and every order depend only on (rows, cols, multiprocessor count).
#include "reduce_common.cuh"

namespace gcr {
namespace {

// Tree over groups of kTpr consecutive lanes (kTpr <= 32); valid in each group's first lane.
template <typename R, int kTpr>
__device__ __forceinline__ typename R::S group_reduce(typename R::S s) {
#pragma unroll
  for (int o = kTpr / 2; o > 0; o >>= 1) s = R::merge(s, shfl_down(s, o));
  return s;
}

template <typename R, typename T, bool kTwo, int kTpr>
__global__ void __launch_bounds__(kThreads, kBlocksPerSm)
    rows_kernel(const T* __restrict__ x, const T* __restrict__ y, size_t rows, size_t cols,
                size_t ld, void* out, int out_type, bool mean) {
  typedef typename R::S S;
  constexpr int kRpb = kThreads / kTpr;  // rows per block and pass
  __shared__ S sh[kWarps];
  const int sub = threadIdx.x / kTpr;
  const int t = threadIdx.x % kTpr;
  for (size_t r0 = (size_t)blockIdx.x * kRpb; r0 < rows; r0 += (size_t)gridDim.x * kRpb) {
    const size_t r = r0 + sub;
    S s = R::init();
    if (r < rows)
      accumulate<R, T, kTwo>(s, x + r * ld, kTwo ? y + r * ld : nullptr, cols, (size_t)t,
                             (size_t)kTpr, 0);
    if (kTpr == kThreads) {
      s = block_reduce<R>(s, sh);
    } else if (kTpr > 1) {
      s = group_reduce<R, kTpr>(s);
    }
    if (t == 0 && r < rows) write_out(out, out_type, r, R::result(s, cols, mean), R::kIndex);
  }
}

template <typename R, typename T, bool kTwo>
__global__ void __launch_bounds__(kThreads, kBlocksPerSm)
    rows_split_kernel(const T* __restrict__ x, const T* __restrict__ y, size_t cols, size_t ld,
                      size_t parts, size_t chunk, void* out, int out_type, bool mean, char* ws) {
  typedef typename R::S S;
  __shared__ S sh[kWarps];
  __shared__ bool last;
  const size_t r = blockIdx.x / parts;
  const size_t p = blockIdx.x % parts;
  const size_t start = p * chunk;
  const size_t len = cols - start < chunk ? cols - start : chunk;
  S s = R::init();
  accumulate<R, T, kTwo>(s, x + r * ld + start, kTwo ? y + r * ld + start : nullptr, len,
                         threadIdx.x, kThreads, (long long)start);
  s = block_reduce<R>(s, sh);
  S* partial = reinterpret_cast<S*>(ws + kTicketBytes) + r * parts;
  unsigned* ticket = reinterpret_cast<unsigned*>(ws) + r;
  if (threadIdx.x == 0) {
    partial[p] = s;
    __threadfence();
    last = atomicAdd(ticket, 1u) == parts - 1;
  }
  __syncthreads();
  if (!last) return;
  __threadfence();
  S u = R::init();
  for (size_t q = threadIdx.x; q < parts; q += kThreads) u = R::merge(u, load_cg(partial + q));
  u = block_reduce<R>(u, sh);
  if (threadIdx.x == 0) {
    write_out(out, out_type, r, R::result(u, cols, mean), R::kIndex);
    *ticket = 0;
  }
}

struct RowsLaunch : MatrixLaunch {
  template <typename R, typename T, bool kTwo, int kTpr>
  gc_status per_row() {
    constexpr size_t kRpb = kThreads / kTpr;
    size_t blocks = ceil_div(rows, kRpb);
    if (blocks > ((size_t)1 << 24)) blocks = (size_t)1 << 24;  // grid-stride beyond that
    rows_kernel<R, T, kTwo, kTpr><<<(unsigned)blocks, kThreads, 0, stream>>>(
        static_cast<const T*>(x), static_cast<const T*>(y), rows, cols, ld, out, out_type, mean);
    return gc_check(cudaGetLastError(), "gc_reduce_rows");
  }

  template <typename R, typename T, bool kTwo>
  gc_status run() {
    typedef typename R::S S;
    const size_t resident = (size_t)sms * kBlocksPerSm;
    if (cols >= 8192 && rows < resident && rows <= kMaxTickets) {
      size_t parts = ceil_div(2 * resident, rows);
      const size_t most = ceil_div(cols, 2048);
      if (parts > most) parts = most;
      const size_t fit = kPartialBytes / (rows * sizeof(S));
      if (parts > fit) parts = fit;
      if (parts >= 2) {
        size_t chunk = ceil_div(ceil_div(cols, parts), 64) * 64;  // keeps 16-byte phase
        parts = ceil_div(cols, chunk);
        if (parts >= 2) {
          rows_split_kernel<R, T, kTwo><<<(unsigned)(rows * parts), kThreads, 0, stream>>>(
              static_cast<const T*>(x), static_cast<const T*>(y), cols, ld, parts, chunk, out,
              out_type, mean, ws);
          return gc_check(cudaGetLastError(), "gc_reduce_rows");
        }
      }
    }
    const size_t bytes = cols * sizeof(T);
    if (bytes >= 16384) return per_row<R, T, kTwo, kThreads>();
    if (bytes >= 512) return per_row<R, T, kTwo, 32>();
    if (bytes >= 64) return per_row<R, T, kTwo, 8>();
    return per_row<R, T, kTwo, 1>();
  }
};

}  // namespace
}  // namespace gcr

extern "C" gc_status gc_reduce_rows(int op, int type, int acc, const void* x, const void* y,
                                    size_t rows, size_t cols, size_t ld, void* out, int out_type,
                                    void* workspace, size_t workspace_bytes, void* stream) {
  return gcr::matrix_entry<gcr::RowsLaunch>("gc_reduce_rows", true, op, type, acc, x, y, rows, cols, ld,
                                           out, out_type, workspace, workspace_bytes, stream);
}
