import Kernels

/// The hard span loss: softmax cross-entropy of the start logits against the gold start and of the end
/// logits against the gold end, (start + end) / 2, averaged over the batch rows that have a gold span. Logits
/// at padding are set to `paddingLogit` before the softmax, so padding gets no probability and no gradient
/// (D-NET forgot this). A row whose start and end are both `ignoredPosition` has no gold span (a transfer-set
/// window, which only the teachers label): it adds no loss and no gradient and the mean is over the other
/// rows, as PyTorch's `cross_entropy(..., ignore_index=-1)`; a batch without a gold row has loss 0.
public enum SpanLoss {
    /// The logit that padding positions get before any softmax over a window.
    public static let paddingLogit: Float = -10_000
    /// The gold start and end of a row without a gold span.
    public static let ignoredPosition: Int32 = -1

    /// `logits` with every padding position (attention mask 0) set to `paddingLogit`.
    public static func maskPadding(_ logits: [Float], attentionMask: [Int32]) -> [Float] {
        precondition(logits.count == attentionMask.count, "logits and attention mask differ in size")
        return zip(logits, attentionMask).map { $1 == 0 ? paddingLogit : $0 }
    }

    /// The loss and its gradients with respect to the (unmasked) start and end logits.
    public struct Result: Sendable {
        public var loss: Float
        public var dStartLogits: [Float]   // [batch, seqLen]
        public var dEndLogits: [Float]     // [batch, seqLen]
    }

    /// Computes the loss of `logits` against gold `startPositions`/`endPositions` ([batch] token indices,
    /// each on a real token of its row, or both `ignoredPosition`). `scale` multiplies loss and gradients
    /// (e.g. a task weight).
    public static func compute(_ logits: SpanLogits, attentionMask: [Int32], startPositions: [Int32],
                               endPositions: [Int32], scale: Float = 1) throws -> Result {
        let B = logits.batch, T = logits.seqLen
        guard attentionMask.count == B * T, startPositions.count == B, endPositions.count == B else {
            throw ModelError.invalidInput("span loss: attention mask needs \(B * T) values and gold positions \(B) each")
        }
        let ignored = (0..<B).map { startPositions[$0] == ignoredPosition && endPositions[$0] == ignoredPosition }
        for (name, positions) in [("start", startPositions), ("end", endPositions)] {
            for (row, position) in positions.enumerated() where !ignored[row]
                && (position < 0 || Int(position) >= T || attentionMask[row * T + Int(position)] == 0) {
                throw ModelError.invalidInput("span loss: gold \(name) position \(position) of row \(row) is not a real token of 0..<\(T)"
                                              + (position == ignoredPosition ? " (a row without gold has both positions \(ignoredPosition))" : ""))
            }
        }
        var result = Result(loss: 0, dStartLogits: [Float](repeating: 0, count: B * T), dEndLogits: [Float](repeating: 0, count: B * T))
        // The kernel skips a negative target (ignore_index); the mean is over the rows with gold.
        let goldRows = ignored.filter { !$0 }.count
        guard goldRows > 0 else { return result }
        let rowScale = scale * 0.5 / Float(goldRows)
        for (side, targets) in [(0, startPositions), (1, endPositions)] {
            let masked = maskPadding(side == 0 ? logits.start : logits.end, attentionMask: attentionMask)
            var gradient = [Float](repeating: 0, count: B * T)
            let sum = masked.withUnsafeBufferPointer { x in
                targets.withUnsafeBufferPointer { t in
                    gradient.withUnsafeMutableBufferPointer { d in
                        softmaxCrossEntropy(logits: x.baseAddress!, targets: t.baseAddress!, dlogits: d.baseAddress!,
                                            rows: B, cols: T, scale: rowScale)
                    }
                }
            }
            result.loss += sum
            if side == 0 { result.dStartLogits = gradient } else { result.dEndLogits = gradient }
        }
        return result
    }
}
