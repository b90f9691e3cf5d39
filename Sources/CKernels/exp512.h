// e^x and the loads of live lanes on AVX-512 for the kernels of this target (not part of its public header).
#ifndef MRC_EXP512_H
#define MRC_EXP512_H
#include <immintrin.h>

// prfchw (PREFETCHW: fetch a line for writing) comes with every CPU that has AVX-512 BF16 (Intel since Broadwell, AMD).
#define AVX512_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma,prfchw")))

#if defined(__x86_64__)
/// log₂e in fp32 (relative error ≤ 2⁻²⁵).
#define MRC_LOG2E 1.44269504088896341f

/// 2^y per lane, for y <= 0 (a softmax row less its maximum, times log₂e): n = round(y), f = y − n in
/// [−½, ½] (exact), 2^f by a degree-4 minimax polynomial in fp32 Horner with fused multiply-adds (relative
/// error ≤ 2.7e-6 over [−½, ½], checked on 200,001 points against Double), times 2^n by vscalefps, which
/// gives 0 (or a denormal, which the bf16 rounding reads as 0) far below 2^−126. Nine instructions, against
/// fifteen for a Cody–Waite e^x with a degree-5 polynomial. e^(v − m) is exp2_512((v − m) · log₂e): the
/// two roundings of the argument add ≤ 3 · 2⁻²⁴ · |y| · ln 2 ≤ 1.24e-7 · |y| relative (tiny where the
/// probability is not).
static inline AVX512_BF16 __m512 exp2_512(__m512 y) {
    __m512 n = _mm512_roundscale_ps(y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_sub_ps(y, n);
    __m512 p = _mm512_set1_ps(0.009570101276040077f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.05591786280274391f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.240247443318367f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.6931217908859253f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.9999992847442627f));
    return _mm512_scalef_ps(p, n);
}

/// The live lanes of 16 floats at p (0 elsewhere), and their store: plain where all 16 are live. On Zen 5 a masked
/// load or store costs about three plain ones even from L1, and a masked load from beyond the cache does not overlap
/// its misses (a third of the bandwidth), so masks are kept for tails.
static inline AVX512_BF16 __m512 load_live(const float *p, __mmask16 live) {
    return live == 0xFFFF ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(live, p);
}
static inline AVX512_BF16 void store_live(float *p, __mmask16 live, __m512 v) {
    if (live == 0xFFFF) _mm512_storeu_ps(p, v);
    else _mm512_mask_storeu_ps(p, live, v);
}

/// Rows ahead that the kernels which split a matrix by columns over the workers (each walking its slice of every row:
/// the GELU backward, the rounding with column sums) prefetch: the hardware prefetcher does not follow a stream of
/// row slices with gaps between them (on Zen 5 such a walk ran at 0.4× the speed of whole rows; with the next-but-one
/// row's line prefetched as each vector is read, at 0.9–1×).
#define MRC_ROWS_AHEAD 2
static inline void prefetch_ahead(const float *p, int64_t stride) {
    _mm_prefetch((const char *)(p + MRC_ROWS_AHEAD * stride), _MM_HINT_T0);
}
#endif
#endif
