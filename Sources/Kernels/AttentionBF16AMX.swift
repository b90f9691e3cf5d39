import CKernels
import Foundation

/// The fused inference attention on AMX tiles (`mrc_attention_head_amx`): per (sequence, head), 16 queries at a
/// time, the scores of a block stay in an fp32 block in L1, their softmax is rounded to bf16 there and P·v is
/// accumulated in tiles. q is read in place from q|k|v; k and v are laid out once per head as AMX's operands.
/// The products are those of the oneDNN path (bf16 inputs, fp32 accumulation, the scale as one multiplication);
/// the softmax row is the same C row (`mrc_softmax_row_scaled_bf16`). That path (`attentionForwardBF16(out16:…)`
/// without AMX: gathered heads, two oneDNN matmuls, the rows) is its reference twin.
public enum AttentionAMX {
    /// Turns the fused attention off (it is on wherever it runs): for before/after benchmarks (`MRC_ATTENTION_AMX=0`).
    nonisolated(unsafe) public static var enabled = ProcessInfo.processInfo.environment["MRC_ATTENTION_AMX"] != "0"
    /// Whether the AMX kernel may run; off, an AMX machine runs the AVX-512 BF16 one (`MRC_ATTENTION_AMX=avx512`: to
    /// test and time it there).
    nonisolated(unsafe) public static var tiles = ProcessInfo.processInfo.environment["MRC_ATTENTION_AMX"] != "avx512"

    /// Whether the fused inference attention of heads of size `headSize` runs on AMX tiles here: the CPU has
    /// AMX-BF16, oneDNN is the backend and dispatches AMX itself (after `OneDNN` asked Linux for the tile
    /// permission; `MRC_ONEDNN_MAX_ISA` below AVX512_CORE_AMX turns this kernel off too), and the head size is
    /// 32 or 64.
    public static func runs(headSize: Int) -> Bool {
        enabled && tiles && (headSize == 32 || headSize == 64) && LowPrecision.backend == .onednn
            && OneDNN.isa == "avx512_core_amx" && amxAvailable
    }

    private static let amxAvailable = mrc_has_amx_bf16() != 0

    /// Whether, where AMX does not run, the same kernel runs its products on AVX-512 BF16 (`mrc_attention_head_avx512`:
    /// Zen 4/5, or capped at AVX512_CORE_BF16): the CPU has it, the cap allows it (as for the softmax rows), oneDNN
    /// is the backend and the head size is 32 or 64. `MRC_ATTENTION_AMX=0` turns it off too.
    public static func runsOnAVX512(headSize: Int) -> Bool {
        enabled && (headSize == 32 || headSize == 64) && softmaxRowsUseAVX512BF16 && !runs(headSize: headSize)
    }
}

/// The fused layer's attention on AMX or AVX-512 BF16 (see `AttentionAMX`): same arguments and result layout as
/// `attentionForwardBF16(out16:qkv16:…)`, which calls it where `AttentionAMX.runs(headSize:)` or
/// `.runsOnAVX512(headSize:)`.
func attentionBF16Fused(out16: BF16Buffer, qkv16: ConstBF16Buffer, plan: AttentionPlan) {
    let kernel = AttentionAMX.runs(headSize: plan.D) ? mrc_attention_head_amx : mrc_attention_head_avx512
    let (T, C, D) = (plan.T, plan.C, plan.D)
    let scratchBytes = Int(mrc_attention_head_scratch_bytes(Int64(T), Int64(D)))
    let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(1, plan.chunks * scratchBytes), alignment: 64)
    let prefetch = AttentionPrefetch(plan, qkv16: qkv16, .inference(out16))
    defer { scratch.deallocate(); prefetch.deallocate() }
    parallelChunks(count: plan.pairs, minimumWork: 2) { chunk, pairRange in
        let headScratch = scratch + chunk * scratchBytes
        for pair in pairRange {
            let (b, L, qOffset, outOffset) = plan.head(pair)
            let bias = plan.mask.hasInteriorPadding[b] ? UnsafePointer(plan.mask.bias + b * T) : nil
            let q = qkv16 + qOffset
            prefetch.withNext(chunk: chunk, after: pair, in: pairRange) { next, nextCount in
                kernel(q, q + C, q + 2 * C, Int64(3 * C), Int64(T), Int64(L), Int64(D), plan.scale, bias, out16 + outOffset,
                       Int64(C), headScratch, next, nextCount)
            }
        }
    }
}
