import Checkpoint
import Kernels

/// A BERT encoder with optional span and MLM heads, its parameters in one flat buffer, with forward passes
/// that save their activations and hand-written backward passes that accumulate into `gradients`.
///
/// Use: `forward` (span logits) or `forwardMLM` (MLM logits), a loss (`SpanLoss`, `MLMLoss`, or the
/// caller's own), then `backward(dStartLogits:dEndLogits:)` / `backwardMLM(dLogits:)`. Prediction passes
/// `forTraining: false`: the same logits without saving what only backward needs. Gradients
/// accumulate across backward calls until `zeroGradients()`. Buffers are reused across calls; the model is
/// not thread-safe (the kernels parallelise inside each call).
public final class BertModel {
    public let config: BertConfig
    public let layout: ParameterLayout
    /// The weights, laid out by `layout`.
    public let parameters: ParameterBuffer
    /// Gradients in the same layout, allocated at the first backward.
    public private(set) lazy var gradients = ParameterBuffer(layout: layout)

    /// This model's buffers, or an `InferenceArena`'s shared with other models (`useInferenceArena`).
    var activations: Activations
    var lowPrecisionScratch: LowPrecisionScratch
    /// The bf16 inputs a bf16 training forward keeps for its backward (made at the first one).
    var bf16Inputs: BF16TrainingInputs?
    /// Whether the activations are an `InferenceArena` other models use too (inference only).
    public internal(set) var sharesInferenceArena = false
    /// The converted weights (`BertModelWeights.swift` makes them; one kind at a time, but a bf16 training forward
    /// keeps the plain copies and the packed ones).
    var lowPrecisionWeights: LowPrecisionWeights?
    /// The bf16 weights packed for the fused inference layers (then `lowPrecisionWeights` is nil), or for the bf16
    /// training forward (beside them).
    var packedWeights: PackedWeights?
    /// The weights of the static int8 inference layers (with `int8Calibration`).
    var staticInt8Weights: StaticInt8Weights?
    /// Whether the converted weights may differ from the masters (see `parametersDidChange`).
    var lowPrecisionStale = true

    /// The number format of the encoder's matmuls (fp32 by default). bf16 serves inference and mixed-
    /// precision training; int8 is for inference only (a training forward refuses it).
    public var precision: Precision = .fp32 {
        didSet { if precision != oldValue { dropConvertedWeights() } }
    }

    /// Static int8 scales (`mrc-distill calibrate`): with them an int8 inference forward runs the static int8
    /// layers (`encoderLayerForwardInt8`: quantisation in the producers, dequantisation on the matmuls' tiles);
    /// without, the unfused layers with dynamic per-token quantisation.
    public var int8Calibration: Int8Calibration? {
        didSet { if int8Calibration != oldValue { dropConvertedWeights() } }
    }

    /// Tells the model that `parameters` were rewritten outside a training forward (a load, an EMA
    /// swap): the bf16/int8 copies are converted again at the next forward. A training forward
    /// always converts (the optimizer changes the masters between steps).
    public func parametersDidChange() { lowPrecisionStale = true }
    /// Whether a bf16 inference forward runs the fused layers (`encoderLayerForwardFused`): bias, GELU and
    /// residual on the matmuls' output tiles, bf16 written once by each producer. Off, it runs the unfused
    /// layers, the fused path's reference.
    public var fusedInference = true
    /// Whether a bf16 training forward saves the whole attention softmax ([batch, heads, T, T] per layer), which
    /// `attentionProbabilities` and an attention-score gradient need (attention distillation sets it). Off, where
    /// `FusedTrainingAttention.runs`, the attention runs fused and saves its row statistics and dropout bits instead.
    public var savesAttentionProbabilities = false
    private(set) var mlmActivations: MLMActivations?
    /// What the last forward left for a backward (`BertModelBackward.swift`).
    var saved: SavedForward?

    /// A model over `parameters` (which it shares, not copies).
    public init(parameters: ParameterBuffer) {
        self.parameters = parameters
        layout = parameters.layout
        config = layout.config
        activations = Activations(config: ModelDimensions(config: config))
        lowPrecisionScratch = LowPrecisionScratch(channels: config.hiddenSize, intermediate: config.intermediateSize)
    }

