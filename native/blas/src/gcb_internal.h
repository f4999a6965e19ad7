/* Internals of libgpucore_blas.so (nothing here is exported: see symbols.txt). */
#ifndef GCB_INTERNAL_H
#define GCB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Forwarding table, one entry per symbols.txt line (gcb_stubs.S): OpenBLAS's routine once
 * loaded, a lazy-loading stub before, a reporting stub when OpenBLAS lacks it. */
extern void *gcb_table[];
extern void *gcb_fail_table[];
void gcb_ensure_loaded(void);
void gcb_report_missing(int index);
/* The OpenBLAS routine behind table entry i (loads OpenBLAS first if needed); NULL if missing. */
void *gcb_openblas(int index);
/* OpenBLAS's thread count (1 when it cannot say). */
int gcb_openblas_threads(void);

/* Settings (gcb_config.c): read once, from the environment, then the file GPUCORE_CONFIG names. */
enum { GCB_ROUTE_AUTO = 0, GCB_ROUTE_CPU = 1, GCB_ROUTE_GPU = 2 };
typedef struct {
  int route;                 /* gpucore.gemm.route */
  int disable_sgemm;         /* gpucore.gemm.disable contains sgemm */
  int disable_dgemm;         /* ... dgemm */
  int gpu_all;               /* gpucore.gpu.list = all */
  int gpu_list[16];          /* gpucore.gpu.list indices */
  int gpu_count;
  double cpu_ratio;          /* gpucore.gemm.cpuRatio */
  int fallback;              /* gpucore.gemm.fallback */
  double min_flops;          /* gpucore.gemm.minFlops (0: the cost model decides) */
  double cpu_gflops, gpu_gflops, bus_gbs, overhead_ms; /* model overrides (0: defaults) */
  size_t stage_bytes;        /* gpucore.blas.stageMiB: pinned staging per stream */
  int copy_threads;          /* gpucore.blas.copyThreads (0: by the CPU count) */
  int trace_stderr;          /* gpucore.trace */
  char log_file[4096];       /* gpucore.log.file: one line per routed call */
} gcb_settings;
const gcb_settings *gcb_config(void);
/* Appends one line about a routed call to the trace (file and/or stderr), if any is set. */
void gcb_trace(const char *routine, long m, long n, long k, const char *route, const char *reason);
int gcb_tracing(void);

/* cols columns of len bytes from src (column stride ss bytes) to dst (stride ds), on the copy
 * pool when large (gcb_copy.c). */
void gcb_copy2d(void *dst, size_t ds, const void *src, size_t ss, size_t len, size_t cols);

/* GPU side (gcb_cuda.c). */
/* Whether a GPU can take work now; otherwise why not, in *why (static text or buf). */
int gcb_gpu_usable(char *why, size_t n);
/* Column-major C = alpha*op(A)*op(B) + beta*C on the GPU from host operands.
 * es = 4 (float) or 8 (double). Returns 0 on success; otherwise writes why into err and leaves
 * C partly written (the caller restores it). ta/tb: 0 = N, 1 = T. */
int gcb_gpu_gemm(int es, int ta, int tb, int m, int n, int k, const void *alpha,
                 const void *a, int lda, const void *b, int ldb, const void *beta, void *c,
                 int ldc, char *err, size_t errn);
/* The GPU chosen from the JVM (gcb_jni.c): for the process (over gpucore.gpu.list) and for the
 * calling thread (over the process's); ordinal -1 clears. gcb_selected_gpu: the calling thread's
 * choice, else the process's, else -1. */
void gcb_select_gpu(int ordinal);
void gcb_select_thread_gpu(int ordinal);
int gcb_selected_gpu(void);
/* Peak rate of GPU 0 for the model, GFLOP/s (0 when unknown). */
double gcb_gpu_gflops(int es);

#endif
