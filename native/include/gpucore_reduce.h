/*
 * gpucore reductions: the C API of the project's reduction kernels (native/src/reduce*.cu).
 * Included by gpucore.h; usable on its own.
 *
 * Every function returns a gc_status (0, a CUDA runtime error code, or a negative gpucore code;
 * see gpucore.h) and never throws, aborts or prints. Work is queued on `stream` (a cudaStream_t
 * as void*) and is asynchronous to the host.
 *
 * Operations (GC_REDUCE_*): sum, mean, min, max, argmin, argmax, L2 norm, and dot (the only one
 * that reads y). Element types (GC_TYPE_*): fp32, fp64; an output may also be int64 (indices).
 *
 * Semantics, the same on the CPU backend (java/cpu CpuReduce):
 *  - sum, mean, dot of fp32 input accumulate in fp64 with GC_ACC_F64 and in fp32 with
 *    GC_ACC_INPUT; fp64 input always accumulates in fp64. Mean is the sum divided by n in the
 *    accumulation type.
 *  - norm: fp32 input squares and sums in fp64 (which can neither overflow nor underflow for fp32
 *    data); fp64 input uses Blue's scaled three-accumulator sum (as LAPACK 3.10 dnrm2), so the
 *    result overflows or underflows only when the norm itself does. NaN anywhere gives NaN;
 *    otherwise an infinity gives +Inf.
 *  - min, max, argmin, argmax propagate NaN: min/max return NaN and argmin/argmax the index of the
 *    first NaN when there is one. Ties give the first (lowest) index. -0 and +0 compare equal.
 *  - empty input: sum, dot and norm give 0; mean, min, max, argmin and argmax are rejected with
 *    GC_ERR_INVALID_ARGUMENT.
 *  - determinism: a fixed grid per (device, size) and fixed-order trees, no floating-point atomics:
 *    the same input on the same device gives bitwise the same result run after run.
 *
 * Outputs (`out`) are device addresses or page-locked host addresses (cudaMallocHost /
 * gc_malloc_host; the kernel then writes the result straight into host memory). out_type:
 * values may be written as GC_TYPE_F32 (rounded once) or GC_TYPE_F64; indices (argmin/argmax)
 * as GC_TYPE_I64 or GC_TYPE_F64 (exact below 2^53).
 *
 * workspace: a device buffer of workspace_bytes >= gc_reduce_workspace_bytes(), zero-filled
 * once before its first use, and used by one stream at a time (the kernels leave it zero-filled
 * where it matters: the tickets of the last-block-finishes pattern).
 */
#ifndef GPUCORE_REDUCE_H
#define GPUCORE_REDUCE_H

#include <stddef.h>
#include <stdint.h>

#include "gpucore_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Operations. */
#define GC_REDUCE_SUM 0
#define GC_REDUCE_MEAN 1
#define GC_REDUCE_MIN 2
#define GC_REDUCE_MAX 3
#define GC_REDUCE_ARGMIN 4
#define GC_REDUCE_ARGMAX 5
#define GC_REDUCE_NORM2 6
#define GC_REDUCE_DOT 7

/* Element types. */
#define GC_TYPE_F32 0
#define GC_TYPE_F64 1
#define GC_TYPE_I64 2

/* Accumulation of fp32 sums, means and dots: in the input's precision, or in fp64. */
#define GC_ACC_INPUT 0
#define GC_ACC_F64 1

/* Bytes of reduction workspace a stream needs (a constant of the library). */
size_t gc_reduce_workspace_bytes(void);

/*
 * Whole range: op over x[0..n) (and y[0..n) for GC_REDUCE_DOT; NULL otherwise), result into
 * out[0]. One kernel launch.
 */
gc_status gc_reduce(int op, int type, int acc, const void* x, const void* y, size_t n, void* out,
                    int out_type, void* workspace, size_t workspace_bytes, void* stream);

/*
 * Per row of a row-major rows x cols matrix with leading dimension ld >= cols: out[r] = op over
 * x[r*ld + 0 .. r*ld + cols) (y alike, same ld). Indices are column indices. (A column-major
 * matrix's per-column reduction is this call with the dimensions swapped.)
 */
gc_status gc_reduce_rows(int op, int type, int acc, const void* x, const void* y, size_t rows,
                         size_t cols, size_t ld, void* out, int out_type, void* workspace,
                         size_t workspace_bytes, void* stream);

/*
 * Per column of a row-major rows x cols matrix with leading dimension ld >= cols: out[c] = op
 * over x[i*ld + c] for i in [0, rows) (y alike). Indices are row indices. Rows are split among
 * blocks; a deterministic second pass in the last block of each column tile combines the parts.
 */
gc_status gc_reduce_cols(int op, int type, int acc, const void* x, const void* y, size_t rows,
                         size_t cols, size_t ld, void* out, int out_type, void* workspace,
                         size_t workspace_bytes, void* stream);

/* Reads a double at a (page-locked) host address, e.g. a result written there by a kernel. */
double gc_reduce_read_f64(const void* host_address);

/* Queues an empty kernel on stream: the baseline for launch-overhead measurements. */
gc_status gc_reduce_noop(void* stream);

#ifdef __cplusplus
}
#endif

#endif /* GPUCORE_REDUCE_H */
