// One (sequence, head) of inference attention on AMX tiles: per block of 16 queries, the scores against
// every key go to an fp32 block in L1 (16 × L), their exponentials become bf16 there, and P·V is accumulated
// in tiles and normalised at the end; no score matrix leaves the block. The Swift path (gatherHead, two
// oneDNN matmuls, the softmax rows) is its reference twin.
#include "ckernels.h"
#include "exp512.h"
#include <math.h>
#include <string.h>
#if defined(__linux__) && defined(__x86_64__)
#include <cpuid.h>
#endif

#define AMX_BF16 __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma")))

#if defined(__linux__) && defined(__x86_64__)
int mrc_has_amx_bf16(void) {
    static int state = -1;  // computed once; a racing second computation gets the same answer
    if (state >= 0) return state;
    unsigned a, b, c, d;
    int ok = mrc_has_avx512_bf16() && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (d & (1u << 22)) && (d & (1u << 24));
    if (ok) {  // the OS saves the tile state (XCR0 bits 17, 18)
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        ok = (lo & (3u << 17)) == (3u << 17);
    }
    state = ok;
    return state;
}

/// The tile configuration: palette 1, every tile 16 rows of 64 bytes.
typedef struct {
    uint8_t palette;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

int64_t mrc_attention_head_amx_scratch_bytes(int64_t keys, int64_t headSize) {
    int64_t padded = (keys + 31) / 32 * 32;
    // kᵀ as dword pairs [D/2, Lp], v as key pairs [Lp/2, D], scores [16, Lp] fp32, probabilities [16, Lp] bf16,
    // the padded q block [16, D] bf16, two output blocks [16, D] fp32, the row sums [16]; + 64 for alignment.
    return 4 * (headSize / 2) * padded + 4 * (padded / 2) * headSize + 4 * 16 * padded + 2 * 16 * padded + 2 * 16 * headSize +
           2 * 4 * 16 * headSize + 4 * 16 + 64;
}

/// Interleaves key rows 2j and 2j+1 of v into the pairs AMX multiplies ([Lp/2, D] dwords: (v[2j][d], v[2j+1][d])).
static AMX_BF16 void pair_values(uint32_t *pairs, const uint16_t *v, int64_t stride, int64_t keys, int64_t padded, int64_t D) {
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

/// kᵀ as AMX's B operand of q·kᵀ: row r holds dword r (dims 2r, 2r+1) of every key ([D/2, Lp], 0 past `keys`).
static void transpose_keys(uint32_t *kt, const uint16_t *k, int64_t stride, int64_t keys, int64_t padded, int64_t D) {
    for (int64_t n = 0; n < keys; n++) {
        const uint32_t *row = (const uint32_t *)(k + n * stride);
        for (int64_t r = 0; r < D / 2; r++) kt[r * padded + n] = row[r];
    }
    for (int64_t r = 0; r < D / 2; r++) memset(kt + r * padded + keys, 0, 4 * (size_t)(padded - keys));
}

/// One row of probabilities before normalisation: v = s·scale (+ bias) over `cols` scores (kept in `x`), then
/// e^(v − max) rounded to bf16 into `out` (zeros up to `padded`); returns the fp32 sum of the unrounded values.
/// Two passes: v and its maximum, then the exponentials (the e^x of `mrc_softmax_row_bf16`), their sum and rounding.
static AMX_BF16 float exp_row_bf16(float *x, float scale, const float *bias, int64_t cols, int64_t padded, uint16_t *out) {
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

/// scores[16, padded] = q block · kᵀ: q in tile 0 (dims 0–31) and 1 (32–63); keys in tiles 2 and 3 by turns;
/// four 16 × 16 accumulators (tiles 4–7) in flight, so the products overlap instead of waiting on each other.
static AMX_BF16 void score_block(float *scores, const uint32_t *kt, int64_t padded, int64_t D) {
    const int64_t bytes = 4 * padded;
    const uint32_t *kt2 = kt + 16 * padded;
    int64_t n0 = 0;
    for (; n0 + 64 <= padded; n0 += 64) {
        _tile_zero(4); _tile_zero(5); _tile_zero(6); _tile_zero(7);
        _tile_loadd(2, kt + n0, bytes);      _tile_dpbf16ps(4, 0, 2);
        _tile_loadd(3, kt + n0 + 16, bytes); _tile_dpbf16ps(5, 0, 3);
        _tile_loadd(2, kt + n0 + 32, bytes); _tile_dpbf16ps(6, 0, 2);
        _tile_loadd(3, kt + n0 + 48, bytes); _tile_dpbf16ps(7, 0, 3);
        if (D == 64) {
            _tile_loadd(2, kt2 + n0, bytes);      _tile_dpbf16ps(4, 1, 2);
            _tile_loadd(3, kt2 + n0 + 16, bytes); _tile_dpbf16ps(5, 1, 3);
            _tile_loadd(2, kt2 + n0 + 32, bytes); _tile_dpbf16ps(6, 1, 2);
            _tile_loadd(3, kt2 + n0 + 48, bytes); _tile_dpbf16ps(7, 1, 3);
        }
        _tile_stored(4, scores + n0, bytes); _tile_stored(5, scores + n0 + 16, bytes);
        _tile_stored(6, scores + n0 + 32, bytes); _tile_stored(7, scores + n0 + 48, bytes);
    }
    if (n0 < padded) {  // the last 32 keys
        _tile_zero(4); _tile_zero(5);
        _tile_loadd(2, kt + n0, bytes);      _tile_dpbf16ps(4, 0, 2);
        _tile_loadd(3, kt + n0 + 16, bytes); _tile_dpbf16ps(5, 0, 3);
        if (D == 64) {
            _tile_loadd(2, kt2 + n0, bytes);      _tile_dpbf16ps(4, 1, 2);
            _tile_loadd(3, kt2 + n0 + 16, bytes); _tile_dpbf16ps(5, 1, 3);
        }
        _tile_stored(4, scores + n0, bytes); _tile_stored(5, scores + n0 + 16, bytes);
    }
}

/// out[16, D] = P block · v, P in tiles 0 and 1 (32 keys each, by turns), v's pairs in tiles 2 and 3. D = 64: the
/// four 16-dim column blocks accumulate in tiles 4–7. D = 32: tiles 4, 5 take the even 32-key steps and 6, 7 the
/// odd ones (two chains in flight), added in fp32 into `out` at the end (`spare` holds the second half).
static AMX_BF16 void value_block(float *out, float *spare, const uint16_t *probabilities, const uint32_t *pairs,
                                 int64_t padded, int64_t D) {
    const int64_t pBytes = 2 * padded, vBytes = 4 * D;
    _tile_zero(4); _tile_zero(5); _tile_zero(6); _tile_zero(7);
    if (D == 64) {
        for (int64_t kk = 0; kk < padded; kk += 32) {
            const uint32_t *block = pairs + (kk / 2) * D;
            _tile_loadd(0, probabilities + kk, pBytes);
            _tile_loadd(2, block, vBytes);      _tile_dpbf16ps(4, 0, 2);
            _tile_loadd(3, block + 16, vBytes); _tile_dpbf16ps(5, 0, 3);
            _tile_loadd(2, block + 32, vBytes); _tile_dpbf16ps(6, 0, 2);
            _tile_loadd(3, block + 48, vBytes); _tile_dpbf16ps(7, 0, 3);
        }
        _tile_stored(4, out, vBytes); _tile_stored(5, out + 16, vBytes);
        _tile_stored(6, out + 32, vBytes); _tile_stored(7, out + 48, vBytes);
        return;
    }
    int64_t kk = 0;
    for (; kk + 64 <= padded; kk += 64) {
        const uint32_t *block = pairs + (kk / 2) * D;
        _tile_loadd(0, probabilities + kk, pBytes);
        _tile_loadd(2, block, vBytes);      _tile_dpbf16ps(4, 0, 2);
        _tile_loadd(3, block + 16, vBytes); _tile_dpbf16ps(5, 0, 3);
        _tile_loadd(1, probabilities + kk + 32, pBytes);
        _tile_loadd(2, block + 16 * D, vBytes);      _tile_dpbf16ps(6, 1, 2);
        _tile_loadd(3, block + 16 * D + 16, vBytes); _tile_dpbf16ps(7, 1, 3);
    }
    if (kk < padded) {
        const uint32_t *block = pairs + (kk / 2) * D;
        _tile_loadd(0, probabilities + kk, pBytes);
        _tile_loadd(2, block, vBytes);      _tile_dpbf16ps(4, 0, 2);
        _tile_loadd(3, block + 16, vBytes); _tile_dpbf16ps(5, 0, 3);
    }
    _tile_stored(4, out, vBytes); _tile_stored(5, out + 16, vBytes);
    _tile_stored(6, spare, vBytes); _tile_stored(7, spare + 16, vBytes);
    for (int64_t i = 0; i < 16 * 32; i += 16)
        _mm512_storeu_ps(out + i, _mm512_add_ps(_mm512_loadu_ps(out + i), _mm512_loadu_ps(spare + i)));
}

AMX_BF16 void mrc_attention_head_amx(const uint16_t *q, const uint16_t *k, const uint16_t *v, int64_t stride, int64_t rows,
                                     int64_t keys, int64_t D, float scale, const float *bias, uint16_t *out, int64_t outStride,
                                     void *scratch) {
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

    tile_config config;
    memset(&config, 0, sizeof config);
    config.palette = 1;
    for (int t = 0; t < 8; t++) { config.rows[t] = 16; config.colsb[t] = 64; }
    _tile_loadconfig(&config);
    for (int64_t i0 = 0; i0 < rows; i0 += 16) {
        const int64_t blockRows = rows - i0 < 16 ? rows - i0 : 16;
        const uint16_t *qRows = q + i0 * stride;
        int64_t qBytes = 2 * stride;
        if (blockRows < 16) {  // the last, partial block: its q rows copied, zeros below
            memset(qBlock, 0, 2 * 16 * (size_t)D);
            for (int64_t i = 0; i < blockRows; i++) memcpy(qBlock + i * D, qRows + i * stride, 2 * (size_t)D);
            qRows = qBlock;
            qBytes = 2 * D;
        }
        _tile_loadd(0, qRows, qBytes);
        if (D == 64) _tile_loadd(1, qRows + 32, qBytes);
        score_block(scores, kt, padded, D);
        for (int64_t i = 0; i < blockRows; i++)
            sums[i] = exp_row_bf16(scores + i * padded, scale, bias, keys, padded, probabilities + i * padded);
        // The rows under a partial block's last query multiply to outputs nobody reads: zeros, not stale values.
        if (blockRows < 16) memset(probabilities + blockRows * padded, 0, 2 * (size_t)((16 - blockRows) * padded));
        value_block(outBlock, spare, probabilities, pairs, padded, D);
        for (int64_t i = 0; i < blockRows; i++) {
            const __m512 inverse = _mm512_set1_ps(1.0f / sums[i]);
            for (int64_t c = 0; c < D; c += 16) {
                __m256bh h = _mm512_cvtneps_pbh(_mm512_mul_ps(_mm512_loadu_ps(outBlock + i * D + c), inverse));
                _mm256_storeu_si256((__m256i *)(out + (i0 + i) * outStride + c), (__m256i)h);
            }
        }
    }
    _tile_release();
}
#else
int mrc_has_amx_bf16(void) { return 0; }
int64_t mrc_attention_head_amx_scratch_bytes(int64_t keys, int64_t headSize) { (void)keys; (void)headSize; return 0; }
void mrc_attention_head_amx(const uint16_t *q, const uint16_t *k, const uint16_t *v, int64_t stride, int64_t rows, int64_t keys,
                            int64_t D, float scale, const float *bias, uint16_t *out, int64_t outStride, void *scratch) {
    (void)q; (void)k; (void)v; (void)stride; (void)rows; (void)keys; (void)D; (void)scale; (void)bias; (void)out;
    (void)outStride; (void)scratch;
}
#endif
