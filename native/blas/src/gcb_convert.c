/* fp32 to 16-bit conversions of operands sent to the GPU at BF16 or FP16 precision: packed into
 * staging at half the bytes, rounded to nearest even (NaN stays NaN, infinities stay infinite,
 * fp16 overflow goes to infinity). Vector code where the CPU has it (AVX2 for BF16, F16C for
 * FP16), chosen at run time. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "gcb_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static inline uint16_t bf16_of(uint32_t u) {
  uint32_t r = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
  return (uint16_t)((u & 0x7FFFFFFFu) > 0x7F800000u ? (u >> 16) | 0x0040u : r);
}

static void bf16_plain(uint16_t *d, const float *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint32_t u;
    memcpy(&u, &s[i], 4);
    d[i] = bf16_of(u);
  }
}

/* IEEE half from float, round to nearest even, subnormals included. */
static inline uint16_t fp16_of(uint32_t u) {
  uint32_t sign = (u >> 16) & 0x8000u;
  uint32_t a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return (uint16_t)(sign | 0x7E00u | ((a >> 13) & 0x3FFu)); /* NaN */
  if (a >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u); /* rounds past 65504: infinity */
  if (a < 0x38800000u) { /* below the smallest normal half: subnormal or zero */
    if (a < 0x33000000u) return (uint16_t)sign;          /* under half the smallest subnormal */
    uint32_t mant = (a & 0x7FFFFFu) | 0x800000u;
    int shift = 126 - (int)(a >> 23);                   /* 14..24 */
    uint32_t h = mant >> shift;
    uint32_t rest = mant & ((1u << shift) - 1u), half = 1u << (shift - 1);
    if (rest > half || (rest == half && (h & 1u))) h++;
    return (uint16_t)(sign | h);
  }
  uint32_t h = ((a >> 13) - (112u << 10));                /* rebias 127 -> 15 */
  uint32_t rest = a & 0x1FFFu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;
  return (uint16_t)(sign | h);
}

static void fp16_plain(uint16_t *d, const float *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint32_t u;
    memcpy(&u, &s[i], 4);
    d[i] = fp16_of(u);
  }
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static void bf16_avx2(uint16_t *d, const float *s, size_t n) {
  size_t i = 0;
  const __m256i round = _mm256_set1_epi32(0x7FFF), one = _mm256_set1_epi32(1);
  const __m256i absmask = _mm256_set1_epi32(0x7FFFFFFF), inf = _mm256_set1_epi32(0x7F800000);
  const __m256i quiet = _mm256_set1_epi32(0x0040);
  for (; i + 16 <= n; i += 16) {
    __m256i r[2];
    for (int h = 0; h < 2; h++) {
      __m256i u = _mm256_loadu_si256((const __m256i *)(s + i + 8 * h));
      __m256i t = _mm256_add_epi32(u, _mm256_add_epi32(round, _mm256_and_si256(_mm256_srli_epi32(u, 16), one)));
      t = _mm256_srli_epi32(t, 16);
      __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, absmask), inf);
      __m256i q = _mm256_or_si256(_mm256_srli_epi32(u, 16), quiet);
      r[h] = _mm256_blendv_epi8(t, q, nan);
    }
    /* 32-bit lanes to 16 bits (values fit), then undo the lane interleave of packus */
    __m256i p = _mm256_packus_epi32(r[0], r[1]);
    p = _mm256_permute4x64_epi64(p, 0xD8);
    _mm256_storeu_si256((__m256i *)(d + i), p);
  }
  bf16_plain(d + i, s + i, n - i);
}

__attribute__((target("avx,f16c"))) static void fp16_f16c(uint16_t *d, const float *s, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(s + i);
    _mm_storeu_si128((__m128i *)(d + i), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  fp16_plain(d + i, s + i, n - i);
}
#endif

#if defined(__x86_64__)
static int avx2, f16c;
static pthread_once_t features_once = PTHREAD_ONCE_INIT;

static void features(void) {
  __builtin_cpu_init();
  f16c = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");
  avx2 = __builtin_cpu_supports("avx2");
}
#endif

void gcb_convert(void *dst, const void *src, size_t n, int to) {
  uint16_t *d = (uint16_t *)dst;
  const float *s = (const float *)src;
#if defined(__x86_64__)
  pthread_once(&features_once, features);
  if (to == GCB_TO_BF16 && avx2) {
    bf16_avx2(d, s, n);
    return;
  }
  if (to == GCB_TO_FP16 && f16c) {
    fp16_f16c(d, s, n);
    return;
  }
#endif
  if (to == GCB_TO_BF16) {
    bf16_plain(d, s, n);
  } else {
    fp16_plain(d, s, n);
  }
}
