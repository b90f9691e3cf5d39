import Checkpoint
import Kernels

// The hand-written backward passes of `BertModel`: span head or MLM head, then the encoder layers in
// reverse and the embeddings, accumulating into `gradients`.
extension BertModel {
    /// What a forward leaves for the backward.
    struct SavedForward {
        let batch: EncoderBatch
        let dropout: DropoutPlan
        let mlmPositions: [Int32]?
        /// False after an inference forward: the attention probabilities were not saved.
        let forTraining: Bool
        /// The bf16 weights the forward used (nil in fp32): the backward uses the same.
        var lowPrecision: LowPrecisionWeights? = nil
        /// Whether the attention ran fused (`FusedTrainingAttention`): each layer's `probs` holds its statistics and
        /// dropout bits, the bf16 inputs (`bf16Inputs`) its q|k|v.
        var fusedAttention = false
    }
}

extension BertModel {
    /// Backward of the last `forward`, from the gradients of the loss with respect to the start and end
    /// logits ([batch, seqLen] each); accumulates into `gradients`.
    /// `intermediate` adds gradients of an intermediate-layer loss: into hidden states as the backward
    /// passes them, into attention scores inside their layers' attention backward.
    public func backward(dStartLogits: [Float], dEndLogits: [Float], intermediate: IntermediateGradients? = nil) {
        guard let saved, saved.mlmPositions == nil, let head = layout.spanHead else {
            preconditionFailure("backward(dStartLogits:dEndLogits:) needs a span forward just before it")
        }
        requireTrainingForward(saved)
        let N = saved.batch.tokenCount, C = config.hiddenSize
        precondition(dStartLogits.count == N && dEndLogits.count == N, "span logit gradients must have batch × seqLen values")
        let a = activations, w = parameters.pointer, g = gradients.pointer
        a.dHidden.update(repeating: 0, count: N * C)
        dStartLogits.withUnsafeBufferPointer { dStart in
            dEndLogits.withUnsafeBufferPointer { dEnd in
                spanHeadBackward(dHidden: a.dHidden, dweight: g + head.weight, dbias: g + head.bias, dlogits: a.dSpanLogits,
                                 dStart: dStart.baseAddress!, dEnd: dEnd.baseAddress!, hidden: a.lastHidden,
                                 weight: w + head.weight, tokens: N, channels: C)
            }
        }
        encoderBackward(saved, intermediate: intermediate)
    }

    /// Backward of the last `forwardMLM` from the gradient of the loss with respect to its logits [M, V];
    /// accumulates into `gradients` (the decoder's share into the word embeddings).
    public func backwardMLM(dLogits: UnsafeBufferPointer<Float>) {
        guard let saved, let positions = saved.mlmPositions, let head = layout.mlmHead, let mlm = mlmActivations else {
            preconditionFailure("backwardMLM needs a forwardMLM just before it")
        }
        requireTrainingForward(saved)
        precondition(dLogits.count == positions.count * config.vocabSize, "MLM logit gradients must have M × V values")
        if dLogits.baseAddress != UnsafePointer(mlm.dLogits) {
            mlm.dLogits.update(from: dLogits.baseAddress!, count: dLogits.count)
        }
        let N = saved.batch.tokenCount
        activations.dHidden.update(repeating: 0, count: N * config.hiddenSize)
        mlmHeadBackward(dHidden: activations.dHidden, acts: mlm, positions: positions,
                        weights: MLMWeights(parameters.pointer, head, wordEmbeddings: layout.embeddings.word),
                        grads: MLMWeights(gradients.pointer, head, wordEmbeddings: layout.embeddings.word))
        encoderBackward(saved, intermediate: nil)
    }

    /// Stops a backward that follows an inference forward, whose attention probabilities are stale.
    fileprivate func requireTrainingForward(_ saved: SavedForward) {
        precondition(saved.forTraining, "backward after an inference forward (forTraining: false), which did not save "
                     + "the attention probabilities; run the forward with forTraining: true")
    }

    /// Encoder backward from `activations.dHidden` (gradient of the last hidden state), plus the
    /// intermediate gradients of hidden states and attention scores when given.
    private func encoderBackward(_ saved: SavedForward, intermediate: IntermediateGradients?) {
        let batch = saved.batch, plan = saved.dropout
        let a = activations, w = parameters.pointer, g = gradients.pointer
        let N = batch.tokenCount, C = config.hiddenSize
        let scratch = LayerScratch(dResidual: a.dResidual, dDropped: a.dDropped, dContext: a.dContext, dQKV: a.dQKV,
                                   dFFN: a.dFFN)
        batch.attentionMask.withUnsafeBufferPointer { mask in
            for l in layout.layers.indices.reversed() {
                if let extra = intermediate?.hidden[l + 1] { addForward(out: a.dHidden, a: a.dHidden, b: extra, count: N * C) }
                let input = l == 0 ? a.embeddingOutput! : a.layers[l - 1].output
                encoderLayerBackward(dHidden: a.dHidden, input: input, acts: a.layers[l],
                                     weights: LayerWeights(w, layout.layers[l]), grads: LayerWeights(g, layout.layers[l]),
                                     scratch: scratch, keyMask: mask.baseAddress!, shape: shape(batch),
                                     attentionDropout: plan.attentionProbs(layer: l),
                                     hiddenDropout: (plan.attentionOutput(layer: l), plan.feedForwardOutput(layer: l)),
                                     lowPrecision: saved.lowPrecision.map {
                                         LayerLowPrecision(weights: $0.layers[l], scratch: lowPrecisionScratch)
                                     }, fusedAttention: saved.fusedAttention,
                                     saved16: saved.lowPrecision == nil ? nil : bf16Inputs?.layer(l, tokens: N),
                                     dScores: intermediate?.attentionScores[l + 1])
            }
        }
        if let extra = intermediate?.hidden[0] { addForward(out: a.dHidden, a: a.dHidden, b: extra, count: N * C) }
        batch.inputIds.withUnsafeBufferPointer { ids in
            batch.tokenTypeIds.withUnsafeBufferPointer { types in
                embeddingsBackward(grads: EmbeddingWeights(g, layout.embeddings), dout: a.dHidden, dsum: a.dResidual,
                                   buffers: a.embeddingBuffers, weights: EmbeddingWeights(w, layout.embeddings),
                                   ids: ids.baseAddress!, types: types.baseAddress!, positions: a.positionIds, tokens: N,
                                   width: config.embeddingWidth, channels: C, dropout: plan.embeddings, scratch: a.dDropped)
            }
        }
    }
}
