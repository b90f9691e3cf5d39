import Checkpoint
import Kernels

/// Pointers to one encoder layer's saved activations (N = batch × seqLen tokens).
struct LayerActivations {
    var qkv: FloatBuffer            // [N, 3C]
    var probs: FloatBuffer          // [B, NH, T, T] attention softmax, before dropout (fused: FusedTrainingAttention.savedFloats)
    var context: FloatBuffer        // [N, C] attention output (heads side by side)
    var residual1: FloatBuffer      // [N, C] input + dropout(dense(context)): LayerNorm 1 input
    var norm1: FloatBuffer          // [N, C]
    var norm1Mean: FloatBuffer      // [N]
    var norm1Rstd: FloatBuffer      // [N]
    var ffnPre: FloatBuffer         // [N, I] before GELU
    var ffnAct: FloatBuffer         // [N, I] after GELU
    var residual2: FloatBuffer      // [N, C] norm1 + dropout(dense(ffnAct)): LayerNorm 2 input
    var output: FloatBuffer         // [N, C] layer output
    var norm2Mean: FloatBuffer      // [N]
    var norm2Rstd: FloatBuffer      // [N]
}

/// What a fused bf16 or static int8 inference forward writes beside the residual stream (which stays in
/// `Activations.embeddingOutput`): its LayerNorms' row statistics, overwritten layer by layer, and the static int8
/// layer's [N, C] fp32 product scratch.
struct FusedInferenceActivations {
    var norm1Mean, norm1Rstd, norm2Mean, norm2Rstd: FloatBuffer  // [N] each
    var product: FloatBuffer                                     // [N, C]
}

/// What an activation arena holds, from least to most; an arena grows to the largest kind a forward has needed.
enum ArenaKind: Int, Comparable {
    /// The buffers of fused bf16 and static int8 inference forwards: the embeddings' (the residual stream) and
    /// `FusedInferenceActivations`.
    case fusedInference
    /// Also two layers' activations used in turn (any inference forward).
    case inference
    /// Every layer's activations, the saved attention and the backward's gradient buffers (a training forward).
    case training

    static func < (a: ArenaKind, b: ArenaKind) -> Bool { a.rawValue < b.rawValue }
}

/// Every buffer a forward saves for its backward, plus the backward's scratch, in one allocation sized
/// for a token and attention capacity and reused across steps; it grows only when a bigger batch comes.
final class Activations {
    let channels: Int, intermediate: Int, heads: Int, layerCount: Int
    /// ELECTRA's embedding width when the embeddings are projected, else 0.
    let projection: Int
    private(set) var tokenCapacity = 0
    private(set) var probsCapacity = 0
    /// How many times the arena was (re)allocated (and zeroed): a batched run should size it once.
    private(set) var allocations = 0
    private var arena: UnsafeMutablePointer<Float>?
    private var positionArena: UnsafeMutablePointer<Int32>?

    // Embeddings.
    private(set) var embeddingSum: FloatBuffer!      // [N, E] word + position + type: LayerNorm input (E ≤ C)
    private(set) var embeddingNormed: FloatBuffer!   // [N, E] dropout(LayerNorm(sum)); embeddingOutput itself unless projected
    private(set) var embeddingOutput: FloatBuffer!   // [N, C] (projected) embeddings: layer 0 input; in a fused bf16 or
                                                     // static int8 inference forward, its residual stream and output
    private(set) var embeddingMean: FloatBuffer!     // [N]
    private(set) var embeddingRstd: FloatBuffer!     // [N]
    private(set) var positionIds: UnsafeMutablePointer<Int32>!  // [N]
    private(set) var layers: [LayerActivations] = []
    /// The fused inference layers' statistics and scratch: their own in a `fusedInference` arena, the first slot's
    /// otherwise.
    private(set) var fused: FusedInferenceActivations!
    /// Whether the last forward left its output in the residual stream (`embeddingOutput`: a fused bf16 or static
    /// int8 inference forward) rather than in the last layer's slot. `BertModel.encode` sets it.
    var outputInStream = false
    private(set) var spanLogits: FloatBuffer!        // [N, 2] start | end per token

