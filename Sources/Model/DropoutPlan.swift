import Kernels

/// Where dropout applies in a forward pass, and with which random stream, so that a backward recomputes
/// exactly the masks its forward used. nil seed = inference: no dropout anywhere.
struct DropoutPlan {
    let seed: UInt64?
    let hidden: Float      // hidden_dropout_prob: embeddings, attention output, feed-forward output
    let attention: Float   // attention_probs_dropout_prob: attention probabilities
    /// Whether dropout follows the attention output projection (not in DistilBERT).
    var afterAttentionOutput = true

    /// Streams: 0 = embeddings; per layer l: 1 + 3l attention probabilities, 2 + 3l attention output,
    /// 3 + 3l feed-forward output.
    private func make(_ probability: Float, stream: Int) -> Dropout? {
        guard let seed, probability > 0 else { return nil }
        return Dropout(probability: probability, seed: seed, stream: UInt64(stream))
    }

    var embeddings: Dropout? { make(hidden, stream: 0) }
    func attentionProbs(layer: Int) -> Dropout? { make(attention, stream: 1 + 3 * layer) }
    func attentionOutput(layer: Int) -> Dropout? { afterAttentionOutput ? make(hidden, stream: 2 + 3 * layer) : nil }
    func feedForwardOutput(layer: Int) -> Dropout? { make(hidden, stream: 3 + 3 * layer) }
}
