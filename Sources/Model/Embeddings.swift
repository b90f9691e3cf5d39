import Checkpoint
import Kernels

/// Pointers to the embedding tables (of the weights or of their gradients).
struct EmbeddingWeights {
    let word, position, normWeight, normBias: FloatBuffer
    /// nil without token types (DistilBERT).
    let tokenType: FloatBuffer?
    /// ELECTRA's projection from the embedding width to the hidden width, when they differ.
    let projectionWeight, projectionBias: FloatBuffer?

    init(_ base: FloatBuffer, _ offsets: EmbeddingOffsets) {
        word = base + offsets.word
        position = base + offsets.position
        tokenType = offsets.tokenType.map { base + $0 }
        normWeight = base + offsets.normWeight
        normBias = base + offsets.normBias
        projectionWeight = offsets.projectionWeight.map { base + $0 }
        projectionBias = offsets.projectionBias.map { base + $0 }
    }
}

/// The activations the embeddings save (E = embedding width, C = hidden width).
struct EmbeddingBuffers {
    let sum: FloatBuffer        // [N, E] word + position (+ type): the LayerNorm input
    let normed: FloatBuffer     // [N, E] dropout(LayerNorm(sum)): the projection's input; `out` itself without one
    let out: FloatBuffer        // [N, C] the first layer's input
    let mean, rstd: FloatBuffer // [N]
}

/// The position of each token: `t` for BERT, DistilBERT and ELECTRA; for RoBERTa `padding_idx` + the count of
/// non-padding tokens up to and including it, and `padding_idx` for padding (`create_position_ids_from_input_ids`).
func embeddingPositions(_ positions: UnsafeMutablePointer<Int32>, ids: UnsafePointer<Int32>, batch B: Int, seqLen T: Int,
                        config: BertConfig) {
    guard config.architecture.positionsAfterPadding else {
        for i in 0..<(B * T) { positions[i] = Int32(i % T) }
        return
    }
    let pad = Int32(config.padTokenId)
    for b in 0..<B {
        var count: Int32 = 0
        for t in 0..<T {
            let i = b * T + t
            if ids[i] != pad { count += 1 }
            positions[i] = ids[i] == pad ? pad : pad + count
        }
    }
}

/// Embeddings: `project(dropout(LayerNorm(word[id] + position[p] + tokenType[type])))`, the type term where
/// the architecture has one and the projection where the embedding width differs from the hidden width.
/// - Parameters: ids, types, positions [N]; `E` the embedding width, `C` the hidden width.
func embeddingsForward(_ buffers: EmbeddingBuffers, ids: UnsafePointer<Int32>, types: UnsafePointer<Int32>,
                       positions: UnsafePointer<Int32>, weights w: EmbeddingWeights, tokens N: Int, width E: Int,
                       channels C: Int, eps: Float, dropout: Dropout?) {
    let sum = buffers.sum
    for i in 0..<N {
        let word = w.word + Int(ids[i]) * E
        let position = w.position + Int(positions[i]) * E
        let row = sum + i * E
        if let tokenType = w.tokenType {
            let type = tokenType + Int(types[i]) * E
            for c in 0..<E { row[c] = word[c] + position[c] + type[c] }
        } else {
            for c in 0..<E { row[c] = word[c] + position[c] }
        }
    }
    layerNormForward(out: buffers.normed, mean: buffers.mean, rstd: buffers.rstd, inp: sum, weight: w.normWeight,
                     bias: w.normBias, rows: N, channels: E, eps: eps)
    if let dropout { dropoutForward(out: buffers.normed, inp: buffers.normed, count: N * E, dropout: dropout) }
    if let weight = w.projectionWeight {
        matmulForward(out: buffers.out, inp: buffers.normed, weight: weight, bias: w.projectionBias, rows: N,
                      inFeatures: E, outFeatures: C)
    }
}

/// Backward of `embeddingsForward`: accumulates into the tables, the LayerNorm and the projection.
/// `dout` [N, C] is consumed (used as scratch); `dsum` and `scratch` are [N, C] scratch (E ≤ C).
func embeddingsBackward(grads g: EmbeddingWeights, dout: FloatBuffer, dsum: FloatBuffer, buffers: EmbeddingBuffers,
                        weights w: EmbeddingWeights, ids: UnsafePointer<Int32>, types: UnsafePointer<Int32>,
                        positions: UnsafePointer<Int32>, tokens N: Int, width E: Int, channels C: Int,
                        dropout: Dropout?, scratch: FloatBuffer) {
    // The gradient of the normed embeddings moves between `dout` and `scratch`: each step writes into the free one.
    var dnormed = dout, free = scratch
    if let weight = w.projectionWeight {
        scratch.update(repeating: 0, count: N * E)
        matmulBackward(dinp: scratch, dweight: g.projectionWeight, dbias: g.projectionBias, dout: dout,
                       inp: buffers.normed, weight: weight, rows: N, inFeatures: E, outFeatures: C)
        (dnormed, free) = (scratch, dout)
    }
    if let dropout {
        free.update(repeating: 0, count: N * E)
        dropoutBackward(dinp: free, dout: dnormed, count: N * E, dropout: dropout)
        dnormed = free
    }
    dsum.update(repeating: 0, count: N * E)
    layerNormBackward(dinp: dsum, dweight: g.normWeight, dbias: g.normBias, dout: dnormed, inp: buffers.sum,
                      weight: w.normWeight, mean: buffers.mean, rstd: buffers.rstd, rows: N, channels: E)
    embeddingBackward(dtable: g.word, ids: ids, dout: dsum, count: N, channels: E)
    embeddingBackward(dtable: g.position, ids: positions, dout: dsum, count: N, channels: E)
    if let tokenType = g.tokenType { embeddingBackward(dtable: tokenType, ids: types, dout: dsum, count: N, channels: E) }
}
