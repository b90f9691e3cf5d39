// One (sequence, head) of inference attention on AVX-512 BF16 (Zen 4/5, or an Intel CPU without AMX): the loop
// and layouts of the AMX kernel (attention_head.h), its two products in vdpbf16ps. A block's scores stay in an
// fp32 block in L1 and no score matrix is written out. The Swift path (gatherHead, two oneDNN matmuls, the
// softmax rows) is its reference twin.
#include "attention_train.h"

int64_t mrc_attention_head_scratch_bytes(int64_t keys, int64_t headSize) {
    int64_t padded = (keys + 31) / 32 * 32;
    // kᵀ as dword pairs [D/2, Lp], v as key pairs [Lp/2, D], scores [16, Lp] fp32, probabilities [16, Lp] bf16,
    // the padded q block [16, D] bf16, the output block [16, D] fp32, the row sums [16]; + 64 for alignment.
    return 4 * (headSize / 2) * padded + 4 * (padded / 2) * headSize + 4 * 16 * padded + 2 * 16 * padded + 2 * 16 * headSize +
           4 * 16 * headSize + 4 * 16 + 64;
}

int64_t mrc_attention_train_scratch_bytes(int64_t rows, int64_t keys, int64_t headSize) {
    return attention_train_scratch_bytes(rows, keys, headSize);
}

#if defined(__x86_64__)
/// `R` rows from `r0` of out = a · b over `G` groups of 16 columns from `n0`: R·G accumulators, one vdpbf16ps each per
/// pair of K (the row's pair of a broadcast, b's pairs).
static inline __attribute__((always_inline)) AVX512_BF16 void rows_tile(float *out, int64_t ldo, const uint16_t *a, int64_t lda,
                                                                         const uint32_t *b, int64_t ldb, int64_t K, int64_t r0,
                                                                         int64_t n0, const int R, const int G) {
    __m512 acc[8][4];
    for (int r = 0; r < R; r++)
        for (int g = 0; g < G; g++) acc[r][g] = _mm512_setzero_ps();
    const uint32_t *rows[8];
    for (int r = 0; r < R; r++) rows[r] = (const uint32_t *)(a + (r0 + r) * lda);
    for (int64_t k = 0; k < K / 2; k++) {
        __m512bh cols[4];
        for (int g = 0; g < G; g++) cols[g] = (__m512bh)_mm512_loadu_si512(b + k * ldb + n0 + 16 * g);
        for (int r = 0; r < R; r++) {
            const __m512bh w = (__m512bh)_mm512_set1_epi32((int)rows[r][k]);
            for (int g = 0; g < G; g++) acc[r][g] = _mm512_dpbf16_ps(acc[r][g], w, cols[g]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int g = 0; g < G; g++) _mm512_storeu_ps(out + (r0 + r) * ldo + n0 + 16 * g, acc[r][g]);
}

/// out[16, N] = a[16, K] · b (the kernels' one product, attention_head.h) in vdpbf16ps, 16 accumulators: 4 rows × 64
/// columns at a time, then the last 16–48 columns; 8 rows at a time where N is 32 or 16 (a head's P·v, dS·k).
static AVX512_BF16 void rows16_product_avx512(float *out, int64_t ldo, const uint16_t *a, int64_t lda, const uint32_t *b,
                                              int64_t ldb, int64_t K, int64_t N) {
    if (N == 32 || N == 16) {
        for (int64_t r0 = 0; r0 < 16; r0 += 8) {
            if (N == 32) rows_tile(out, ldo, a, lda, b, ldb, K, r0, 0, 8, 2);
            else rows_tile(out, ldo, a, lda, b, ldb, K, r0, 0, 8, 1);
        }
        return;
    }
    for (int64_t r0 = 0; r0 < 16; r0 += 4) {
        int64_t n0 = 0;
        for (; n0 + 64 <= N; n0 += 64) rows_tile(out, ldo, a, lda, b, ldb, K, r0, n0, 4, 4);
        switch ((N - n0) / 16) {
        case 3: rows_tile(out, ldo, a, lda, b, ldb, K, r0, n0, 4, 3); break;
        case 2: rows_tile(out, ldo, a, lda, b, ldb, K, r0, n0, 4, 2); break;
        case 1: rows_tile(out, ldo, a, lda, b, ldb, K, r0, n0, 4, 1); break;
        default: break;
        }
    }
}

AVX512_BF16 void mrc_attention_head_avx512(const uint16_t *q, const uint16_t *k, const uint16_t *v, int64_t stride, int64_t rows,
                                           int64_t keys, int64_t D, float scale, const float *bias, uint16_t *out,
                                           int64_t outStride, void *scratch, const mrc_prefetch_rows *next, int64_t nextCount) {
    mrc_attention_head_blocks(q, k, v, stride, rows, keys, D, scale, bias, out, outStride, scratch, next, nextCount, rows16_product_avx512);
}
AVX512_BF16 void mrc_attention_train_forward_avx512(const mrc_attention_train_head *head, float *out, int64_t outStride,
                                                    float *stats, void *scratch) {
    mrc_attention_train_forward_blocks(head, out, outStride, stats, scratch, rows16_product_avx512);
}

AVX512_BF16 void mrc_attention_train_backward_avx512(const mrc_attention_train_head *head, const uint16_t *dout,
                                                     int64_t doutStride, const float *stats, float *dq, float *dk, float *dv,
                                                     int64_t dStride, void *scratch) {
    mrc_attention_train_backward_blocks(head, dout, doutStride, stats, dq, dk, dv, dStride, scratch, rows16_product_avx512);
}
#else
void mrc_attention_head_avx512(const uint16_t *q, const uint16_t *k, const uint16_t *v, int64_t stride, int64_t rows, int64_t keys,
                               int64_t D, float scale, const float *bias, uint16_t *out, int64_t outStride, void *scratch,
                               const mrc_prefetch_rows *next, int64_t nextCount) {
    (void)next; (void)nextCount; (void)q; (void)k; (void)v; (void)stride; (void)rows; (void)keys; (void)D; (void)scale; (void)bias; (void)out;
    (void)outStride; (void)scratch;
}
void mrc_attention_train_forward_avx512(const mrc_attention_train_head *head, float *out, int64_t outStride, float *stats,
                                        void *scratch) {
    (void)head; (void)out; (void)outStride; (void)stats; (void)scratch;
}
void mrc_attention_train_backward_avx512(const mrc_attention_train_head *head, const uint16_t *dout, int64_t doutStride,
                                         const float *stats, float *dq, float *dk, float *dv, int64_t dStride, void *scratch) {
    (void)head; (void)dout; (void)doutStride; (void)stats; (void)dq; (void)dk; (void)dv; (void)dStride; (void)scratch;
}
#endif
