// The processor's bf16 dot-product peak, measured rather than looked up: independent products on registers (or
// tiles) only, nothing read from memory in the loop. `mrc-bench engine` runs it on every worker beside the bf16
// matmul rate, so that rate and the forward's can be read as fractions of what the unit does at best. Each loop
// multiplies pairs of ones, so its accumulators end on an exact count the caller checks (the products ran).
#include "ckernels.h"

#if defined(__x86_64__)
#include "exp512.h"
#include "amx_tiles.h"

/// The same product on every accumulator of a round (a statement each, so the list below reads as the loop does).
#define DOT(acc) acc = _mm512_dpbf16_ps(acc, ones, ones)

AVX512_BF16 double mrc_bf16_peak_avx512(int64_t iterations) {
    if (!mrc_has_avx512_bf16()) return -1;
    // Sixteen chains: enough to cover vdpbf16ps's latency on two pipes (Zen 4/5, Sapphire Rapids and later).
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0,
           a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;
    const __m512bh ones = (__m512bh)_mm512_set1_epi16((short)0x3F80);  // bf16 1.0 in every half
    for (int64_t i = 0; i < iterations; i++) {
        DOT(a0); DOT(a1); DOT(a2); DOT(a3); DOT(a4); DOT(a5); DOT(a6); DOT(a7);
        DOT(a8); DOT(a9); DOT(a10); DOT(a11); DOT(a12); DOT(a13); DOT(a14); DOT(a15);
        // The accumulators stay in registers and every round happens (the compiler may not fold the loop).
        __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5), "+v"(a6), "+v"(a7), "+v"(a8),
                         "+v"(a9), "+v"(a10), "+v"(a11), "+v"(a12), "+v"(a13), "+v"(a14), "+v"(a15));
    }
    // Every lane of every accumulator holds 2 · iterations: exact in fp32 up to 2²⁴, summed in double.
    const __m512 all[16] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15};
    float lanes[16];
    double total = 0;
    for (int a = 0; a < 16; a++) {
        _mm512_storeu_ps(lanes, all[a]);
        for (int l = 0; l < 16; l++) total += lanes[l];
    }
    return total;
}

AMX_BF16 double mrc_bf16_peak_amx(int64_t iterations) {
    if (!mrc_has_amx_bf16()) return -1;
    load_tiles();
    uint16_t ones[16 * 32];
    for (int i = 0; i < 16 * 32; i++) ones[i] = 0x3F80;
    _tile_loadd(6, ones, 64);
    _tile_loadd(7, ones, 64);
    _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3); _tile_zero(4); _tile_zero(5);
    // Six accumulators in turn: each product waits on its tile's previous one, so the chains must cover its latency.
    for (int64_t i = 0; i < iterations; i++) {
        _tile_dpbf16ps(0, 6, 7); _tile_dpbf16ps(1, 6, 7); _tile_dpbf16ps(2, 6, 7);
        _tile_dpbf16ps(3, 6, 7); _tile_dpbf16ps(4, 6, 7); _tile_dpbf16ps(5, 6, 7);
    }
    float tile[16 * 16];
    double total = 0;
#define ADD_TILE(t)                                              \
    _tile_stored(t, tile, 64);                                   \
    for (int e = 0; e < 16 * 16; e++) total += tile[e];
    ADD_TILE(0) ADD_TILE(1) ADD_TILE(2) ADD_TILE(3) ADD_TILE(4) ADD_TILE(5)
#undef ADD_TILE
    _tile_release();
    return total;
}
#else
double mrc_bf16_peak_avx512(int64_t iterations) { (void)iterations; return -1; }
double mrc_bf16_peak_amx(int64_t iterations) { (void)iterations; return -1; }
#endif
