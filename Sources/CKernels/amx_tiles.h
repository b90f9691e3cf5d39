// What the kernels that use AMX tiles share (attention_amx.c, dot_peak.c; not part of the target's public header): the
// instruction sets their functions are compiled for, and the one tile shape they use.
#ifndef MRC_AMX_TILES_H
#define MRC_AMX_TILES_H
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define AMX_BF16 __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma,prfchw")))

/// The tile configuration (AMX's palette 1).
typedef struct {
    uint8_t palette;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

/// Palette 1, every tile 16 rows of 64 bytes.
static AMX_BF16 void load_tiles(void) {
    tile_config config;
    memset(&config, 0, sizeof config);
    config.palette = 1;
    for (int t = 0; t < 8; t++) { config.rows[t] = 16; config.colsb[t] = 64; }
    _tile_loadconfig(&config);
}

#endif
