import Kernels

/// Rows of the bf16 training layer's feed-forward blocks: 256 × 1,536 fp32 outputs (1.5 MB) stay in the workers' L2.
let feedForwardBlockRows = 256

/// The bf16 training forward of one layer where the fused training attention runs (`FusedTrainingAttention`): the
/// semantics of `encoderLayerForward` with `lowPrecision` (its reference twin), with each bf16 matmul input written
/// once by its producer into the layer's `LayerBF16Inputs`, which the backward reads too:
/// - the q|k|v matmul writes bf16 (no fp32 q|k|v), which the attention reads;
/// - LayerNorm 1 writes its bf16 copy beside the fp32 output; GELU writes only bf16 where `FusedGELU` runs (a C
///   kernel: a GELU writing bf16 from Swift ran 5× slower than GELU and a conversion, which remain its twin);
/// - LayerNorm 2 writes the next layer's bf16 input (`nextInput16`, nil after the last layer).
/// `saved16.input` holds the layer's input in bf16 on entry. The attention's statistics and dropout bits go to
/// `savedAttention`. `packed` are the four weights packed for oneDNN (nil: the plain ones).
///
/// What the backward reads lies in memory the rest of the step evicts from the cache, and oneDNN's matmuls store into
/// such cold lines at half their rate or less. So the q|k|v matmul writes into warm scratch (`p.scratch.qkv`), which
/// the attention reads, and the copy the backward reads is written past the cache (`copyStreaming`): the matmul
/// 3.7 → 1.7 ms a layer, the copy 0.3 ms (8 × 384 tokens, Intel AMX). Where `FusedGELU` runs, the feed-forward goes by
/// blocks of `feedForwardBlockRows` rows through `warm` ([feedForwardBlockRows, I] fp32 at least: the backward's
/// dFFN), which stays in the workers' L2 (a whole [N, I] scratch does not: it gained nothing, nor did the
/// attention's output in scratch).
func encoderLayerForwardTrainingBF16(input x: ConstFloatBuffer, acts a: LayerActivations, weights w: LayerWeights,
                                     lowPrecision p: LayerLowPrecision, packed: FusedLayerWeights?, saved16: LayerBF16Inputs,
                                     savedAttention: FloatBuffer, warm: FloatBuffer,
                                     nextInput16: BF16Buffer?, keyMask: UnsafePointer<Int32>, shape s: LayerShape,
                                     attentionDropout: Dropout?, hiddenDropout: (attention: Dropout?, feedForward: Dropout?)) {
    let N = s.tokens, C = s.channels, I = s.intermediate
    let plain = FusedLayerWeights(plain: p.weights)
    let (wqkv, wo, w1, w2) = packed.map { ($0.qkv, $0.attentionOutput, $0.intermediate, $0.output) }
        ?? (plain.qkv, plain.attentionOutput, plain.intermediate, plain.output)
    func linear(_ out: UnsafeMutableRawPointer, _ type: MatrixElement, _ inp16: BF16Buffer, _ weight: FusedMatrix,
                _ bias: ConstFloatBuffer, _ inFeatures: Int, _ outFeatures: Int) {
        matmulForwardBF16(out: out, outType: type, inp16: inp16, weight: weight.values, packed: weight.layout, bias: bias,
                          epilogue: .none, rows: N, inFeatures: inFeatures, outFeatures: outFeatures)
    }
    linear(UnsafeMutableRawPointer(p.scratch.qkv), .bf16, saved16.input, wqkv, w.qkvBias, C, 3 * C)
    copyStreaming(to: saved16.qkv, from: p.scratch.qkv, bytes: 2 * N * 3 * C)
    attentionForwardBF16Fused(out: a.context, saved: savedAttention, qkv16: p.scratch.qkv, keyMask: keyMask, batch: s.batch,
                              seqLen: s.seqLen, channels: C, heads: s.heads, dropout: attentionDropout)
    convertToBF16(out: saved16.context, inp: a.context, count: N * C)
    // residual1 holds dense(context), then its dropout, then the residual sum (the LayerNorm input).
    linear(UnsafeMutableRawPointer(a.residual1), .f32, saved16.context, wo, w.attentionOutputBias, C, C)
    addResidual(to: a.residual1, x, count: N * C, droppingOut: hiddenDropout.attention)
    layerNormForward(out: a.norm1, mean: a.norm1Mean, rstd: a.norm1Rstd, inp: a.residual1, weight: w.attentionNormWeight,
                     bias: w.attentionNormBias, rows: N, channels: C, eps: s.eps, out16: saved16.norm1)
    if FusedGELU.runs {
        // By blocks of rows into warm scratch (`warm`, the backward's dFFN), which the GELU reads; it writes the bf16
        // operand of the next matmul and, past the cache, the fp32 copy the backward reads. a.ffnAct stays unwritten.
        for first in stride(from: 0, to: N, by: feedForwardBlockRows) {
            let rows = min(feedForwardBlockRows, N - first)
            matmulForwardBF16(out: UnsafeMutableRawPointer(warm), outType: .f32, inp16: saved16.norm1 + first * C,
                              weight: w1.values, packed: w1.layout, bias: w.intermediateBias, epilogue: .none, rows: rows,
                              inFeatures: C, outFeatures: I)
            geluForwardBF16(out16: saved16.ffnAct + first * I, inp: warm, count: rows * I, inputCopy: a.ffnPre + first * I)
        }
    } else {
        linear(UnsafeMutableRawPointer(a.ffnPre), .f32, saved16.norm1, w1, w.intermediateBias, C, I)
        geluForward(out: a.ffnAct, inp: a.ffnPre, count: N * I)
        convertToBF16(out: saved16.ffnAct, inp: a.ffnAct, count: N * I)
    }
    linear(UnsafeMutableRawPointer(a.residual2), .f32, saved16.ffnAct, w2, w.outputBias, I, C)
    addResidual(to: a.residual2, a.norm1, count: N * C, droppingOut: hiddenDropout.feedForward)
    layerNormForward(out: a.output, mean: a.norm2Mean, rstd: a.norm2Rstd, inp: a.residual2, weight: w.outputNormWeight,
                     bias: w.outputNormBias, rows: N, channels: C, eps: s.eps, out16: nextInput16)
}