    // Backward scratch.
    private(set) var dHidden: FloatBuffer!           // [N, C] gradient flowing down the residual stream
    private(set) var dResidual: FloatBuffer!         // [N, C]
    private(set) var dDropped: FloatBuffer!          // [N, C] gradient behind a dropout
    private(set) var dContext: FloatBuffer!          // [N, C]
    private(set) var dQKV: FloatBuffer!              // [N, 3C]
    private(set) var dFFN: FloatBuffer!              // [N, I] the feed-forward's gradient, before and after GELU
    private(set) var dSpanLogits: FloatBuffer!       // [N, 2]

    init(config: ModelDimensions) {
        channels = config.channels
        intermediate = config.intermediate
        heads = config.heads
        layerCount = config.layers
        projection = config.projection
    }

    /// The embeddings' buffers.
    var embeddingBuffers: EmbeddingBuffers {
        EmbeddingBuffers(sum: embeddingSum, normed: embeddingNormed, out: embeddingOutput, mean: embeddingMean, rstd: embeddingRstd)
    }

    var dimensions: ModelDimensions {
        ModelDimensions(channels: channels, intermediate: intermediate, heads: heads, layers: layerCount, projection: projection)
    }

    deinit {
        arena?.deallocate()
        positionArena?.deallocate()
    }

    /// Makes room for `batch` rows of `seqLen` tokens for a forward that needs `kind` (the arena keeps the larger
    /// kind it holds). An inference forward saves no attention probabilities, keeps no layer's activations once the
    /// next layer has read them, and runs no backward: until a training forward comes, the arena holds two layers'
    /// activations used in turn (`slot`), no probabilities and no gradient buffers (for 32 × 384 windows of a 3-layer
    /// MiniLM student, `predict` peaks at 0.74 GB instead of 1.90 GB). The fused bf16 and static int8 layers need no
    /// slot: their residual stream stays in `embeddingOutput` and they write only `fused` (at 32 × 384 the arena of
    /// a MiniLM is then 3 [N, C] buffers, 0.06 GB, instead of 34, 0.64 GB).
    /// A training forward whose attention runs fused (`fusedAttention`) saves its row statistics and dropout bits
    /// (`FusedTrainingAttention.savedFloats`) where the softmax would be: far less.
    func reserve(batch: Int, seqLen: Int, kind needed: ArenaKind, fusedAttention: Bool = false) {
        let tokens = batch * seqLen
        let probs = Self.savedAttentionFloats(batch: batch, heads: heads, seqLen: seqLen, forTraining: needed == .training,
                                              fusedAttention: fusedAttention)
        let kind = max(needed, self.kind ?? needed)
        guard tokens > tokenCapacity || probs > probsCapacity || kind != self.kind else { return }
        allocate(tokens: max(tokens, tokenCapacity), probs: max(probs, probsCapacity), kind: kind)
    }

    /// What the arena holds (nil before the first forward); `.training`: every layer's activations and the
    /// backward's gradient buffers (the `d…` fields).
    private(set) var kind: ArenaKind?

    /// The activations layer `l` writes: its own in a training arena, one of two used in turn in an inference one
    /// (a fused inference arena has none).
    func slot(_ l: Int) -> LayerActivations {
        precondition(!layers.isEmpty, "a fused inference arena has no layer slots")
        return layers[l % layers.count]
    }

    /// Floats a forward saves per layer for the attention's backward: none in inference, the softmax, or what the
    /// fused attention keeps instead.
    static func savedAttentionFloats(batch: Int, heads: Int, seqLen: Int, forTraining: Bool, fusedAttention: Bool) -> Int {
        guard forTraining else { return 0 }
        return fusedAttention ? FusedTrainingAttention.savedFloats(batch: batch, heads: heads, seqLen: seqLen, dropout: true)
                              : batch * heads * seqLen * seqLen
    }

    /// Layer slots of an arena of `kind`.
    static func slots(_ d: ModelDimensions, kind: ArenaKind) -> Int {
        switch kind {
        case .fusedInference: 0
        case .inference: min(2, d.layers)
        case .training: d.layers
        }
    }

