// The row and layout helpers of the fused training attention (attention_train.h): the dropout hash on 16 lanes, the
// softmax row pieces of the forward and the two passes of the backward, and the gathered transposes.
#ifndef MRC_ATTENTION_TRAIN_ROWS_H
#define MRC_ATTENTION_TRAIN_ROWS_H
#include "attention_head.h"

#if defined(__x86_64__)

/// The dropout hash of Kernels/Dropout.swift (`dropoutHash`: two rounds of lowbias32 keyed by k1, k2) on 16 lanes.
static inline AVX512_BF16 __m512i mix32_512(__m512i x) {
    x = _mm512_xor_si512(x, _mm512_srli_epi32(x, 16));
    x = _mm512_mullo_epi32(x, _mm512_set1_epi32(0x7FEB352D));
    x = _mm512_xor_si512(x, _mm512_srli_epi32(x, 15));
    x = _mm512_mullo_epi32(x, _mm512_set1_epi32((int)0x846CA68Bu));
    return _mm512_xor_si512(x, _mm512_srli_epi32(x, 16));
}

/// Which of elements index … index + 15 the dropout keeps (all of them without dropout).
static inline AVX512_BF16 __mmask16 kept_lanes(const mrc_dropout_keys *d, uint32_t index) {
    if (!d) return 0xFFFF;
    const __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    __m512i i = _mm512_add_epi32(_mm512_set1_epi32((int)index), lanes);
    __m512i h = mix32_512(_mm512_add_epi32(mix32_512(_mm512_xor_si512(i, _mm512_set1_epi32((int)d->k1))),
                                           _mm512_set1_epi32((int)d->k2)));
    return _mm512_cmpge_epu32_mask(h, _mm512_set1_epi32((int)d->threshold));
}

/// 16 scores s·scale (+ bias) from column `c`, the live lanes: the one formula of the forward and of the backward's
/// recomputation, so that both see the same values bit for bit.
static inline AVX512_BF16 __m512 scaled16(const float *x, const float *bias, int64_t c, __mmask16 live, float scale) {
    __m512 v = _mm512_mul_ps(load_live(x + c, live), _mm512_set1_ps(scale));
    return bias ? _mm512_add_ps(v, load_live(bias + c, live)) : v;
}

/// Scores s·scale (+ bias) of the keys before `cols`, in place; returns their maximum.
static inline AVX512_BF16 float scale_row(float *x, float scale, const float *bias, int64_t cols) {
    __m512 mv = _mm512_set1_ps(-INFINITY);
    for (int64_t c = 0; c < cols; c += 16) {
        const __mmask16 live = cols - c >= 16 ? 0xFFFF : (__mmask16)((1u << (cols - c)) - 1);
        __m512 v = scaled16(x, bias, c, live, scale);
        store_live(x + c, live, v);
        mv = _mm512_mask_max_ps(mv, live, mv, v);
    }
    return _mm512_reduce_max_ps(mv);
}

/// e^(v − m) · inverse over the live lanes of 16 scaled scores v (0 elsewhere): the softmax probabilities.
static inline AVX512_BF16 __m512 probabilities16(__m512 v, __mmask16 live, __m512 m, __m512 inverse) {
    return _mm512_maskz_mul_ps(live, exp2_512(_mm512_mul_ps(_mm512_sub_ps(v, m), _mm512_set1_ps(MRC_LOG2E))), inverse);
}

/// x[D, padded] (bf16) = the first `rows` rows of `m` (row stride `stride`, even; m dword-aligned) transposed, zeros to
/// `padded`: dword r of 16 rows gathered at a time, its two halves rows 2r and 2r + 1 of x.
static AVX512_BF16 void transpose_rows(uint16_t *x, const uint16_t *m, int64_t stride, int64_t rows, int64_t padded, int64_t D) {
    for (int64_t t0 = 0; t0 < padded; t0 += 16)
        for (int64_t r = 0; r < D / 2; r++) {
            __m512i v = gather_dwords(m, stride, t0, rows, r);
            _mm256_storeu_si256((__m256i *)(x + 2 * r * padded + t0), _mm512_cvtepi32_epi16(v));
            _mm256_storeu_si256((__m256i *)(x + (2 * r + 1) * padded + t0), _mm512_cvtepi32_epi16(_mm512_srli_epi32(v, 16)));
        }
}

/// target[j, d] = factor · source[d, j] for the first `keys` j and the D dims, 0 for the rows from `keys` to `rows`
/// (target row stride `stride`; source [D, padded]): 16 dims gathered at a time.
static AVX512_BF16 void store_transposed(float *target, int64_t stride, const float *source, int64_t padded, int64_t keys,
                                         int64_t rows, int64_t D, float factor) {
    const __m512i lanes = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                             _mm512_set1_epi32((int)padded));
    const __m512 f = _mm512_set1_ps(factor);
    for (int64_t j = 0; j < rows; j++)
        for (int64_t d0 = 0; d0 < D; d0 += 16) {
            __m512 column = j < keys
                ? _mm512_mul_ps(_mm512_i32gather_ps(_mm512_add_epi32(lanes, _mm512_set1_epi32((int)(d0 * padded + j))), source, 4), f)
                : _mm512_setzero_ps();
            _mm512_storeu_ps(target + j * stride + d0, column);
        }
}

