// One (sequence, head) of inference attention on AMX tiles: per block of 16 queries, the scores against
// every key go to an fp32 block in L1 (16 × L), their exponentials become bf16 there, and P·V is accumulated
// in tiles and normalised at the end; no score matrix leaves the block (the loop: attention_head.h). The Swift
// path (gatherHead, two oneDNN matmuls, the softmax rows) is its reference twin.
#include "attention_train.h"
#if defined(__linux__) && defined(__x86_64__)
#include "amx_tiles.h"
#include <cpuid.h>
#endif

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

/// out[16, N] = a[16, K] · b (the kernels' one product, attention_head.h): a in tile 0, b's pairs in tiles 2 and 3 by
/// turns; 64 columns in flight in tiles 4–7, then the last 32 or 16 columns with the K steps split over two
/// accumulators each (a chain of K/32 dependent products is too long to wait on), summed in fp32.
static AMX_BF16 void rows16_product_amx(float *out, int64_t ldo, const uint16_t *a, int64_t lda, const uint32_t *b,
                                        int64_t ldb, int64_t K, int64_t N) {
    const int64_t aBytes = 2 * lda, bBytes = 4 * ldb, oBytes = 4 * ldo;
    int64_t n0 = 0;
    for (; n0 + 64 <= N; n0 += 64) {
        _tile_zero(4); _tile_zero(5); _tile_zero(6); _tile_zero(7);
        for (int64_t k0 = 0; k0 < K; k0 += 32) {
            const uint32_t *bk = b + (k0 / 2) * ldb + n0;
            _tile_loadd(0, a + k0, aBytes);
            _tile_loadd(2, bk, bBytes);      _tile_dpbf16ps(4, 0, 2);
            _tile_loadd(3, bk + 16, bBytes); _tile_dpbf16ps(5, 0, 3);
            _tile_loadd(2, bk + 32, bBytes); _tile_dpbf16ps(6, 0, 2);
            _tile_loadd(3, bk + 48, bBytes); _tile_dpbf16ps(7, 0, 3);
        }
        _tile_stored(4, out + n0, oBytes); _tile_stored(5, out + n0 + 16, oBytes);
        _tile_stored(6, out + n0 + 32, oBytes); _tile_stored(7, out + n0 + 48, oBytes);
    }
    for (; n0 < N; n0 += 32) {
        const int wide = N - n0 >= 32;
        float spare[16 * 32];
        _tile_zero(4); _tile_zero(5); _tile_zero(6); _tile_zero(7);
        for (int64_t k0 = 0; k0 < K; k0 += 32) {
            const uint32_t *bk = b + (k0 / 2) * ldb + n0;
            if ((k0 / 32) & 1) {
                _tile_loadd(1, a + k0, aBytes);
                _tile_loadd(2, bk, bBytes); _tile_dpbf16ps(6, 1, 2);
                if (wide) { _tile_loadd(3, bk + 16, bBytes); _tile_dpbf16ps(7, 1, 3); }
            } else {
                _tile_loadd(0, a + k0, aBytes);
                _tile_loadd(2, bk, bBytes); _tile_dpbf16ps(4, 0, 2);
                if (wide) { _tile_loadd(3, bk + 16, bBytes); _tile_dpbf16ps(5, 0, 3); }
            }
        }
        _tile_stored(4, out + n0, oBytes);
        _tile_stored(6, spare, 4 * 32);
        if (wide) {
            _tile_stored(5, out + n0 + 16, oBytes);
            _tile_stored(7, spare + 16, 4 * 32);
        }
        for (int64_t r = 0; r < 16; r++)
            for (int64_t c = 0; c < (wide ? 32 : 16); c += 16) {
                float *o = out + r * ldo + n0 + c;
                _mm512_storeu_ps(o, _mm512_add_ps(_mm512_loadu_ps(o), _mm512_loadu_ps(spare + r * 32 + c)));
            }
    }
}

AMX_BF16 void mrc_attention_head_amx(const uint16_t *q, const uint16_t *k, const uint16_t *v, int64_t stride, int64_t rows,
                                     int64_t keys, int64_t D, float scale, const float *bias, uint16_t *out, int64_t outStride,
                                     void *scratch, const mrc_prefetch_rows *next, int64_t nextCount) {
    load_tiles();
    mrc_attention_head_blocks(q, k, v, stride, rows, keys, D, scale, bias, out, outStride, scratch, next, nextCount, rows16_product_amx);
    _tile_release();
}
AMX_BF16 void mrc_attention_train_forward_amx(const mrc_attention_train_head *head, float *out, int64_t outStride, float *stats,
                                              void *scratch) {
    load_tiles();
    mrc_attention_train_forward_blocks(head, out, outStride, stats, scratch, rows16_product_amx);
    _tile_release();
}

AMX_BF16 void mrc_attention_train_backward_amx(const mrc_attention_train_head *head, const uint16_t *dout, int64_t doutStride,
                                               const float *stats, float *dq, float *dk, float *dv, int64_t dStride,
                                               void *scratch) {
    load_tiles();
    mrc_attention_train_backward_blocks(head, dout, doutStride, stats, dq, dk, dv, dStride, scratch, rows16_product_amx);
    _tile_release();
}
#else
int mrc_has_amx_bf16(void) { return 0; }
void mrc_attention_head_amx(const uint16_t *q, const uint16_t *k, const uint16_t *v, int64_t stride, int64_t rows, int64_t keys,
                            int64_t D, float scale, const float *bias, uint16_t *out, int64_t outStride, void *scratch,
                            const mrc_prefetch_rows *next, int64_t nextCount) {
    (void)next; (void)nextCount; (void)q; (void)k; (void)v; (void)stride; (void)rows; (void)keys; (void)D; (void)scale; (void)bias; (void)out;
    (void)outStride; (void)scratch;
}
void mrc_attention_train_forward_amx(const mrc_attention_train_head *head, float *out, int64_t outStride, float *stats,
                                     void *scratch) {
    (void)head; (void)out; (void)outStride; (void)stats; (void)scratch;
}
void mrc_attention_train_backward_amx(const mrc_attention_train_head *head, const uint16_t *dout, int64_t doutStride,
                                      const float *stats, float *dq, float *dk, float *dv, int64_t dStride, void *scratch) {
    (void)head; (void)dout; (void)doutStride; (void)stats; (void)dq; (void)dk; (void)dv; (void)dStride; (void)scratch;
}
#endif