    /// Floats of an arena for `N` tokens and `P` attention probabilities (`allocate` carves exactly these).
    static func floats(_ d: ModelDimensions, tokens N: Int, probs P: Int, kind: ArenaKind) -> Int {
        let C = d.channels, I = d.intermediate
        let perLayer = 8 * N * C + P + 2 * N * I + 4 * N
        let B = kind == .training ? N : 0  // tokens the gradient buffers hold
        let fused = kind == .fusedInference && d.layers > 0 ? 4 * N + N * C : 0
        return 2 * N * C + N * d.projection + 2 * N + slots(d, kind: kind) * perLayer + fused + 2 * N + 7 * B * C + B * I + 2 * B
    }

    /// Bytes the arena holds now (floats and position ids).
    var bytes: Int {
        guard let kind else { return 0 }
        return 4 * Self.floats(dimensions, tokens: tokenCapacity, probs: probsCapacity, kind: kind) + 4 * tokenCapacity
    }

    private func allocate(tokens N: Int, probs P: Int, kind: ArenaKind) {
        allocations += 1
        arena?.deallocate()
        positionArena?.deallocate()
        let C = channels, I = intermediate
        let B = kind == .training ? N : 0  // tokens the gradient buffers hold
        let slots = Self.slots(dimensions, kind: kind)
        let total = Self.floats(dimensions, tokens: N, probs: P, kind: kind)
        var carver = ArenaCarver(zeroedCapacity: total)
        embeddingSum = carver.take(N * C)
        embeddingOutput = carver.take(N * C)
        embeddingNormed = projection > 0 ? carver.take(N * projection) : embeddingOutput
        embeddingMean = carver.take(N)
        embeddingRstd = carver.take(N)
        layers = (0..<slots).map { _ in
            LayerActivations(qkv: carver.take(3 * N * C), probs: carver.take(P), context: carver.take(N * C),
                             residual1: carver.take(N * C), norm1: carver.take(N * C), norm1Mean: carver.take(N),
                             norm1Rstd: carver.take(N), ffnPre: carver.take(N * I), ffnAct: carver.take(N * I),
                             residual2: carver.take(N * C), output: carver.take(N * C),
                             norm2Mean: carver.take(N), norm2Rstd: carver.take(N))
        }
        if let first = layers.first {
            fused = FusedInferenceActivations(norm1Mean: first.norm1Mean, norm1Rstd: first.norm1Rstd, norm2Mean: first.norm2Mean,
                                              norm2Rstd: first.norm2Rstd, product: first.residual2)
        } else if layerCount > 0 {
            fused = FusedInferenceActivations(norm1Mean: carver.take(N), norm1Rstd: carver.take(N), norm2Mean: carver.take(N),
                                              norm2Rstd: carver.take(N), product: carver.take(N * C))
        }
        spanLogits = carver.take(2 * N)
        dHidden = carver.take(B * C)
        dResidual = carver.take(B * C)
        dDropped = carver.take(B * C)
        dContext = carver.take(B * C)
        dQKV = carver.take(3 * B * C)
        dFFN = carver.take(B * I)
        dSpanLogits = carver.take(2 * B)
        precondition(carver.used == total, "activation arena: \(carver.used) of \(total) floats carved")
        arena = carver.base
        positionArena = .allocate(capacity: N)
        positionIds = positionArena
        tokenCapacity = N
        probsCapacity = P
        self.kind = kind
    }

    /// The output of the last forward's last encoder layer (or of the embeddings in a model without layers).
    var lastHidden: FloatBuffer { layerCount == 0 || outputInStream ? embeddingOutput : slot(layerCount - 1).output }
}

/// The sizes the activations depend on.
struct ModelDimensions: Equatable {
    let channels, intermediate, heads, layers: Int
    /// The embedding width when the embeddings are projected (ELECTRA), else 0.
    let projection: Int

    init(channels: Int, intermediate: Int, heads: Int, layers: Int, projection: Int = 0) {
        (self.channels, self.intermediate, self.heads, self.layers) = (channels, intermediate, heads, layers)
        self.projection = projection
    }

    init(config: BertConfig) {
        self.init(channels: config.hiddenSize, intermediate: config.intermediateSize, heads: config.numAttentionHeads,
                  layers: config.numHiddenLayers, projection: config.projectsEmbeddings ? config.embeddingWidth : 0)
    }
}
