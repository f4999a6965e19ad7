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

#include "gpucore_engine.h"

struct gc_engine_operand {
  jarray array;      /* a Java array (a global reference: the engine's thread writes C), or NULL */
  long long address; /* else host memory here */
  long long offset;  /* bytes from the array's start or the address */
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

static int gc_engine_copy(void *p, int operand, int to_operand, int convert, void *staging,
                          size_t staging_ld, size_t offset, size_t ld, size_t len, size_t cols) {
  gc_engine_ctx *x = (gc_engine_ctx *)p;
  gc_engine_operand *o = &x->op[operand];
  void *held = NULL;
  char *base;
  JNIEnv *env = o->array != NULL ? gc_engine_env(x) : NULL;
  if (o->array != NULL) {
    if (env == NULL) {
      return 1;
    }
    held = env->GetPrimitiveArrayCritical(o->array, NULL);
    if (held == NULL) {
      if (!pthread_equal(pthread_self(), x->caller)) {
        env->ExceptionClear(); /* the engine's thread stays attached: leave nothing pending */
      }
      return 1;
    }
    base = (char *)held;
  } else {
    base = (char *)(intptr_t)o->address;
  }
  base += o->offset + offset;
  if (to_operand) {
    gpucore_engine_copy2d(base, ld, staging, staging_ld, len, cols);
  } else {
    gpucore_engine_convert2d(staging, staging_ld, base, ld, len, cols, convert);
  }
  if (held != NULL) {
    env->ReleasePrimitiveArrayCritical(o->array, held, to_operand ? 0 : JNI_ABORT);
  }
  return 0;
}

/* gpucore_engine_gemm with the operands as above: result[0] gets its result, result[1] whether
 * any of C was written, err its reason. JavaCPP passes the JNI environment and the class. */
static inline void gc_engine_gemm(JNIEnv *env, jclass, int elem_bytes, int precision, int ta, int tb, int m, int n, int k,
    double alpha, jobject a, long long a_address, long long a_offset, int lda, jobject b,
    long long b_address, long long b_offset, int ldb, double beta, jobject c,
    long long c_address, long long c_offset, int ldc, int device, int *result, char *err,
    int err_len) {
  gc_engine_ctx x;
  x.env = env;
  x.caller = pthread_self();
  if (env->GetJavaVM(&x.vm) != JNI_OK) {
    result[0] = GPUCORE_ENGINE_E_COPY;
    result[1] = 0;
    snprintf(err, err_len, "no Java VM for the engine's copies");
    return;
  }
  jobject arrays[3] = {a, b, c};
  long long addresses[3] = {a_address, b_address, c_address};
  long long offsets[3] = {a_offset, b_offset, c_offset};
  for (int i = 0; i < 3; i++) {
    x.op[i].array = arrays[i] != NULL ? (jarray)env->NewGlobalRef(arrays[i]) : NULL;
    x.op[i].address = addresses[i];
    x.op[i].offset = offsets[i];
    if (arrays[i] != NULL && x.op[i].array == NULL) {
      for (int j = 0; j < i; j++) {
        if (x.op[j].array != NULL) env->DeleteGlobalRef(x.op[j].array);
      }
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
    p[i] = x.op[i].array == NULL ? (char *)(intptr_t)x.op[i].address + x.op[i].offset : NULL;
  }
  result[0] = gpucore_engine_gemm(elem_bytes, precision, ta, tb, m, n, k, alpha, p[0], lda, p[1], ldb, beta,
                                  p[2], ldc, gc_engine_copy, &x, device, &result[1], err, err_len);
  for (int i = 0; i < 3; i++) {
    if (x.op[i].array != NULL) env->DeleteGlobalRef(x.op[i].array);
  }
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
