// Building blocks of gpucore's reduction kernels (reduce_all.cu, reduce_rows.cu, reduce_cols.cu):
// per-operation state and combine rules, 16-byte vector loads, warp/block trees, the workspace
// layout and the dispatch from run-time (op, type, accumulation) to a template instance.
//
// Determinism: every kernel gives each thread a fixed set of elements (a function of the sizes
// and the grid only), accumulates them in increasing index order, and combines thread states in
// fixed shuffle/shared-memory trees; partial results of blocks are combined by the last block to
// finish (found with an integer ticket) in block order. No floating-point atomics anywhere.
#ifndef GPUCORE_REDUCE_COMMON_CUH
#define GPUCORE_REDUCE_COMMON_CUH

#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gpucore.h"
#include "gpucore_reduce.h"
#include "internal.h"

namespace gcr {

constexpr int kThreads = 256;        // threads per block, every kernel
constexpr int kWarps = kThreads / 32;
constexpr int kUnroll = 4;           // independent 16-byte loads in flight per thread (one operand)
constexpr int kBlocksPerSm = 4;      // resident blocks per SM asked of the compiler (<= 64 regs)
constexpr int kMaxBlocks = 4096;     // cap of the whole-array grid (partials area)
// loads in flight per thread and operand: two operands (dot) keep the same bytes in flight
template <bool kTwo>
struct Unroll {
  static constexpr int value = kTwo ? 2 : kUnroll;
};
constexpr long long kNoIndex = 0x7fffffffffffffffLL;

// Workspace: [tickets: kTicketBytes][partials: kPartialBytes]
constexpr size_t kTicketBytes = 64 * 1024;
constexpr unsigned kMaxTickets = (unsigned)(kTicketBytes / sizeof(unsigned));
constexpr size_t kPartialBytes = (size_t)4 << 20;
constexpr size_t kWorkspaceBytes = kTicketBytes + kPartialBytes;

// ---------------------------------------------------------------- states and their rules
//
// A reducer R has: S (state, trivially copyable, size a multiple of 4), init(), add(s, x, y, i)
// for one element (indices increase from call to call within a thread), merge(a, b) for two
// states (a from lower-numbered threads/blocks where that matters), and result(s, n, mean).

struct Result {
  double value;
  long long index;
};

template <typename A>
struct SumR {  // sum and mean, accumulated in A
  typedef A S;
  static constexpr bool kIndex = false;
  __device__ __forceinline__ static S init() { return A(0); }
  template <typename T>
  __device__ __forceinline__ static void add(S& s, T x, T, long long) {
    s += (A)x;
  }
  __device__ __forceinline__ static S merge(S a, S b) { return a + b; }
  __device__ __forceinline__ static Result result(S s, size_t n, bool mean) {
    return Result{mean ? (double)(s / (A)n) : (double)s, -1};
  }
};

template <typename A>
struct DotR {  // sum of x*y, accumulated in A (fp32 products are exact in fp64)
  typedef A S;
  static constexpr bool kIndex = false;
  __device__ __forceinline__ static S init() { return A(0); }
  template <typename T>
  __device__ __forceinline__ static void add(S& s, T x, T y, long long) {
    s = fma((A)x, (A)y, s);
  }
  __device__ __forceinline__ static S merge(S a, S b) { return a + b; }
  __device__ __forceinline__ static Result result(S s, size_t, bool) {
    return Result{(double)s, -1};
  }
};

template <typename T, bool kMax>
struct MinMaxR {  // value only; NaN is sticky
  typedef T S;
  static constexpr bool kIndex = false;
  __device__ __forceinline__ static S init() { return kMax ? -(T)INFINITY : (T)INFINITY; }
  __device__ __forceinline__ static bool better(T x, T s) { return kMax ? x > s : x < s; }
  __device__ __forceinline__ static void add(S& s, T x, T, long long) {
    s = (better(x, s) || x != x) ? x : s;
  }
  __device__ __forceinline__ static S merge(S a, S b) { return (better(b, a) || b != b) ? b : a; }
  __device__ __forceinline__ static Result result(S s, size_t, bool) {
    return Result{(double)s, -1};
  }
};

template <typename T>
struct ArgS {
  long long i;  // kNoIndex: no element seen
  T v;
};

template <typename T, bool kMax>
struct ArgR {  // first index of the min/max; the first NaN wins over everything
  typedef ArgS<T> S;
  static constexpr bool kIndex = true;
  __device__ __forceinline__ static S init() {
    S s;
    s.i = kNoIndex;
    s.v = kMax ? -(T)INFINITY : (T)INFINITY;
    return s;
  }
  __device__ __forceinline__ static bool better(T x, T s) { return kMax ? x > s : x < s; }
  __device__ __forceinline__ static void add(S& s, T x, T, long long i) {
    // indices increase within a thread: take only what is strictly better (ties keep the first)
    bool take = s.i == kNoIndex || better(x, s.v) || (x != x && s.v == s.v);
    if (take) {
      s.v = x;
      s.i = i;
    }
  }
  __device__ __forceinline__ static S merge(S a, S b) {
    if (b.i == kNoIndex) return a;
    if (a.i == kNoIndex) return b;
    bool an = a.v != a.v;
    bool bn = b.v != b.v;
    if (an || bn) {
      if (an && bn) return a.i <= b.i ? a : b;
      return an ? a : b;
    }
    if (better(a.v, b.v)) return a;
    if (better(b.v, a.v)) return b;
    return a.i <= b.i ? a : b;
  }
  __device__ __forceinline__ static Result result(S s, size_t, bool) {
    return Result{(double)s.v, s.i};
  }
};

struct Norm32R {  // fp32 input: squares summed in fp64 (no overflow, no underflow possible)
  typedef double S;
  static constexpr bool kIndex = false;
  __device__ __forceinline__ static S init() { return 0.0; }
  __device__ __forceinline__ static void add(S& s, float x, float, long long) {
    double d = (double)x;
    s = fma(d, d, s);
  }
  __device__ __forceinline__ static S merge(S a, S b) { return a + b; }
  __device__ __forceinline__ static Result result(S s, size_t, bool) {
    return Result{sqrt(s), -1};
  }
};

// Blue's algorithm with the constants of LAPACK 3.10 dnrm2 (la_constants, double):
// tsml = 2^-511, tbig = 2^486, ssml = 2^537, sbig = 2^-538.
struct Norm64S {
  double big, med, sml;
};

struct Norm64R {
  typedef Norm64S S;
  static constexpr bool kIndex = false;
  __device__ __forceinline__ static S init() { return S{0.0, 0.0, 0.0}; }
  __device__ __forceinline__ static void add(S& s, double x, double, long long) {
    const double tsml = 0x1p-511, tbig = 0x1p486, ssml = 0x1p537, sbig = 0x1p-538;
    double ax = fabs(x);
    if (ax > tbig) {
      double t = ax * sbig;
      s.big = fma(t, t, s.big);
    } else if (ax < tsml) {
      double t = ax * ssml;
      s.sml = fma(t, t, s.sml);
    } else {
      s.med = fma(ax, ax, s.med);  // NaN lands here and poisons med
    }
  }
  __device__ __forceinline__ static S merge(S a, S b) {
    return S{a.big + b.big, a.med + b.med, a.sml + b.sml};
  }
  __device__ static Result result(S s, size_t, bool) {
    const double ssml = 0x1p537, sbig = 0x1p-538;
    double scl, sumsq;
    double amed = s.med, asml = s.sml, abig = s.big;
    if (abig > 0.0) {
      if (amed > 0.0 || amed != amed) abig += (amed * sbig) * sbig;
      scl = 1.0 / sbig;
      sumsq = abig;
    } else if (asml > 0.0) {
      if (amed > 0.0 || amed != amed) {
        amed = sqrt(amed);
        asml = sqrt(asml) / ssml;
        double ymin, ymax;
        if (asml > amed) {
          ymin = amed;
          ymax = asml;
        } else {
          ymin = asml;
          ymax = amed;
        }
        scl = 1.0;
        double q = ymin / ymax;
        sumsq = ymax * ymax * (1.0 + q * q);
      } else {
        scl = 1.0 / ssml;
        sumsq = asml;
      }
    } else {
      scl = 1.0;
      sumsq = amed;
    }
    return Result{scl * sqrt(sumsq), -1};
  }
};

// ---------------------------------------------------------------- loads and trees

template <typename T>
struct Vec;
template <>
struct Vec<float> {
  typedef float4 V;
  static constexpr int N = 4;
  __device__ __forceinline__ static float get(const float4& v, int e) {
    return e == 0 ? v.x : e == 1 ? v.y : e == 2 ? v.z : v.w;
  }
};
template <>
struct Vec<double> {
  typedef double2 V;
  static constexpr int N = 2;
  __device__ __forceinline__ static double get(const double2& v, int e) {
    return e == 0 ? v.x : v.y;
  }
};

template <typename V>
__device__ __forceinline__ V load_vec(const V* p) {
  return __ldg(p);
}

template <typename S>
__device__ __forceinline__ S shfl_down(S v, int o) {
  static_assert(sizeof(S) % 4 == 0, "state size");
  constexpr int W = sizeof(S) / 4;
  unsigned w[W];
  memcpy(w, &v, sizeof(S));
#pragma unroll
  for (int k = 0; k < W; k++) w[k] = __shfl_down_sync(0xffffffffu, w[k], o);
  memcpy(&v, w, sizeof(S));
  return v;
}

// Reads a state written by another block (L2, not the possibly stale L1).
template <typename S>
__device__ __forceinline__ S load_cg(const S* p) {
  static_assert(sizeof(S) % 4 == 0, "state size");
  constexpr int W = sizeof(S) / 4;
  unsigned w[W];
  const unsigned* q = reinterpret_cast<const unsigned*>(p);
#pragma unroll
  for (int k = 0; k < W; k++) w[k] = __ldcg(q + k);
  S v;
  memcpy(&v, w, sizeof(S));
  return v;
}

template <typename R>
__device__ __forceinline__ typename R::S warp_reduce(typename R::S s) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) s = R::merge(s, shfl_down(s, o));
  return s;
}