/// The kept lanes of 16 probabilities from column `c` of query `row`: saved by the forward, or all.
static inline __mmask16 saved_kept(const mrc_attention_train_head *h, int64_t row, int64_t c) {
    return h->keptMasks ? h->keptMasks[row * h->maskStride + c / 16] : 0xFFFF;
}

/// Backward, first pass over query `row`'s scores x and dP g (fp32, `Lp` each): x ← P recomputed from the saved maximum
/// and 1/sum (the forward's arithmetic), g ← dP through the dropout; returns Σ P·g. A row past the queries: zeros.
static inline AVX512_BF16 float backward_row(const mrc_attention_train_head *h, float *x, float *g, int64_t row,
                                             const float *stats, float keep) {
    const int64_t L = h->keys, Lp = (L + 31) / 32 * 32;
    if (row >= h->rows) {
        memset(x, 0, 4 * (size_t)Lp);
        memset(g, 0, 4 * (size_t)Lp);
        return 0;
    }
    const __m512 m = _mm512_set1_ps(stats[2 * row]), inverse = _mm512_set1_ps(stats[2 * row + 1]);
    const __m512 keeps = _mm512_set1_ps(keep);
    __m512 dot = _mm512_setzero_ps();
    for (int64_t c = 0; c < Lp; c += 16) {
        const __mmask16 live = c >= L ? 0 : L - c >= 16 ? 0xFFFF : (__mmask16)((1u << (L - c)) - 1);
        __m512 p = probabilities16(scaled16(x, h->bias, c, live, h->scale), live, m, inverse);
        __m512 gp = _mm512_maskz_mul_ps(live & saved_kept(h, row, c), _mm512_loadu_ps(g + c), keeps);
        dot = _mm512_fmadd_ps(p, gp, dot);
        _mm512_storeu_ps(x + c, p);
        _mm512_storeu_ps(g + c, gp);
    }
    return _mm512_reduce_add_ps(dot);
}

/// Backward, second pass over queries `row`, `row + 1` (their P in x, dP in g, `Lp` each, rows Lp apart): dS = P ⊙ (dP −
/// Σ) rounded to bf16 into ds16 (two rows) and, with the dropped P, interleaved into the query-pair rows of the two
/// pair buffers.
static inline AVX512_BF16 void finish_row_pair(const mrc_attention_train_head *h, const float *x, const float *g, int64_t Lp,
                                               const float sums[2], int64_t row, float keep, uint16_t *ds16, uint32_t *pPairs,
                                               uint32_t *sPairs) {
    const __m512i low = _mm512_set_epi16(47, 15, 46, 14, 45, 13, 44, 12, 43, 11, 42, 10, 41, 9, 40, 8, 39, 7, 38, 6, 37, 5, 36, 4,
                                         35, 3, 34, 2, 33, 1, 32, 0);
    const __m512i high = _mm512_set_epi16(63, 31, 62, 30, 61, 29, 60, 28, 59, 27, 58, 26, 57, 25, 56, 24, 55, 23, 54, 22, 53, 21,
                                          52, 20, 51, 19, 50, 18, 49, 17, 48, 16);
    const __m512 keeps = _mm512_set1_ps(keep);
    const int valid1 = row + 1 < h->rows;
    for (int64_t c = 0; c < Lp; c += 32) {
        __m512i ds[2], pd[2];
        for (int r = 0; r < 2; r++) {
            const float *xr = x + r * Lp, *gr = g + r * Lp;
            const __m512 sum = _mm512_set1_ps(sums[r]);
            __m512 p0 = _mm512_loadu_ps(xr + c), p1 = _mm512_loadu_ps(xr + c + 16);
            __m512 s0 = _mm512_mul_ps(p0, _mm512_sub_ps(_mm512_loadu_ps(gr + c), sum));
            __m512 s1 = _mm512_mul_ps(p1, _mm512_sub_ps(_mm512_loadu_ps(gr + c + 16), sum));
            const int live = r == 0 || valid1;
            const __mmask16 k0 = live ? saved_kept(h, row + r, c) : 0, k1 = live ? saved_kept(h, row + r, c + 16) : 0;
            ds[r] = (__m512i)_mm512_cvtne2ps_pbh(s1, s0);
            pd[r] = (__m512i)_mm512_cvtne2ps_pbh(_mm512_maskz_mul_ps(k1, p1, keeps), _mm512_maskz_mul_ps(k0, p0, keeps));
            _mm512_storeu_si512(ds16 + r * Lp + c, ds[r]);
        }
        _mm512_storeu_si512(pPairs + c, _mm512_permutex2var_epi16(pd[0], low, pd[1]));
        _mm512_storeu_si512(pPairs + c + 16, _mm512_permutex2var_epi16(pd[0], high, pd[1]));
        _mm512_storeu_si512(sPairs + c, _mm512_permutex2var_epi16(ds[0], low, ds[1]));
        _mm512_storeu_si512(sPairs + c + 16, _mm512_permutex2var_epi16(ds[0], high, ds[1]));
    }
}

#endif  // __x86_64__
#endif
