// Kernels written with the processor's own instructions where Swift cannot reach them (AVX-512 BF16's
// vcvtneps2bf16, vscalefps), compiled per function for that instruction set and chosen at run time.
// Each has a portable Swift twin in the Kernels target, which is also its test reference.
#ifndef MRC_CKERNELS_H
#define MRC_CKERNELS_H
#include <stdint.h>

/// Whether this CPU (and OS) runs AVX-512 F/BW/VL with BF16: the kernels below need it.
int mrc_has_avx512_bf16(void);

/// One softmax row of `scores (+ bias)` (cols values; bias NULL or [cols]) written as bf16 (rounded to
/// nearest even) into `out`. `scores` is scratch: it holds the exponentials afterwards. e^(x − max) as
/// 2^((x − max) · log₂e) with a degree-4 minimax polynomial (relative error ≤ 2.7e-6 + 1.24e-7 · |x − max| ·
/// log₂e, against the Swift twin's 1.2e-7 — far below bf16's 2⁻⁸). The rounding is the hardware's
/// vcvtneps2bf16, which reads a denormal probability (< 2⁻¹²⁶) as 0.
/// Needs mrc_has_avx512_bf16().
void mrc_softmax_row_bf16(float *scores, const float *bias, int64_t cols, uint16_t *out);

/// A [rows, cols] block of fp32 (row stride `stride` elements, `out` likewise) rounded to bf16 (nearest even; the
/// hardware reads a denormal as 0), and unless `sums` is NULL, sums[c] += inp[r][c] for r = 0, 1, … in that order.
/// Twin: `convertToBF16` and `columnSumAccumulate`. Needs mrc_has_avx512_bf16().
void mrc_round_rows_bf16(const float *inp, int64_t stride, int64_t rows, int64_t cols, uint16_t *out, float *sums);

/// memcpy with non-temporal stores (the destination's lines are written without being read into the cache first):
/// for a copy into memory the program will not read again soon. Ordered before later stores (sfence).
void mrc_copy_streaming(void *dst, const void *src, int64_t bytes);

/// bf16(gelu(x)) of `count` fp32 inputs, GELU exact (erf) to |error| ≤ 1.5e-6·|x| before the rounding (Φ through one
/// exponential: Abramowitz & Stegun 7.1.26 and the e^x of `mrc_softmax_row_bf16`), rounded to nearest even.
/// Twin: `geluForward` then `convertToBF16`. Needs mrc_has_avx512_bf16().
/// With `inputCopy` not NULL, the inputs are copied there too, past the cache where aligned (non-temporal stores).
void mrc_gelu_forward_bf16(const float *inp, int64_t count, uint16_t *out, float *inputCopy);

/// GELU backward into the next matmul's bf16 operand: for a [rows, cols] block (row stride `stride` elements in all
/// three matrices) d = dout · gelu'(inp) in fp32 (|error| ≤ 2.5e-6·|dout| before the rounding), `dinp` = bf16(d), and,
/// unless `dbias` is NULL, dbias[c] += d[r][c] for r = 0, 1, … in that order (the bias gradient of the matmul whose
/// output `inp` was). Twin: `geluBackward`, `convertToBF16`, `columnSumAccumulate`. Needs mrc_has_avx512_bf16().
void mrc_gelu_backward_bf16(const float *dout, const float *inp, int64_t stride, int64_t rows, int64_t cols,
                            uint16_t *dinp, float *dbias);

/// Whether this CPU has AMX-TILE and AMX-BF16 with AVX-512 BF16 and the OS saves the tile state. Linux also
/// wants the process to ask for the tile data (ARCH_REQ_XCOMP_PERM): the oneDNN face asks once
/// (`mrc_request_amx`), before oneDNN reports AMX, which `AttentionAMX.runs` requires too.
int mrc_has_amx_bf16(void);

/// Rows a worker's next head will read or write, which the attention kernels prefetch as the current head runs (16 of
/// them per block of 16 queries; read rows into L2): `rows` rows of `bytes` bytes, `stride` bytes apart from `base`;
/// `write`: fetched for writing. A head's rows lie a q|k|v row apart (kilobytes), a stride the hardware prefetchers do not run ahead on.
typedef struct {
    const void *base;
    int64_t stride, bytes, rows;
    int32_t write;
} mrc_prefetch_rows;

