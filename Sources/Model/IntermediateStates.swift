import Checkpoint
import Kernels

/// What intermediate-layer distillation reads from a model and gives back to it.
///
/// Hidden states are numbered as Hugging Face's `hidden_states`: 0 is the embeddings' output (after their
/// LayerNorm and dropout), l = 1…L the output of encoder layer l. Attention is numbered by encoder layer,
/// 1…L: the softmax over the keys [batch, heads, seqLen, seqLen], before attention dropout, 0 at padding keys.
///
/// A student reads its own after a training forward (`hiddenState`, `attentionProbabilities`) and hands
/// the loss's gradients to `backward(dStartLogits:dEndLogits:intermediate:)`. A teacher runs
/// `encode(_:capturing:)`: an inference forward that copies out only the captured layers, stops after the
/// deepest of them, and allocates no backward buffers.
public final class LayerCapture {
    /// Hidden states to copy (0…L, see above), in ascending order.
    public let hiddenLayers: [Int]
    /// Encoder layers (1…L) whose attention probabilities to copy, in ascending order.
    public let attentionLayers: [Int]
    public let channels: Int
    public let heads: Int
    /// The shape of the last capture.
    public private(set) var batch = 0, seqLen = 0
    private var arena: FloatBuffer?
    private var capacity = 0
    private var hiddenBuffers: [Int: FloatBuffer] = [:]
    private var attentionBuffers: [Int: FloatBuffer] = [:]

    /// A capture for a model of `config`; the layer numbers must exist in it.
    public init(config: BertConfig, hiddenLayers: [Int], attentionLayers: [Int]) throws {
        let L = config.numHiddenLayers
        if let bad = hiddenLayers.first(where: { !(0...L).contains($0) }) {
            throw ModelError.invalidInput("hidden state \(bad) does not exist: the model has 0 (embeddings) … \(L)")
        }
        if let bad = attentionLayers.first(where: { $0 < 1 || $0 > L }) {
            throw ModelError.invalidInput("attention of layer \(bad) does not exist: the model has layers 1 … \(L)")
        }
        self.hiddenLayers = Array(Set(hiddenLayers)).sorted()
        self.attentionLayers = Array(Set(attentionLayers)).sorted()
        channels = config.hiddenSize
        heads = config.numAttentionHeads
    }

    deinit { arena?.deallocate() }

    /// The number of encoder layers a capture runs: the deepest captured layer.
    public var deepestLayer: Int { max(hiddenLayers.last ?? 0, attentionLayers.last ?? 0) }

    /// Bytes of the buffers for `batch` × `seqLen` tokens.
    public func bytes(batch: Int, seqLen: Int) -> Int { 4 * floats(batch: batch, seqLen: seqLen) }

    private func floats(batch: Int, seqLen: Int) -> Int {
        hiddenLayers.count * batch * seqLen * channels + attentionLayers.count * batch * heads * seqLen * seqLen
    }

    func reserve(batch: Int, seqLen: Int) {
        (self.batch, self.seqLen) = (batch, seqLen)
        let needed = floats(batch: batch, seqLen: seqLen)
        if needed > capacity {
            arena?.deallocate()
            arena = .allocate(capacity: max(1, needed))
            capacity = needed
        }
        var next = arena!
        for l in hiddenLayers { hiddenBuffers[l] = next; next += batch * seqLen * channels }
        for l in attentionLayers { attentionBuffers[l] = next; next += batch * heads * seqLen * seqLen }
    }

    func copyHidden(_ index: Int, from source: ConstFloatBuffer) {
        guard let target = hiddenBuffers[index] else { return }
        target.update(from: source, count: batch * seqLen * channels)
    }

    /// Hidden state `index` of the last capture [batch × seqLen, channels] (writable: a loss may turn it into
    /// its gradient in place).
    public func hidden(_ index: Int) -> FloatBuffer? { hiddenBuffers[index] }

    /// The attention probabilities of encoder layer `layer` in the last capture [batch, heads, seqLen, seqLen].
    public func attention(_ layer: Int) -> FloatBuffer? { attentionBuffers[layer] }
}

/// Gradients of an intermediate-layer loss for `BertModel.backward(dStartLogits:dEndLogits:intermediate:)`.
public struct IntermediateGradients {
    /// Hidden-state index (0…L) → the loss's gradient with respect to it [tokens, channels].
    public var hidden: [Int: ConstFloatBuffer]
    /// Encoder layer (1…L) → the loss's gradient with respect to its attention scores (the softmax input)
    /// [batch, heads, seqLen, seqLen], 0 at padding keys (`attentionBackward`'s `dScores`).
    public var attentionScores: [Int: ConstFloatBuffer]

    public init(hidden: [Int: ConstFloatBuffer] = [:], attentionScores: [Int: ConstFloatBuffer] = [:]) {
        self.hidden = hidden; self.attentionScores = attentionScores
    }
}

extension BertModel {
    /// An inference forward that fills `capture` (see `LayerCapture`); no dropout, no backward after it.
    public func encode(_ batch: EncoderBatch, capturing capture: LayerCapture) throws {
        guard capture.channels == config.hiddenSize, capture.heads == config.numAttentionHeads,
              capture.deepestLayer <= config.numHiddenLayers else {
            throw ModelError.invalidInput("the layer capture was made for another model shape")
        }
        try encode(batch, dropoutSeed: nil, forTraining: false, capture: capture)
    }

    /// Hidden state `index` (0 = embeddings, l = layer l's output) of the last training forward
    /// [tokens, channels], valid until the next forward.
    public func hiddenState(_ index: Int) -> ConstFloatBuffer {
        guard let saved, saved.forTraining else { preconditionFailure("hiddenState needs a training forward just before it") }
        precondition((0...config.numHiddenLayers).contains(index), "hidden state \(index) of a \(config.numHiddenLayers)-layer model")
        return UnsafePointer(index == 0 ? activations.embeddingOutput! : activations.layers[index - 1].output)
    }

    /// The attention probabilities of encoder layer `layer` (1…L) in the last training forward
    /// [batch, heads, seqLen, seqLen] (before dropout), valid until the next forward.
    public func attentionProbabilities(_ layer: Int) -> ConstFloatBuffer {
        guard let saved, saved.forTraining else {
            preconditionFailure("attentionProbabilities needs a training forward just before it")
        }
        precondition((1...config.numHiddenLayers).contains(layer), "attention of layer \(layer) of a \(config.numHiddenLayers)-layer model")
        precondition(!saved.fusedAttention, "the attention ran fused and saved no probabilities: set savesAttentionProbabilities")
        return UnsafePointer(activations.layers[layer - 1].probs)
    }
}
