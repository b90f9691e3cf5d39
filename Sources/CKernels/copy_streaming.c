// A copy whose stores bypass the cache (the twin: memcpy).
#include "ckernels.h"
#include <string.h>
#if defined(__x86_64__)
#include <emmintrin.h>

void mrc_copy_streaming(void *dst, const void *src, int64_t bytes) {
    char *d = (char *)dst;
    const char *s = (const char *)src;
    int64_t head = (int64_t)((16 - ((uintptr_t)d & 15)) & 15);
    if (head > bytes) head = bytes;
    memcpy(d, s, (size_t)head);
    int64_t i = head;
    for (; i + 64 <= bytes; i += 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)(s + i)), b = _mm_loadu_si128((const __m128i *)(s + i + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(s + i + 32)), e = _mm_loadu_si128((const __m128i *)(s + i + 48));
        _mm_stream_si128((__m128i *)(d + i), a);
        _mm_stream_si128((__m128i *)(d + i + 16), b);
        _mm_stream_si128((__m128i *)(d + i + 32), c);
        _mm_stream_si128((__m128i *)(d + i + 48), e);
    }
    memcpy(d + i, s + i, (size_t)(bytes - i));
    _mm_sfence();
}
#else
void mrc_copy_streaming(void *dst, const void *src, int64_t bytes) { memcpy(dst, src, (size_t)bytes); }
#endif
