// The fused training attention (attention_amx.c, attention_avx512.c share it): forward and backward of one
// (sequence, head) with no [T, T] tensor kept between them. The forward saves each query row's softmax maximum
// and 1/sum; the backward recomputes the scores from them (flash-attention style) and regenerates the dropout mask
// from its counter-based hash. Every product is one shape, `mrc_rows16_product` (16 rows of A times B in dword
// pairs), brought by each kernel: AMX tiles or vdpbf16ps. The Swift path (attentionForwardBF16 with probs,
// attentionBackwardBF16) is the reference twin.
#ifndef MRC_ATTENTION_TRAIN_H
#define MRC_ATTENTION_TRAIN_H
#include "attention_head.h"

/// out[16, N] (row stride ldo) = a[16, K] (bf16, row stride lda) · b, with b as dword pairs [K/2, N] (row stride ldb
/// dwords: (b[2k][n], b[2k+1][n])). K is a multiple of 32, N of 16.
typedef void (*mrc_rows16_product)(float *out, int64_t ldo, const uint16_t *a, int64_t lda, const uint32_t *b, int64_t ldb,
                                   int64_t K, int64_t N);

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

/// Scores s·scale (+ bias) of the keys before `cols`, in place; returns their maximum.
static inline AVX512_BF16 float scale_row(float *x, float scale, const float *bias, int64_t cols) {
    __m512 mv = _mm512_set1_ps(-INFINITY);
    for (int64_t c = 0; c < cols; c += 16) {
        const __mmask16 live = cols - c >= 16 ? 0xFFFF : (__mmask16)((1u << (cols - c)) - 1);
        __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(live, x + c), _mm512_set1_ps(scale));
        if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(live, bias + c));
        _mm512_mask_storeu_ps(x + c, live, v);
        mv = _mm512_mask_max_ps(mv, live, mv, v);
    }
    return _mm512_reduce_max_ps(mv);
}

/// e^(x − m) · inverse over the live lanes of 16 scaled scores (0 elsewhere): the softmax probabilities.
static inline AVX512_BF16 __m512 probabilities16(const float *x, __mmask16 live, __m512 m, __m512 inverse) {
    __m512 y = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(live, x), m), _mm512_set1_ps(MRC_LOG2E));
    return _mm512_maskz_mul_ps(live, exp2_512(y), inverse);
}

/// The rows (a block of 16 queries from `i0`) a product reads: q rows in place, or the last partial block copied
/// into `block` with zeros below.
static inline const uint16_t *query_rows(const uint16_t *q, int64_t stride, int64_t i0, int64_t rows, int64_t D,
                                         uint16_t *block, int64_t *rowStride) {
    *rowStride = stride;
    if (rows - i0 >= 16) return q + i0 * stride;
    memset(block, 0, 2 * 16 * (size_t)D);
    for (int64_t i = i0; i < rows; i++) memcpy(block + (i - i0) * D, q + i * stride, 2 * (size_t)D);
    *rowStride = D;
    return block;
}

/// x[D, padded] (bf16) = the first `rows` rows of `m` (row stride `stride`, even; m dword-aligned) transposed, zeros to
/// `padded`: dword r of 16 rows gathered at a time, its two halves rows 2r and 2r + 1 of x.
static AVX512_BF16 void transpose_rows(uint16_t *x, const uint16_t *m, int64_t stride, int64_t rows, int64_t padded, int64_t D) {
    const __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    for (int64_t t0 = 0; t0 < padded; t0 += 16) {
        const __mmask16 live = t0 >= rows ? 0 : rows - t0 >= 16 ? 0xFFFF : (__mmask16)((1u << (rows - t0)) - 1);
        const __m512i at = _mm512_mullo_epi32(_mm512_add_epi32(_mm512_set1_epi32((int)t0), lanes), _mm512_set1_epi32((int)(stride / 2)));
        for (int64_t r = 0; r < D / 2; r++) {
            __m512i v = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), live, _mm512_add_epi32(at, _mm512_set1_epi32((int)r)),
                                                    (const int *)m, 4);
            _mm256_storeu_si256((__m256i *)(x + 2 * r * padded + t0), _mm512_cvtepi32_epi16(v));
            _mm256_storeu_si256((__m256i *)(x + (2 * r + 1) * padded + t0), _mm512_cvtepi32_epi16(_mm512_srli_epi32(v, 16)));
        }
    }
}

/// target[j, d] += factor · source[d, j] for the first `keys` j and the D dims (target row stride `stride`; source
/// [D, padded]): 16 dims gathered at a time.
static AVX512_BF16 void add_transposed(float *target, int64_t stride, const float *source, int64_t padded, int64_t keys,
                                       int64_t D, float factor) {
    const __m512i lanes = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                             _mm512_set1_epi32((int)padded));
    const __m512 f = _mm512_set1_ps(factor);
    for (int64_t j = 0; j < keys; j++)
        for (int64_t d0 = 0; d0 < D; d0 += 16) {
            __m512 column = _mm512_i32gather_ps(_mm512_add_epi32(lanes, _mm512_set1_epi32((int)(d0 * padded + j))), source, 4);
            float *t = target + j * stride + d0;
            _mm512_storeu_ps(t, _mm512_fmadd_ps(column, f, _mm512_loadu_ps(t)));
        }
}

