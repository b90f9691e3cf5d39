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

/// Rows `row` and `row + 1` (fp32, `padded` values each) as bf16 dword pairs: pairs[n] = (even[n], odd[n]).
static inline AVX512_BF16 void pair_rows(uint32_t *pairs, const float *even, const float *odd, int64_t padded) {
    const __m512i low = _mm512_set_epi16(47, 15, 46, 14, 45, 13, 44, 12, 43, 11, 42, 10, 41, 9, 40, 8, 39, 7, 38, 6, 37, 5, 36, 4,
                                         35, 3, 34, 2, 33, 1, 32, 0);
    const __m512i high = _mm512_set_epi16(63, 31, 62, 30, 61, 29, 60, 28, 59, 27, 58, 26, 57, 25, 56, 24, 55, 23, 54, 22, 53, 21,
                                          52, 20, 51, 19, 50, 18, 49, 17, 48, 16);
    for (int64_t n = 0; n < padded; n += 32) {
        __m512i a = (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(even + n + 16), _mm512_loadu_ps(even + n));
        __m512i b = (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(odd + n + 16), _mm512_loadu_ps(odd + n));
        _mm512_storeu_si512(pairs + n, _mm512_permutex2var_epi16(a, low, b));
        _mm512_storeu_si512(pairs + n + 16, _mm512_permutex2var_epi16(a, high, b));
    }
}

/// `count` fp32 values (a multiple of 16) rounded to bf16.
static inline AVX512_BF16 void round_row(uint16_t *out, const float *x, int64_t count) {
    for (int64_t c = 0; c < count; c += 16)
        _mm256_storeu_si256((__m256i *)(out + c), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(x + c)));
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

/// x[D, padded] (bf16) = the first `rows` rows of `m` (row stride `stride`) transposed, zeros to `padded`.
static void transpose_rows(uint16_t *x, const uint16_t *m, int64_t stride, int64_t rows, int64_t padded, int64_t D) {
    for (int64_t d = 0; d < D; d++) memset(x + d * padded + rows, 0, 2 * (size_t)(padded - rows));
    for (int64_t t = 0; t < rows; t++)
        for (int64_t d = 0; d < D; d++) x[d * padded + t] = m[t * stride + d];
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
            for (int64_t c = 0; c < L; c += 16) {
                const __mmask16 live = (L - c >= 16 ? 0xFFFF : (__mmask16)((1u << (L - c)) - 1)) & kept_lanes(h->dropout, index + (uint32_t)c);
                __m512 p = _mm512_maskz_mul_ps(live, _mm512_loadu_ps(x + c), _mm512_set1_ps(inverse * keep));
                _mm256_storeu_si256((__m256i *)(p16 + i * Lp + c), (__m256i)_mm512_cvtneps_pbh(p));
            }
        }
        product(block, D, p16, Lp, vp, D, Lp, D);
        for (int64_t i = 0; i < 16 && i0 + i < T; i++) memcpy(out + (i0 + i) * outStride, block + i * D, 4 * (size_t)D);
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
        for (int64_t i = 0; i < 16; i++) {
            float *x = scores + i * Lp, *g = dp + i * Lp;
            if (i0 + i >= T) {  // rows under a partial block's last query: zeros
                memset(x, 0, 4 * (size_t)Lp);
                memset(g, 0, 4 * (size_t)Lp);
                continue;
            }
            scale_row(x, h->scale, h->bias, L);
            const __m512 m = _mm512_set1_ps(stats[2 * (i0 + i)]), inverse = _mm512_set1_ps(stats[2 * (i0 + i) + 1]);
            const uint32_t index = h->maskStart + (uint32_t)((i0 + i) * T);
            __m512 dot = _mm512_setzero_ps();
            for (int64_t c = 0; c < Lp; c += 16) {  // x ← P (undropped), g ← dP through the dropout; Σ P·dP
                const __mmask16 live = c >= L ? 0 : L - c >= 16 ? 0xFFFF : (__mmask16)((1u << (L - c)) - 1);
                const __mmask16 kept = live & kept_lanes(h->dropout, index + (uint32_t)c);
                __m512 p = probabilities16(x + c, live, m, inverse);
                __m512 gp = _mm512_maskz_mul_ps(kept, _mm512_loadu_ps(g + c), _mm512_set1_ps(keep));
                dot = _mm512_fmadd_ps(p, gp, dot);
                _mm512_storeu_ps(x + c, p);
                _mm512_storeu_ps(g + c, gp);
            }
            const __m512 sum = _mm512_set1_ps(_mm512_reduce_add_ps(dot));
            for (int64_t c = 0; c < Lp; c += 16) {  // g ← dS = P ⊙ (dP − Σ), x ← the dropped P
                const __mmask16 kept = kept_lanes(h->dropout, index + (uint32_t)c);
                __m512 p = _mm512_loadu_ps(x + c);
                _mm512_storeu_ps(g + c, _mm512_mul_ps(p, _mm512_sub_ps(_mm512_loadu_ps(g + c), sum)));
                _mm512_storeu_ps(x + c, _mm512_maskz_mul_ps(kept, p, _mm512_set1_ps(keep)));
            }
        }
        for (int64_t i = 0; i < 16; i += 2) {
            pair_rows(pPairs + ((i0 + i) / 2) * Lp, scores + i * Lp, scores + (i + 1) * Lp, Lp);
            pair_rows(sPairs + ((i0 + i) / 2) * Lp, dp + i * Lp, dp + (i + 1) * Lp, Lp);
            round_row(ds16 + i * Lp, dp + i * Lp, Lp);
            round_row(ds16 + (i + 1) * Lp, dp + (i + 1) * Lp, Lp);
        }
        product(block, D, ds16, Lp, kp, D, Lp, D);
        for (int64_t i = 0; i < 16 && i0 + i < T; i++)
            for (int64_t d = 0; d < D; d++) dq[(i0 + i) * dStride + d] += h->scale * block[i * D + d];
    }
    for (int64_t d0 = 0; d0 < D; d0 += 16) {
        product(dvT + d0 * Lp, Lp, gT + d0 * Tp, Tp, pPairs, Lp, Tp, Lp);
        product(dkT + d0 * Lp, Lp, qT + d0 * Tp, Tp, sPairs, Lp, Tp, Lp);
    }
    for (int64_t j = 0; j < L; j++)
        for (int64_t d = 0; d < D; d++) {
            dv[j * dStride + d] += dvT[d * Lp + j];
            dk[j * dStride + d] += h->scale * dkT[d * Lp + j];
        }
}

/// Bytes of scratch the backward needs (the forward needs less); 64-byte aligned inside.
static inline int64_t attention_train_scratch_bytes(int64_t rows, int64_t keys, int64_t D) {
    const int64_t Lp = (keys + 31) / 32 * 32, Tp = (rows + 31) / 32 * 32;
    return 4 * (3 * (D / 2) * Lp + 2 * (Tp / 2) * Lp + 2 * 16 * Lp + 16 * D + 2 * D * Lp) + 2 * (16 * Lp + 2 * D * Tp + 2 * 16 * D) + 64;
}

#endif
