/* The library's control entry points for the JVM: JNI natives of
 * dev.gpucore.nativeblas.GpuCoreBlasLibrary (java/blas), bound when that class System.load()s
 * this library. A JVM cannot change its own environment for native code, so this is how a JVM
 * (the Spark plugin, one GPU per executor or per task) tells the library which GPU to use.
 * Written with plain C types (no JDK headers): JNIEnv * and jclass are pointers, jint is int32. */
#include <stdint.h>

#include "gcb_internal.h"

#define GCB_JNI __attribute__((visibility("default")))

GCB_JNI void Java_dev_gpucore_nativeblas_GpuCoreBlasLibrary_selectGpu0(void *env, void *cls,
                                                                        int32_t ordinal) {
  (void)env;
  (void)cls;
  gcb_select_gpu(ordinal);
}

GCB_JNI void Java_dev_gpucore_nativeblas_GpuCoreBlasLibrary_selectThreadGpu0(void *env, void *cls,
                                                                              int32_t ordinal) {
  (void)env;
  (void)cls;
  gcb_select_thread_gpu(ordinal);
}

GCB_JNI int32_t Java_dev_gpucore_nativeblas_GpuCoreBlasLibrary_selectedGpu0(void *env, void *cls) {
  (void)env;
  (void)cls;
  return gcb_selected_gpu();
}