/// Bytes of scratch one `mrc_attention_head_amx` or `mrc_attention_head_avx512` call needs (64-byte aligned inside).
int64_t mrc_attention_head_scratch_bytes(int64_t keys, int64_t headSize);

/// One (sequence, head) of inference attention on AMX tiles, with no score matrix written out: `rows` queries
/// q (row stride `stride` elements) against the first `keys` keys k and values v (same stride), head size
/// `headSize` (32 or 64). For 16 queries at a time: scores = q·kᵀ · scale (+ bias, NULL or [keys]) in fp32, then
/// e^(score − row max) rounded to bf16 (the e^x of `mrc_softmax_row_bf16`) with its fp32 row sum, then P·v
/// accumulated in fp32, divided by the row sum (the normalisation deferred to the output, as in flash
/// attention) and stored as bf16 into `out` (row stride `outStride`). `next`: `nextCount` streams of rows (the head the
/// caller runs next) prefetched as this one runs, with no effect on the result. Needs mrc_has_amx_bf16().
void mrc_attention_head_amx(const uint16_t *q, const uint16_t *k, const uint16_t *v, int64_t stride, int64_t rows,
                            int64_t keys, int64_t headSize, float scale, const float *bias, uint16_t *out,
                            int64_t outStride, void *scratch, const mrc_prefetch_rows *next, int64_t nextCount);

/// `mrc_attention_head_amx` with its two products in AVX-512 BF16 (vdpbf16ps) instead of AMX tiles: the same
/// layouts, softmax rows and normalisation. Needs mrc_has_avx512_bf16().
void mrc_attention_head_avx512(const uint16_t *q, const uint16_t *k, const uint16_t *v, int64_t stride, int64_t rows,
                               int64_t keys, int64_t headSize, float scale, const float *bias, uint16_t *out,
                               int64_t outStride, void *scratch, const mrc_prefetch_rows *next, int64_t nextCount);

/// The dropout of a fused training attention: the keys and threshold of Kernels/Dropout.swift's hash
/// (`Dropout.keys`, `.dropThreshold`) and its keep scale 1/(1 − p).
typedef struct {
    uint32_t k1, k2, threshold;
    float keepScale;
} mrc_dropout_keys;

/// One (sequence, head) of the fused training attention: the head's q, k, v columns of a bf16 q|k|v (row stride
/// `stride` elements), `rows` queries against the first `keys` keys, head size 32 or 64, the score scale, the key
/// bias (NULL or [keys]: 0 or −∞-like at interior padding), the dropout (NULL: none), the dropout mask index of
/// element (0, 0) of the head's [rows, rows] probabilities (element (i, j) is maskStart + i·rows + j), and the kept
/// lanes of the mask, 16 probabilities per uint16 (`maskStride` of them per query row, ≥ ⌈keys / 32⌉ · 2): the
/// forward writes them, the backward reads them instead of hashing again (NULL without dropout). `next`: `nextCount`
/// streams of rows of the worker's next head, prefetched block by block (NULL and 0 for none).
typedef struct {
    const uint16_t *q, *k, *v;
    int64_t stride, rows, keys, headSize;
    float scale;
    const float *bias;
    const mrc_dropout_keys *dropout;
    uint32_t maskStart;
    uint16_t *keptMasks;
    int64_t maskStride;
    const mrc_prefetch_rows *next;
    int64_t nextCount;
} mrc_attention_train_head;

/// Bytes of scratch one training forward or backward call needs (64-byte aligned inside).
int64_t mrc_attention_train_scratch_bytes(int64_t rows, int64_t keys, int64_t headSize);

/// Training forward of one head: per query, scores = q·kᵀ · scale (+ bias) with bf16 products and fp32 sums, the
/// softmax in fp32 (e^x of `mrc_softmax_row_bf16`), the dropout, the probabilities rounded to bf16, the context
/// P·v in fp32 into `out` (row stride `outStride`). `stats` [rows, 2] gets each row's score maximum and 1/sum, all
/// the backward needs to recompute the probabilities. The _amx kernel needs mrc_has_amx_bf16(), the _avx512 one
/// mrc_has_avx512_bf16().
void mrc_attention_train_forward_amx(const mrc_attention_train_head *head, float *out, int64_t outStride, float *stats,
                                     void *scratch);
