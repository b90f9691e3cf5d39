import Kernels

/// Buffers of the MLM head for M masked positions, grown on demand and reused.
final class MLMActivations {
    let channels: Int, vocab: Int
    private(set) var capacity = 0
    private var arena: UnsafeMutablePointer<Float>?
    private(set) var gathered: FloatBuffer!      // [M, C] hidden rows at the masked positions
    private(set) var transformPre: FloatBuffer!  // [M, C] dense output, before GELU
    private(set) var transformAct: FloatBuffer!  // [M, C] after GELU: LayerNorm input
    private(set) var normed: FloatBuffer!        // [M, C] LayerNorm output: decoder input
    private(set) var mean: FloatBuffer!          // [M]
    private(set) var rstd: FloatBuffer!          // [M]
    private(set) var logits: FloatBuffer!        // [M, V]
    private(set) var dLogits: FloatBuffer!       // [M, V]
    private(set) var dA: FloatBuffer!            // [M, C] scratch
    private(set) var dB: FloatBuffer!            // [M, C] scratch

    init(channels: Int, vocab: Int) {
        self.channels = channels
        self.vocab = vocab
    }

    deinit { arena?.deallocate() }

    /// Floats of the buffers for M masked positions.
    static func floats(channels C: Int, vocab V: Int, masked M: Int) -> Int { 6 * M * C + 2 * M + 2 * M * V }

    var bytes: Int { 4 * Self.floats(channels: channels, vocab: vocab, masked: capacity) }

    func reserve(_ M: Int) {
        guard M > capacity else { return }
        arena?.deallocate()
        let C = channels, V = vocab
        let total = Self.floats(channels: C, vocab: V, masked: M)
        var carver = ArenaCarver(zeroedCapacity: total)
        gathered = carver.take(M * C); transformPre = carver.take(M * C); transformAct = carver.take(M * C); normed = carver.take(M * C)
        mean = carver.take(M); rstd = carver.take(M)
        logits = carver.take(M * V); dLogits = carver.take(M * V)
        dA = carver.take(M * C); dB = carver.take(M * C)
        arena = carver.base
        capacity = M
    }
}

/// Pointers to the MLM head's tensors (of the weights or their gradients); `decoder` is the word embedding table.
struct MLMWeights {
    let transformWeight, transformBias, normWeight, normBias, outputBias, decoder: FloatBuffer

    init(_ base: FloatBuffer, _ o: MLMHeadOffsets, wordEmbeddings: Int) {
        transformWeight = base + o.transformWeight
        transformBias = base + o.transformBias
        normWeight = base + o.normWeight
        normBias = base + o.normBias
        outputBias = base + o.outputBias
        decoder = base + wordEmbeddings
    }
}

/// MLM head on the hidden rows at `positions` (flat token indices into [N]):
/// `logits = LN(gelu(dense(h))) · wordEmbeddingsᵀ + bias`, [M, V].
func mlmHeadForward(acts a: MLMActivations, hidden: ConstFloatBuffer, positions: [Int32], weights w: MLMWeights, eps: Float) {
    let M = positions.count, C = a.channels, V = a.vocab
    for (m, position) in positions.enumerated() {
        a.gathered.advanced(by: m * C).update(from: hidden + Int(position) * C, count: C)
    }
    matmulForward(out: a.transformPre, inp: a.gathered, weight: w.transformWeight, bias: w.transformBias,
                  rows: M, inFeatures: C, outFeatures: C)
    geluForward(out: a.transformAct, inp: a.transformPre, count: M * C)
    layerNormForward(out: a.normed, mean: a.mean, rstd: a.rstd, inp: a.transformAct, weight: w.normWeight,
                     bias: w.normBias, rows: M, channels: C, eps: eps)
    matmulForward(out: a.logits, inp: a.normed, weight: w.decoder, bias: w.outputBias, rows: M, inFeatures: C, outFeatures: V)
}

/// Backward of `mlmHeadForward` from `a.dLogits`; the decoder gradient accumulates into the word
/// embeddings' gradient (tied weights), the hidden gradient is scattered into `dHidden` [N, C].
func mlmHeadBackward(dHidden: FloatBuffer, acts a: MLMActivations, positions: [Int32], weights w: MLMWeights, grads g: MLMWeights) {
    let M = positions.count, C = a.channels, V = a.vocab
    a.dA.update(repeating: 0, count: M * C)
    matmulBackward(dinp: a.dA, dweight: g.decoder, dbias: g.outputBias, dout: a.dLogits, inp: a.normed, weight: w.decoder,
                   rows: M, inFeatures: C, outFeatures: V)
    a.dB.update(repeating: 0, count: M * C)
    layerNormBackward(dinp: a.dB, dweight: g.normWeight, dbias: g.normBias, dout: a.dA, inp: a.transformAct,
                      weight: w.normWeight, mean: a.mean, rstd: a.rstd, rows: M, channels: C)
    a.dA.update(repeating: 0, count: M * C)
    geluBackward(dinp: a.dA, inp: a.transformPre, dout: a.dB, count: M * C)
    a.dB.update(repeating: 0, count: M * C)
    matmulBackward(dinp: a.dB, dweight: g.transformWeight, dbias: g.transformBias, dout: a.dA, inp: a.gathered,
                   weight: w.transformWeight, rows: M, inFeatures: C, outFeatures: C)
    for (m, position) in positions.enumerated() {
        let target = dHidden + Int(position) * C
        let source = a.dB + m * C
        for c in 0..<C { target[c] += source[c] }
    }
}