    /// A model with every parameter zero (fill them by loading or `initialiseAll`).
    public convenience init(config: BertConfig, heads: ModelHeads) {
        self.init(parameters: ParameterBuffer(layout: ParameterLayout(config: config, heads: heads)))
    }

    public var heads: ModelHeads { layout.heads }

    /// Sets every gradient to zero.
    public func zeroGradients() { gradients.zero() }

    // MARK: forward

    /// Runs embeddings and encoder layers; with a `dropoutSeed`, dropout is on (training) with masks drawn
    /// from that seed (give each step its own seed); without, it is off.
    ///
    /// `forTraining` (the default) saves everything a backward needs, whether or not dropout is on.
    /// `forTraining: false` is inference: it skips saving the [B, NH, T, T] attention probabilities
    /// (same outputs, less memory traffic), takes no dropout seed, and a backward after it is a
    /// precondition failure.
    public func encode(_ batch: EncoderBatch, dropoutSeed: UInt64? = nil, forTraining: Bool = true) throws {
        try encode(batch, dropoutSeed: dropoutSeed, forTraining: forTraining, capture: nil)
    }

    /// `encode`, optionally copying hidden states and attention probabilities into `capture` (an inference
    /// forward, which then stops after the deepest captured layer and leaves no result for a backward).
    func encode(_ batch: EncoderBatch, dropoutSeed: UInt64?, forTraining: Bool, capture: LayerCapture?) throws {
        try validate(batch)
        if !forTraining, dropoutSeed != nil {
            throw ModelError.invalidInput("an inference forward (forTraining: false) takes no dropout seed")
        }
        if forTraining, sharesInferenceArena {
            throw ModelError.invalidInput("this model runs on a shared inference arena: a training forward needs its own buffers")
        }
        if forTraining, precision == .int8 {
            throw ModelError.invalidInput("int8 is an inference precision; train in fp32 or bf16")
        }
        let fused = fusedInference && precision == .bf16 && !forTraining && capture == nil
        let fusedWeights = fused ? prepareFused(tokens: batch.tokenCount) : nil
        let staticInt8 = fusedInference && precision == .int8 && !forTraining && capture == nil
        let int8Weights = try staticInt8 ? int8Calibration.map { try prepareStaticInt8(tokens: batch.tokenCount, calibration: $0) } : nil
        let lowPrecision = fused || int8Weights != nil ? nil : prepareLowPrecision(tokens: batch.tokenCount, forTraining: forTraining)
        let plan = DropoutPlan(seed: dropoutSeed, hidden: Float(config.hiddenDropoutProb),
                               attention: Float(config.attentionProbsDropoutProb),
                               afterAttentionOutput: config.architecture.dropoutAfterAttentionOutput)
        let fusedAttention = lowPrecision != nil
            && Self.runsFusedTrainingAttention(config: config, training: forTraining, precision: precision, seqLen: batch.seqLen,
                                               savesAttentionProbabilities: savesAttentionProbabilities)
        saved = nil
        let a = activations
        let fusedLayers = fusedWeights != nil || int8Weights != nil
        a.reserve(batch: batch.batch, seqLen: batch.seqLen,
                  kind: forTraining ? .training : fusedLayers ? .fusedInference : .inference, fusedAttention: fusedAttention)
        a.outputInStream = fusedLayers
        let inputs16 = forTraining && lowPrecision != nil ? keptBF16Inputs(tokens: batch.tokenCount) : nil
        let trainingPacked = fusedAttention ? lowPrecision.flatMap { prepareTrainingPacked(from: $0) } : nil
        let N = batch.tokenCount, C = config.hiddenSize
        let w = parameters.pointer
        batch.inputIds.withUnsafeBufferPointer { ids in
            batch.tokenTypeIds.withUnsafeBufferPointer { types in
                embeddingPositions(a.positionIds, ids: ids.baseAddress!, batch: batch.batch, seqLen: batch.seqLen, config: config)
                embeddingsForward(a.embeddingBuffers, ids: ids.baseAddress!, types: types.baseAddress!, positions: a.positionIds,
                                  weights: EmbeddingWeights(w, layout.embeddings), tokens: N, width: config.embeddingWidth,
                                  channels: C, eps: eps, dropout: plan.embeddings)
            }
        }
        capture?.reserve(batch: batch.batch, seqLen: batch.seqLen)
        capture?.copyHidden(0, from: a.embeddingOutput)
        if fused { convertToBF16(out: FusedLayerBuffers(lowPrecisionScratch).hidden, inp: a.embeddingOutput, count: N * C) }
        if fusedAttention, let inputs16 { convertToBF16(out: inputs16.layer(0, tokens: N).input, inp: a.embeddingOutput, count: N * C) }
        if let int8Weights, let first = int8Weights.layers.first {
            quantizeStaticInt8(out: FusedLayerBuffers(lowPrecisionScratch).hidden8, inp: a.embeddingOutput,
                               multipliers: first.inputMultipliers, rows: N, channels: C)
        }
        batch.attentionMask.withUnsafeBufferPointer { mask in
            var input = UnsafePointer(a.embeddingOutput!)
            for (l, offsets) in layout.layers.enumerated() where l < capture?.deepestLayer ?? layout.layers.count {
                // Fused and int8 layers keep the residual stream in the embeddings' output, the last layer's output too.
                if let fusedWeights {
                    encoderLayerForwardFused(stream: a.embeddingOutput, acts: a.fused,
                                             weights: LayerWeights(w, offsets), lowPrecision: fusedWeights[l],
                                             buffers: FusedLayerBuffers(lowPrecisionScratch), keyMask: mask.baseAddress!,
                                             shape: shape(batch))
                    continue
                }
                if let int8Weights {
                    let next = l + 1 < int8Weights.layers.count ? int8Weights.layers[l + 1].inputMultipliers : nil
                    encoderLayerForwardInt8(stream: a.embeddingOutput, acts: a.fused,
                                            weights: LayerWeights(w, offsets), int8: int8Weights.layers[l], nextMultipliers: next,
                                            buffers: FusedLayerBuffers(lowPrecisionScratch), keyMask: mask.baseAddress!,
                                            shape: shape(batch))
                    continue
                }
                if fusedAttention, let lowPrecision, let inputs16 {
                    encoderLayerForwardTrainingBF16(input: input, acts: a.slot(l), weights: LayerWeights(w, offsets),
                                                    lowPrecision: LayerLowPrecision(weights: lowPrecision.layers[l], scratch: lowPrecisionScratch),
                                                    packed: trainingPacked?[l],
                                                    saved16: inputs16.layer(l, tokens: N), savedAttention: a.slot(l).probs,
                                                    warm: a.dFFN,
                                                    nextInput16: l + 1 < layout.layers.count ? inputs16.layer(l + 1, tokens: N).input : nil,
                                                    keyMask: mask.baseAddress!, shape: shape(batch),
                                                    attentionDropout: plan.attentionProbs(layer: l),
                                                    hiddenDropout: (plan.attentionOutput(layer: l), plan.feedForwardOutput(layer: l)))
                    input = UnsafePointer(a.slot(l).output)
                    continue
                }
                encoderLayerForward(input: input, acts: a.slot(l), weights: LayerWeights(w, offsets), keyMask: mask.baseAddress!,
                                    shape: shape(batch), probs: forTraining ? a.slot(l).probs : capture?.attention(l + 1),
                                    attentionDropout: plan.attentionProbs(layer: l),
                                    hiddenDropout: (plan.attentionOutput(layer: l), plan.feedForwardOutput(layer: l)),
                                    lowPrecision: lowPrecision.map {
                                        LayerLowPrecision(weights: $0.layers[l], scratch: lowPrecisionScratch)
                                    }, saved16: inputs16?.layer(l, tokens: N))
                input = UnsafePointer(a.slot(l).output)
                capture?.copyHidden(l + 1, from: a.slot(l).output)
            }
        }
        guard capture == nil else { return }
        saved = SavedForward(batch: batch, dropout: plan, mlmPositions: nil, forTraining: forTraining,
                             lowPrecision: lowPrecision, fusedAttention: fusedAttention)
    }

