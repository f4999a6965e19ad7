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
  int resident;              /* gpucore.blas.resident: A and B whole on the GPU when they fit */
  int tile_dim;              /* gpucore.blas.tileDim: largest edge of a C tile */
  size_t keep_bytes;         /* gpucore.scratch.cacheMiB: device buffers kept between calls */
  int copy_threads;          /* gpucore.blas.copyThreads (0: by the CPU count) */
  int profile;               /* gpucore.blas.profile: a stage profile of each GPU GEMM on stderr */
  char profile_file[4096];   /* gpucore.blas.profileFile: its intervals appended here (CSV) */
  int trace_stderr;          /* gpucore.trace */
  char log_file[4096];       /* gpucore.log.file: one line per routed call */
} gcb_settings;
const gcb_settings *gcb_config(void);
/* gpucore.cpu.threadTimeout (0 to 30, default 20) from the environment or the file, readable
 * before the settings are (when this library loads OpenBLAS). */
int gcb_thread_timeout_setting(void);
/* Sets key to value ahead of the environment and the file: 0, or 1 when the settings were
 * already read (too late), 2 when refused (too long, too many). */
int gcb_configure(const char *key, const char *value);
/* Appends one line about a routed call to the trace (file and/or stderr), if any is set. */
void gcb_trace(const char *routine, long m, long n, long k, const char *route, const char *reason);
int gcb_tracing(void);

/* cols columns of len bytes from src (column stride ss bytes) to dst (stride ds), on the copy
 * pool when large (gcb_copy.c). */
void gcb_copy2d(void *dst, size_t ds, const void *src, size_t ss, size_t len, size_t cols);
/* The pool the calling thread's large copies use: 0 packs (the default), 1 unpacks. */
void gcb_copy_pool(int pool);
/* Conversions of fp32 operands to the 16 bits they go to the GPU in (gcb_convert.c). */
enum { GCB_TO_SAME = 0, GCB_TO_BF16 = 1, GCB_TO_FP16 = 2 };
/* n floats at src to n 16-bit values at dst. */
void gcb_convert(void *dst, const void *src, size_t n, int to);
/* As gcb_copy2d, converting: cols columns of len bytes of floats at src (stride ss) to len / 2
 * bytes of 16-bit values at dst (stride ds); to = GCB_TO_SAME copies. */
void gcb_convert2d(void *dst, size_t ds, const void *src, size_t ss, size_t len, size_t cols,
                   int to);

/* Stage profile of GPU GEMMs (gcb_profile.c): CUDA events around each copy and multiply of a
 * call, host clocks around packing, unpacking and waiting; one summary line per call. */
enum { GCB_PROF_UP_A, GCB_PROF_UP_B, GCB_PROF_UP_C, GCB_PROF_GEMM, GCB_PROF_DOWN, GCB_PROF_KINDS };
/* host time: packing and waiting (the calling thread), unpacking and waiting for tiles (the
 * thread that unpacks: the drain thread in the resident scheme, else the calling thread) */
enum { GCB_PROF_PACK, GCB_PROF_WAIT, GCB_PROF_UNPACK, GCB_PROF_TILE_WAIT, GCB_PROF_HOST_KINDS };
typedef struct gcb_prof gcb_prof;
typedef struct {
  int (*create)(void **event); /* a timing event; these return 0 on success */
  int (*record)(void *event, void *stream);
  int (*sync)(void *event);
  int (*elapsed)(float *ms, void *from, void *to);
} gcb_prof_ops;
double gcb_now(void); /* monotonic seconds */
gcb_prof *gcb_prof_new(const gcb_prof_ops *ops);
void gcb_prof_start(gcb_prof *p);
/* Records the start of an interval on stream; returns its slot (-1: not recorded). */
int gcb_prof_begin(gcb_prof *p, void *stream, int kind, int stream_index, int ti, int tj,
                   size_t bytes);
void gcb_prof_end(gcb_prof *p, int slot, void *stream);
void gcb_prof_host(gcb_prof *p, int what, double seconds, size_t bytes);
/* After the call's streams are synchronized: the summary line, and the rows of the file. */
void gcb_prof_report(gcb_prof *p, const char *routine, int m, int n, int k, const char *scheme,
                     int tiles);

/* GPU side (gcb_cuda.c). */
/* Whether a GPU can take work now; otherwise why not, in *why (static text or buf). */
int gcb_gpu_usable(char *why, size_t n);
/* Where the GPU pipeline reads op(A), op(B) and C and writes C. NULL: the operands are host
 * memory at the pointers given. Otherwise copy() moves every byte, between the operand and
 * pinned staging: cols columns of len bytes; the operand's column j starts offset + j * ld bytes
 * from the operand's start, staging's at staging + j * staging_ld. to_operand 0 reads the
 * operand (A = 0, B = 1, C = 2), 1 writes it (C only). convert (GCB_TO_*): floats read are
 * written to staging as 16-bit values (len / 2 bytes a column). It returns 0, or nonzero to stop
 * the call.
 * The Java API passes its arrays this way (gpucore_engine_jni.h), a chunk at a time. */
typedef struct {
  int (*copy)(void *ctx, int operand, int to_operand, int convert, void *staging,
              size_t staging_ld, size_t offset, size_t ld, size_t len, size_t cols);
  void *ctx;
} gcb_io;

/* Results of gcb_gpu_gemm. */
enum {
  GCB_OK = 0,
  GCB_E_MEMORY = 1,   /* out of device (or pinned) memory, also with the smallest tiles */
  GCB_E_FAULT = 2,    /* a CUDA or cuBLAS failure; the GPU is not used again by this process */
  GCB_E_COPY = 3,     /* io->copy returned nonzero */
  GCB_E_UNUSABLE = 4  /* no GPU (why in err) */
};

/* Precision of a GPU GEMM of floats (es = 4): the operands' own, TF32 tensor cores, or A and B
 * sent and multiplied as BF16 or FP16 (fp32 sums, fp32 C). */
enum { GCB_PREC_NATIVE = 0, GCB_PREC_TF32 = 1, GCB_PREC_BF16 = 2, GCB_PREC_FP16 = 3 };

/* Column-major C = alpha*op(A)*op(B) + beta*C on the GPU from host operands (through io where
 * the pointer is NULL), on CUDA device `device` (-1: the one gpucore.gpu.list names). es = 4
 * (float) or 8 (double); prec GCB_PREC_* (floats only); ta/tb: 0 = N, 1 = T. Returns GCB_OK or a GCB_E_* code with why in err; *c_written
 * (when not NULL) says whether any of C was written (the caller restores it). */
int gcb_gpu_gemm(int es, int prec, int ta, int tb, int m, int n, int k, const void *alpha,
                 const void *a, int lda, const void *b, int ldb, const void *beta, void *c,
                 int ldc, const gcb_io *io, int device, int *c_written, char *err, size_t errn);
/* Compute capability major and SM count of the GPU the probe found (0, 0 without one). */
void gcb_gpu_shape(int *cc_major, int *sms);
/* The GPU chosen from the JVM (gcb_jni.c): for the process (over gpucore.gpu.list) and for the
 * calling thread (over the process's); ordinal -1 clears. gcb_selected_gpu: the calling thread's
 * choice, else the process's, else -1. */
void gcb_select_gpu(int ordinal);
void gcb_select_thread_gpu(int ordinal);
int gcb_selected_gpu(void);

#endif
