/* Loading OpenBLAS and filling the forwarding table.
 *
 * OpenBLAS is opened RTLD_LOCAL and every routine is looked up in its handle, never through the
 * global scope: under LD_PRELOAD, or when this library stands in as libblas.so.3, a global
 * look-up would find this library's own forwarders and call itself. Where OpenBLAS comes from,
 * first found wins: GPUCORE_OPENBLAS (a path; when set, nothing else is tried); a
 * libopenblas.so.0 already in the process (e.g. loaded by bytedeco's openblas preset: never a
 * second copy); libopenblas.so.0 beside this library; the loader's default search. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gcb_internal.h"
#include "gcb_symbols.h"

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static void *openblas;
static char load_error[1024];
static volatile int reported[GCB_COUNT];

static void *try_open(const char *path, int flags, char *why, size_t n) {
  void *h = dlopen(path, flags);
  if (h == NULL && why != NULL) {
    const char *e = dlerror();
    snprintf(why, n, "%s", e ? e : path);
  }
  return h;
}

/* OpenBLAS's Fortran runtime from the folder of the OpenBLAS at `path`, where it ships beside it
 * (bytedeco's jar, the tarball): OpenBLAS finds libgfortran.so.5 there through its RUNPATH, but
 * libgfortran has none and looks for libquadmath.so.0 only on the loader's path, which a minimal
 * system (a container image) lacks. Opened first, each is found by name when OpenBLAS loads; one
 * already in the process is left as it is. */
static void open_runtime_beside(const char *path) {
  static const char *const deps[] = {"libquadmath.so.0", "libgfortran.so.5"};
  const char *slash = strrchr(path, '/');
  if (slash == NULL) {
    return;
  }
  for (size_t i = 0; i < sizeof deps / sizeof deps[0]; i++) {
    if (dlopen(deps[i], RTLD_NOW | RTLD_NOLOAD) != NULL) {
      continue;
    }
    char dep[4096];
    snprintf(dep, sizeof dep, "%.*s/%s", (int)(slash - path), path, deps[i]);
    if (access(dep, R_OK) == 0) {
      dlopen(dep, RTLD_NOW | RTLD_LOCAL);
    }
  }
}

/* An OpenBLAS this library loads itself gets gpucore.cpu.threadTimeout as gpucore's CPU backend
 * gives it: OpenBLAS reads OPENBLAS_THREAD_TIMEOUT once, when it loads (its worker threads spin
 * 2^N clock ticks after a call before they sleep; its own 2^28 is about a tenth of a second of
 * every core, taken from whatever runs next), so the variable holds the setting during the load
 * and is restored after. 0 leaves OpenBLAS as it is; an OpenBLAS already in the process is not
 * loaded again and keeps its own. Like any change of the environment, this races a getenv on
 * another thread of a program that loads the library while its threads run (gpucore's Java
 * CPU backend does the same when it loads OpenBLAS). */
static void *open_with_timeout(const char *path, int flags, char *why, size_t n) {
  int exponent = gcb_thread_timeout_setting();
  if (exponent <= 0) {
    return try_open(path, flags, why, n);
  }
  char value[16];
  snprintf(value, sizeof value, "%d", exponent);
  const char *old = getenv("OPENBLAS_THREAD_TIMEOUT");
  char *kept = old != NULL ? strdup(old) : NULL;
  if (old != NULL && kept == NULL) {
    return try_open(path, flags, why, n); /* the user's value could not be kept: left as it is */
  }
  setenv("OPENBLAS_THREAD_TIMEOUT", value, 1);
  void *h = try_open(path, flags, why, n);
  if (kept != NULL) {
    setenv("OPENBLAS_THREAD_TIMEOUT", kept, 1);
    free(kept);
  } else {
    unsetenv("OPENBLAS_THREAD_TIMEOUT");
  }
  return h;
}

