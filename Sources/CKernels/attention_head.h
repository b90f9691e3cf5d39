// What the two fused attention kernels share (attention_amx.c, attention_avx512.c): the layouts of k and v they
// multiply, the softmax row of a score block, and the loop over blocks of 16 queries. Each kernel brings its one
// product shape (`mrc_rows16_product`: AMX tiles or vdpbf16ps), which computes a block's scores (q·kᵀ), its context
// (P·v) and every product of the training kernels (attention_train.h).
#ifndef MRC_ATTENTION_HEAD_H
#define MRC_ATTENTION_HEAD_H
#include "ckernels.h"
#include "exp512.h"
#include <math.h>
#include <string.h>

#if defined(__x86_64__)

/// out[16, N] (row stride ldo) = a[16, K] (bf16, row stride lda) · b, with b as dword pairs [K/2, N] (row stride ldb
/// dwords: (b[2k][n], b[2k+1][n])). K is a multiple of 32, N of 16.
typedef void (*mrc_rows16_product)(float *out, int64_t ldo, const uint16_t *a, int64_t lda, const uint32_t *b, int64_t ldb,
                                   int64_t K, int64_t N);

/// Dword `r` of rows first … first + 15 of `m` (row stride `stride` bf16, even; m dword-aligned), 0 from row `count` on:
/// one gather, the column of a transpose.
static inline AVX512_BF16 __m512i gather_dwords(const uint16_t *m, int64_t stride, int64_t first, int64_t count, int64_t r) {
    const __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __mmask16 live = first >= count ? 0 : count - first >= 16 ? 0xFFFF : (__mmask16)((1u << (count - first)) - 1);
    const __m512i at = _mm512_mullo_epi32(_mm512_add_epi32(_mm512_set1_epi32((int)first), lanes), _mm512_set1_epi32((int)(stride / 2)));
    return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), live, _mm512_add_epi32(at, _mm512_set1_epi32((int)r)),
                                       (const int *)m, 4);
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
    for (int64_t n0 = 0; n0 < padded; n0 += 16)
        for (int64_t r = 0; r < D / 2; r++) _mm512_storeu_si512(kt + r * padded + n0, gather_dwords(k, stride, n0, keys, r));
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

/// Prefetches the lines of rows `from` to `from` + 15 of each of the `count` streams (see ckernels.h): read rows into
/// L2 (PREFETCHT1), written rows for writing (PREFETCHW, which names no level). Called once a block; over a head of as
/// many blocks it fetches all of the next head. At 8 × 384 tokens q|k|v has left the core's L2 by the time the
/// attention reads it: the inference kernel took 1–12 % longer without (median 6 %; Zen 5).
static inline AVX512_BF16 void prefetch_block(const mrc_prefetch_rows *streams, int64_t count, int64_t from) {
    for (int64_t s = 0; s < count; s++) {
        const mrc_prefetch_rows *rows = streams + s;
        const int64_t end = from + 16 < rows->rows ? from + 16 : rows->rows;
        for (int64_t r = from; r < end; r++) {
            const uintptr_t start = (uintptr_t)rows->base + (uintptr_t)(r * rows->stride);
            for (uintptr_t line = start & ~(uintptr_t)63; line < start + (uintptr_t)rows->bytes; line += 64) {
                if (rows->write) __builtin_prefetch((const void *)line, 1, 2);
                else _mm_prefetch((const char *)line, _MM_HINT_T1);
            }
        }
    }
}

/// One (sequence, head): k and v laid out once, then per block of 16 queries the scores, their exponentials rounded
/// to bf16 with the fp32 row sums, the context, divided by the sums and stored as bf16 (see ckernels.h).
static AVX512_BF16 void mrc_attention_head_blocks(const uint16_t *q, const uint16_t *k, const uint16_t *v, int64_t stride,
                                                  int64_t rows, int64_t keys, int64_t D, float scale, const float *bias,
                                                  uint16_t *out, int64_t outStride, void *scratch,
                                                  const mrc_prefetch_rows *next, int64_t nextCount,
                                                  mrc_rows16_product product) {
    const int64_t padded = (keys + 31) / 32 * 32;
    char *base = (char *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    uint32_t *kt = (uint32_t *)base;
    uint32_t *pairs = kt + (D / 2) * padded;
    float *scores = (float *)(pairs + (padded / 2) * D);
    uint16_t *probabilities = (uint16_t *)(scores + 16 * padded);
    uint16_t *qBlock = probabilities + 16 * padded;
    float *outBlock = (float *)(qBlock + 16 * D), *sums = outBlock + 16 * D;
    transpose_keys(kt, k, stride, keys, padded, D);
    pair_values(pairs, v, stride, keys, padded, D);
    for (int64_t i0 = 0; i0 < rows; i0 += 16) {
        const int64_t blockRows = rows - i0 < 16 ? rows - i0 : 16;
        prefetch_block(next, nextCount, i0);
        int64_t qStride;
        const uint16_t *qRows = query_rows(q, stride, i0, rows, D, qBlock, &qStride);
        product(scores, padded, qRows, qStride, kt, padded, D, padded);
        for (int64_t i = 0; i < blockRows; i++)
            sums[i] = exp_row_bf16(scores + i * padded, scale, bias, keys, padded, probabilities + i * padded);
        // The rows under a partial block's last query multiply to outputs nobody reads: zeros, not stale values.
        if (blockRows < 16) memset(probabilities + blockRows * padded, 0, 2 * (size_t)((16 - blockRows) * padded));
        product(outBlock, D, probabilities, padded, pairs, D, padded, D);
        for (int64_t i = 0; i < blockRows; i++) {
            const __m512 inverse = _mm512_set1_ps(1.0f / sums[i]);
            for (int64_t c = 0; c < D; c += 16) {
                __m256bh h = _mm512_cvtneps_pbh(_mm512_mul_ps(_mm512_loadu_ps(outBlock + i * D + c), inverse));
                _mm256_storeu_si256((__m256i *)(out + (i0 + i) * outStride + c), (__m256i)h);
            }
        }
    }
}

#endif  // __x86_64__
#endif