// Fixed tree over the block; the result is valid in thread 0. `sh` holds kWarps states.
// Starts with a barrier so that `sh` may be reused call after call.
template <typename R>
__device__ __forceinline__ typename R::S block_reduce(typename R::S s, typename R::S* sh) {
  s = warp_reduce<R>(s);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();
  if (lane == 0) sh[warp] = s;
  __syncthreads();
  if (warp == 0) {
    s = lane < kWarps ? sh[lane] : R::init();
    s = warp_reduce<R>(s);
  }
  return s;
}

// Adds elements [0, n) of x (and y) owned by thread g of G: the head up to 16-byte alignment,
// then 16-byte vectors (kUnroll of them in flight), then the tail, all in increasing index order.
// `base` is added to the index of every element. When x and y are misaligned differently, plain
// loads (kUnroll in flight) are used instead.
template <typename R, typename T, bool kTwo>
__device__ __forceinline__ void accumulate(typename R::S& s, const T* __restrict__ x,
                                           const T* __restrict__ y, size_t n, size_t g, size_t G,
                                           long long base) {
  typedef typename Vec<T>::V V;
  constexpr int N = Vec<T>::N;
  constexpr int U = Unroll<kTwo>::value;
  const size_t mx = (reinterpret_cast<uintptr_t>(x) / sizeof(T)) % N;
  const bool vec = !kTwo || mx == (reinterpret_cast<uintptr_t>(y) / sizeof(T)) % N;
  if (vec) {
    size_t head = mx ? (size_t)(N - mx) : 0;
    if (head > n) head = n;
    const size_t nv = (n - head) / N;
    for (size_t h = g; h < head; h += G) R::add(s, x[h], kTwo ? y[h] : T(0), base + (long long)h);
    const V* xv = reinterpret_cast<const V*>(x + head);
    const V* yv = reinterpret_cast<const V*>(kTwo ? y + head : x + head);
    size_t i = g;
#pragma unroll 1
    for (; i + (size_t)(U - 1) * G < nv; i += (size_t)U * G) {
      V a[U], b[U];
#pragma unroll
      for (int k = 0; k < U; k++) {
        a[k] = load_vec(xv + i + k * G);
        if (kTwo) b[k] = load_vec(yv + i + k * G);
      }
#pragma unroll
      for (int k = 0; k < U; k++) {
        const long long at = base + (long long)(head + (i + k * G) * N);
#pragma unroll
        for (int e = 0; e < N; e++)
          R::add(s, Vec<T>::get(a[k], e), kTwo ? Vec<T>::get(b[k], e) : T(0), at + e);
      }
    }
#pragma unroll 1
    for (; i < nv; i += G) {
      V a = load_vec(xv + i);
      V b = kTwo ? load_vec(yv + i) : a;
      const long long at = base + (long long)(head + i * N);
#pragma unroll
      for (int e = 0; e < N; e++)
        R::add(s, Vec<T>::get(a, e), kTwo ? Vec<T>::get(b, e) : T(0), at + e);
    }
    for (size_t t = head + nv * N + g; t < n; t += G)
      R::add(s, x[t], kTwo ? y[t] : T(0), base + (long long)t);
  } else {
    size_t i = g;
#pragma unroll 1
    for (; i + (size_t)(U - 1) * G < n; i += (size_t)U * G) {
      T a[U], b[U];
#pragma unroll
      for (int k = 0; k < U; k++) {
        a[k] = __ldg(x + i + k * G);
        b[k] = kTwo ? __ldg(y + i + k * G) : T(0);
      }
#pragma unroll
      for (int k = 0; k < U; k++) R::add(s, a[k], b[k], base + (long long)(i + k * G));
    }
#pragma unroll 1
    for (; i < n; i += G) R::add(s, x[i], kTwo ? y[i] : T(0), base + (long long)i);
  }
}

