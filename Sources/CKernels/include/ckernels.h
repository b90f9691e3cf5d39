// Kernels written with the processor's own instructions where Swift cannot reach them (AVX-512 BF16's
// vcvtneps2bf16, vscalefps), compiled per function for that instruction set and chosen at run time.
// Each has a portable Swift twin in the Kernels target, which is also its test reference.
#ifndef MRC_CKERNELS_H
#define MRC_CKERNELS_H
#include <stdint.h>

/// Whether this CPU (and OS) runs AVX-512 F/BW/VL with BF16: the kernels below need it.
int mrc_has_avx512_bf16(void);

/// One softmax row of `scores (+ bias)` (cols values; bias NULL or [cols]) written as bf16 (rounded to
/// nearest even) into `out`. `scores` is scratch: it holds the exponentials afterwards. e^x: Cody–Waite
/// reduction and a degree-5 polynomial with fused multiply-adds (relative error ≤ 3.6e-6, against the
/// Swift twin's 1.2e-7 — far below bf16's 2⁻⁹), 0 below −87.3. The rounding is the hardware's
/// vcvtneps2bf16, which reads a denormal probability (< 2⁻¹²⁶) as 0.
/// Needs mrc_has_avx512_bf16().
void mrc_softmax_row_bf16(float *scores, const float *bias, int64_t cols, uint16_t *out);

#endif
