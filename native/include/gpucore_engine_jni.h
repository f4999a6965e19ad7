/*
 * JNI side of gpucore_engine_gemm for the Java API (compiled into the JavaCPP glue of
 * dev.gpucore.cuda.bindings.EngineNative). Each operand is a Java array (float[] or double[])
 * or host memory at an address. The engine asks for one chunk at a time (at most half a staging
 * buffer); a Java array is held in a JNI critical region only while its chunk is copied, never
 * for the whole GEMM, so the garbage collector waits at most one chunk's copy. The engine's drain
 * thread writes C through the same function: it is attached to the JVM (as a daemon) at its
 * first copy and detached when it ends.
 */
#ifndef GPUCORE_ENGINE_JNI_H
#define GPUCORE_ENGINE_JNI_H

#include <jni.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpucore_engine.h"

/* One piece of an operand: a Java array (a global reference: the engine's thread writes C) or
 * host memory at an address. */
struct gc_engine_part {
  jarray array;      /* the Java array, or NULL */
  long long address; /* else host memory here */
  long long offset;  /* bytes from the array's start or the address */
  size_t start;      /* parts of a sum: where it starts in the operand the engine sees (bytes of
                        a column when the parts are stacked, else columns) */
  size_t count;      /* ... and how many (bytes of a column, or columns) */
  size_t ld;         /* bytes from one of its columns to the next */
};

/* An operand: one part, or (A and B of a sum of products) several laid along the inner
 * dimension, stacked (rows: stacked = 1) or side by side (columns). */
struct gc_engine_operand {
  gc_engine_part one;
  gc_engine_part *parts; /* NULL: one */
  int nparts;
  int stacked;
};

struct gc_engine_ctx {
  JNIEnv *env;       /* the calling thread's */
  JavaVM *vm;
  pthread_t caller;
  gc_engine_operand op[3];
};

static pthread_key_t gc_engine_attached;
static pthread_once_t gc_engine_attached_once = PTHREAD_ONCE_INIT;

static void gc_engine_detach(void *vm) {
  ((JavaVM *)vm)->DetachCurrentThread();
}

static void gc_engine_make_key() {
  pthread_key_create(&gc_engine_attached, gc_engine_detach);
}

/* The JNI environment of the thread copying: the caller's, else the engine thread's own. */
static JNIEnv *gc_engine_env(gc_engine_ctx *x) {
  if (pthread_equal(pthread_self(), x->caller)) {
    return x->env;
  }
  JNIEnv *env = NULL;
  if (x->vm->GetEnv((void **)&env, JNI_VERSION_1_6) == JNI_OK) {
    return env;
  }
  if (x->vm->AttachCurrentThreadAsDaemon((void **)&env, NULL) != JNI_OK) {
    return NULL;
  }
  pthread_once(&gc_engine_attached_once, gc_engine_make_key);
  pthread_setspecific(gc_engine_attached, x->vm);
  return env;
}

/* Moves cols columns of len bytes between part q (its column col0, from byte r0 of a column) and
 * staging, converting as the engine asks. */
static int gc_engine_copy_part(gc_engine_ctx *x, gc_engine_part *q, int to_operand, int convert,
                               void *staging, size_t staging_ld, size_t col0, size_t r0,
                               size_t len, size_t cols) {
  void *held = NULL;
  char *base;
  JNIEnv *env = q->array != NULL ? gc_engine_env(x) : NULL;
  if (q->array != NULL) {
    if (env == NULL) {
      return 1;
    }
    held = env->GetPrimitiveArrayCritical(q->array, NULL);
    if (held == NULL) {
      if (!pthread_equal(pthread_self(), x->caller)) {
        env->ExceptionClear(); /* the engine's thread stays attached: leave nothing pending */
      }
      return 1;
    }
    base = (char *)held;
  } else {
    base = (char *)(intptr_t)q->address;
  }
  base += q->offset + col0 * q->ld + r0;
  if (to_operand) {
    gpucore_engine_copy2d(base, q->ld, staging, staging_ld, len, cols);
  } else {
    gpucore_engine_convert2d(staging, staging_ld, base, q->ld, len, cols, convert);
  }
  if (held != NULL) {
    env->ReleasePrimitiveArrayCritical(q->array, held, to_operand ? 0 : JNI_ABORT);
  }
  return 0;
}

static int gc_engine_copy(void *p, int operand, int to_operand, int convert, void *staging,
                          size_t staging_ld, size_t offset, size_t ld, size_t len, size_t cols) {
  gc_engine_ctx *x = (gc_engine_ctx *)p;
  gc_engine_operand *o = &x->op[operand];
  size_t col0 = offset / ld, r0 = offset % ld;
  if (o->parts == NULL) {
    gc_engine_part one = o->one;
    one.ld = ld;
    return gc_engine_copy_part(x, &one, to_operand, convert, staging, staging_ld, col0, r0, len,
                               cols);
  }
  /* a sum's operand: the part of each piece of the columns or rows asked for */
  size_t shrink = convert != GPUCORE_ENGINE_TO_SAME ? 2 : 1; /* staging bytes per operand byte */
  for (int i = 0; i < o->nparts; i++) {
    gc_engine_part *q = &o->parts[i];
    size_t lo = o->stacked ? r0 : col0, hi = lo + (o->stacked ? len : cols);
    size_t from = q->start > lo ? q->start : lo;
    size_t to = q->start + q->count < hi ? q->start + q->count : hi;
    if (from >= to) continue;
    int rc = o->stacked
        ? gc_engine_copy_part(x, q, to_operand, convert, (char *)staging + (from - r0) / shrink,
                              staging_ld, col0, from - q->start, to - from, cols)
        : gc_engine_copy_part(x, q, to_operand, convert,
                              (char *)staging + (from - col0) * staging_ld, staging_ld,
                              from - q->start, r0, len, to - from);
    if (rc != 0) return rc;
  }
  return 0;
}