__device__ __forceinline__ void write_out(void* out, int out_type, size_t k, Result r,
                                          bool is_index) {
  if (is_index) {
    if (out_type == GC_TYPE_I64)
      static_cast<long long*>(out)[k] = r.index;
    else
      static_cast<double*>(out)[k] = (double)r.index;
  } else if (out_type == GC_TYPE_F32) {
    static_cast<float*>(out)[k] = (float)r.value;
  } else {
    static_cast<double*>(out)[k] = r.value;
  }
}

// ---------------------------------------------------------------- host side

// Multiprocessors of the current device (read once per device).
int sm_count();

inline size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

inline bool is_arg(int op) { return op == GC_REDUCE_ARGMIN || op == GC_REDUCE_ARGMAX; }
inline bool needs_elements(int op) {
  return op == GC_REDUCE_MEAN || op == GC_REDUCE_MIN || op == GC_REDUCE_MAX || is_arg(op);
}

// Checks shared by every entry point; returns GC_OK or the invalid-argument status.
gc_status check_common(const char* name, int op, int type, int acc, const void* x, const void* y,
                       size_t reduced, size_t outputs, const void* out, int out_type,
                       const void* workspace, size_t workspace_bytes);

// Calls f.template run<R, T, kTwo>() for the reducer of (op, type, acc).
template <typename F>
gc_status dispatch(int op, int type, int acc, F& f) {
  const bool a64 = acc == GC_ACC_F64;
  if (type == GC_TYPE_F32) {
    switch (op) {
      case GC_REDUCE_SUM:
      case GC_REDUCE_MEAN:
        return a64 ? f.template run<SumR<double>, float, false>()
                   : f.template run<SumR<float>, float, false>();
      case GC_REDUCE_MIN: return f.template run<MinMaxR<float, false>, float, false>();
      case GC_REDUCE_MAX: return f.template run<MinMaxR<float, true>, float, false>();
      case GC_REDUCE_ARGMIN: return f.template run<ArgR<float, false>, float, false>();
      case GC_REDUCE_ARGMAX: return f.template run<ArgR<float, true>, float, false>();
      case GC_REDUCE_NORM2: return f.template run<Norm32R, float, false>();
      case GC_REDUCE_DOT:
        return a64 ? f.template run<DotR<double>, float, true>()
                   : f.template run<DotR<float>, float, true>();
    }
  } else {
    switch (op) {
      case GC_REDUCE_SUM:
      case GC_REDUCE_MEAN: return f.template run<SumR<double>, double, false>();
      case GC_REDUCE_MIN: return f.template run<MinMaxR<double, false>, double, false>();
      case GC_REDUCE_MAX: return f.template run<MinMaxR<double, true>, double, false>();
      case GC_REDUCE_ARGMIN: return f.template run<ArgR<double, false>, double, false>();
      case GC_REDUCE_ARGMAX: return f.template run<ArgR<double, true>, double, false>();
      case GC_REDUCE_NORM2: return f.template run<Norm64R, double, false>();
      case GC_REDUCE_DOT: return f.template run<DotR<double>, double, true>();
    }
  }
  return GC_ERR_INVALID_ARGUMENT;  // unreachable after check_common
}