    /// Encoder plus span head: start/end logits per token. Needs the span head. `dropoutSeed` and
    /// `forTraining` as in `encode`.
    public func forward(_ batch: EncoderBatch, dropoutSeed: UInt64? = nil, forTraining: Bool = true) throws -> SpanLogits {
        guard let head = layout.spanHead else { throw ModelError.missingHead("this model has no span head (qa_outputs)") }
        try encode(batch, dropoutSeed: dropoutSeed, forTraining: forTraining)
        let w = parameters.pointer
        let (start, end) = spanHeadForward(logits: activations.spanLogits, hidden: activations.lastHidden,
                                           weight: w + head.weight, bias: w + head.bias,
                                           tokens: batch.tokenCount, channels: config.hiddenSize)
        return SpanLogits(batch: batch.batch, seqLen: batch.seqLen, start: start, end: end)
    }

    /// Encoder plus MLM head at `maskedPositions` (flat indices b·seqLen + t): logits [M, V], valid until
    /// the next forward. Needs the MLM head. `dropoutSeed` and `forTraining` as in `encode`.
    public func forwardMLM(_ batch: EncoderBatch, maskedPositions: [Int32], dropoutSeed: UInt64? = nil,
                           forTraining: Bool = true) throws -> UnsafeBufferPointer<Float> {
        guard let head = layout.mlmHead else { throw ModelError.missingHead("this model has no MLM head (cls.predictions)") }
        guard !maskedPositions.isEmpty else { throw ModelError.invalidInput("no masked positions") }
        if let bad = maskedPositions.firstIndex(where: { $0 < 0 || Int($0) >= batch.tokenCount }) {
            throw ModelError.invalidInput("masked position \(maskedPositions[bad]) at \(bad) is outside 0..<\(batch.tokenCount)")
        }
        try encode(batch, dropoutSeed: dropoutSeed, forTraining: forTraining)
        let mlm = mlmActivations ?? MLMActivations(channels: config.hiddenSize, vocab: config.vocabSize)
        mlmActivations = mlm
        mlm.reserve(maskedPositions.count)
        mlmHeadForward(acts: mlm, hidden: activations.lastHidden, positions: maskedPositions,
                       weights: MLMWeights(parameters.pointer, head, wordEmbeddings: layout.embeddings.word), eps: eps)
        saved = SavedForward(batch: batch, dropout: saved!.dropout, mlmPositions: maskedPositions, forTraining: forTraining,
                             lowPrecision: saved!.lowPrecision, fusedAttention: saved!.fusedAttention)
        return UnsafeBufferPointer(start: mlm.logits, count: maskedPositions.count * config.vocabSize)
    }

