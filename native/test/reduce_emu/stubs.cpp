// Definitions behind the emulation header, and the status helpers of native/src/status.cu.
#include <cuda_runtime.h>
#include <cstdio>
#include "gpucore.h"
thread_local dim3 threadIdx;
thread_local dim3 blockIdx;
dim3 gridDim, blockDim;
std::barrier<>* g_block_bar;
std::barrier<>* g_warp_bar[32];
unsigned g_shfl[32][32];
int g_emu_sms = 2, g_emu_occ = 2;
long g_launches;
static thread_local char err[512];
void gc_set_error(const char* where, const char* what) { snprintf(err, sizeof err, "%s: %s", where, what); }
gc_status gc_check(cudaError_t e, const char* where) { if (!e) return 0; snprintf(err, sizeof err, "%s: cuda %d", where, e); return e; }
gc_status gc_invalid(const char* where, const char* what) { gc_set_error(where, what); return GC_ERR_INVALID_ARGUMENT; }
extern "C" const char* gc_last_error(void) { return err; }
