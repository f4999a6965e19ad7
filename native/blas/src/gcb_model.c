/* The routing model (include/gpucore_engine.h): the one cost model behind sgemm_/dgemm_'s
 * routing and the Java API's router. */
#include <math.h>

#include "gcb_internal.h"
#include "gpucore_engine.h"

#define EXPORT __attribute__((visibility("default")))

static double cpu_rate(const gpucore_engine_model_in *in) {
  int fp64 = in->precision == GPUCORE_ENGINE_FP64;
  if (in->cpu_gflops > 0) {
    return fp64 ? in->cpu_gflops / 2 : in->cpu_gflops; /* an explicit rate is taken as it is */
  }
  int threads = in->cpu_threads > 0 ? in->cpu_threads : 1;
  double full = threads * (fp64 ? 34.0 : 69.0);
  double saturate = 2.6e8 * threads;
  return in->flops >= saturate ? full : full * sqrt(sqrt(in->flops / saturate));
}

/* One GPU's rate in GFLOP/s. */
static double gpu_rate(const gpucore_engine_model_in *in) {
  if (in->gpu_gflops > 0) {
    return in->gpu_gflops;
  }
  static const double hopper[] = {48000, 250000, 300000, 50000};
  static const double ampere[] = {18000, 120000, 200000, 18000};
  static const double older[] = {8000, 8000, 8000, 4000};
  const double *rate = older;
  double sms = 1;
  if (in->cc_major >= 9) {
    rate = hopper;
    sms = in->sms / 132.0;
  } else if (in->cc_major == 8) {
    rate = ampere;
    sms = in->sms / 108.0;
  }
  int p = in->precision >= 0 && in->precision <= 3 ? in->precision : 0;
  return rate[p] * (sms > 0 ? sms : 1);
}

EXPORT void gpucore_engine_model(const gpucore_engine_model_in *in, gpucore_engine_model_out *out) {
  int gpus = in->gpus > 0 ? in->gpus : 1;
  double links = gpus < 2 ? gpus : 2;
  double cpu = cpu_rate(in) * 1e9;
  double gpu = gpu_rate(in) * 1e9 * gpus;
  double bus = (in->bus_gbs > 0 ? in->bus_gbs : 35) * 1e9;
  double t_cpu = in->flops / cpu;
  double t_up = (in->bytes_a + (in->beta_nonzero ? in->bytes_c : 0)) / (bus * links);
  double t_down = in->bytes_c / (bus * links);
  double t_b = in->bytes_b / bus;
  double t_mul = in->flops / gpu;
  double t_gpu = in->overhead_ms / 1e3 + t_b + fmax(t_mul, fmax(t_up, t_down)) + fmin(t_up, t_down) / 8;
  out->gpu = t_gpu < t_cpu;
  out->gpu_ms = t_gpu * 1e3;
  out->cpu_ms = t_cpu * 1e3;
  out->b_up_ms = t_b * 1e3;
  out->ac_up_ms = t_up * 1e3;
  out->multiply_ms = t_mul * 1e3;
  out->c_down_ms = t_down * 1e3;
  out->cpu_gflops = cpu / 1e9;
  out->gpu_gflops = gpu / 1e9;
}
