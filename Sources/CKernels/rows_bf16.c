// An fp32 matrix rounded to bf16 with its column sums in the same pass (the Swift twins: `convertToBF16` and
// `columnSumAccumulate`): a matmul backward's output gradient, operand of its two products, and its bias gradient.
#include "ckernels.h"
#include "exp512.h"

#if defined(__x86_64__)
AVX512_BF16 void mrc_round_rows_bf16(const float *inp, int64_t stride, int64_t rows, int64_t cols, uint16_t *out,
                                     float *sums) {
    // Whole vectors by plain loads and stores, only the tail masked (see `load_live`: slow on Zen 5).
    const int64_t full = cols & ~(int64_t)15;
    const __mmask16 tail = (__mmask16)((1u << (cols - full)) - 1);
    for (int64_t r = 0; r < rows; r++) {
        const float *x = inp + r * stride;
        uint16_t *o = out + r * stride;
        for (int64_t c = 0; c < full; c += 16) {
            prefetch_ahead(x + c, stride);
            __m512 v = _mm512_loadu_ps(x + c);
            _mm256_storeu_si256((__m256i *)(o + c), (__m256i)_mm512_cvtneps_pbh(v));
            if (sums) _mm512_storeu_ps(sums + c, _mm512_add_ps(_mm512_loadu_ps(sums + c), v));
        }
        if (tail) {
            __m512 v = _mm512_maskz_loadu_ps(tail, x + full);
            _mm256_mask_storeu_epi16(o + full, tail, (__m256i)_mm512_cvtneps_pbh(v));
            if (sums) _mm512_mask_storeu_ps(sums + full, tail, _mm512_add_ps(_mm512_maskz_loadu_ps(tail, sums + full), v));
        }
    }
}
#else
void mrc_round_rows_bf16(const float *inp, int64_t stride, int64_t rows, int64_t cols, uint16_t *out, float *sums) {
    (void)inp; (void)stride; (void)rows; (void)cols; (void)out; (void)sums;
}
#endif
