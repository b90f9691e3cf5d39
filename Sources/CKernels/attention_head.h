// What the two fused attention kernels share (attention_amx.c, attention_avx512.c): the layouts of k and v they
// multiply, the softmax row of a score block, and the loop over blocks of 16 queries. Each kernel brings its own
// two products: a block's scores (q·kᵀ) and its context (P·v).
#ifndef MRC_ATTENTION_HEAD_H
#define MRC_ATTENTION_HEAD_H
#include "ckernels.h"
#include "exp512.h"
#include <math.h>
#include <string.h>

/// scores[16, padded] = the block's 16 q rows (row stride qStride elements) · kᵀ (kt: [D/2, padded] dword pairs).
typedef void (*mrc_score_block)(float *scores, const uint16_t *qRows, int64_t qStride, const uint32_t *kt, int64_t padded,
                                int64_t D);
/// out[16, D] = probabilities[16, padded] (bf16) · v (pairs: [padded/2, D] dwords); `spare` is [16, D] scratch.
typedef void (*mrc_value_block)(float *out, float *spare, const uint16_t *probabilities, const uint32_t *pairs, int64_t padded,
                                int64_t D);

/// Interleaves key rows 2j and 2j+1 of v into the pairs AMX multiplies ([Lp/2, D] dwords: (v[2j][d], v[2j+1][d])).
static AVX512_BF16 void pair_values(uint32_t *pairs, const uint16_t *v, int64_t stride, int64_t keys, int64_t padded, int64_t D) {
    uint16_t low[32], high[32];
    for (int e = 0; e < 32; e++) {
        low[e] = (uint16_t)((e / 2) | ((e & 1) << 5));
        high[e] = (uint16_t)((16 + e / 2) | ((e & 1) << 5));
    }
    const __m512i lowIndex = _mm512_loadu_si512(low), highIndex = _mm512_loadu_si512(high);
    for (int64_t j = 0; j < padded / 2; j++) {
        const uint16_t *even = v + 2 * j * stride, *odd = even + stride;
        for (int64_t c = 0; c < D; c += 32) {
            __m512i a = 2 * j < keys ? _mm512_loadu_si512(even + c) : _mm512_setzero_si512();
            __m512i b = 2 * j + 1 < keys ? _mm512_loadu_si512(odd + c) : _mm512_setzero_si512();
            _mm512_storeu_si512(pairs + j * D + c, _mm512_permutex2var_epi16(a, lowIndex, b));
            _mm512_storeu_si512(pairs + j * D + c + 16, _mm512_permutex2var_epi16(a, highIndex, b));
        }
    }
}

/// kᵀ as AMX's B operand of q·kᵀ: row r holds dword r (dims 2r, 2r+1) of every key ([D/2, Lp], 0 past `keys`),
/// gathered 16 keys at a time (`stride` even, k dword-aligned).
static AVX512_BF16 void transpose_keys(uint32_t *kt, const uint16_t *k, int64_t stride, int64_t keys, int64_t padded, int64_t D) {
    const __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    for (int64_t n0 = 0; n0 < padded; n0 += 16) {
        const __mmask16 live = n0 >= keys ? 0 : keys - n0 >= 16 ? 0xFFFF : (__mmask16)((1u << (keys - n0)) - 1);
        const __m512i rows = _mm512_mullo_epi32(_mm512_add_epi32(_mm512_set1_epi32((int)n0), lanes), _mm512_set1_epi32((int)(stride / 2)));
        for (int64_t r = 0; r < D / 2; r++) {
            __m512i v = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), live, _mm512_add_epi32(rows, _mm512_set1_epi32((int)r)),
                                                    (const int *)k, 4);
            _mm512_storeu_si512(kt + r * padded + n0, v);
        }
    }
}

