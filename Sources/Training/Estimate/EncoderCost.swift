import Checkpoint

/// Floating-point operations of the encoder, the cost model behind run estimates (`RunEstimate`): per
/// layer the four matmuls (q|k|v, attention output, the two feed-forward ones: 2·(4C² + 2CI) per token)
/// and the two attention products (QKᵀ and P·V: 4·T·C per token of a T-token row), plus the heads. A
/// training pass (forward, backward into activations and into weights) is three forwards' worth.
/// Elementwise work (LayerNorm, GELU, softmax, dropout) is not counted: the measured seconds per FLOP
/// (`EngineRate`) carry it, at the shape they were measured at.
public struct EncoderCost: Sendable, Equatable {
    public let layers: Int
    public let hidden: Int
    public let intermediate: Int
    public let vocab: Int

    public init(config: BertConfig) {
        layers = config.numHiddenLayers
        hidden = config.hiddenSize
        intermediate = config.intermediateSize
        vocab = config.vocabSize
    }

    /// FLOPs of an inference forward of `rows` windows padded to `seqLen` tokens, with the span head;
    /// `maskedPositions` > 0 adds the MLM head (transform and decoder) at that many positions.
    public func forward(rows: Int, seqLen: Int, maskedPositions: Int = 0) -> Double {
        let C = Double(hidden), I = Double(intermediate), T = Double(seqLen)
        let tokens = Double(rows) * T
        let perLayer = tokens * (2 * (4 * C * C + 2 * C * I) + 4 * T * C)
        let span = tokens * 2 * 2 * C
        let mlm = Double(maskedPositions) * 2 * (C * C + C * Double(vocab))
        return Double(layers) * perLayer + span + mlm
    }

    /// FLOPs of a training pass (forward + backward) over the same batch.
    public func training(rows: Int, seqLen: Int, maskedPositions: Int = 0) -> Double {
        3 * forward(rows: rows, seqLen: seqLen, maskedPositions: maskedPositions)
    }
}