/// The feed-forward backward of `encoderLayerForwardTrainingBF16` where `FusedGELU` runs (the unfused steps in
/// `encoderLayerBackward` are its twin): `dNorm1 += d(feed-forward input)`, with the gradients of both matmuls.
/// - The output gradient `dout` [N, C] is rounded to bf16 once, with the second matmul's bias sums, into
///   `p.scratch.input` (free: the training layer's inputs are rounded by their producers); its weight gradient takes
///   all rows at once.
/// - d(GELU output) by blocks of rows into warm scratch (`warm`: the first `feedForwardBlockRows` rows of dFFN,
///   zeroed and accumulated: oneDNN's accumulating store is its faster one), then d(GELU input) of the block as bf16
///   into `p.scratch.gradient`, with the first matmul's bias sums (row after row, as in one pass).
/// - Then the first matmul's input and weight gradients from that bf16 operand.
func feedForwardBackwardTrainingBF16(dNorm1: FloatBuffer, dout: ConstFloatBuffer, acts a: LayerActivations,
                                     grads g: LayerWeights, lowPrecision p: LayerLowPrecision, saved16: LayerBF16Inputs,
                                     warm: FloatBuffer, shape s: LayerShape) {
    let N = s.tokens, C = s.channels, I = s.intermediate
    guard let w1 = p.weights.intermediate.bf16, let w2 = p.weights.output.bf16 else {
        preconditionFailure("the bf16 training layer runs bf16 weights")
    }
    let dout16: BF16Buffer = p.scratch.input, dpre16: BF16Buffer = p.scratch.gradient
    convertToBF16(out: dout16, columnSums: g.outputBias, inp: dout, rows: N, cols: C)
    matmulBackwardBF16(dinp: nil, dweight: g.outputWeight, dout16: dout16, inp16: saved16.ffnAct, weight: w2, rows: N,
                       inFeatures: I, outFeatures: C)
    for first in stride(from: 0, to: N, by: feedForwardBlockRows) {
        let rows = min(feedForwardBlockRows, N - first)
        warm.update(repeating: 0, count: rows * I)
        matmulBackwardBF16(dinp: warm, dweight: nil, dout16: dout16 + first * C, inp16: nil, weight: w2, rows: rows,
                           inFeatures: I, outFeatures: C)
        geluBackwardBF16(dinp16: dpre16 + first * I, dbias: g.intermediateBias, dout: warm, inp: a.ffnPre + first * I,
                         rows: rows, cols: I)
    }
    matmulBackwardBF16(dinp: dNorm1, dweight: g.intermediateWeight, dout16: dpre16, inp16: saved16.norm1, weight: w1,
                       rows: N, inFeatures: C, outFeatures: I)
}
