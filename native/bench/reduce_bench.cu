// Benchmark and check of gpucore's reduction kernels (native/src/reduce*.cu), standalone: it is
// built by hand together with the kernel sources (not part of libgpucore: CMake globs src/ only).
//
//   nvcc -O3 -std=c++17 -arch=sm_90 -Inative/include -Inative/src native/bench/reduce_bench.cu \
//        native/src/reduce.cu native/src/reduce_all.cu native/src/reduce_rows.cu \
//        native/src/reduce_cols.cu native/src/status.cu -o reduce_bench && ./reduce_bench
//
// For each kernel: 3 warm-up launches, then 20 launches each timed with its own pair of CUDA
// events; the median is printed with the bandwidth (bytes read / time) and its ratio to a
// device-to-device cudaMemcpy of the same bytes (whose bandwidth counts bytes read + written).
// Inputs are 2^28 fp32 elements (1 GiB; fp64: 2^27, the same bytes), far larger than L2, random
// in [-1, 1); every result is checked against a double-precision CPU reference (PASS/FAIL).
// Then the host-side latency of small reductions (launch, kernel writes the result into pinned
// host memory, stream synchronize) against an empty kernel launch + synchronize.
// Usage: reduce_bench [log2 n (28)] [matrix side (16384)]
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gpucore.h"

#define CK(call)                                                                     \
  do {                                                                               \
    cudaError_t e_ = (call);                                                         \
    if (e_ != cudaSuccess) {                                                         \
      fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #call,                   \
              cudaGetErrorString(e_));                                               \
      exit(2);                                                                       \
    }                                                                                \
  } while (0)
#define GC(call)                                                                     \
  do {                                                                               \
    gc_status s_ = (call);                                                           \
    if (s_ != 0) {                                                                   \
      fprintf(stderr, "%s:%d %s: status %d (%s) %s\n", __FILE__, __LINE__, #call, s_, \
              gc_status_name(s_), gc_last_error());                                  \
      exit(2);                                                                       \
    }                                                                                \
  } while (0)

static void* g_ws;
static size_t g_wsb;
static cudaStream_t g_stream;
static int g_fail = 0;

template <class F>
static double time_ms(F&& f, int warm = 3, int reps = 20) {
  for (int i = 0; i < warm; i++) f();
  CK(cudaStreamSynchronize(g_stream));
  std::vector<cudaEvent_t> ev(2 * reps);
  for (auto& e : ev) CK(cudaEventCreate(&e));
  for (int i = 0; i < reps; i++) {
    CK(cudaEventRecord(ev[2 * i], g_stream));
    f();
    CK(cudaEventRecord(ev[2 * i + 1], g_stream));
  }
  CK(cudaStreamSynchronize(g_stream));
  std::vector<float> t(reps);
  for (int i = 0; i < reps; i++) CK(cudaEventElapsedTime(&t[i], ev[2 * i], ev[2 * i + 1]));
  for (auto& e : ev) CK(cudaEventDestroy(e));
  std::sort(t.begin(), t.end());
  return t[reps / 2];
}

static double g_copy_gbs = 0;

static void row(const char* name, const char* what, double bytes, double ms, const char* check) {
  double gbs = bytes / (ms * 1e-3) / 1e9;
  if (g_copy_gbs > 0)
    printf("%-30s %-16s %9.4f ms %8.1f GB/s  %5.1f%% of copy   %s\n", name, what, ms, gbs,
           100 * gbs / g_copy_gbs, check);
  else
    printf("%-30s %-16s %9.4f ms %8.1f GB/s  (read + written)  %s\n", name, what, ms, gbs,
           check);
}

static const char* verdict(bool ok) {
  if (!ok) g_fail++;
  return ok ? "PASS" : "FAIL";
}

static std::string fmt_check(double got, double want, double tol) {
  char b[160];
  bool ok = (std::isnan(want) && std::isnan(got)) || std::fabs(got - want) <= tol;
  snprintf(b, sizeof b, "%s got %.10g want %.10g err %.2e (tol %.1e)", verdict(ok), got, want,
           std::fabs(got - want), tol);
  return b;
}

