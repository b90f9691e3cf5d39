import Kernels

/// The masked-language-model loss: softmax cross-entropy of each masked position's logits against its
/// original token, averaged over the positions whose label is not negative (-100 = ignore, as PyTorch).
public enum MLMLoss {
    /// Loss of `logits` [M, vocab] against `labels` [M]; when `dLogits` is given, it is overwritten with
    /// the gradient (× `scale`, which also multiplies the returned loss).
    public static func compute(logits: UnsafeBufferPointer<Float>, labels: [Int32], vocab: Int,
                               dLogits: UnsafeMutableBufferPointer<Float>?, scale: Float = 1) throws -> Float {
        guard logits.count == labels.count * vocab else {
            throw ModelError.invalidInput("MLM loss: \(logits.count) logits for \(labels.count) labels × vocab \(vocab)")
        }
        if let bad = labels.firstIndex(where: { Int($0) >= vocab }) {
            throw ModelError.invalidInput("MLM loss: label \(labels[bad]) at \(bad) is outside the vocabulary 0..<\(vocab)")
        }
        let counted = labels.filter { $0 >= 0 }.count
        guard counted > 0 else { throw ModelError.invalidInput("MLM loss: every label is ignored") }
        if let dLogits {
            precondition(dLogits.count == logits.count, "MLM loss: gradient buffer size")
            dLogits.update(repeating: 0)
        }
        return labels.withUnsafeBufferPointer { t in
            softmaxCrossEntropy(logits: logits.baseAddress!, targets: t.baseAddress!, dlogits: dLogits?.baseAddress,
                                rows: labels.count, cols: vocab, scale: scale / Float(counted))
        }
    }
}
