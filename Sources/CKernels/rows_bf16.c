// An fp32 matrix rounded to bf16 with its column sums in the same pass (the Swift twins: `convertToBF16` and
// `columnSumAccumulate`): a matmul backward's output gradient, operand of its two products, and its bias gradient.
#include "ckernels.h"
#include "exp512.h"

#if defined(__x86_64__)
AVX512_BF16 void mrc_round_rows_bf16(const float *inp, int64_t stride, int64_t rows, int64_t cols, uint16_t *out,
                                     float *sums) {
    for (int64_t r = 0; r < rows; r++) {
        const float *x = inp + r * stride;
        uint16_t *o = out + r * stride;
        for (int64_t c = 0; c < cols; c += 16) {
            const __mmask16 live = cols - c >= 16 ? 0xFFFF : (__mmask16)((1u << (cols - c)) - 1);
            __m512 v = _mm512_maskz_loadu_ps(live, x + c);
            _mm256_mask_storeu_epi16(o + c, live, (__m256i)_mm512_cvtneps_pbh(v));
            if (sums) _mm512_mask_storeu_ps(sums + c, live, _mm512_add_ps(_mm512_maskz_loadu_ps(live, sums + c), v));
        }
    }
}
#else
void mrc_round_rows_bf16(const float *inp, int64_t stride, int64_t rows, int64_t cols, uint16_t *out, float *sums) {
    (void)inp; (void)stride; (void)rows; (void)cols; (void)out; (void)sums;
}
#endif
