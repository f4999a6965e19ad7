/*
 * Copies whose destination is not read again soon (pinned staging on its way to a GPU, a Java
 * array or C coming back, off-heap operands), shared by gpucore's native parts: on x86-64 the
 * destination is written a 64-byte line at a time with non-temporal stores, which neither read
 * its lines from memory first nor evict what the caches hold. Small copies, and other CPUs, use
 * memcpy. The stores are weakly ordered: gc_stream_fence() orders them before whatever the
 * caller does next (queueing a DMA of the buffer, a join, handing an array back).
 */
#ifndef GPUCORE_STREAM_COPY_H
#define GPUCORE_STREAM_COPY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__)
#include <emmintrin.h>
#endif

/* n bytes from src to dst; copies under 256 bytes past the destination's first line boundary
 * are plain memcpy. */
static inline void gc_stream_copy(char* dst, const char* src, size_t n) {
#if defined(__x86_64__)
  size_t head = (size_t)(-(uintptr_t)dst & 63);
  if (n < head + 256) {
    memcpy(dst, src, n);
    return;
  }
  memcpy(dst, src, head);
  dst += head;
  src += head;
  n -= head;
  size_t body = n & ~(size_t)63;
  for (size_t i = 0; i < body; i += 64) {
    __m128i a = _mm_loadu_si128((const __m128i*)(src + i));
    __m128i b = _mm_loadu_si128((const __m128i*)(src + i + 16));
    __m128i c = _mm_loadu_si128((const __m128i*)(src + i + 32));
    __m128i d = _mm_loadu_si128((const __m128i*)(src + i + 48));
    _mm_stream_si128((__m128i*)(dst + i), a);
    _mm_stream_si128((__m128i*)(dst + i + 16), b);
    _mm_stream_si128((__m128i*)(dst + i + 32), c);
    _mm_stream_si128((__m128i*)(dst + i + 48), d);
  }
  memcpy(dst + body, src + body, n - body);
#else
  memcpy(dst, src, n);
#endif
}

/* Orders the non-temporal stores before the caller's later stores. */
static inline void gc_stream_fence(void) {
#if defined(__x86_64__)
  _mm_sfence();
#endif
}

#endif
