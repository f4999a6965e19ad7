// Test driver of the CPU emulation check (see run.sh).
#include <cuda_runtime.h>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <cmath>
#include <limits>
#include "gpucore.h"
extern int g_emu_sms, g_emu_occ;
static const char* OPN[] = {"sum","mean","min","max","argmin","argmax","norm2","dot"};
static int fails = 0, checks = 0;
static std::mt19937_64 rng(12345);
static size_t WSB;
static unsigned char* WS;

template <class T> struct Ref { long double v; long long idx; };

template <class T>
Ref<T> reference(int op, const T* x, const T* y, size_t n, size_t stride, int acc) {
  Ref<T> r{0, -1};
  if (op == GC_REDUCE_SUM || op == GC_REDUCE_MEAN || op == GC_REDUCE_DOT) {
    long double s = 0;
    for (size_t i = 0; i < n; i++) s += (long double)x[i*stride] * (op == GC_REDUCE_DOT ? (long double)y[i*stride] : 1.0L);
    r.v = op == GC_REDUCE_MEAN ? s / n : s;
  } else if (op == GC_REDUCE_NORM2) {
    long double s = 0; bool nan = false, inf = false;
    for (size_t i = 0; i < n; i++) { long double a = x[i*stride]; if (a != a) nan = true; else if (std::isinf(a)) inf = true; else s += a * a; }
    r.v = nan ? NAN : inf ? INFINITY : sqrtl(s);
  } else {
    bool mx = op == GC_REDUCE_MAX || op == GC_REDUCE_ARGMAX;
    long long bi = -1; T bv = 0;
    for (size_t i = 0; i < n; i++) {
      T v = x[i*stride];
      if (v != v) { bi = i; bv = v; break; }
      if (bi < 0 || (mx ? v > bv : v < bv)) { bi = i; bv = v; }
    }
    r.v = bv; r.idx = bi;
  }
  return r;
}

template <class T>
long double abs_scale(int op, const T* x, const T* y, size_t n, size_t stride) {
  long double s = 0;
  for (size_t i = 0; i < n; i++) s += fabsl((long double)x[i*stride] * (op == GC_REDUCE_DOT ? (long double)y[i*stride] : 1.0L));
  return s;
}

template <class T>
void check_one(const char* what, int op, int acc, const T* x, const T* y, size_t n, size_t stride, double got, size_t k) {
  checks++;
  Ref<T> r = reference(op, x, y, n, stride, acc);
  bool ok;
  if (op == GC_REDUCE_ARGMIN || op == GC_REDUCE_ARGMAX) ok = (long long)got == r.idx;
  else if (op == GC_REDUCE_MIN || op == GC_REDUCE_MAX) ok = (std::isnan(got) && std::isnan((double)r.v)) || got == (double)r.v;
  else if (std::isnan((double)r.v)) ok = std::isnan(got);
  else if (std::isinf((double)r.v)) ok = got == (double)r.v;
  else {
    long double scale = op == GC_REDUCE_NORM2 ? r.v : abs_scale(op, x, y, n, stride);
    if (op == GC_REDUCE_MEAN) scale /= n;
    double eps = (sizeof(T) == 4 && acc == GC_ACC_INPUT && op != GC_REDUCE_NORM2) ? 6e-8 : 1.2e-16;
    long double tol = (n + 4) * eps * scale + 1e-300;
    ok = fabsl((long double)got - r.v) <= tol;
    if (!ok && 0) printf("   tol %Lg diff %Lg\n", tol, fabsl((long double)got - r.v));
  }
  // expected, not bugs: fp32 running sums over/underflow on huge/tiny data; fp64 dots of 1e300s overflow
  long double mag = op == GC_REDUCE_MEAN ? fabsl(r.v) * n : fabsl(r.v);
  if (!ok && sizeof(T) == 4 && acc == GC_ACC_INPUT && op != GC_REDUCE_NORM2 &&
      (std::isinf(got) || std::isnan(got) || mag > 1e37L || mag < 1e-30L)) ok = true;
  if (!ok && mag > 1.7e308L && (std::isinf(got) || std::isnan(got))) ok = true;
  if (!ok) { fails++; if (fails < 60) printf("FAIL %s op=%s T=%zu acc=%d n=%zu k=%zu got=%.17g ref=%.17Lg idx=%lld\n", what, OPN[op], sizeof(T), acc, n, k, got, r.v, r.idx); }
}

static void ws_clean(const char* what) {
  for (size_t i = 0; i < 64 * 1024; i++) if (WS[i]) { printf("FAIL tickets not reset after %s\n", what); fails++; memset(WS, 0, 64*1024); return; }
}

template <class T>
void fill(T* x, size_t n, int kind) {
  std::uniform_real_distribution<double> u(-1, 1);
  for (size_t i = 0; i < n; i++) {
    switch (kind) {
      case 0: x[i] = (T)u(rng); break;
      case 1: x[i] = (T)(int)(u(rng) * 3); break;   // many ties
      case 2: x[i] = (T)(u(rng) * (sizeof(T) == 4 ? 3e38 : 1e300)); break;  // huge
      case 3: x[i] = (T)(u(rng) * (sizeof(T) == 4 ? 1e-40 : 1e-310)); break;  // tiny / subnormal
      case 4: x[i] = (T)(u(rng) * (i % 3 == 0 ? (sizeof(T) == 4 ? 1e30 : 1e200) : (sizeof(T)==4? 1e-30 : 1e-200))); break;
    }
  }
}