// What every launch writes to and runs on: the output and its type, whether the result is a
// mean, the stream's workspace, the stream, and the device's multiprocessor count.
struct LaunchTarget {
  void* out;
  int out_type;
  bool mean;
  char* ws;
  cudaStream_t stream;
  int sms;
};

// A launch target and what a per-row or per-column launch reads: a row-major rows x cols matrix
// x with row stride ld, and y, the second operand of DOT (else null).
struct MatrixLaunch : LaunchTarget {
  const void* x;
  const void* y;
  size_t rows, cols, ld;
};

// The body of gc_reduce_rows (per_row) and gc_reduce_cols: checks the arguments, returns at once
// when there is no output, and dispatches a launch L (a MatrixLaunch with run<R, T, kTwo>()).
template <typename L>
gc_status matrix_entry(const char* name, bool per_row, int op, int type, int acc, const void* x,
                       const void* y, size_t rows, size_t cols, size_t ld, void* out,
                       int out_type, void* workspace, size_t workspace_bytes, void* stream) {
  const size_t reduced = per_row ? cols : rows;
  const size_t outputs = per_row ? rows : cols;
  gc_status st = check_common(name, op, type, acc, x, y, reduced, outputs, out, out_type,
                              workspace, workspace_bytes);
  if (st != GC_OK) return st;
  if (ld < cols || ld == 0) return gc_invalid(name, "ld must be >= max(1, cols)");
  if (outputs == 0) return GC_OK;
  int sms = sm_count();
  if (sms <= 0) {
    char where[64];
    snprintf(where, sizeof where, "%s (multiprocessor count)", name);
    return gc_check(cudaErrorInvalidDevice, where);
  }
  L l{{{out, out_type, op == GC_REDUCE_MEAN, static_cast<char*>(workspace), (cudaStream_t)stream,
         sms},
        x, op == GC_REDUCE_DOT ? y : nullptr, rows, cols, ld}};
  return dispatch(op, type, acc, l);
}

}  // namespace gcr

#endif
