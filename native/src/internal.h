// Helpers shared by the gpucore kernels (not part of the public C API).
#ifndef GPUCORE_INTERNAL_H
#define GPUCORE_INTERNAL_H

#include <cuda_runtime.h>
#include "gpucore.h"

void gc_set_error(const char* where, const char* what);
gc_status gc_check(cudaError_t e, const char* where);
gc_status gc_invalid(const char* where, const char* what);

#endif