/* Fills the context: the JNI environment and VM, no operands yet. */
static int gc_engine_begin(JNIEnv *env, gc_engine_ctx *x, int *result, char *err, int err_len) {
  memset(x, 0, sizeof *x);
  x->env = env;
  x->caller = pthread_self();
  if (env->GetJavaVM(&x->vm) != JNI_OK) {
    result[0] = GPUCORE_ENGINE_E_COPY;
    result[1] = 0;
    snprintf(err, err_len, "no Java VM for the engine's copies");
    return 1;
  }
  return 0;
}

/* A global reference for a part's Java array (none for host memory): 0, or 1 when none could be
 * made. */
static int gc_engine_hold(JNIEnv *env, gc_engine_part *q, jobject array) {
  q->array = array != NULL ? (jarray)env->NewGlobalRef(array) : NULL;
  return array != NULL && q->array == NULL;
}

/* Lets go of every global reference the context holds. */
static void gc_engine_end(JNIEnv *env, gc_engine_ctx *x) {
  for (int i = 0; i < 3; i++) {
    gc_engine_operand *o = &x->op[i];
    if (o->one.array != NULL) env->DeleteGlobalRef(o->one.array);
    for (int j = 0; o->parts != NULL && j < o->nparts; j++) {
      if (o->parts[j].array != NULL) env->DeleteGlobalRef(o->parts[j].array);
    }
    free(o->parts);
    o->parts = NULL;
  }
}

/* gpucore_engine_gemm with the operands as above: result[0] gets its result, result[1] whether
 * any of C was written, err its reason. JavaCPP passes the JNI environment and the class. */
static inline void gc_engine_gemm(JNIEnv *env, jclass, int elem_bytes, int precision, int ta, int tb, int m, int n, int k,
    double alpha, jobject a, long long a_address, long long a_offset, int lda, jobject b,
    long long b_address, long long b_offset, int ldb, double beta, jobject c,
    long long c_address, long long c_offset, int ldc, int device, int *result, char *err,
    int err_len) {
  gc_engine_ctx x;
  if (gc_engine_begin(env, &x, result, err, err_len)) return;
  jobject arrays[3] = {a, b, c};
  long long addresses[3] = {a_address, b_address, c_address};
  long long offsets[3] = {a_offset, b_offset, c_offset};
  for (int i = 0; i < 3; i++) {
    x.op[i].one.address = addresses[i];
    x.op[i].one.offset = offsets[i];
    if (gc_engine_hold(env, &x.op[i].one, arrays[i])) {
      gc_engine_end(env, &x);
      result[0] = GPUCORE_ENGINE_E_COPY;
      result[1] = 0;
      snprintf(err, err_len, "no global reference for an operand");
      return;
    }
  }
  /* host memory at an address goes to the engine as a pointer (pinned memory the GPU copies in
   * place); Java arrays only through the copy function */
  void *p[3];
  for (int i = 0; i < 3; i++) {
    p[i] = x.op[i].one.array == NULL ? (char *)(intptr_t)x.op[i].one.address + x.op[i].one.offset
                                     : NULL;
  }
  result[0] = gpucore_engine_gemm(elem_bytes, precision, ta, tb, m, n, k, alpha, p[0], lda, p[1], ldb, beta,
                                  p[2], ldc, gc_engine_copy, &x, device, &result[1], err, err_len);
  gc_engine_end(env, &x);
}

/* Operand i (A: 0, B: 1) of a sum of products from its parts: each pair's op(A_t) (m x k_t) or
 * op(B_t) (k_t x n), laid along the inner dimension as one m x k or k x n operand; stored
 * transposed (trans) or not, which says whether the pairs' pieces are stacked or side by side.
 * Returns 0, or 1 when a global reference could not be made. */
