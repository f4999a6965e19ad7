/* Settings, in the manner of nvblas.conf, with the keys of gpucore's Java settings: each key
 * (e.g. gpucore.gemm.route) is read from the environment variable of its name upper-cased with
 * dots as underscores (GPUCORE_GEMM_ROUTE), else from the file GPUCORE_CONFIG names
 * ("key = value" or "key value" lines, '#' starts a comment), else its default. Read once, at
 * the first GEMM (the file, and gpucore.cpu.threadTimeout, already when the library loads
 * OpenBLAS itself). A bad value is reported on stderr and the default kept (a BLAS cannot throw).
 * A program that embeds the engine (gpucore's Java API) may set values first
 * (gpucore_engine_configure): they come before the environment and the file. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gcb_internal.h"

static gcb_settings cfg;
static pthread_once_t cfg_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;

#define MAX_ENTRIES 64
static char file_keys[MAX_ENTRIES][64];
static char file_vals[MAX_ENTRIES][4096];
static int file_count;
static char set_keys[MAX_ENTRIES][64];
static char set_vals[MAX_ENTRIES][4096];
static int set_count;
static int loaded;
static pthread_mutex_t set_lock = PTHREAD_MUTEX_INITIALIZER;

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) {
    s++;
  }
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) {
    *--e = '\0';
  }
  return s;
}

static void read_file(const char *name) {
  FILE *f = fopen(name, "r");
  if (f == NULL) {
    fprintf(stderr, "gpucore_blas: GPUCORE_CONFIG=%s cannot be read: %s; using the defaults\n",
            name, strerror(errno));
    return;
  }
  char line[4300];
  while (fgets(line, sizeof line, f) != NULL && file_count < MAX_ENTRIES) {
    char *hash = strchr(line, '#');
    if (hash != NULL) {
      *hash = '\0';
    }
    char *s = trim(line);
    if (*s == '\0') {
      continue;
    }
    size_t klen = strcspn(s, " \t=:");
    char *v = s + klen;
    if (*v != '\0') {
      *v++ = '\0';
    }
    v = trim(v);
    if (*v == '=' || *v == ':') {
      v = trim(v + 1);
    }
    snprintf(file_keys[file_count], sizeof file_keys[0], "%s", s);
    snprintf(file_vals[file_count], sizeof file_vals[0], "%s", v);
    file_count++;
  }
  fclose(f);
}

/* The value of key (environment first, then the file), or NULL. */
static const char *get(const char *key) {
  for (int j = set_count - 1; j >= 0; j--) {
    if (strcmp(set_keys[j], key) == 0) {
      return set_vals[j];
    }
  }
  char env[128];
  size_t i = 0;
  for (; key[i] != '\0' && i + 1 < sizeof env; i++) {
    env[i] = key[i] == '.' ? '_' : (char)toupper((unsigned char)key[i]);
  }
  env[i] = '\0';
  const char *v = getenv(env);
  if (v != NULL && *v != '\0') {
    return v;
  }
  for (int j = file_count - 1; j >= 0; j--) {
    if (strcmp(file_keys[j], key) == 0 && file_vals[j][0] != '\0') {
      return file_vals[j];
    }
  }
  return NULL;
}

static double get_double(const char *key, double def, double lo, double hi) {
  const char *v = get(key);
  if (v == NULL) {
    return def;
  }
  char *end;
  double d = strtod(v, &end);
  if (end == v || *trim(end) != '\0' || !(d >= lo && d <= hi)) {
    fprintf(stderr, "gpucore_blas: %s must be a number from %g to %g; got \"%s\"; using %g\n", key,
            lo, hi, v, def);
    return def;
  }
  return d;
}

static int get_bool(const char *key, int def) {
  const char *v = get(key);
  if (v == NULL) {
    return def;
  }
  if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "on") == 0) {
    return 1;
  }
  if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcasecmp(v, "off") == 0) {
    return 0;
  }
  fprintf(stderr, "gpucore_blas: %s must be true or false; got \"%s\"; using %s\n", key, v,
          def ? "true" : "false");
  return def;
}

static pthread_once_t file_once = PTHREAD_ONCE_INIT;

static void read_config_file(void) {
  const char *file = getenv("GPUCORE_CONFIG");
  if (file != NULL && *file != '\0') {
    read_file(file);
  }
}

static pthread_once_t timeout_once = PTHREAD_ONCE_INIT;
static int timeout_setting;

static void read_timeout(void) {
  pthread_once(&file_once, read_config_file);
  timeout_setting = (int)get_double("gpucore.cpu.threadTimeout", 20, 0, 30);
}

int gcb_thread_timeout_setting(void) {
  pthread_once(&timeout_once, read_timeout);
  return timeout_setting;
}

