import Kernels

/// Pointers to one encoder layer's tensors (of the weights or of their gradients).
struct LayerWeights {
    let qkvWeight, qkvBias, attentionOutputWeight, attentionOutputBias, attentionNormWeight, attentionNormBias: FloatBuffer
    let intermediateWeight, intermediateBias, outputWeight, outputBias, outputNormWeight, outputNormBias: FloatBuffer

    init(_ base: FloatBuffer, _ o: LayerOffsets) {
        qkvWeight = base + o.qkvWeight
        qkvBias = base + o.qkvBias
        attentionOutputWeight = base + o.attentionOutputWeight
        attentionOutputBias = base + o.attentionOutputBias
        attentionNormWeight = base + o.attentionNormWeight
        attentionNormBias = base + o.attentionNormBias
        intermediateWeight = base + o.intermediateWeight
        intermediateBias = base + o.intermediateBias
        outputWeight = base + o.outputWeight
        outputBias = base + o.outputBias
        outputNormWeight = base + o.outputNormWeight
        outputNormBias = base + o.outputNormBias
    }
}

/// Shapes and per-layer dropout of one encoder layer call.
struct LayerShape {
    let batch, seqLen, channels, intermediate, heads: Int
    let eps: Float
    var tokens: Int { batch * seqLen }
}

/// What a layer's bf16/int8 matmuls read: the converted weights and the shared scratch.
struct LayerLowPrecision {
    let weights: LowPrecisionLayer
    let scratch: LowPrecisionScratch
}

