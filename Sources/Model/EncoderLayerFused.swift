import Kernels

/// The buffers that carry one inference forward through the fused bf16 or static int8 layers (views of the
/// low-precision scratch, which an inference forward does not otherwise use this way):
/// - `hidden` [N, C] bf16: in turn the layer input, the attention context, LayerNorm 1's output and the layer
///   output, each the input of the next matmul and dead once it has run (int8: only the context);
/// - `qkv` [N, 3C] bf16: the QKV matmul's output, read by the attention;
/// - `feedForward` [N, I] bf16: GELU's output, the second feed-forward matmul's input;
/// - `hidden8` [N, max(C, I)] s8 (static int8): in turn the layer input, the context, LayerNorm 1's output and
///   the GELU output, quantised.
struct FusedLayerBuffers {
    let hidden: BF16Buffer
    let qkv: BF16Buffer
    let feedForward: BF16Buffer
    let hidden8: UnsafeMutablePointer<Int8>
    /// [N] the per-token scales and offsets of the static int8 layer's second feed-forward input (quantised into
    /// `hidden8`).
    let rowScales: FloatBuffer, rowOffsets: FloatBuffer

    init(_ scratch: LowPrecisionScratch) {
        hidden = scratch.gradient
        qkv = scratch.qkv
        feedForward = scratch.input
        hidden8 = scratch.quantized
        rowScales = scratch.rowScales
        rowOffsets = scratch.rowOffsets
    }
}

/// One post-LN BERT layer in bf16 for inference (no dropout, nothing saved for a backward), with what
/// surrounds each matmul fused into it (oneDNN post-ops on the output tile) or into its producer:
/// - `qkv = x₁₆ W_qkvᵀ + b`, stored as bf16 (no fp32 q|k|v, no separate rounding pass);
/// - the attention reads that bf16 q|k|v and writes its context as bf16;
/// - `r₁ = x + (ctx₁₆ W_oᵀ + b_o)`, added onto `x` where it lies (oneDNN's sum post-op); LayerNorm 1 turns it into
///   `h` in place and writes `h₁₆`;
/// - `g₁₆ = gelu(h₁₆ W₁ᵀ + b₁)` (bias and GELU on the tile, stored as bf16);
/// - `r₂ = h + (g₁₆ W₂ᵀ + b₂)`, added onto `h` in place; LayerNorm 2 writes the output `y` and `y₁₆` (the next
///   layer's input).
///
/// The residual stream stays in one fp32 buffer, `stream`, from layer to layer: [N, C] fp32 written in place by the
/// two matmuls and the two LayerNorms, where this layer wrote four buffers before (`r₁`, `h`, `r₂`, `y`) beside its
/// input, two layers' worth in turn. At 8 × 384 those were 4.7 MB each, more than the cache holds between their
/// kernels: the LayerNorms and the residual matmuls read them back from memory and wrote fresh lines (on Zen 5, timed
/// in turn run by run, the forward's median in place 0.96–1.00 of the separate buffers' at batch 8 and 1,
/// docs/PRECISION.md). Each sum is the same fp32 addition as the residual post-op's, the operands swapped (the same
/// bits on the reference backend and at the shapes `ResidualInPlaceTests` runs on oneDNN).
///
/// Every value is rounded to bf16 exactly where `encoderLayerForward` in bf16 rounds it (the matmul
/// and attention-product inputs); the unfused path is its reference (`LowPrecisionModelTests`). The differences
/// are the order of two fp32 additions and oneDNN's GELU for ours, each well under a bf16 rounding.
///
/// The weights are packed once for oneDNN where it has a packed layout (`PackedWeights`), plain otherwise.
/// On entry `stream` holds `x` and `buffers.hidden` holds `x` in bf16; on return `stream` holds `y`, and
/// `buffers.hidden` `y` in bf16. `acts` receives the LayerNorms' row statistics only.
func encoderLayerForwardFused(stream: FloatBuffer, acts a: FusedInferenceActivations, weights w: LayerWeights,
                              lowPrecision p: FusedLayerWeights, buffers f: FusedLayerBuffers,
                              keyMask: UnsafePointer<Int32>, shape s: LayerShape) {
    let N = s.tokens, C = s.channels, I = s.intermediate
    matmulForwardBF16(out: UnsafeMutableRawPointer(f.qkv), outType: .bf16, inp16: f.hidden, weight: p.qkv.values,
                      packed: p.qkv.layout, bias: w.qkvBias, epilogue: .none, rows: N, inFeatures: C, outFeatures: 3 * C)
    attentionForwardBF16(out16: f.hidden, qkv16: f.qkv, keyMask: keyMask, batch: s.batch, seqLen: s.seqLen, channels: C,
                         heads: s.heads)
    matmulForwardBF16(out: UnsafeMutableRawPointer(stream), outType: .f32, inp16: f.hidden, weight: p.attentionOutput.values,
                      packed: p.attentionOutput.layout, bias: w.attentionOutputBias, epilogue: .none, accumulate: true, rows: N,
                      inFeatures: C, outFeatures: C)
    layerNormForward(out: stream, mean: a.norm1Mean, rstd: a.norm1Rstd, inp: stream, weight: w.attentionNormWeight,
                     bias: w.attentionNormBias, rows: N, channels: C, eps: s.eps, out16: f.hidden)
    matmulForwardBF16(out: UnsafeMutableRawPointer(f.feedForward), outType: .bf16, inp16: f.hidden, weight: p.intermediate.values,
                      packed: p.intermediate.layout, bias: w.intermediateBias, epilogue: .gelu, rows: N, inFeatures: C, outFeatures: I)
    matmulForwardBF16(out: UnsafeMutableRawPointer(stream), outType: .f32, inp16: f.feedForward, weight: p.output.values,
                      packed: p.output.layout, bias: w.outputBias, epilogue: .none, accumulate: true, rows: N, inFeatures: I,
                      outFeatures: C)
    layerNormForward(out: stream, mean: a.norm2Mean, rstd: a.norm2Rstd, inp: stream, weight: w.outputNormWeight,
                     bias: w.outputNormBias, rows: N, channels: C, eps: s.eps, out16: f.hidden)
}