/// The forward (see ckernels.h): per block of 16 queries, the scores, their softmax in fp32 (row maximum and 1/sum
/// saved), the dropout, the bf16 probabilities and P·v into `out` in fp32.
static AVX512_BF16 void mrc_attention_train_forward_blocks(const mrc_attention_train_head *h, float *out, int64_t outStride,
                                                           float *stats, void *scratch, mrc_rows16_product product) {
    const int64_t D = h->headSize, L = h->keys, Lp = (L + 31) / 32 * 32, T = h->rows;
    char *base = (char *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    uint32_t *kt = (uint32_t *)base, *vp = kt + (D / 2) * Lp;
    float *scores = (float *)(vp + (Lp / 2) * D), *block = scores + 16 * Lp;
    uint16_t *p16 = (uint16_t *)(block + 16 * D), *qBlock = p16 + 16 * Lp;
    transpose_keys(kt, h->k, h->stride, L, Lp, D);
    pair_values(vp, h->v, h->stride, L, Lp, D);
    const float keep = h->dropout ? h->dropout->keepScale : 1.0f;
    for (int64_t i0 = 0; i0 < T; i0 += 16) {
        int64_t qStride;
        const uint16_t *qRows = query_rows(h->q, h->stride, i0, T, D, qBlock, &qStride);
        product(scores, Lp, qRows, qStride, kt, Lp, D, Lp);
        memset(p16, 0, 2 * 16 * (size_t)Lp);
        for (int64_t i = 0; i < 16 && i0 + i < T; i++) {
            float *x = scores + i * Lp;
            const float m = scale_row(x, h->scale, h->bias, L);
            __m512 sum = _mm512_setzero_ps();
            for (int64_t c = 0; c < L; c += 16) {
                const __mmask16 live = L - c >= 16 ? 0xFFFF : (__mmask16)((1u << (L - c)) - 1);
                __m512 e = probabilities16(x + c, live, _mm512_set1_ps(m), _mm512_set1_ps(1.0f));
                _mm512_storeu_ps(x + c, e);
                sum = _mm512_add_ps(sum, e);
            }
            const float inverse = 1.0f / _mm512_reduce_add_ps(sum);
            stats[2 * (i0 + i)] = m;
            stats[2 * (i0 + i) + 1] = inverse;
            const uint32_t index = h->maskStart + (uint32_t)((i0 + i) * T);
            uint16_t *kept = h->keptMasks ? h->keptMasks + (i0 + i) * h->maskStride : NULL;
            for (int64_t c = 0; c < L; c += 16) {
                const __mmask16 lanes = kept_lanes(h->dropout, index + (uint32_t)c);
                if (kept) kept[c / 16] = lanes;
                const __mmask16 live = (L - c >= 16 ? 0xFFFF : (__mmask16)((1u << (L - c)) - 1)) & lanes;
                __m512 p = _mm512_maskz_mul_ps(live, _mm512_mul_ps(_mm512_loadu_ps(x + c), _mm512_set1_ps(inverse)), _mm512_set1_ps(keep));
                _mm256_storeu_si256((__m256i *)(p16 + i * Lp + c), (__m256i)_mm512_cvtneps_pbh(p));
            }
        }
        product(block, D, p16, Lp, vp, D, Lp, D);
        for (int64_t i = 0; i < 16 && i0 + i < T; i++) memcpy(out + (i0 + i) * outStride, block + i * D, 4 * (size_t)D);
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
    const __m512 scale = _mm512_set1_ps(h->scale), log2e = _mm512_set1_ps(MRC_LOG2E), keeps = _mm512_set1_ps(keep);
    __m512 dot = _mm512_setzero_ps();
    for (int64_t c = 0; c < Lp; c += 16) {
        const __mmask16 live = c >= L ? 0 : L - c >= 16 ? 0xFFFF : (__mmask16)((1u << (L - c)) - 1);
        __m512 v = _mm512_mul_ps(_mm512_loadu_ps(x + c), scale);
        if (h->bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(live, h->bias + c));
        __m512 p = _mm512_maskz_mul_ps(live, exp2_512(_mm512_mul_ps(_mm512_sub_ps(v, m), log2e)), inverse);
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

/// The backward (see ckernels.h). Per block of 16 queries: the scores and dP = dO·vᵀ, then per row the
/// probabilities from the saved statistics, the dropout on both, dS = P ⊙ (dP − Σ P·dP) in fp32; dS·k gives dq.
/// The dropped probabilities and dS go, as pairs of query rows, to two [Tp/2, Lp] buffers; after the last block
/// dvᵀ = dOᵀ·P and dkᵀ = qᵀ·dS take them whole, and are added into dv and dk.
static AVX512_BF16 void mrc_attention_train_backward_blocks(const mrc_attention_train_head *h, const uint16_t *dout,
                                                            int64_t doutStride, const float *stats, float *dq, float *dk,
                                                            float *dv, int64_t dStride, void *scratch,
                                                            mrc_rows16_product product) {
    const int64_t D = h->headSize, L = h->keys, Lp = (L + 31) / 32 * 32, T = h->rows, Tp = (T + 31) / 32 * 32;
    char *base = (char *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    uint32_t *kt = (uint32_t *)base, *vt = kt + (D / 2) * Lp, *kp = vt + (D / 2) * Lp;
    uint32_t *pPairs = kp + (Lp / 2) * D, *sPairs = pPairs + (Tp / 2) * Lp;
    float *scores = (float *)(sPairs + (Tp / 2) * Lp), *dp = scores + 16 * Lp, *block = dp + 16 * Lp;
    float *dvT = block + 16 * D, *dkT = dvT + D * Lp;
    uint16_t *ds16 = (uint16_t *)(dkT + D * Lp), *qT = ds16 + 16 * Lp, *gT = qT + D * Tp, *qBlock = gT + D * Tp;
    uint16_t *gBlock = qBlock + 16 * D;
    transpose_keys(kt, h->k, h->stride, L, Lp, D);
    transpose_keys(vt, h->v, h->stride, L, Lp, D);
    pair_values(kp, h->k, h->stride, L, Lp, D);
    transpose_rows(qT, h->q, h->stride, T, Tp, D);
    transpose_rows(gT, dout, doutStride, T, Tp, D);
    const float keep = h->dropout ? h->dropout->keepScale : 1.0f;
    for (int64_t i0 = 0; i0 < Tp; i0 += 16) {
        if (i0 >= T) {  // a block of padding rows: zero pairs
            memset(pPairs + (i0 / 2) * Lp, 0, 4 * 8 * (size_t)Lp);
            memset(sPairs + (i0 / 2) * Lp, 0, 4 * 8 * (size_t)Lp);
            continue;
        }
        int64_t qStride, gStride;
        const uint16_t *qRows = query_rows(h->q, h->stride, i0, T, D, qBlock, &qStride);
        const uint16_t *gRows = query_rows(dout, doutStride, i0, T, D, gBlock, &gStride);
        product(scores, Lp, qRows, qStride, kt, Lp, D, Lp);
        product(dp, Lp, gRows, gStride, vt, Lp, D, Lp);
        for (int64_t i = 0; i < 16; i += 2) {
            float sums[2];
            for (int64_t r = 0; r < 2; r++) sums[r] = backward_row(h, scores + (i + r) * Lp, dp + (i + r) * Lp, i0 + i + r, stats, keep);
            finish_row_pair(h, scores + i * Lp, dp + i * Lp, Lp, sums, i0 + i, keep, ds16 + i * Lp, pPairs + ((i0 + i) / 2) * Lp,
                            sPairs + ((i0 + i) / 2) * Lp);
        }
        product(block, D, ds16, Lp, kp, D, Lp, D);
        for (int64_t i = 0; i < 16 && i0 + i < T; i++)
            for (int64_t d = 0; d < D; d += 16) {
                float *t = dq + (i0 + i) * dStride + d;
                _mm512_storeu_ps(t, _mm512_fmadd_ps(_mm512_loadu_ps(block + i * D + d), _mm512_set1_ps(h->scale), _mm512_loadu_ps(t)));
            }
    }
    for (int64_t d0 = 0; d0 < D; d0 += 16) {
        product(dvT + d0 * Lp, Lp, gT + d0 * Tp, Tp, pPairs, Lp, Tp, Lp);
        product(dkT + d0 * Lp, Lp, qT + d0 * Tp, Tp, sPairs, Lp, Tp, Lp);
    }
    add_transposed(dv, dStride, dvT, Lp, L, D, 1.0f);
    add_transposed(dk, dStride, dkT, Lp, L, D, h->scale);
}

/// Bytes of scratch the backward needs (the forward needs less); 64-byte aligned inside.
static inline int64_t attention_train_scratch_bytes(int64_t rows, int64_t keys, int64_t D) {
    const int64_t Lp = (keys + 31) / 32 * 32, Tp = (rows + 31) / 32 * 32;
    return 4 * (3 * (D / 2) * Lp + 2 * (Tp / 2) * Lp + 2 * 16 * Lp + 16 * D + 2 * D * Lp) + 2 * (16 * Lp + 2 * D * Tp + 2 * 16 * D) + 64;
}

#endif
