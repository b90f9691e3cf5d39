// e^x on AVX-512 for the softmax kernels of this target (not part of its public header).
#ifndef MRC_EXP512_H
#define MRC_EXP512_H
#include <immintrin.h>

#define AVX512_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma")))

#if defined(__x86_64__)
/// e^x per lane for x <= 0 (a softmax row less its maximum): n = round(x / ln 2), r = x − n ln 2 in two
/// fused parts (exact to float precision), e^r on |r| <= ln 2 / 2 by Horner to degree 5 with fused
/// multiply-adds (truncation r⁶/6! · e^|r| <= 3.4e-6 relative, plus about 2e-7 of rounding), times 2^n
/// (vscalefps); 0 where x < −87.3. A probability is stored as bf16 (2⁻⁹ relative resolution at best):
/// the error is under 0.2 % of its rounding step.
static inline AVX512_BF16 __m512 exp512(__m512 x) {
    __mmask16 underflow = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.3f), _CMP_LT_OQ);
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.3f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.69314575f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.4286068e-6f), r);
    __m512 p = _mm512_set1_ps(1.0f / 120.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_maskz_mov_ps(~underflow, _mm512_scalef_ps(p, n));
}
#endif
#endif