template <class T>
void run_all(int type) {
  size_t sizes[] = {0, 1, 2, 3, 5, 31, 1023, 4099, 40001};
  for (size_t n : sizes)
    for (size_t off = 0; off < (sizeof(T) == 4 ? 4u : 2u); off++)
      for (int kind = 0; kind < 5; kind++) {
        if (kind > 0 && n > 4099) continue;
        std::vector<T> bx(n + 8), by(n + 8);
        T* x = (T*)(((uintptr_t)bx.data() + 15) / 16 * 16) + off;
        T* y = (T*)(((uintptr_t)by.data() + 15) / 16 * 16) + (kind == 1 ? (off + 1) % 2 : off);
        fill(x, n, kind); fill(y, n, kind == 1 ? 0 : kind);
        if (kind == 0 && n > 3) { x[n / 2] = NAN; }
        if (kind == 1 && n > 3) { x[n - 1] = INFINITY; }
        for (int op = 0; op < 8; op++)
          for (int acc = 0; acc < 2; acc++) {
            if (type == GC_TYPE_F64 && acc == 0) continue;
            double out[2] = {-7, -7};
            int ot = (op == 4 || op == 5) ? GC_TYPE_F64 : GC_TYPE_F64;
            int st = gc_reduce(op, type, acc, x, y, n, out, ot, WS, WSB, nullptr);
            bool needs = op == 1 || (op >= 2 && op <= 5);
            if (n == 0 && needs) { checks++; if (st != GC_ERR_INVALID_ARGUMENT) { fails++; printf("FAIL empty accepted op=%s\n", OPN[op]); } continue; }
            if (st) { fails++; printf("FAIL status %d %s\n", st, gc_last_error()); continue; }
            ws_clean("all");
            check_one("all", op, acc, x, y, n, 1, out[0], 0);
            if (out[1] != -7) { fails++; printf("FAIL wrote past out\n"); }
            // NaN-free copy for a second check of min/max/argmin/argmax on clean data
          }
      }
}

template <class T>
void run_rows(int type, bool cols) {
  struct Shape { size_t r, c, ld; };
  std::vector<Shape> shapes = {{1,1,1},{3,5,7},{7,31,33},{5,1000,1003},{2,20000,20001},{300,3,3},{40,17,17},{9,130,130},{9,4100,4100},{1,9000,9000},{3,0,1},{0,5,5}};
  if (cols) shapes = {{1,1,1},{33,5,5},{100,130,132},{1000,7,8},{257,300,300},{5000,40,40},{3000,3,4},{64,257,260},{0,4,4},{17,1,1},{2000,70,70}};
  for (auto sh : shapes) for (size_t off = 0; off < 2; off++) for (int kind = 0; kind < 3; kind++) {
    size_t ext = sh.r == 0 || sh.c == 0 ? 0 : (sh.r - 1) * sh.ld + sh.c;
    std::vector<T> bx(ext + 8), by(ext + 8);
    T* x = (T*)(((uintptr_t)bx.data() + 15) / 16 * 16) + off;
    T* y = (T*)(((uintptr_t)by.data() + 15) / 16 * 16) + off;
    fill(x, ext, kind == 2 ? 4 : kind); fill(y, ext, 0);
    if (kind == 0 && ext > 10) { x[ext / 3] = NAN; x[ext/2] = -INFINITY; }
    size_t nout = cols ? sh.c : sh.r, nred = cols ? sh.r : sh.c;
    for (int op = 0; op < 8; op++) for (int acc = 0; acc < 2; acc++) {
      if (type == GC_TYPE_F64 && acc == 0) continue;
      std::vector<double> out(nout + 1, -7.0);
      int st = (cols ? gc_reduce_cols : gc_reduce_rows)(op, type, acc, x, y, sh.r, sh.c, sh.ld, out.data(), GC_TYPE_F64, WS, WSB, nullptr);
      bool needs = op == 1 || (op >= 2 && op <= 5);
      if (nred == 0 && nout > 0 && needs) { checks++; if (st != GC_ERR_INVALID_ARGUMENT) { fails++; printf("FAIL empty accepted\n"); } continue; }
      if (st) { fails++; printf("FAIL status %d %s\n", st, gc_last_error()); continue; }
      ws_clean(cols ? "cols" : "rows");
      for (size_t k = 0; k < nout; k++) {
        const T* xs = cols ? x + k : x + k * sh.ld; const T* ys = cols ? y + k : y + k * sh.ld;
        check_one(cols ? "cols" : "rows", op, acc, xs, ys, nred, cols ? sh.ld : 1, out[k], k);
      }
      if (out[nout] != -7.0) { fails++; printf("FAIL wrote past out\n"); }
    }
  }
}

int main(int argc, char** argv) {
  if (argc > 1) g_emu_sms = atoi(argv[1]);
  if (argc > 2) g_emu_occ = atoi(argv[2]);
  WSB = gc_reduce_workspace_bytes();
  WS = (unsigned char*)aligned_alloc(256, WSB);
  memset(WS, 0, WSB);
  if (getenv("ALL")) run_all<float>(GC_TYPE_F32); printf("all f32: %d checks, %d fails\n", checks, fails);
  if (getenv("ALL")) run_all<double>(GC_TYPE_F64); printf("all f64: %d checks, %d fails\n", checks, fails);
  run_rows<float>(GC_TYPE_F32, false); printf("rows f32: %d checks, %d fails\n", checks, fails);
  run_rows<double>(GC_TYPE_F64, false); printf("rows f64: %d checks, %d fails\n", checks, fails);
  run_rows<float>(GC_TYPE_F32, true); printf("cols f32: %d checks, %d fails\n", checks, fails);
  run_rows<double>(GC_TYPE_F64, true); printf("cols f64: %d checks, %d fails\n", checks, fails);
  return fails != 0;
}
