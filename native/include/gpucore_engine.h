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

#define GPUCORE_ENGINE_VERSION 2

/* Results of gpucore_engine_gemm. */
#define GPUCORE_ENGINE_OK 0
#define GPUCORE_ENGINE_E_MEMORY 1   /* out of device memory, also with the smallest tiles */
#define GPUCORE_ENGINE_E_FAULT 2    /* a CUDA or cuBLAS failure: the engine stops using the GPU */
#define GPUCORE_ENGINE_E_COPY 3     /* the copy function returned nonzero */
#define GPUCORE_ENGINE_E_UNUSABLE 4 /* no GPU, or the device named is not visible */

/* Precision of a GEMM of floats: their own (strict fp32), TF32 tensor cores, or A and B sent to
 * the GPU and multiplied as BF16 or FP16 (half the bytes over the bus; fp32 sums, fp32 C). */
#define GPUCORE_ENGINE_PREC_NATIVE 0
#define GPUCORE_ENGINE_PREC_TF32 1
#define GPUCORE_ENGINE_PREC_BF16 2
#define GPUCORE_ENGINE_PREC_FP16 3

/* Conversions a copy function is asked for (rounded to nearest even). */
#define GPUCORE_ENGINE_TO_SAME 0 /* bytes as they are */
#define GPUCORE_ENGINE_TO_BF16 1 /* floats to bfloat16: len / 2 bytes a column in staging */
#define GPUCORE_ENGINE_TO_FP16 2 /* floats to IEEE half */

/*
 * Moves cols columns of len bytes between an operand given as NULL to gpucore_engine_gemm and the
 * engine's pinned staging. The operand's column j starts offset + j * ld bytes from the operand's
 * start; staging's column j at staging + j * staging_ld. operand: 0 = A, 1 = B, 2 = C;
 * to_operand 0 reads it, 1 writes it (C only); convert (GPUCORE_ENGINE_TO_*, A and B only): the
 * floats read go to staging converted (gpucore_engine_convert2d does it). A and B are read on the thread that called
 * gpucore_engine_gemm; C may be written from an engine thread at the same time (a thread that
 * lives as long as the calling thread). Returns 0, or nonzero to stop the call
 * (GPUCORE_ENGINE_E_COPY).
 */
typedef int (*gpucore_engine_copy_fn)(void *ctx, int operand, int to_operand, int convert,
                                      void *staging, size_t staging_ld, size_t offset, size_t ld,
                                      size_t len, size_t cols);

int gpucore_engine_version(void);

/* Sets a setting (a gpucore.* key, as in the environment or GPUCORE_CONFIG's file) ahead of both,
 * before the engine first reads its settings: returns 0, 1 when they were already read (the
 * value is not used), 2 when refused. */
int gpucore_engine_configure(const char *key, const char *value);

/* 1 when a GPU can take work; otherwise 0 and why (if why is not NULL). */
int gpucore_engine_usable(char *why, int why_len);

/*
 * Column-major C = alpha*op(A)*op(B) + beta*C on CUDA device `device` (-1: the one
 * gpucore.gpu.list names), elem_bytes 4 (float) or 8 (double), precision GPUCORE_ENGINE_PREC_*
 * (floats; doubles are always multiplied in fp64), ta/tb 0 (N) or 1 (T). a, b and
 * c are host memory, or NULL when copy(ctx, ...) moves every byte of that operand (copy may be
 * NULL when none is). Host memory that is pinned (cudaHostAlloc, cudaHostRegister) is copied by
 * the GPU in place; other host memory goes through the engine's pinned staging. An
 * out-of-memory before any of C is written is retried with smaller tiles. Returns
 * GPUCORE_ENGINE_OK or an error code, with why in err; *c_written says whether any of C was
 * written (the caller restores it before a rerun elsewhere when beta != 0).
 */
int gpucore_engine_gemm(int elem_bytes, int precision, int ta, int tb, int m, int n, int k, double alpha,
                        const void *a, int lda, const void *b, int ldb, double beta, void *c,
                        int ldc, gpucore_engine_copy_fn copy, void *ctx, int device,
                        int *c_written, char *err, int err_len);

/*
 * The routing model: the time of a host-operand GEMM on the CPU (flops at the CPU's rate) and on
 * the GPU (B up, then A (and C when beta != 0) up, the multiply and C down overlapped, plus a
 * fixed overhead), in the manner of nvBLAS but from costs. The CPU runs at 69 GFLOP/s per thread
 * in fp32 (half in fp64) on large calls, falling as the fourth root of the work below 0.26 GFLOP
 * per thread; the GPU by architecture and precision (compute capability 9 and newer: fp32 48
 * TFLOP/s, TF32 250, BF16/FP16 300, fp64 50, scaled by SM count; 8: 18, 120, 200, 18 per 108
 * SMs; older: 8, 8, 8, 4). Overrides (cpu_gflops, gpu_gflops > 0) replace the rates.
 */
typedef struct {
  int precision;       /* GPUCORE_ENGINE_FP32, _TF32, _HALF (BF16/FP16) or _FP64 */
  double flops;        /* 2·m·n·k·batch */
  double bytes_a;      /* bytes of A, B and C that cross the bus */
  double bytes_b;
  double bytes_c;
  int beta_nonzero;    /* C goes up too */
  int gpus;            /* GPUs sharing the call (A/C traffic spreads over at most 2 links) */
  int cc_major;        /* the first GPU's compute capability (0: unknown) */
  int sms;             /* its multiprocessors (0: unknown) */
  int cpu_threads;     /* CPU BLAS threads */
  double cpu_gflops;   /* gpucore.gemm.cpuGflops (0: the model; fp64 gets half) */
  double gpu_gflops;   /* gpucore.gemm.gpuGflops (0: the model) */
  double bus_gbs;      /* gpucore.gemm.busGBs: GB/s each way */
  double overhead_ms;  /* gpucore.gemm.overheadMs */
} gpucore_engine_model_in;

typedef struct {
  int gpu;             /* 1: the GPU is estimated faster */
  double gpu_ms, cpu_ms;
  double b_up_ms, ac_up_ms, multiply_ms, c_down_ms;
  double cpu_gflops, gpu_gflops; /* the rates used (gpu: all GPUs together) */
} gpucore_engine_model_out;

#define GPUCORE_ENGINE_FP32 0
#define GPUCORE_ENGINE_TF32 1
#define GPUCORE_ENGINE_HALF 2
#define GPUCORE_ENGINE_FP64 3

void gpucore_engine_model(const gpucore_engine_model_in *in, gpucore_engine_model_out *out);

/* The first GPU's compute capability major and multiprocessor count as the engine probed them
 * (0 and 0 without a GPU). */
void gpucore_engine_gpu_shape(int *cc_major, int *sms);

/* cols columns of len bytes from src (column stride ss bytes) to dst (stride ds), spread over
 * the engine's copy threads when large. */
void gpucore_engine_copy2d(void *dst, size_t ds, const void *src, size_t ss, size_t len,
                           size_t cols);

/* As gpucore_engine_copy2d, converting (GPUCORE_ENGINE_TO_*): cols columns of len bytes of
 * floats at src to len / 2 bytes of 16-bit values at dst. */
void gpucore_engine_convert2d(void *dst, size_t ds, const void *src, size_t ss, size_t len,
                              size_t cols, int convert);

#ifdef __cplusplus
}
#endif

#endif