/// One row of probabilities before normalisation: v = s·scale (+ bias) over `cols` scores (kept in `x`), then
/// e^(v − max) rounded to bf16 into `out` (zeros up to `padded`); returns the fp32 sum of the unrounded values.
/// Two passes: v and its maximum, then the exponentials (the e^x of `mrc_softmax_row_bf16`), their sum and rounding.
static AVX512_BF16 float exp_row_bf16(float *x, float scale, const float *bias, int64_t cols, int64_t padded, uint16_t *out) {
    const __m512 s = _mm512_set1_ps(scale);
    const int64_t full = cols & ~(int64_t)15;
    const __mmask16 tail = (__mmask16)((1u << (cols - full)) - 1);
    __m512 mv = _mm512_set1_ps(-INFINITY);
    for (int64_t c = 0; c < full; c += 16) {
        __m512 v = _mm512_mul_ps(_mm512_loadu_ps(x + c), s);
        if (bias) v = _mm512_add_ps(v, _mm512_loadu_ps(bias + c));
        _mm512_storeu_ps(x + c, v);
        mv = _mm512_max_ps(mv, v);
    }
    if (tail) {
        __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, x + full), s);
        if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(tail, bias + full));
        _mm512_mask_storeu_ps(x + full, tail, v);
        mv = _mm512_mask_max_ps(mv, tail, mv, v);
    }
    const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(mv)), log2e = _mm512_set1_ps(MRC_LOG2E);
    __m512 sum = _mm512_setzero_ps();
    int64_t c = 0;
    for (; c < full; c += 16) {
        __m512 e = exp2_512(_mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + c), m), log2e));
        sum = _mm512_add_ps(sum, e);
        _mm256_storeu_si256((__m256i *)(out + c), (__m256i)_mm512_cvtneps_pbh(e));
    }
    for (; c < padded; c += 16) {  // the tail, then zeros up to the padded width
        const __mmask16 live = c == full ? tail : 0;
        __m512 e = _mm512_maskz_mov_ps(live, exp2_512(_mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(live, x + c), m), log2e)));
        sum = _mm512_add_ps(sum, e);
        _mm256_storeu_si256((__m256i *)(out + c), (__m256i)_mm512_cvtneps_pbh(e));
    }
    return _mm512_reduce_add_ps(sum);
}

/// One (sequence, head): k and v laid out once, then per block of 16 queries the scores, their exponentials rounded
/// to bf16 with the fp32 row sums, the context, divided by the sums and stored as bf16 (see ckernels.h).
static AVX512_BF16 void mrc_attention_head_blocks(const uint16_t *q, const uint16_t *k, const uint16_t *v, int64_t stride,
                                                  int64_t rows, int64_t keys, int64_t D, float scale, const float *bias,
                                                  uint16_t *out, int64_t outStride, void *scratch, mrc_score_block scoreBlock,
                                                  mrc_value_block valueBlock) {
    const int64_t padded = (keys + 31) / 32 * 32;
    char *base = (char *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    uint32_t *kt = (uint32_t *)base;
    uint32_t *pairs = kt + (D / 2) * padded;
    float *scores = (float *)(pairs + (padded / 2) * D);
    uint16_t *probabilities = (uint16_t *)(scores + 16 * padded);
    uint16_t *qBlock = probabilities + 16 * padded;
    float *outBlock = (float *)(qBlock + 16 * D), *spare = outBlock + 16 * D, *sums = spare + 16 * D;
    transpose_keys(kt, k, stride, keys, padded, D);
    pair_values(pairs, v, stride, keys, padded, D);
    for (int64_t i0 = 0; i0 < rows; i0 += 16) {
        const int64_t blockRows = rows - i0 < 16 ? rows - i0 : 16;
        const uint16_t *qRows = q + i0 * stride;
        int64_t qStride = stride;
        if (blockRows < 16) {  // the last, partial block: its q rows copied, zeros below
            memset(qBlock, 0, 2 * 16 * (size_t)D);
            for (int64_t i = 0; i < blockRows; i++) memcpy(qBlock + i * D, qRows + i * stride, 2 * (size_t)D);
            qRows = qBlock;
            qStride = D;
        }
        scoreBlock(scores, qRows, qStride, kt, padded, D);
        for (int64_t i = 0; i < blockRows; i++)
            sums[i] = exp_row_bf16(scores + i * padded, scale, bias, keys, padded, probabilities + i * padded);
        // The rows under a partial block's last query multiply to outputs nobody reads: zeros, not stale values.
        if (blockRows < 16) memset(probabilities + blockRows * padded, 0, 2 * (size_t)((16 - blockRows) * padded));
        valueBlock(outBlock, spare, probabilities, pairs, padded, D);
        for (int64_t i = 0; i < blockRows; i++) {
            const __m512 inverse = _mm512_set1_ps(1.0f / sums[i]);
            for (int64_t c = 0; c < D; c += 16) {
                __m256bh h = _mm512_cvtneps_pbh(_mm512_mul_ps(_mm512_loadu_ps(outBlock + i * D + c), inverse));
                _mm256_storeu_si256((__m256i *)(out + (i0 + i) * outStride + c), (__m256i)h);
            }
        }
    }
}

#endif
