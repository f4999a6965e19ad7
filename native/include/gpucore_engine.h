/*
 * The GEMM engine of libgpucore_blas.so, for programs that call it directly (gpucore's Java API
 * does): the tiled, pipelined GPU GEMM on host operands that sgemm_/dgemm_ use, with the
 * operands read and C written through the caller's copy function when they are not plain host
 * memory. Plain C; loads the CUDA runtime and cuBLAS at run time.
 */
#ifndef GPUCORE_ENGINE_H
#define GPUCORE_ENGINE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GPUCORE_ENGINE_VERSION 1

/* Results of gpucore_engine_gemm. */
#define GPUCORE_ENGINE_OK 0
#define GPUCORE_ENGINE_E_MEMORY 1   /* out of device memory, also with the smallest tiles */
#define GPUCORE_ENGINE_E_FAULT 2    /* a CUDA or cuBLAS failure: the engine stops using the GPU */
#define GPUCORE_ENGINE_E_COPY 3     /* the copy function returned nonzero */
#define GPUCORE_ENGINE_E_UNUSABLE 4 /* no GPU, or the device named is not visible */

/*
 * Moves cols columns of len bytes between an operand and the engine's pinned staging. The
 * operand's column j starts offset + j * ld bytes from the operand's start (the pointer given to
 * gpucore_engine_gemm, which may be NULL: then offsets are all there is); staging's column j at
 * staging + j * staging_ld. operand: 0 = A, 1 = B, 2 = C; to_operand 0 reads it, 1 writes it
 * (C only). Called on the thread that called gpucore_engine_gemm. Returns 0, or nonzero to stop
 * the call (GPUCORE_ENGINE_E_COPY).
 */
typedef int (*gpucore_engine_copy_fn)(void *ctx, int operand, int to_operand, void *staging,
                                      size_t staging_ld, size_t offset, size_t ld, size_t len,
                                      size_t cols);

int gpucore_engine_version(void);

/* 1 when a GPU can take work; otherwise 0 and why (if why is not NULL). */
int gpucore_engine_usable(char *why, int why_len);

/*
 * Column-major C = alpha*op(A)*op(B) + beta*C on CUDA device `device` (-1: the one
 * gpucore.gpu.list names), elem_bytes 4 (float) or 8 (double), ta/tb 0 (N) or 1 (T). With copy
 * NULL, a, b and c are host memory; otherwise copy(ctx, ...) moves every byte of them. An
 * out-of-memory before any of C is written is retried with smaller tiles. Returns
 * GPUCORE_ENGINE_OK or an error code, with why in err; *c_written says whether any of C was
 * written (the caller restores it before a rerun elsewhere when beta != 0).
 */
int gpucore_engine_gemm(int elem_bytes, int ta, int tb, int m, int n, int k, double alpha,
                        const void *a, int lda, const void *b, int ldb, double beta, void *c,
                        int ldc, gpucore_engine_copy_fn copy, void *ctx, int device,
                        int *c_written, char *err, int err_len);

/* cols columns of len bytes from src (column stride ss bytes) to dst (stride ds), spread over
 * the engine's copy threads when large. */
void gpucore_engine_copy2d(void *dst, size_t ds, const void *src, size_t ss, size_t len,
                           size_t cols);

#ifdef __cplusplus
}
#endif

#endif
