import Checkpoint
import Kernels

/// What a bf16 training forward saves in bf16 for its backward, per layer: the inputs of the four linear layers
/// (the layer input, the attention context, the first LayerNorm's output, the GELU output) and q|k|v, each rounded
/// once by the forward. The backward's weight gradients and the attention backward read them instead of rounding
/// the fp32 activations again.
final class BF16TrainingInputs {
    let channels: Int, intermediate: Int, layers: Int
    private(set) var capacity = 0
    private var storage: BF16Buffer?

    init(channels: Int, intermediate: Int, layers: Int) {
        (self.channels, self.intermediate, self.layers) = (channels, intermediate, layers)
    }

    deinit { storage?.deallocate() }

    /// bf16 values per token of one layer: input C, q|k|v 3C, context C, LayerNorm 1 C, GELU output I.
    private static func perToken(channels C: Int, intermediate I: Int) -> Int { 6 * C + I }

    /// Bytes for `tokens` tokens.
    static func bytes(channels: Int, intermediate: Int, layers: Int, tokens: Int) -> Int {
        2 * tokens * layers * perToken(channels: channels, intermediate: intermediate)
    }

    var bytes: Int { Self.bytes(channels: channels, intermediate: intermediate, layers: layers, tokens: capacity) }

    func reserve(tokens: Int) {
        guard tokens > capacity else { return }
        storage?.deallocate()
        storage = .allocate(capacity: tokens * layers * Self.perToken(channels: channels, intermediate: intermediate))
        capacity = tokens
    }

    /// Layer `l`'s buffers for `tokens` tokens (after `reserve`).
    func layer(_ l: Int, tokens N: Int) -> LayerBF16Inputs {
        let C = channels, base = storage! + l * capacity * Self.perToken(channels: C, intermediate: intermediate)
        return LayerBF16Inputs(input: base, qkv: base + N * C, context: base + 4 * N * C, norm1: base + 5 * N * C,
                               ffnAct: base + 6 * N * C)
    }
}

/// One layer's bf16 copies (see `BF16TrainingInputs`), token-major like their fp32 activations.
struct LayerBF16Inputs {
    let input, qkv, context, norm1, ffnAct: BF16Buffer
}

extension BertModel {
    /// The bf16 training inputs, made or grown for `tokens` tokens.
    func keptBF16Inputs(tokens: Int) -> BF16TrainingInputs {
        let inputs = bf16Inputs ?? BF16TrainingInputs(channels: config.hiddenSize, intermediate: config.intermediateSize,
                                                      layers: layout.layers.count)
        inputs.reserve(tokens: tokens)
        bf16Inputs = inputs
        return inputs
    }

    /// Whether a forward runs the fused training attention (`FusedTrainingAttention`): a bf16 training forward whose
    /// probabilities nobody reads, on a machine where it runs, and sequences of at least 4 tokens (what it saves
    /// must fit where the softmax would be).
    static func runsFusedTrainingAttention(config: BertConfig, training: Bool, precision: Precision, seqLen: Int,
                                           savesAttentionProbabilities: Bool) -> Bool {
        training && precision == .bf16 && !savesAttentionProbabilities && seqLen >= 4
            && FusedTrainingAttention.runs(headSize: config.hiddenSize / config.numAttentionHeads)
    }
}
