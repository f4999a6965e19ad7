// Per-column reductions of a row-major matrix (each output reduces a strided column).
//
// A block covers a tile of 32*V adjacent columns (V = elements per 16-byte vector when rows are
// 16-byte aligned, else 1): each lane owns V columns and the block's 8 warps take every 8th row of
// the block's row range, kUnroll rows in flight, so each warp load is 32 contiguous 16-byte
// vectors. The 8 warp states of a column are combined in warp order through shared memory. The
// rows are split into `splits` ranges (blockIdx.y) so that there are enough blocks to fill the
// chip; the last block of a tile to finish (integer ticket per tile) combines the split states
// in split order. The split count depends only on (rows, cols, ld alignment, resident blocks of
// the device), so results are bitwise reproducible on a device.
#include "reduce_common.cuh"

#include <atomic>

namespace gcr {
namespace {

template <typename R, typename T, bool kTwo, bool kVec>
__global__ void __launch_bounds__(kThreads, kBlocksPerSm)
    cols_kernel(const T* __restrict__ x, const T* __restrict__ y, size_t rows, size_t cols,
                size_t ld, size_t rows_per_split, void* out, int out_type, bool mean, char* ws) {
  typedef typename R::S S;
  constexpr int V = kVec ? Vec<T>::N : 1;
  constexpr int kCols = 32 * V;
  constexpr int U = Unroll<kTwo>::value;
  __shared__ S sh[kWarps][kCols];
  __shared__ bool last;
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  const size_t tile = blockIdx.x, split = blockIdx.y, splits = gridDim.y;
  const size_t j0 = tile * kCols + (size_t)lane * V;
  const size_t i0 = split * rows_per_split;
  const size_t i1 = rows - i0 < rows_per_split ? rows : i0 + rows_per_split;
  S s[V];
#pragma unroll
  for (int e = 0; e < V; e++) s[e] = R::init();

  if (j0 < cols) {
    if (kVec && j0 + V <= cols) {
      typedef typename Vec<T>::V VT;
      size_t i = i0 + w;
#pragma unroll 1
      for (; i + (size_t)(U - 1) * kWarps < i1; i += (size_t)U * kWarps) {
        VT a[U], b[U];
#pragma unroll
        for (int k = 0; k < U; k++) {
          const size_t at = (i + (size_t)k * kWarps) * ld + j0;
          a[k] = load_vec(reinterpret_cast<const VT*>(x + at));
          if (kTwo) b[k] = load_vec(reinterpret_cast<const VT*>(y + at));
        }
#pragma unroll
        for (int k = 0; k < U; k++)
#pragma unroll
          for (int e = 0; e < V; e++)
            R::add(s[e], Vec<T>::get(a[k], e), kTwo ? Vec<T>::get(b[k], e) : T(0),
                   (long long)(i + (size_t)k * kWarps));
      }
#pragma unroll 1
      for (; i < i1; i += kWarps) {
        const size_t at = i * ld + j0;
        VT a = load_vec(reinterpret_cast<const VT*>(x + at));
        VT b = kTwo ? load_vec(reinterpret_cast<const VT*>(y + at)) : a;
#pragma unroll
        for (int e = 0; e < V; e++)
          R::add(s[e], Vec<T>::get(a, e), kTwo ? Vec<T>::get(b, e) : T(0), (long long)i);
      }
    } else {
      const int valid = cols - j0 < (size_t)V ? (int)(cols - j0) : V;
      size_t i = i0 + w;
#pragma unroll 1
      for (; i + (size_t)(U - 1) * kWarps < i1; i += (size_t)U * kWarps) {
        T a[U][V], b[U][V];
#pragma unroll
        for (int k = 0; k < U; k++)
#pragma unroll
          for (int e = 0; e < V; e++) {
            const size_t at = (i + (size_t)k * kWarps) * ld + j0 + e;
            a[k][e] = e < valid ? __ldg(x + at) : T(0);
            b[k][e] = (kTwo && e < valid) ? __ldg(y + at) : T(0);
          }
#pragma unroll
        for (int k = 0; k < U; k++)
#pragma unroll
          for (int e = 0; e < V; e++)
            if (e < valid) R::add(s[e], a[k][e], b[k][e], (long long)(i + (size_t)k * kWarps));
      }
#pragma unroll 1
      for (; i < i1; i += kWarps) {
#pragma unroll
        for (int e = 0; e < V; e++)
          if (e < valid)
            R::add(s[e], x[i * ld + j0 + e], kTwo ? y[i * ld + j0 + e] : T(0), (long long)i);
      }
    }
  }

#pragma unroll
  for (int e = 0; e < V; e++) sh[w][lane * V + e] = s[e];
  __syncthreads();
  const int c = threadIdx.x;
  const size_t j = tile * kCols + c;
  S u = R::init();
  if (c < kCols) {
    u = sh[0][c];
#pragma unroll
    for (int ww = 1; ww < kWarps; ww++) u = R::merge(u, sh[ww][c]);
  }
  if (splits == 1) {
    if (c < kCols && j < cols) write_out(out, out_type, j, R::result(u, rows, mean), R::kIndex);
    return;
  }
  S* partial = reinterpret_cast<S*>(ws + kTicketBytes);
  unsigned* ticket = reinterpret_cast<unsigned*>(ws) + tile;
  if (c < kCols && j < cols) partial[split * cols + j] = u;
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) last = atomicAdd(ticket, 1u) == splits - 1;
  __syncthreads();
  if (!last) return;
  __threadfence();
  if (c < kCols && j < cols) {
    S v = R::init();
    for (size_t q = 0; q < splits; q++) v = R::merge(v, load_cg(partial + q * cols + j));
    write_out(out, out_type, j, R::result(v, rows, mean), R::kIndex);
  }
  if (threadIdx.x == 0) *ticket = 0;
}

constexpr int kMaxDevices = 256;

// Resident blocks per SM of a kernel on the current device (cached per device).
template <typename K>
int resident_per_sm(K kernel) {
  static std::atomic<int> cache[kMaxDevices];
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess) {
    (void)cudaGetLastError();
    return kBlocksPerSm;
  }
  int c = dev < kMaxDevices ? cache[dev].load(std::memory_order_relaxed) : 0;
  if (c > 0) return c;
  if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&c, kernel, kThreads, 0) != cudaSuccess ||
      c <= 0) {
    (void)cudaGetLastError();
    c = kBlocksPerSm;
  }
  if (dev < kMaxDevices) cache[dev].store(c, std::memory_order_relaxed);
  return c;
}