// splitmix64 -> uniform [-1, 1)
static inline double u01(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (double)(z >> 11) * 0x1p-53 * 2 - 1;
}

int main(int argc, char** argv) {
  const int lg = argc > 1 ? atoi(argv[1]) : 28;
  const size_t side = argc > 2 ? (size_t)atol(argv[2]) : 16384;
  const size_t n = (size_t)1 << lg;
  const size_t bytes = n * sizeof(float);
  cudaDeviceProp p;
  int dev = 0;
  CK(cudaGetDevice(&dev));
  CK(cudaGetDeviceProperties(&p, dev));
  printf("device: %s, %d SMs, L2 %d MiB; n = 2^%d fp32 (%.2f GiB); matrix %zux%zu fp32\n",
         p.name, p.multiProcessorCount, p.l2CacheSize >> 20, lg, bytes / 1073741824.0, side,
         side);
  CK(cudaStreamCreateWithFlags(&g_stream, cudaStreamNonBlocking));
  g_wsb = gc_reduce_workspace_bytes();
  CK(cudaMalloc(&g_ws, g_wsb));
  CK(cudaMemset(g_ws, 0, g_wsb));

  // ---- data
  std::vector<float> hx(n), hy(n);
  uint64_t seed = 0x1234567ull;
  for (size_t i = 0; i < n; i++) hx[i] = (float)u01(seed);
  for (size_t i = 0; i < n; i++) hy[i] = (float)u01(seed);
  float *dx, *dy;
  CK(cudaMalloc(&dx, bytes));
  CK(cudaMalloc(&dy, bytes));
  CK(cudaMemcpy(dx, hx.data(), bytes, cudaMemcpyHostToDevice));
  CK(cudaMemcpy(dy, hy.data(), bytes, cudaMemcpyHostToDevice));
  const size_t nd = n / 2;  // fp64: the same bytes
  std::vector<double> hd(nd);
  for (size_t i = 0; i < nd; i++) hd[i] = (double)hx[i] + (double)hy[i] * 1e-9;
  double* dd;
  CK(cudaMalloc(&dd, nd * sizeof(double)));
  CK(cudaMemcpy(dd, hd.data(), nd * sizeof(double), cudaMemcpyHostToDevice));

  // ---- references (double; first index of ties)
  double rsum = 0, rabs = 0, rss = 0, rdot = 0, rdabs = 0;
  float rmax = -INFINITY;
  size_t rarg = 0;
  for (size_t i = 0; i < n; i++) {
    double v = hx[i];
    rsum += v;
    rabs += std::fabs(v);
    rss += v * v;
    rdot += v * (double)hy[i];
    rdabs += std::fabs(v * (double)hy[i]);
    if (hx[i] > rmax) {
      rmax = hx[i];
      rarg = i;
    }
  }
  double dsum = 0, dabs = 0, dss = 0;
  for (size_t i = 0; i < nd; i++) {
    dsum += hd[i];
    dabs += std::fabs(hd[i]);
    dss += hd[i] * hd[i];
  }
  const double e64 = 0x1p-53;
  // tolerances: worst-case (n-1)*u*sum|x| for fp64 accumulation (the reference's own error is of
  // the same order, so twice that); an empirical 1e-5*sum|x| for fp32 accumulation
  const double tsum = 2 * n * e64 * rabs, tsum32 = 1e-5 * rabs;

  double* hout;  // pinned: the kernels write results straight into it
  CK(cudaMallocHost(&hout, 64 * sizeof(double)));
  double* dout;
  CK(cudaMalloc(&dout, std::max(side, (size_t)64) * sizeof(double)));

  printf("\n%-30s %-16s %12s %13s %18s   %s\n", "kernel", "size", "median", "bandwidth",
         "", "check vs CPU double reference");
  // ---- d2d copy of the same bytes
  double ms = time_ms([&] { CK(cudaMemcpyAsync(dy, dx, bytes, cudaMemcpyDeviceToDevice, g_stream)); });
  row("cudaMemcpy d2d", "1 GiB", 2.0 * bytes, ms, "");
  g_copy_gbs = 2.0 * bytes / (ms * 1e-3) / 1e9;
  CK(cudaMemcpy(dy, hy.data(), bytes, cudaMemcpyHostToDevice));  // restore y

  auto whole = [&](const char* name, int op, int type, int acc, const void* x, const void* y,
                   size_t cnt, double rbytes, double want, double tol) {
    hout[0] = NAN;
    double t = time_ms([&] {
      GC(gc_reduce(op, type, acc, x, y, cnt, hout, GC_TYPE_F64, g_ws, g_wsb, g_stream));
    });
    CK(cudaStreamSynchronize(g_stream));
    double first = hout[0];
    // determinism: 5 more runs, bitwise equal
    bool same = true;
    for (int k = 0; k < 5; k++) {
      GC(gc_reduce(op, type, acc, x, y, cnt, hout, GC_TYPE_F64, g_ws, g_wsb, g_stream));
      CK(cudaStreamSynchronize(g_stream));
      same &= memcmp(&first, &hout[0], sizeof(double)) == 0;
    }
    std::string c = fmt_check(first, want, tol) + (same ? ", bitwise repeatable" : ", NOT REPEATABLE");
    if (!same) g_fail++;
    char sz[32];
    snprintf(sz, sizeof sz, "2^%d %s", (int)std::log2((double)cnt), type == GC_TYPE_F32 ? "f32" : "f64");
    row(name, sz, rbytes, t, c.c_str());
  };

  whole("sum f32 (fp64 accumulation)", GC_REDUCE_SUM, GC_TYPE_F32, GC_ACC_F64, dx, nullptr, n,
        bytes, rsum, tsum);
  whole("sum f32 (fp32 accumulation)", GC_REDUCE_SUM, GC_TYPE_F32, GC_ACC_INPUT, dx, nullptr, n,
        bytes, rsum, tsum32);
  whole("mean f32", GC_REDUCE_MEAN, GC_TYPE_F32, GC_ACC_F64, dx, nullptr, n, bytes, rsum / n,
        tsum / n);
  whole("max f32", GC_REDUCE_MAX, GC_TYPE_F32, GC_ACC_F64, dx, nullptr, n, bytes, rmax, 0);
  whole("argmax f32", GC_REDUCE_ARGMAX, GC_TYPE_F32, GC_ACC_F64, dx, nullptr, n, bytes,
        (double)rarg, 0);
  whole("norm2 f32", GC_REDUCE_NORM2, GC_TYPE_F32, GC_ACC_F64, dx, nullptr, n, bytes,
        std::sqrt(rss), 2 * n * e64 * std::sqrt(rss));
  whole("dot f32 (2 inputs)", GC_REDUCE_DOT, GC_TYPE_F32, GC_ACC_F64, dx, dy, n, 2.0 * bytes,
        rdot, 2 * n * e64 * rdabs);
  whole("sum f64", GC_REDUCE_SUM, GC_TYPE_F64, GC_ACC_F64, dd, nullptr, nd, bytes, dsum,
        2 * nd * e64 * dabs);
  whole("norm2 f64 (scaled)", GC_REDUCE_NORM2, GC_TYPE_F64, GC_ACC_F64, dd, nullptr, nd, bytes,
        std::sqrt(dss), 2 * nd * e64 * std::sqrt(dss));

  // ---- row and column sums of a side x side row-major fp32 matrix (the first side^2 elements)
  if (side * side <= n) {
    const size_t m = side * side;
    std::vector<double> rr(side, 0.0), rc(side, 0.0), ra(side, 0.0), ca(side, 0.0);
    for (size_t i = 0; i < side; i++)
      for (size_t j = 0; j < side; j++) {
        double v = hx[i * side + j];
        rr[i] += v;
        ra[i] += std::fabs(v);
        rc[j] += v;
        ca[j] += std::fabs(v);
      }
    std::vector<double> got(side);
    char sz[32];
    snprintf(sz, sizeof sz, "%zux%zu f32", side, side);
    for (int pass = 0; pass < 2; pass++) {
      bool rows = pass == 0;
      CK(cudaMemset(dout, 0xff, side * sizeof(double)));  // poison (NaN)
      double t = time_ms([&] {
        if (rows)
          GC(gc_reduce_rows(GC_REDUCE_SUM, GC_TYPE_F32, GC_ACC_F64, dx, nullptr, side, side, side,
                            dout, GC_TYPE_F64, g_ws, g_wsb, g_stream));
        else
          GC(gc_reduce_cols(GC_REDUCE_SUM, GC_TYPE_F32, GC_ACC_F64, dx, nullptr, side, side, side,
                            dout, GC_TYPE_F64, g_ws, g_wsb, g_stream));
      });
      CK(cudaMemcpy(got.data(), dout, side * sizeof(double), cudaMemcpyDeviceToHost));
      double worst = 0;
      bool ok = true;
      for (size_t k = 0; k < side; k++) {
        double want = rows ? rr[k] : rc[k];
        double tol = 2 * side * e64 * (rows ? ra[k] : ca[k]);
        double err = std::fabs(got[k] - want);
        if (!(err <= tol)) ok = false;
        worst = std::max(worst, err / std::max(tol, 1e-300));
      }
      char c[96];
      snprintf(c, sizeof c, "%s (worst err/tol %.2e over %zu outputs)", verdict(ok), worst, side);
      row(rows ? "row sums f32 (fp64 acc)" : "column sums f32 (fp64 acc)", sz,
          (double)m * sizeof(float), t, c);
    }
    // the same with fp32 accumulation, timing only
    for (int pass = 0; pass < 2; pass++) {
      bool rows = pass == 0;
      double t = time_ms([&] {
        if (rows)
          GC(gc_reduce_rows(GC_REDUCE_SUM, GC_TYPE_F32, GC_ACC_INPUT, dx, nullptr, side, side,
                            side, dout, GC_TYPE_F32, g_ws, g_wsb, g_stream));
        else
          GC(gc_reduce_cols(GC_REDUCE_SUM, GC_TYPE_F32, GC_ACC_INPUT, dx, nullptr, side, side,
                            side, dout, GC_TYPE_F32, g_ws, g_wsb, g_stream));
      });
      row(rows ? "row sums f32 (fp32 acc)" : "column sums f32 (fp32 acc)", sz,
          (double)m * sizeof(float), t, "");
    }
  }

  // ---- host-side latency: launch + kernel writes into pinned memory + synchronize
  printf("\nhost latency (median of 2000, after 200 warm-up): call -> result in pinned host memory\n");
  auto host_us = [&](auto&& f) {
    std::vector<double> t(2000);
    for (int i = 0; i < 200; i++) f();
    for (auto& v : t) {
      auto t0 = std::chrono::steady_clock::now();
      f();
      v = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
  };
  double base = host_us([&] {
    GC(gc_reduce_noop(g_stream));
    CK(cudaStreamSynchronize(g_stream));
  });
  printf("  %-26s %8.2f us\n", "empty kernel + sync", base);
  for (int l : {0, 10, 16, 20}) {
    size_t c = (size_t)1 << l;
    for (int op : {GC_REDUCE_SUM, GC_REDUCE_ARGMAX}) {
      double us = host_us([&] {
        GC(gc_reduce(op, GC_TYPE_F32, GC_ACC_F64, dx, nullptr, c, hout, GC_TYPE_F64, g_ws, g_wsb,
                     g_stream));
        CK(cudaStreamSynchronize(g_stream));
      });
      char name[48];
      snprintf(name, sizeof name, "%s 2^%d f32", op == GC_REDUCE_SUM ? "sum" : "argmax", l);
      printf("  %-26s %8.2f us  (+%.2f us over the empty kernel)\n", name, us, us - base);
    }
  }
  printf("\n%s: %d check(s) failed\n", g_fail ? "FAIL" : "PASS", g_fail);
  return g_fail ? 1 : 0;
}
