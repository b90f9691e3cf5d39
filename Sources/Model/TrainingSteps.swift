/// One-call training steps for the common losses: forward, loss, backward (gradients accumulate).
extension BertModel {
    /// Span forward, `SpanLoss`, backward. Returns the loss (× `scale`).
    public func spanLossStep(_ batch: EncoderBatch, startPositions: [Int32], endPositions: [Int32],
                             dropoutSeed: UInt64? = nil, scale: Float = 1) throws -> Float {
        let logits = try forward(batch, dropoutSeed: dropoutSeed)
        let result = try SpanLoss.compute(logits, attentionMask: batch.attentionMask, startPositions: startPositions,
                                          endPositions: endPositions, scale: scale)
        backward(dStartLogits: result.dStartLogits, dEndLogits: result.dEndLogits)
        return result.loss
    }

    /// MLM forward at `maskedPositions`, `MLMLoss` against `labels` (one per position, -100 = ignore),
    /// backward. Returns the loss (× `scale`).
    public func mlmLossStep(_ batch: EncoderBatch, maskedPositions: [Int32], labels: [Int32],
                            dropoutSeed: UInt64? = nil, scale: Float = 1) throws -> Float {
        guard labels.count == maskedPositions.count else {
            throw ModelError.invalidInput("\(labels.count) MLM labels for \(maskedPositions.count) masked positions")
        }
        let logits = try forwardMLM(batch, maskedPositions: maskedPositions, dropoutSeed: dropoutSeed)
        let mlm = mlmActivations!
        let dLogits = UnsafeMutableBufferPointer(start: mlm.dLogits, count: logits.count)
        let loss = try MLMLoss.compute(logits: logits, labels: labels, vocab: config.vocabSize, dLogits: dLogits, scale: scale)
        backwardMLM(dLogits: UnsafeBufferPointer(dLogits))
        return loss
    }
}