/// A linear layer in the layer's precision: fp32 `matmulForward`, or its bf16 / int8 twin. bf16 rounds the input into
/// `inp16` when given (a training forward's saved copy, `LayerBF16Inputs`), else into the scratch.
private func linearForward(out: FloatBuffer, inp: ConstFloatBuffer, weight: ConstFloatBuffer, lowPrecision: LowPrecisionMatrix?,
                           scratch: LowPrecisionScratch?, bias: ConstFloatBuffer, rows: Int, inFeatures: Int, outFeatures: Int,
                           inp16: BF16Buffer? = nil) {
    if let lowPrecision, let scratch, let bf16 = lowPrecision.bf16 {
        matmulForwardBF16(out: out, inp: inp, scratch: inp16 ?? scratch.input, weight: bf16, bias: bias, rows: rows,
                          inFeatures: inFeatures, outFeatures: outFeatures)
    } else if let lowPrecision, let scratch, let int8 = lowPrecision.int8, let scales = lowPrecision.scales {
        matmulForwardInt8(out: out, inp: inp, scratch: scratch.quantized, rowScales: scratch.rowScales, weight: int8,
                          weightScales: scales, bias: bias, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
    } else {
        matmulForward(out: out, inp: inp, weight: weight, bias: bias, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
    }
}

/// Linear layer backward in the layer's precision (fp32, or bf16 inputs with fp32 accumulation); `inp16` is the
/// forward's bf16 copy of `inp` when it kept one.
private func linearBackward(dinp: FloatBuffer?, dweight: FloatBuffer, dbias: FloatBuffer, dout: ConstFloatBuffer,
                            inp: ConstFloatBuffer, weight: ConstFloatBuffer, lowPrecision: LowPrecisionMatrix?,
                            scratch: LowPrecisionScratch?, rows: Int, inFeatures: Int, outFeatures: Int, inp16: BF16Buffer? = nil) {
    if let scratch, let bf16 = lowPrecision?.bf16 {
        matmulBackwardBF16(dinp: dinp, dweight: dweight, dbias: dbias, dout: dout, inp: inp, weight: bf16, rows: rows,
                           inFeatures: inFeatures, outFeatures: outFeatures, doutScratch: scratch.gradient,
                           inpScratch: inp16 ?? scratch.input, inputRounded: inp16 != nil)
    } else {
        matmulBackward(dinp: dinp, dweight: dweight, dbias: dbias, dout: dout, inp: inp, weight: weight, rows: rows,
                       inFeatures: inFeatures, outFeatures: outFeatures)
    }
}

/// `out = dropout(out) + residual` in place: one pass with a dropout (`dropoutForward(adding:)`), the plain sum
/// without. Both layers' residual connections.
func addResidual(to out: FloatBuffer, _ residual: ConstFloatBuffer, count: Int, droppingOut dropout: Dropout?) {
    if let dropout {
        dropoutForward(out: out, inp: out, count: count, dropout: dropout, adding: residual)
    } else {
        addForward(out: out, a: out, b: residual, count: count)
    }
}

/// One post-LN BERT layer:
/// `h = LN1(x + drop(Wo · attention(Wqkv · x)))`, `y = LN2(h + drop(W2 · gelu(W1 · h)))`.
/// The attention probabilities go to `probs` ([B, NH, T, T], before dropout): `a.probs` in training; nil in
/// inference (no backward may follow), or a capture buffer (`LayerCapture`).
/// With `lowPrecision`, the four linear layers run in its precision and the attention products in bf16.
/// `saved16` (bf16 training) keeps the bf16 inputs of the matmuls for the backward. Where the fused training attention
/// runs, `encoderLayerForwardTrainingBF16` is the bf16 training forward, this its twin.
func encoderLayerForward(input x: ConstFloatBuffer, acts a: LayerActivations, weights w: LayerWeights,
                         keyMask: UnsafePointer<Int32>, shape s: LayerShape, probs: FloatBuffer?,
                         attentionDropout: Dropout?, hiddenDropout: (attention: Dropout?, feedForward: Dropout?),
                         lowPrecision p: LayerLowPrecision? = nil, saved16: LayerBF16Inputs? = nil) {
    let N = s.tokens, C = s.channels, I = s.intermediate
    linearForward(out: a.qkv, inp: x, weight: w.qkvWeight, lowPrecision: p?.weights.qkv, scratch: p?.scratch,
                  bias: w.qkvBias, rows: N, inFeatures: C, outFeatures: 3 * C, inp16: saved16?.input)
    if let p {
        attentionForwardBF16(out: a.context, probs: probs, qkv: a.qkv,
                             qkvScratch: p.scratch.qkv, keyMask: keyMask, batch: s.batch, seqLen: s.seqLen, channels: C,
                             heads: s.heads, dropout: attentionDropout)
    } else {
        attentionForward(out: a.context, probs: probs, qkv: a.qkv, keyMask: keyMask,
                         batch: s.batch, seqLen: s.seqLen, channels: C, heads: s.heads, dropout: attentionDropout)
    }
    // residual1 holds dense(context), then its dropout, then the residual sum (the LayerNorm input).
    linearForward(out: a.residual1, inp: a.context, weight: w.attentionOutputWeight, lowPrecision: p?.weights.attentionOutput,
                  scratch: p?.scratch, bias: w.attentionOutputBias, rows: N, inFeatures: C, outFeatures: C, inp16: saved16?.context)
    addResidual(to: a.residual1, x, count: N * C, droppingOut: hiddenDropout.attention)
    layerNormForward(out: a.norm1, mean: a.norm1Mean, rstd: a.norm1Rstd, inp: a.residual1,
                     weight: w.attentionNormWeight, bias: w.attentionNormBias, rows: N, channels: C, eps: s.eps)
    linearForward(out: a.ffnPre, inp: a.norm1, weight: w.intermediateWeight, lowPrecision: p?.weights.intermediate,
                  scratch: p?.scratch, bias: w.intermediateBias, rows: N, inFeatures: C, outFeatures: I, inp16: saved16?.norm1)
    geluForward(out: a.ffnAct, inp: a.ffnPre, count: N * I)
    linearForward(out: a.residual2, inp: a.ffnAct, weight: w.outputWeight, lowPrecision: p?.weights.output,
                  scratch: p?.scratch, bias: w.outputBias, rows: N, inFeatures: I, outFeatures: C, inp16: saved16?.ffnAct)
    addResidual(to: a.residual2, a.norm1, count: N * C, droppingOut: hiddenDropout.feedForward)
    layerNormForward(out: a.output, mean: a.norm2Mean, rstd: a.norm2Rstd, inp: a.residual2,
                     weight: w.outputNormWeight, bias: w.outputNormBias, rows: N, channels: C, eps: s.eps)
}

/// Scratch buffers of a layer backward.
struct LayerScratch {
    let dResidual: FloatBuffer   // [N, C]
    let dDropped: FloatBuffer    // [N, C]
    let dContext: FloatBuffer    // [N, C]
    let dQKV: FloatBuffer        // [N, 3C]
    let dFFN: FloatBuffer        // [N, I] d(GELU output), then d(GELU input)
}

/// Backward of `encoderLayerForward`. On entry `dHidden` [N, C] holds the gradient of the layer output; on
/// return it holds the gradient of the layer input. Parameter gradients accumulate into `grads`.
/// `dScores` is an extra gradient of the attention scores (see `attentionBackward`), or nil; `fusedAttention` as the
/// forward ran (it takes no `dScores`): the bf16 training layer `encoderLayerForwardTrainingBF16`, whose GELU backward
/// is fused too where `FusedGELU` runs.
func encoderLayerBackward(dHidden: FloatBuffer, input x: ConstFloatBuffer, acts a: LayerActivations,
                          weights w: LayerWeights, grads g: LayerWeights, scratch t: LayerScratch,
                          keyMask: UnsafePointer<Int32>, shape s: LayerShape,
                          attentionDropout: Dropout?, hiddenDropout: (attention: Dropout?, feedForward: Dropout?),
                          lowPrecision p: LayerLowPrecision? = nil, fusedAttention: Bool = false,
                          saved16: LayerBF16Inputs? = nil, dScores: ConstFloatBuffer? = nil) {
    let N = s.tokens, C = s.channels, I = s.intermediate
    // LayerNorm 2: dResidual = d(residual2) = d(norm1 via the residual) = d(dropped feed-forward output).
    layerNormBackward(dinp: t.dResidual, dweight: g.outputNormWeight, dbias: g.outputNormBias, dout: dHidden,
                      inp: a.residual2, weight: w.outputNormWeight, mean: a.norm2Mean, rstd: a.norm2Rstd, rows: N, channels: C,
                      accumulate: false)
    var dFeedForwardOut = UnsafePointer(t.dResidual)
    if let d = hiddenDropout.feedForward {
        dropoutBackward(dinp: t.dDropped, dout: t.dResidual, count: N * C, dropout: d, accumulate: false)
        dFeedForwardOut = UnsafePointer(t.dDropped)
    }
    // dResidual becomes d(norm1): residual path plus the feed-forward input path.
    if fusedAttention, FusedGELU.runs, let p, let saved16 {
        feedForwardBackwardTrainingBF16(dNorm1: t.dResidual, dout: dFeedForwardOut, acts: a, grads: g, lowPrecision: p,
                                        saved16: saved16, warm: t.dFFN, shape: s)
    } else {
        // dFFN holds d(GELU output), then in place d(GELU input). (Written by a matmul without the accumulation, it is
        // slower to write and to read back on the AMX machine: oneDNN's store path; zeroed and accumulated instead.)
        t.dFFN.update(repeating: 0, count: N * I)
        linearBackward(dinp: t.dFFN, dweight: g.outputWeight, dbias: g.outputBias, dout: dFeedForwardOut,
                       inp: a.ffnAct, weight: w.outputWeight, lowPrecision: p?.weights.output, scratch: p?.scratch,
                       rows: N, inFeatures: I, outFeatures: C, inp16: saved16?.ffnAct)
        geluBackward(dinp: t.dFFN, inp: a.ffnPre, dout: t.dFFN, count: N * I, accumulate: false)
        linearBackward(dinp: t.dResidual, dweight: g.intermediateWeight, dbias: g.intermediateBias, dout: t.dFFN,
                       inp: a.norm1, weight: w.intermediateWeight, lowPrecision: p?.weights.intermediate, scratch: p?.scratch,
                       rows: N, inFeatures: C, outFeatures: I, inp16: saved16?.norm1)
    }
    // LayerNorm 1 into dHidden (free now): d(residual1) = d(input via the residual) = d(dropped attention output).
    layerNormBackward(dinp: dHidden, dweight: g.attentionNormWeight, dbias: g.attentionNormBias, dout: t.dResidual,
                      inp: a.residual1, weight: w.attentionNormWeight, mean: a.norm1Mean, rstd: a.norm1Rstd, rows: N, channels: C,
                      accumulate: false)
    var dAttentionOut = UnsafePointer(dHidden)
    if let d = hiddenDropout.attention {
        dropoutBackward(dinp: t.dDropped, dout: dHidden, count: N * C, dropout: d, accumulate: false)
        dAttentionOut = UnsafePointer(t.dDropped)
    }
    t.dContext.update(repeating: 0, count: N * C)
    linearBackward(dinp: t.dContext, dweight: g.attentionOutputWeight, dbias: g.attentionOutputBias, dout: dAttentionOut,
                   inp: a.context, weight: w.attentionOutputWeight, lowPrecision: p?.weights.attentionOutput,
                   scratch: p?.scratch, rows: N, inFeatures: C, outFeatures: C, inp16: saved16?.context)
    // The fused attention backward writes every element of dQKV; the twins accumulate into zeros.
    if fusedAttention {
        guard let p, let saved16 else { preconditionFailure("the fused training attention runs in bf16 with its saved inputs") }
        precondition(dScores == nil, "the fused attention saved no probabilities for an attention-score gradient")
        attentionBackwardBF16Fused(dqkv: t.dQKV, dout: t.dContext, qkv16: saved16.qkv, saved: a.probs, keyMask: keyMask,
                                   batch: s.batch, seqLen: s.seqLen, channels: C, heads: s.heads, dropout: attentionDropout,
                                   doutScratch: p.scratch.gradient)
    } else if let p {
        t.dQKV.update(repeating: 0, count: 3 * N * C)
        attentionBackwardBF16(dqkv: t.dQKV, dout: t.dContext, qkv: a.qkv, probs: a.probs, keyMask: keyMask, batch: s.batch,
                              seqLen: s.seqLen, channels: C, heads: s.heads, dropout: attentionDropout,
                              qkvScratch: p.scratch.qkv, doutScratch: p.scratch.gradient, dScores: dScores)
    } else {
        t.dQKV.update(repeating: 0, count: 3 * N * C)
        attentionBackward(dqkv: t.dQKV, dout: t.dContext, qkv: a.qkv, probs: a.probs, keyMask: keyMask,
                          batch: s.batch, seqLen: s.seqLen, channels: C, heads: s.heads, dropout: attentionDropout,
                          dScores: dScores)
    }
    // dHidden (= d(input) through the residual) += d(input) through q, k, v.
    linearBackward(dinp: dHidden, dweight: g.qkvWeight, dbias: g.qkvBias, dout: t.dQKV,
                   inp: x, weight: w.qkvWeight, lowPrecision: p?.weights.qkv, scratch: p?.scratch,
                   rows: N, inFeatures: C, outFeatures: 3 * C, inp16: saved16?.input)
}