void mrc_attention_train_forward_avx512(const mrc_attention_train_head *head, float *out, int64_t outStride, float *stats,
                                        void *scratch);

/// Training backward of one head, from the output gradient `dout` (bf16, row stride `doutStride`) and the forward's
/// `stats`: the probabilities recomputed, dS = P ⊙ (dP − Σ P·dP) through the dropout, and scale·dS·k, scale·dSᵀ·q,
/// Pᵀ·dout (bf16 products, fp32 sums) written into dq, dk, dv (fp32, row stride `dStride`; the `rows` rows of each,
/// zeros in dk and dv past the keys): the head's gradient, not added to what was there.
void mrc_attention_train_backward_amx(const mrc_attention_train_head *head, const uint16_t *dout, int64_t doutStride,
                                      const float *stats, float *dq, float *dk, float *dv, int64_t dStride, void *scratch);
void mrc_attention_train_backward_avx512(const mrc_attention_train_head *head, const uint16_t *dout, int64_t doutStride,
                                         const float *stats, float *dq, float *dk, float *dv, int64_t dStride, void *scratch);

/// A chunk of a `mrc_pool_run`: task(context, chunk).
typedef void (*mrc_pool_task)(void *context, int64_t chunk);
/// A fork-join pool of `workers` threads counting the caller (`workers` − 1 threads of its own, which spin for 200 µs
/// after each run, then sleep). NULL if it could not start (workers < 2 or > 64, or no threads). Never destroyed.
typedef struct mrc_pool mrc_pool;
mrc_pool *mrc_pool_create(int workers);
/// Runs task(context, c) for c in 0..<chunks on `pool`: chunk 0 on the caller, chunk k on worker k (always the same
/// thread), and returns 0 when all are done; every worker answers every run, chunk or not. Returns −1 without running
/// anything when the pool is NULL, smaller than `chunks`, or running another caller's chunks (nested or concurrent
/// use): the caller runs them another way.
int mrc_pool_run_on(mrc_pool *pool, int64_t chunks, mrc_pool_task task, void *context);
/// Starts the process's pool for the kernels once (`mrc_pool_create`). Returns its size, 0 if it could not start.
int mrc_pool_start(int workers);
/// `mrc_pool_run_on` the process's pool (−1 before `mrc_pool_start`, and in a forked child).
int mrc_pool_run(int64_t chunks, mrc_pool_task task, void *context);
/// Moves the calling thread off `cpu` where its affinity allows another CPU (Linux): its mask without `cpu`, which
/// migrates it at once, then its own mask again. Returns 1 if it moved, 0 if it did not (not on `cpu`, no other CPU in
/// its mask, another OS), −1 if it moved but its own mask could not be set again (it stays off `cpu`). A pool worker that finds itself on its caller's CPU at the start of a run does this when the pool has no more
/// threads than the process has CPUs: the wake-up of a sleeping worker can place it beside its waker, and two threads
/// of one run then take turns on one core (a kernel timed so ran at 0.4× its rate) until the scheduler parts them.
int mrc_move_off_cpu(int cpu);
/// The CPU the calling thread runs on (Linux's sched_getcpu), −1 where unknown.
int mrc_current_cpu(void);
/// How many CPUs the calling thread's affinity mask allows (Linux), −1 where unknown.
int mrc_allowed_cpus(void);

/// The bf16 dot-product peak of one core, measured (`mrc-bench engine` runs it on every worker): `iterations` rounds
/// of 16 independent vdpbf16ps on registers (1,024 FLOP a round; iterations ≤ 2²³), or of 6 independent AMX
/// tdpbf16ps on tiles (98,304 FLOP a round; iterations ≤ 2¹⁹), every product of ones. Returns the sum of every
/// accumulator, exact: 512 · iterations, or 49,152 · iterations on AMX (the products ran); −1 without the unit.
/// The AMX loop also needs Linux's tile permission, which oneDNN asks for where it dispatches AMX (without it the first
/// tile instruction stops the process: `BF16PeakUnit.run` runs it only where oneDNN dispatches AMX).
double mrc_bf16_peak_avx512(int64_t iterations);
double mrc_bf16_peak_amx(int64_t iterations);

#endif