static void load(void) {
  pthread_once(&file_once, read_config_file);
  const char *v = get("gpucore.gemm.route");
  cfg.route = GCB_ROUTE_AUTO;
  if (v != NULL) {
    if (strcasecmp(v, "cpu") == 0) {
      cfg.route = GCB_ROUTE_CPU;
    } else if (strcasecmp(v, "gpu") == 0) {
      cfg.route = GCB_ROUTE_GPU;
    } else if (strcasecmp(v, "auto") != 0) {
      fprintf(stderr, "gpucore_blas: gpucore.gemm.route must be auto, cpu or gpu; got \"%s\"; using auto\n", v);
    }
  }
  v = get("gpucore.gemm.disable");
  if (v != NULL) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", v);
    for (char *save, *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
      t = trim(t);
      if (strcasecmp(t, "sgemm") == 0) {
        cfg.disable_sgemm = 1;
      } else if (strcasecmp(t, "dgemm") == 0) {
        cfg.disable_dgemm = 1;
      } else if (*t != '\0' && strcasecmp(t, "sgemm_batched") != 0 && strcasecmp(t, "dgemm_batched") != 0) {
        fprintf(stderr, "gpucore_blas: gpucore.gemm.disable: unknown routine \"%s\" (ignored)\n", t);
      }
    }
  }
  v = get("gpucore.gpu.list");
  cfg.gpu_all = 1;
  if (v != NULL && strcasecmp(v, "all") != 0) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", v);
    int n = 0, ok = 1;
    for (char *save, *t = strtok_r(buf, ", ", &save); t != NULL; t = strtok_r(NULL, ", ", &save)) {
      char *end;
      long i = strtol(t, &end, 10);
      if (*end != '\0' || i < 0 || i > 1023 || n >= 16) {
        ok = 0;
        break;
      }
      cfg.gpu_list[n++] = (int)i;
    }
    if (ok && n > 0) {
      cfg.gpu_all = 0;
      cfg.gpu_count = n;
    } else {
      fprintf(stderr, "gpucore_blas: gpucore.gpu.list must be all or GPU indices like 0,1; got \"%s\"; using all\n", v);
    }
  }
  cfg.cpu_ratio = get_double("gpucore.gemm.cpuRatio", 0, 0, 0.99);
  cfg.fallback = get_bool("gpucore.gemm.fallback", 1);
  cfg.min_flops = get_double("gpucore.gemm.minFlops", 0, 0, 1e30);
  cfg.cpu_gflops = get_double("gpucore.gemm.cpuGflops", 0, 0, 1e9);
  cfg.gpu_gflops = get_double("gpucore.gemm.gpuGflops", 0, 0, 1e9);
  cfg.bus_gbs = get_double("gpucore.gemm.busGBs", 35, 0.001, 1e6);
  cfg.overhead_ms = get_double("gpucore.gemm.overheadMs", 0.5, 0, 1e6);
  cfg.stage_bytes = (size_t)(get_double("gpucore.blas.stageMiB", 32, 0.0625, 4096) * 1048576.0);
  cfg.copy_threads = (int)get_double("gpucore.blas.copyThreads", 0, 0, 16);
  cfg.resident = get_bool("gpucore.blas.resident", 1);
  cfg.tile_dim = (int)get_double("gpucore.blas.tileDim", 1024, 64, 16384);
  cfg.keep_bytes = (size_t)(get_double("gpucore.scratch.cacheMiB", 4096, 0, 1048576) * 1048576.0);
  cfg.profile = get_bool("gpucore.blas.profile", 0);
  v = get("gpucore.blas.profileFile");
  if (v != NULL) {
    snprintf(cfg.profile_file, sizeof cfg.profile_file, "%s", v);
    if (cfg.profile_file[0] != '\0') cfg.profile = 1;
  }
  cfg.trace_stderr = get_bool("gpucore.trace", 0);
  v = get("gpucore.log.file");
  if (v != NULL) {
    snprintf(cfg.log_file, sizeof cfg.log_file, "%s", v);
  }
}

static void load_once(void) {
  pthread_mutex_lock(&set_lock);
  load();
  loaded = 1;
  pthread_mutex_unlock(&set_lock);
}

const gcb_settings *gcb_config(void) {
  pthread_once(&cfg_once, load_once);
  return &cfg;
}

int gcb_configure(const char *key, const char *value) {
  if (key == NULL || value == NULL || strlen(key) >= sizeof set_keys[0]
      || strlen(value) >= sizeof set_vals[0]) {
    return 2;
  }
  pthread_mutex_lock(&set_lock);
  int rc = 0;
  if (loaded) {
    rc = 1;
  } else if (set_count == MAX_ENTRIES) {
    rc = 2;
  } else {
    snprintf(set_keys[set_count], sizeof set_keys[0], "%s", key);
    snprintf(set_vals[set_count], sizeof set_vals[0], "%s", value);
    set_count++;
  }
  pthread_mutex_unlock(&set_lock);
  return rc;
}

int gcb_tracing(void) {
  const gcb_settings *s = gcb_config();
  return s->trace_stderr || s->log_file[0] != '\0';
}

void gcb_trace(const char *routine, long m, long n, long k, const char *route, const char *reason) {
  const gcb_settings *s = gcb_config();
  if (!s->trace_stderr && s->log_file[0] == '\0') {
    return;
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char line[1024];
  snprintf(line, sizeof line,
           "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s m=%ld n=%ld k=%ld route=%s reason=%s\n",
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
           ts.tv_nsec / 1000000, routine, m, n, k, route, reason);
  pthread_mutex_lock(&trace_lock);
  if (s->trace_stderr) {
    fputs("gpucore_blas: ", stderr);
    fputs(line, stderr);
  }
  if (s->log_file[0] != '\0') {
    FILE *f = fopen(s->log_file, "a");
    if (f != NULL) {
      fputs(line, f);
      fclose(f);
    } else {
      static int warned;
      if (!warned) {
        warned = 1;
        fprintf(stderr, "gpucore_blas: gpucore.log.file %s cannot be opened: %s\n", s->log_file,
                strerror(errno));
      }
    }
  }
  pthread_mutex_unlock(&trace_lock);
}