static void *find_openblas(void) {
  const int flags = RTLD_NOW | RTLD_LOCAL;
  char why[512] = "";
  const char *env = getenv("GPUCORE_OPENBLAS");
  if (env != NULL && env[0] != '\0') {
    void *h = dlopen(env, flags | RTLD_NOLOAD);
    if (h != NULL) {
      return h;
    }
    open_runtime_beside(env);
    h = open_with_timeout(env, flags, why, sizeof why);
    if (h == NULL) {
      snprintf(load_error, sizeof load_error, "GPUCORE_OPENBLAS=%s cannot be loaded: %s", env, why);
    }
    return h;
  }
  void *h = dlopen("libopenblas.so.0", flags | RTLD_NOLOAD);
  if (h != NULL) {
    return h;
  }
  Dl_info self;
  if (dladdr((void *)&find_openblas, &self) && self.dli_fname != NULL) {
    const char *slash = strrchr(self.dli_fname, '/');
    if (slash != NULL) {
      char path[4096];
      int len = (int)(slash - self.dli_fname);
      snprintf(path, sizeof path, "%.*s/libopenblas.so.0", len, self.dli_fname);
      if (access(path, R_OK) == 0) {
        open_runtime_beside(path);
      }
      h = open_with_timeout(path, flags, NULL, 0);
      if (h != NULL) {
        return h;
      }
    }
  }
  h = open_with_timeout("libopenblas.so.0", flags, why, sizeof why);
  if (h == NULL) {
    snprintf(load_error, sizeof load_error,
             "libopenblas.so.0 not found beside this library nor on the loader's path (%s); "
             "set GPUCORE_OPENBLAS to its full path", why);
  }
  return h;
}

static void load(void) {
  void *h = find_openblas();
  if (h != NULL) {
    /* a handle that hands back this library's own routines would make every call recurse */
    void *probe = dlsym(h, "daxpy_");
    Dl_info mine, theirs;
    if (probe != NULL && dladdr(probe, &theirs) && dladdr((void *)&load, &mine)
        && theirs.dli_fbase == mine.dli_fbase) {
      snprintf(load_error, sizeof load_error,
               "the OpenBLAS found is this library itself (%s); set GPUCORE_OPENBLAS to OpenBLAS's path",
               mine.dli_fname ? mine.dli_fname : "?");
      h = NULL;
    }
  }
  openblas = h;
  int missing = 0;
  for (int i = 0; i < GCB_COUNT; i++) {
    void *f = h != NULL ? dlsym(h, gcb_names[i]) : NULL;
    if (f == NULL) {
      missing++;
    }
    __atomic_store_n(&gcb_table[i], f != NULL ? f : gcb_fail_table[i], __ATOMIC_RELEASE);
  }
  if (h == NULL) {
    fprintf(stderr, "gpucore_blas: no OpenBLAS: %s; BLAS calls will do nothing and say so\n",
            load_error);
  } else if (missing > 0 && getenv("GPUCORE_BLAS_QUIET") == NULL) {
    fprintf(stderr, "gpucore_blas: the OpenBLAS loaded lacks %d of the %d BLAS routines; "
            "calling one of them reports it\n", missing, GCB_COUNT);
  }
}

void gcb_ensure_loaded(void) {
  pthread_once(&load_once, load);
}

__attribute__((constructor)) static void gcb_init(void) {
  gcb_ensure_loaded();
}

void gcb_report_missing(int index) {
  if (index < 0 || index >= GCB_COUNT) {
    return;
  }
  if (!__atomic_exchange_n(&reported[index], 1, __ATOMIC_RELAXED)) {
    fprintf(stderr, "gpucore_blas: %s cannot run: %s\n", gcb_names[index],
            openblas == NULL ? load_error : "the OpenBLAS loaded does not export it");
  }
}

void *gcb_openblas(int index) {
  gcb_ensure_loaded();
  void *f = __atomic_load_n(&gcb_table[index], __ATOMIC_ACQUIRE);
  return f == gcb_fail_table[index] ? NULL : f;
}

int gcb_openblas_threads(void) {
  int (*get)(void) = (int (*)(void))gcb_openblas(GCB_IDX_openblas_get_num_threads);
  int t = get != NULL ? get() : 1;
  return t > 0 ? t : 1;
}
