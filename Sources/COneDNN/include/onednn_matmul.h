// A small C face of oneDNN's matmul primitive for the Swift kernels (describe once, execute many).
// Row-major C = alpha · op(A) · op(B) (+ bias) (+ C when accumulating), then an optional epilogue on the
// output tile while it is hot (GELU, or + a residual matrix): f32, bf16 or s8 inputs with f32, bf16, s8 or
// s32 output. int8 products take per-column output scales and a scale after the epilogue (static
// quantisation: C = post_scale · ε(scales[j] · (A·B + bias)), saturated to s8 when C is s8).
#ifndef MRC_ONEDNN_MATMUL_H
#define MRC_ONEDNN_MATMUL_H
#include <stddef.h>
#include <stdint.h>

typedef enum { MRC_F32 = 0, MRC_BF16 = 1, MRC_S8 = 2, MRC_S32 = 3 } mrc_dtype;

/// What runs on the output after the bias, before it is stored.
typedef enum {
    MRC_EPILOGUE_NONE = 0,
    MRC_EPILOGUE_GELU = 1,      // gelu(x) = x · Φ(x), the erf form
    MRC_EPILOGUE_RESIDUAL = 2   // + an f32 [m, n] matrix (row stride ldr), passed at execution
} mrc_epilogue;

/// A weight layout chosen by oneDNN for the bf16 or s8 matmuls with a k × n right operand (a linear layer's
/// weight [n, k], used transposed): blocked the way the fastest kernel here reads it (AMX, AVX-512 BF16,
/// VNNI; for s8 with the compensation oneDNN's s8 × s8 kernels add).
typedef struct mrc_packed_layout mrc_packed_layout;

typedef struct {
    int64_t m, n, k;          // op(A) is m × k, op(B) is k × n, C is m × n
    int64_t lda, ldb, ldc;    // row strides of the stored matrices
    int trans_a, trans_b;     // the stored matrix is the transpose of op(·)
    mrc_dtype a_type, b_type, c_type;
    int accumulate;           // C += result (a sum post-op) instead of C = result
    float alpha;              // constant output scale (1 for none)
    int has_bias;             // f32 bias [n] added to every row
    mrc_epilogue epilogue;    // not with accumulate
    int64_t ldr;              // row stride of the residual (MRC_EPILOGUE_RESIDUAL)
    const mrc_packed_layout *packed_b;  // B is stored in this layout (ldb, trans_b unused), or NULL
    const float *scales;      // n per-column output scales, applied to A·B + bias (int8), or NULL; copied
    float post_scale;         // multiplies the result after the epilogue (1 for none; 0 reads as 1)
} mrc_matmul_desc;

typedef struct mrc_matmul mrc_matmul;

/// The matmul for `desc`, or NULL with a message in `error` (the combination is unsupported here).
mrc_matmul *mrc_matmul_create(const mrc_matmul_desc *desc, char *error, size_t error_length);
/// Runs it on the calling thread's stream with `threads` OpenMP threads; 0 on success. `residual` is the
/// epilogue's matrix (NULL without MRC_EPILOGUE_RESIDUAL).
int mrc_matmul_execute(const mrc_matmul *matmul, const void *a, const void *b, const float *bias, const float *residual,
                       void *c, int threads);
/// oneDNN's name of the implementation chosen (e.g. "brg:avx512_core_amx_bf16").
const char *mrc_matmul_implementation(const mrc_matmul *matmul);
void mrc_matmul_destroy(mrc_matmul *matmul);

/// The layout oneDNN's matmul with `type` operands (MRC_BF16, or MRC_S8 with s8 sources) prefers for a k × n
/// right operand (asked with m_hint rows), or NULL with a message in `error`.
mrc_packed_layout *mrc_packed_layout_create(int64_t k, int64_t n, int64_t m_hint, mrc_dtype type, char *error,
                                            size_t error_length);
/// Bytes of one matrix in the layout.
size_t mrc_packed_layout_bytes(const mrc_packed_layout *layout);
/// Whether the layout is a plain row-major or column-major one (packing would be a copy).
int mrc_packed_layout_is_plain(const mrc_packed_layout *layout);
/// Reorders the weight `w` [n, k] (row stride ldw, the layout's type) into `packed` (mrc_packed_layout_bytes);
/// 0 on success.
int mrc_pack_weights(const mrc_packed_layout *layout, const void *w, int64_t ldw, void *packed);
void mrc_packed_layout_destroy(mrc_packed_layout *layout);

/// The instruction set oneDNN dispatches to ("avx512_core_amx", "avx512_core_bf16", ...).
const char *mrc_onednn_isa(void);
/// Caps the instruction set (before the first primitive; "AVX2", "AVX512_CORE", "AVX512_CORE_BF16", ...);
/// 0 on success.
int mrc_onednn_set_max_isa(const char *name);
/// oneDNN's version as "major.minor.patch".
const char *mrc_onednn_version(void);
/// Asks Linux for the AMX tile-data permission (oneDNN 2.x needs it granted to use AMX); 0 if granted.
int mrc_request_amx(void);

#endif
