// The fused training attention (attention_amx.c, attention_avx512.c share it): forward and backward of one
// (sequence, head) with no [T, T] tensor kept between them. The forward saves each query row's softmax maximum
// and 1/sum, and the kept lanes of the dropout mask it drew from the counter-based hash; the backward recomputes
// the scores and probabilities from them (flash-attention style). Every product is one shape, `mrc_rows16_product` (16 rows of A times B in dword
// pairs), brought by each kernel: AMX tiles or vdpbf16ps. The Swift path (attentionForwardBF16 with probs,
// attentionBackwardBF16) is the reference twin.
#ifndef MRC_ATTENTION_TRAIN_H
#define MRC_ATTENTION_TRAIN_H
#include "attention_train_rows.h"

#if defined(__x86_64__)

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
        prefetch_block(h->next, h->nextCount, i0);
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
                __m512 e = probabilities16(load_live(x + c, live), live, _mm512_set1_ps(m), _mm512_set1_ps(1.0f));
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

/// The backward (see ckernels.h). Per block of 16 queries: the scores and dP = dO·vᵀ, then per row the
/// probabilities from the saved statistics, the dropout on both, dS = P ⊙ (dP − Σ P·dP) in fp32; dS·k gives dq.
/// The dropped probabilities and dS go, as pairs of query rows, to two [Tp/2, Lp] buffers; after the last block
/// dvᵀ = dOᵀ·P and dkᵀ = qᵀ·dS take them whole, and are written into dv and dk.
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
        prefetch_block(h->next, h->nextCount, i0);
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
                _mm512_storeu_ps(t, _mm512_mul_ps(_mm512_loadu_ps(block + i * D + d), _mm512_set1_ps(h->scale)));
            }
    }
    for (int64_t d0 = 0; d0 < D; d0 += 16) {
        product(dvT + d0 * Lp, Lp, gT + d0 * Tp, Tp, pPairs, Lp, Tp, Lp);
        product(dkT + d0 * Lp, Lp, qT + d0 * Tp, Tp, sPairs, Lp, Tp, Lp);
    }
    store_transposed(dv, dStride, dvT, Lp, L, T, D, 1.0f);
    store_transposed(dk, dStride, dkT, Lp, L, T, D, h->scale);
}

#endif  // __x86_64__

/// Bytes of scratch the backward needs (the forward needs less); 64-byte aligned inside.
static inline int64_t attention_train_scratch_bytes(int64_t rows, int64_t keys, int64_t D) {
    const int64_t Lp = (keys + 31) / 32 * 32, Tp = (rows + 31) / 32 * 32;
    return 4 * (3 * (D / 2) * Lp + 2 * (Tp / 2) * Lp + 2 * 16 * Lp + 16 * D + 2 * D * Lp) + 2 * (16 * Lp + 2 * D * Tp + 2 * 16 * D) + 64;
}

#endif