static int gc_engine_parts(JNIEnv *env, gc_engine_operand *o, int i, int trans, int parts,
                           jobject arrays, const long long *address, const long long *offset,
                           const int *ld, const int *ks, int es) {
  o->parts = (gc_engine_part *)calloc(parts > 0 ? parts : 1, sizeof *o->parts);
  if (o->parts == NULL) return 1;
  o->nparts = parts;
  /* op(A) = A (m x k, N) or op(B) = B^T (B n x k, T): pairs side by side; else stacked */
  o->stacked = i == 0 ? trans : !trans;
  size_t at = 0;
  for (int t = 0; t < parts; t++) {
    gc_engine_part *q = &o->parts[t];
    jobject arr = env->GetObjectArrayElement((jobjectArray)arrays, t);
    int bad = gc_engine_hold(env, q, arr);
    if (arr != NULL) env->DeleteLocalRef(arr);
    if (bad) return 1;
    q->address = address[t];
    q->offset = offset[t];
    q->ld = (size_t)ld[t] * es;
    q->start = o->stacked ? at * es : at;
    q->count = o->stacked ? (size_t)ks[t] * es : (size_t)ks[t];
    at += (size_t)ks[t];
  }
  return 0;
}

/*
 * C = alpha * sum_t op(A_t) * op(B_t) + beta * C (column-major) on the engine in one call: pair t
 * has inner dimension ks[t] (their sum is k), A_t and B_t Java arrays (aArrays[t], bArrays[t]:
 * Object[] of them, an element null for host memory at a_address[t]) at byte offsets, leading
 * dimensions lda[t] and ldb[t]; C as in gc_engine_gemm. The engine sees one m x n x k GEMM whose
 * operands are the pairs laid along k, read a piece at a time through the copy function.
 */
static inline void gc_engine_gemm_sum(JNIEnv *env, jclass, int elem_bytes, int precision, int ta,
    int tb, int m, int n, int k, double alpha, int parts, jobject a_arrays,
    const long long *a_address, const long long *a_offset, const int *lda, jobject b_arrays,
    const long long *b_address, const long long *b_offset, const int *ldb, const int *ks,
    double beta, jobject c, long long c_address, long long c_offset, int ldc, int device,
    int *result, char *err, int err_len) {
  gc_engine_ctx x;
  if (gc_engine_begin(env, &x, result, err, err_len)) return;
  long long sum = 0;
  for (int t = 0; t < parts; t++) sum += ks[t];
  if (parts < 1 || sum != k) {
    result[0] = GPUCORE_ENGINE_E_COPY;
    result[1] = 0;
    snprintf(err, err_len, "the pairs' inner dimensions add up to %lld, not k = %d", sum, k);
    return;
  }
  x.op[2].one.address = c_address;
  x.op[2].one.offset = c_offset;
  if (gc_engine_parts(env, &x.op[0], 0, ta, parts, a_arrays, a_address, a_offset, lda, ks, elem_bytes)
      || gc_engine_parts(env, &x.op[1], 1, tb, parts, b_arrays, b_address, b_offset, ldb, ks, elem_bytes)
      || gc_engine_hold(env, &x.op[2].one, c)) {
    gc_engine_end(env, &x);
    result[0] = GPUCORE_ENGINE_E_COPY;
    result[1] = 0;
    snprintf(err, err_len, "no global reference for an operand");
    return;
  }
  /* the engine sees A m x k (N) or k x m (T), B k x n (N) or n x k (T), leading dimensions as
   * tight as their shapes: the copy function maps them to the parts */
  int lda_v = ta ? k : m, ldb_v = tb ? n : k;
  void *pc = x.op[2].one.array == NULL ? (char *)(intptr_t)c_address + c_offset : NULL;
  result[0] = gpucore_engine_gemm(elem_bytes, precision, ta, tb, m, n, k, alpha, NULL,
                                  lda_v > 0 ? lda_v : 1, NULL, ldb_v > 0 ? ldb_v : 1, beta, pc,
                                  ldc, gc_engine_copy, &x, device, &result[1], err, err_len);
  gc_engine_end(env, &x);
}

/* gpucore_engine_model with its input and output as arrays: ints = {precision, beta_nonzero,
 * gpus, cc_major, sms, cpu_threads}, doubles = {flops, bytes_a, bytes_b, bytes_c, cpu_gflops,
 * gpu_gflops, bus_gbs, overhead_ms}, out = {gpu, gpu_ms, cpu_ms, b_up_ms, ac_up_ms, multiply_ms,
 * c_down_ms, cpu_gflops, gpu_gflops}. */
static inline void gc_engine_model(const int *ints, const double *doubles, double *out) {
  gpucore_engine_model_in in;
  in.precision = ints[0];
  in.beta_nonzero = ints[1];
  in.gpus = ints[2];
  in.cc_major = ints[3];
  in.sms = ints[4];
  in.cpu_threads = ints[5];
  in.flops = doubles[0];
  in.bytes_a = doubles[1];
  in.bytes_b = doubles[2];
  in.bytes_c = doubles[3];
  in.cpu_gflops = doubles[4];
  in.gpu_gflops = doubles[5];
  in.bus_gbs = doubles[6];
  in.overhead_ms = doubles[7];
  gpucore_engine_model_out o;
  gpucore_engine_model(&in, &o);
  out[0] = o.gpu;
  out[1] = o.gpu_ms;
  out[2] = o.cpu_ms;
  out[3] = o.b_up_ms;
  out[4] = o.ac_up_ms;
  out[5] = o.multiply_ms;
  out[6] = o.c_down_ms;
  out[7] = o.cpu_gflops;
  out[8] = o.gpu_gflops;
}

#endif