// Split count: enough blocks for the chip, few partially filled waves, bounded by the rows
// (>= 32 per split), the partials area, the tickets and gridDim.y.
inline size_t choose_splits(size_t rows, size_t cols, size_t tiles, size_t resident,
                            size_t state_bytes) {
  if (rows == 0 || tiles > kMaxTickets) return 1;
  size_t most = ceil_div(rows, (size_t)kWarps * kUnroll);
  const size_t fit = kPartialBytes / (cols * state_bytes);
  if (most > fit) most = fit;
  if (most > 1024) most = 1024;
  if (most < 1) most = 1;
  // cost ~ waves * (rows per block + fixed overhead of a block, in rows)
  size_t best = 1;
  double best_cost = 0;
  for (size_t s = 1; s <= most; s++) {
    const size_t waves = ceil_div(tiles * s, resident);
    const double cost = (double)waves * (double)(ceil_div(rows, s) + 16);
    if (s == 1 || cost < best_cost * 0.999) {
      best = s;
      best_cost = cost;
    }
  }
  const size_t per = ceil_div(rows, best);
  return ceil_div(rows, per);
}

struct ColsLaunch : MatrixLaunch {
  template <typename R, typename T, bool kTwo, bool kVec>
  gc_status go() {
    typedef typename R::S S;
    constexpr size_t kCols = 32 * (kVec ? Vec<T>::N : 1);
    auto kernel = cols_kernel<R, T, kTwo, kVec>;
    const size_t tiles = ceil_div(cols, kCols);
    const size_t resident = (size_t)sms * resident_per_sm(kernel);
    const size_t splits = choose_splits(rows, cols, tiles, resident, sizeof(S));
    const size_t per = splits > 1 ? ceil_div(rows, splits) : rows;
    if (tiles > 0x7fffffffu) return gc_invalid("gc_reduce_cols", "too many columns");
    dim3 grid((unsigned)tiles, (unsigned)splits);
    kernel<<<grid, kThreads, 0, stream>>>(static_cast<const T*>(x), static_cast<const T*>(y),
                                          rows, cols, ld, per, out, out_type, mean, ws);
    return gc_check(cudaGetLastError(), "gc_reduce_cols");
  }

  template <typename R, typename T, bool kTwo>
  gc_status run() {
    constexpr size_t N = Vec<T>::N;
    bool vec = reinterpret_cast<uintptr_t>(x) % 16 == 0 && ld % N == 0;
    if (kTwo) vec = vec && reinterpret_cast<uintptr_t>(y) % 16 == 0;
    return vec ? go<R, T, kTwo, true>() : go<R, T, kTwo, false>();
  }
};

}  // namespace
}  // namespace gcr

extern "C" gc_status gc_reduce_cols(int op, int type, int acc, const void* x, const void* y,
                                    size_t rows, size_t cols, size_t ld, void* out, int out_type,
                                    void* workspace, size_t workspace_bytes, void* stream) {
  return gcr::matrix_entry<gcr::ColsLaunch>("gc_reduce_cols", false, op, type, acc, x, y, rows, cols, ld,
                                           out, out_type, workspace, workspace_bytes, stream);
}
