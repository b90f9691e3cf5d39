#include "ckernels.h"
#include "exp512.h"
#include <math.h>

int mrc_has_avx512_bf16(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bf16");
#else
    return 0;
#endif
}

#if defined(__x86_64__)
AVX512_BF16 void mrc_softmax_row_bf16(float *x, const float *bias, int64_t cols, uint16_t *out) {
    const __m512 lowest = _mm512_set1_ps(-INFINITY);
    __m512 mv = lowest;
    int64_t c = 0;
    for (; c + 16 <= cols; c += 16) {
        __m512 v = _mm512_loadu_ps(x + c);
        if (bias) { v = _mm512_add_ps(v, _mm512_loadu_ps(bias + c)); _mm512_storeu_ps(x + c, v); }
        mv = _mm512_max_ps(mv, v);
    }
    __mmask16 tail = (__mmask16)((1u << (cols - c)) - 1);
    if (tail) {
        __m512 v = _mm512_mask_loadu_ps(lowest, tail, x + c);
        if (bias) { v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(tail, bias + c)); _mm512_mask_storeu_ps(x + c, tail, v); }
        mv = _mm512_max_ps(mv, v);
    }
    const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(mv)), log2e = _mm512_set1_ps(MRC_LOG2E);
    __m512 sum = _mm512_setzero_ps();
    for (c = 0; c + 16 <= cols; c += 16) {
        __m512 e = exp2_512(_mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + c), m), log2e));
        sum = _mm512_add_ps(sum, e);
        _mm512_storeu_ps(x + c, e);
    }
    if (tail) {
        __m512 e = _mm512_maskz_mov_ps(tail, exp2_512(_mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, x + c), m), log2e)));
        sum = _mm512_add_ps(sum, e);
        _mm512_mask_storeu_ps(x + c, tail, e);
    }
    const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
    for (c = 0; c + 16 <= cols; c += 16) {
        __m256bh h = _mm512_cvtneps_pbh(_mm512_mul_ps(_mm512_loadu_ps(x + c), inv));
        _mm256_storeu_si256((__m256i *)(out + c), (__m256i)h);
    }
    if (tail) {
        __m256bh h = _mm512_cvtneps_pbh(_mm512_mul_ps(_mm512_maskz_loadu_ps(tail, x + c), inv));
        _mm256_mask_storeu_epi16(out + c, tail, (__m256i)h);
    }
}
#else
void mrc_softmax_row_bf16(float *x, const float *bias, int64_t cols, uint16_t *out) { (void)x; (void)bias; (void)cols; (void)out; }
#endif
