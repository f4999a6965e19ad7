// Minimal CPU emulation of the CUDA pieces gpucore's reduction kernels use (testing only).
#pragma once
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>
using std::fma;
using std::sqrt;
using std::fabs;
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static
typedef int cudaError_t;
#define cudaSuccess 0
#define cudaErrorInvalidDevice 101
typedef void* cudaStream_t;
struct dim3 {
  unsigned x, y, z;
  dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(16) double2 { double x, y; };
extern thread_local dim3 threadIdx;
extern thread_local dim3 blockIdx;
extern dim3 gridDim, blockDim;
extern std::barrier<>* g_block_bar;
extern std::barrier<>* g_warp_bar[32];
extern unsigned g_shfl[32][32];
extern int g_emu_sms, g_emu_occ;
inline void __syncthreads() { g_block_bar->arrive_and_wait(); }
inline unsigned __shfl_down_sync(unsigned, unsigned v, int o) {
  int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  g_shfl[w][lane] = v;
  g_warp_bar[w]->arrive_and_wait();
  unsigned r = lane + o < 32 ? g_shfl[w][lane + o] : v;
  g_warp_bar[w]->arrive_and_wait();
  return r;
}
template <class T> inline T __ldg(const T* p) { return *p; }
inline unsigned __ldcg(const unsigned* p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
inline unsigned atomicAdd(unsigned* p, unsigned v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline cudaError_t cudaGetLastError() { return 0; }
inline cudaError_t cudaGetDevice(int* d) { *d = 0; return 0; }
inline const char* cudaGetErrorString(cudaError_t) { return "emu"; }
inline const char* cudaGetErrorName(cudaError_t) { return "emu"; }
#define cudaDevAttrMultiProcessorCount 16
inline cudaError_t cudaDeviceGetAttribute(int* v, int, int) { *v = g_emu_sms; return 0; }
template <class K>
inline cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* n, K, int, size_t) {
  *n = g_emu_occ;
  return 0;
}
extern long g_launches;
template <class... P, class... A>
void emu_launch(dim3 grid, dim3 block, void (*k)(P...), A... a) {
  g_launches++;
  gridDim = grid;
  blockDim = block;
  unsigned nt = block.x;
  // blocks in reverse order: the ticket logic must not depend on the order
  for (long by = (long)grid.y - 1; by >= 0; by--)
    for (long bx = (long)grid.x - 1; bx >= 0; bx--) {
      std::barrier<> bb(nt);
      g_block_bar = &bb;
      std::vector<std::unique_ptr<std::barrier<>>> wb;
      for (unsigned w = 0; w < (nt + 31) / 32; w++) {
        wb.emplace_back(new std::barrier<>(32));
        g_warp_bar[w] = wb.back().get();
      }
      std::vector<std::thread> ts;
      for (unsigned t = 0; t < nt; t++)
        ts.emplace_back([&, t] {
          threadIdx = dim3(t);
          blockIdx = dim3((unsigned)bx, (unsigned)by);
          k(a...);
        });
      for (auto& th : ts) th.join();
    }
}
