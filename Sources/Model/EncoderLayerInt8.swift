import Kernels

/// One post-LN BERT layer for inference with static int8 matmuls (`StaticInt8Weights`, `Int8Calibration`):
/// - `qkv₁₆ = x₈ W_qkvᵀ` dequantised with the bias on the tile, stored as bf16; the attention (bf16, as in
///   the fused bf16 layer) writes its context as bf16, quantised by one pass;
/// - `r₁ = x + ctx₈ W_oᵀ + b_o` (dequantisation and bias on the tile, added onto `x` where it lies: oneDNN's sum
///   post-op); LayerNorm 1 turns it into `h` in place and writes `h₈` (smoothed and quantised as each row is made);
/// - `g₁₆ = gelu(h₈ W₁ᵀ + b₁)` (dequantisation, bias and GELU on the tile, stored as bf16);
/// - `g₁₆` smoothed and quantised per token, centred (`g₈`, a scale and an offset per row), then `r₂ = g₈ W₂ᵀ` (W₂
///   smoothed) with the weight's column scales on the tile into scratch, then the row scales and offsets, `b₂` and `h`
///   in one pass onto `h` (`SecondFeedForward.perToken`, every layer but the first); or `r₂ = h + g₁₆ W₂ᵀ + b₂` in
///   bf16 as in the fused bf16 layer (`.bf16`, the first layer);
/// - LayerNorm 2 writes `y` and, unless this is the last layer, `y₈` for the next (`nextMultipliers`: its input
///   multipliers).
///
/// The residual stream stays in place in `stream` as in the fused bf16 layer (`encoderLayerForwardFused`; on Zen 5
/// the static int8 forward's median is 0.92–0.99 of its time with separate buffers). On entry `stream` holds `x` and
/// `buffers.hidden8` (`FusedLayerBuffers`) `x` quantised with this layer's `inputMultipliers`; on return `stream`
/// holds `y`. `acts` receives the LayerNorms' row statistics, and its `product` serves as the per-token product's
/// scratch.
func encoderLayerForwardInt8(stream: FloatBuffer, acts a: FusedInferenceActivations, weights w: LayerWeights,
                             int8 q: Int8LayerWeights, nextMultipliers: ConstFloatBuffer?, buffers f: FusedLayerBuffers,
                             keyMask: UnsafePointer<Int32>, shape s: LayerShape) {
    let N = s.tokens, C = s.channels, I = s.intermediate, workers = Parallelism.workers
    func product(_ m: Int8Matrix, _ inp: UnsafePointer<Int8>, k: Int, n: Int, epilogue: GemmEpilogue = .none,
                 accumulate: Bool = false, out: UnsafeMutableRawPointer, type: MatrixElement) {
        gemmInt8(m: N, n: n, k: k, a: inp, lda: k, w: m.values, ldw: k, packed: m.layout, scales: m.scales, bias: m.bias,
                 epilogue: epilogue, accumulate: accumulate, c: out, cType: type, ldc: n, threads: workers)
    }
    product(q.qkv, f.hidden8, k: C, n: 3 * C, out: UnsafeMutableRawPointer(f.qkv), type: .bf16)
    attentionForwardBF16(out16: f.hidden, qkv16: f.qkv, keyMask: keyMask, batch: s.batch, seqLen: s.seqLen, channels: C,
                         heads: s.heads)
    quantizeStaticInt8(out: f.hidden8, inp: f.hidden, multiplier: q.contextMultiplier, rows: N, channels: C)
    product(q.attentionOutput, f.hidden8, k: C, n: C, accumulate: true, out: UnsafeMutableRawPointer(stream), type: .f32)
    layerNormForward(out: stream, mean: a.norm1Mean, rstd: a.norm1Rstd, inp: stream, weight: w.attentionNormWeight,
                     bias: w.attentionNormBias, rows: N, channels: C, eps: s.eps, out8: (f.hidden8, q.norm1Multipliers))
    product(q.intermediate, f.hidden8, k: C, n: I, epilogue: .gelu, out: UnsafeMutableRawPointer(f.feedForward), type: .bf16)
    switch q.output {
    case .perToken(let m, let multipliers, let weightSums):
        quantizeRowsInt8(out: f.hidden8, scales: f.rowScales, offsets: f.rowOffsets, inp: f.feedForward, multipliers: multipliers,
                         rows: N, cols: I)
        product(m, f.hidden8, k: I, n: C, out: UnsafeMutableRawPointer(a.product), type: .f32)
        dequantizeRowsInt8(c: a.product, rowScales: f.rowScales, rowOffsets: f.rowOffsets, weightSums: weightSums,
                           bias: w.outputBias, residual: stream, rows: N, cols: C, out: stream)
    case .bf16(let m):
        matmulForwardBF16(out: UnsafeMutableRawPointer(stream), outType: .f32, inp16: f.feedForward, weight: m.values,
                          packed: m.layout, bias: w.outputBias, epilogue: .none, accumulate: true, rows: N, inFeatures: I,
                          outFeatures: C)
    }
    layerNormForward(out: stream, mean: a.norm2Mean, rstd: a.norm2Rstd, inp: stream, weight: w.outputNormWeight,
                     bias: w.outputNormBias, rows: N, channels: C, eps: s.eps,
                     out8: nextMultipliers.map { (f.hidden8, $0) })
}