    /// The last forward's final hidden states, [batch, seqLen, C] row-major.
    public func lastHiddenState() -> [Float] {
        guard let saved else { return [] }
        return Array(UnsafeBufferPointer(start: activations.lastHidden, count: saved.batch.tokenCount * config.hiddenSize))
    }

    // MARK: helpers

    var eps: Float { Float(config.layerNormEps) }

    func shape(_ batch: EncoderBatch) -> LayerShape {
        LayerShape(batch: batch.batch, seqLen: batch.seqLen, channels: config.hiddenSize,
                   intermediate: config.intermediateSize, heads: config.numAttentionHeads, eps: eps)
    }

    private func validate(_ batch: EncoderBatch) throws {
        guard batch.seqLen <= config.maxSequenceLength else {
            throw ModelError.invalidInput("seqLen \(batch.seqLen) exceeds the \(config.maxSequenceLength) positions of "
                                          + "max_position_embeddings \(config.maxPositionEmbeddings)")
        }
        if let bad = batch.inputIds.firstIndex(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
            throw ModelError.invalidInput("input_ids[\(bad)] = \(batch.inputIds[bad]) is outside the vocabulary 0..<\(config.vocabSize)")
        }
        if config.architecture.hasTokenTypes, let bad = batch.tokenTypeIds.firstIndex(where: { $0 < 0 || Int($0) >= config.typeVocabSize }) {
            throw ModelError.invalidInput("token_type_ids[\(bad)] = \(batch.tokenTypeIds[bad]) is outside 0..<\(config.typeVocabSize)")
        }
    }
}
