import Checkpoint
import Kernels

/// What a model's buffers beyond its weights take: the activation arena (a training forward keeps every
/// layer's activations, the attention probabilities and the backward's gradient buffers; an unfused inference
/// forward two layers'; the fused bf16 and static int8 layers none), the bf16/int8 copies of the matmul weights
/// (packed for a bf16 inference forward, static int8's own) and their scratch, and the MLM head's buffers. The same formulas size the buffers, so the figures are what
/// the engine allocates; run-time estimates (`RunEstimate`) add them up before a run, and tests hold them
/// to the buffers a real forward allocated.
public enum ModelMemory {
    /// Bytes of the buffers a forward of `rows` × `seqLen` tokens allocates (`maskedPositions` > 0: an
    /// MLM forward's too), for a model shaped as `layout` in `precision`.
    /// `savesAttentionProbabilities` as the model's (`BertModel.savesAttentionProbabilities`: attention distillation);
    /// `staticInt8`: int8 with static scales (`BertModel.int8Calibration`). A bf16 or static int8 inference forward is
    /// counted as the fused layers run it (`BertModel.fusedInference`, the default), unless it captures layers
    /// (`capturing`: `encode(_:capturing:)`, which runs the unfused ones).
    public static func workingBytes(layout: ParameterLayout, rows: Int, seqLen: Int, training: Bool, precision: Precision,
                                    staticInt8: Bool = false, capturing: Bool = false, maskedPositions: Int = 0,
                                    savesAttentionProbabilities: Bool = false) -> Int {
        let config = layout.config
        let tokens = rows * seqLen
        let fusedAttention = BertModel.runsFusedTrainingAttention(config: config, training: training, precision: precision,
                                                                  seqLen: seqLen, savesAttentionProbabilities: savesAttentionProbabilities)
        let probs = Activations.savedAttentionFloats(batch: rows, heads: config.numAttentionHeads, seqLen: seqLen,
                                                     forTraining: training, fusedAttention: fusedAttention)
        let fusedLayers = runsFusedLayers(precision: precision, staticInt8: staticInt8, training: training, capturing: capturing)
        let kind: ArenaKind = training ? .training : fusedLayers ? .fusedInference : .inference
        var bytes = 4 * Activations.floats(ModelDimensions(config: config), tokens: tokens, probs: probs, kind: kind) + 4 * tokens
        if precision != .fp32 {
            bytes += convertedWeightsBytes(layout: layout, precision: precision, training: training, staticInt8: staticInt8,
                                           capturing: capturing)
                + LowPrecisionScratch.bytes(channels: config.hiddenSize, intermediate: config.intermediateSize, tokens: tokens)
        }
        if precision == .bf16, training {
            bytes += BF16TrainingInputs.bytes(channels: config.hiddenSize, intermediate: config.intermediateSize,
                                              layers: layout.layers.count, tokens: tokens)
            // The fused training layer's forward reads its weights packed, beside the plain ones.
            if fusedAttention { bytes += PackedWeights.packedBytes(layout: layout) ?? 0 }
        }
        if maskedPositions > 0 {
            bytes += 4 * MLMActivations.floats(channels: config.hiddenSize, vocab: config.vocabSize, masked: maskedPositions)
        }
        return bytes
    }
}

extension ModelMemory {
    /// Whether such a forward runs the fused inference layers (bf16, or int8 with static scales; not training, not
    /// capturing layers), as `BertModel.encode` decides with `fusedInference` on.
    static func runsFusedLayers(precision: Precision, staticInt8: Bool, training: Bool, capturing: Bool) -> Bool {
        !training && !capturing && (precision == .bf16 || precision == .int8 && staticInt8)
    }

    /// Bytes of the bf16/int8 copies of the matmul weights (0 in fp32): each model holds its own, even
    /// on a shared arena. A bf16 inference forward runs the fused layers on packed weights (the plain
    /// copies freed), whose blocked layouts pad; static int8 (`staticInt8`) its own (`StaticInt8Weights`). A forward
    /// that captures layers (`capturing`) runs the unfused ones, on the plain copies.
    public static func convertedWeightsBytes(layout: ParameterLayout, precision: Precision, training: Bool,
                                             staticInt8: Bool = false, capturing: Bool = false) -> Int {
        guard precision != .fp32 else { return 0 }
        guard runsFusedLayers(precision: precision, staticInt8: staticInt8, training: training, capturing: capturing) else {
            return LowPrecisionWeights.bytes(layout: layout, precision: precision)
        }
        return precision == .int8 ? StaticInt8Weights.bytes(layout: layout) : PackedWeights.bytes(layout: layout)
    }
}

extension BertModel {
    /// Bytes the model's buffers beyond its weights and gradients hold now (see `ModelMemory`).
    public var workingBytes: Int {
        activations.bytes + (lowPrecisionWeights?.bytes ?? 0) + (packedWeights?.bytes ?? 0) + (staticInt8Weights?.bytes ?? 0)
            + lowPrecisionScratch.bytes
            + (mlmActivations?.bytes ?? 0) + (bf16Inputs?.bytes ?? 0)
    }
}
