// GELU of the bf16 training layer, written as the next matmul's bf16 operand in the same pass (the Swift twins:
// `geluForward` or `geluBackward`, then `convertToBF16`, and the bias gradient's `columnSumAccumulate`).
#include "ckernels.h"
#include "exp512.h"

#if defined(__x86_64__)
/// Φ(x) (the normal CDF) and φ(x)·√(2π) = e^(−x²/2) per lane, through one exponential: with z = |x|/√2,
/// erfc(z) = t·P(t)·e^(−z²), t = 1/(1 + p·z), P of degree 4 (Abramowitz & Stegun 7.1.26, |error| ≤ 1.5e-7 on
/// erf), and e^(−z²) = e^(−x²/2) is the density's exponential too. Φ = ½·erfc for x < 0, 1 − ½·erfc otherwise:
/// no cancellation in the left tail. The reciprocal is vrcp14ps and one Newton step (relative ≤ 2⁻²⁷).
/// Error of Φ ≤ 7.5e-8 (the approximation) + ½·erfc·2.7e-6 (exp2_512) + a few fp32 roundings ≤ 1.5e-6;
/// of e^(−x²/2), relative 2.7e-6 + 1.24e-7·x²/2·log₂e (the rounded argument).
static inline AVX512_BF16 __m512 normal_cdf(__m512 x, __m512 *density) {
    const __m512 halfLog2e = _mm512_set1_ps(-0.5f * MRC_LOG2E);
    __m512 e = exp2_512(_mm512_mul_ps(_mm512_mul_ps(x, x), halfLog2e));
    __m512 z = _mm512_abs_ps(x);
    // 1 + p·z with p = 0.3275911 / √2 (z = |x| / √2 folded in).
    __m512 d = _mm512_fmadd_ps(z, _mm512_set1_ps(0.23164190f), _mm512_set1_ps(1.0f));
    __m512 t = _mm512_rcp14_ps(d);
    t = _mm512_mul_ps(t, _mm512_fnmadd_ps(d, t, _mm512_set1_ps(2.0f)));
    __m512 p = _mm512_set1_ps(1.061405429f);
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.453152027f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.421413741f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.284496736f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.254829592f));
    __m512 halfErfc = _mm512_mul_ps(_mm512_mul_ps(p, t), _mm512_mul_ps(e, _mm512_set1_ps(0.5f)));
    __mmask16 nonNegative = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ);
    *density = e;
    return _mm512_mask_sub_ps(halfErfc, nonNegative, _mm512_set1_ps(1.0f), halfErfc);
}

static inline AVX512_BF16 __m512 gelu_derivative(__m512 x) {
    __m512 e;
    __m512 cdf = normal_cdf(x, &e);
    // Φ(x) + x·φ(x), φ(x) = e^(−x²/2) / √(2π).
    return _mm512_fmadd_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.39894228040143268f)), e, cdf);
}

/// 16 lanes of the forward (the live ones of x): the GELU rounded into `out`, and x copied into `inputCopy` unless
/// NULL, past the cache where a whole aligned vector is stored (the backward reads it, much later).
static inline AVX512_BF16 void gelu_forward16(__m512 x, __mmask16 live, uint16_t *out, float *inputCopy) {
    __m512 e;
    const __m256i y = (__m256i)_mm512_cvtneps_pbh(_mm512_mul_ps(x, normal_cdf(x, &e)));
    if (live == 0xFFFF) _mm256_storeu_si256((__m256i *)out, y);
    else _mm256_mask_storeu_epi16(out, live, y);
    if (!inputCopy) return;
    if (live == 0xFFFF && ((uintptr_t)inputCopy & 63) == 0) _mm512_stream_ps(inputCopy, x);
    else _mm512_mask_storeu_ps(inputCopy, live, x);
}

AVX512_BF16 void mrc_gelu_forward_bf16(const float *inp, int64_t count, uint16_t *out, float *inputCopy) {
    // Whole vectors by plain loads and stores, only the tail masked (see `load_live`: slow on Zen 5).
    const int64_t full = count & ~(int64_t)15;
    for (int64_t i = 0; i < full; i += 16)
        gelu_forward16(_mm512_loadu_ps(inp + i), 0xFFFF, out + i, inputCopy ? inputCopy + i : NULL);
    if (full < count) {
        const __mmask16 tail = (__mmask16)((1u << (count - full)) - 1);
        gelu_forward16(_mm512_maskz_loadu_ps(tail, inp + full), tail, out + full, inputCopy ? inputCopy + full : NULL);
    }
    if (inputCopy) _mm_sfence();
}

AVX512_BF16 void mrc_gelu_backward_bf16(const float *dout, const float *inp, int64_t stride, int64_t rows, int64_t cols,
                                        uint16_t *dinp, float *dbias) {
    const int64_t full = cols & ~(int64_t)15;
    const __mmask16 tail = (__mmask16)((1u << (cols - full)) - 1);
    for (int64_t r = 0; r < rows; r++) {
        const float *g = dout + r * stride, *x = inp + r * stride;
        uint16_t *o = dinp + r * stride;
        for (int64_t c = 0; c < full; c += 16) {
            prefetch_ahead(g + c, stride);
            prefetch_ahead(x + c, stride);
            __m512 d = _mm512_mul_ps(_mm512_loadu_ps(g + c), gelu_derivative(_mm512_loadu_ps(x + c)));
            _mm256_storeu_si256((__m256i *)(o + c), (__m256i)_mm512_cvtneps_pbh(d));
            if (dbias) _mm512_storeu_ps(dbias + c, _mm512_add_ps(_mm512_loadu_ps(dbias + c), d));
        }
        if (tail) {
            __m512 d = _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, g + full),
                                     gelu_derivative(_mm512_maskz_loadu_ps(tail, x + full)));
            _mm256_mask_storeu_epi16(o + full, tail, (__m256i)_mm512_cvtneps_pbh(d));
            if (dbias) _mm512_mask_storeu_ps(dbias + full, tail, _mm512_add_ps(_mm512_maskz_loadu_ps(tail, dbias + full), d));
        }
    }
}
#else
void mrc_gelu_forward_bf16(const float *inp, int64_t count, uint16_t *out, float *inputCopy) {
    (void)inp; (void)count; (void)out; (void)inputCopy;
}
void mrc_gelu_backward_bf16(const float *dout, const float *inp, int64_t stride, int64_t rows, int64_t cols,
                            uint16_t *dinp, float *dbias) {
    (void)dout; (void)inp; (void)stride; (void)rows; (void)cols; (void)dinp; (void)dbias;
}
#endif
