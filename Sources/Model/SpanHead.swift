import Kernels

/// Start and end logits of a batch, [batch, seqLen] each, row-major.
public struct SpanLogits: Sendable, Equatable {
    public var batch: Int
    public var seqLen: Int
    public var start: [Float]
    public var end: [Float]
}

/// Span head: `logits[n] = qa_outputs.weight · hidden[n] + qa_outputs.bias`, column 0 = start, 1 = end.
/// - Parameters: logits [N, 2], hidden [N, C], weight [2, C], bias [2].
func spanHeadForward(logits: FloatBuffer, hidden: ConstFloatBuffer, weight: ConstFloatBuffer, bias: ConstFloatBuffer,
                     tokens N: Int, channels C: Int) -> (start: [Float], end: [Float]) {
    matmulForward(out: logits, inp: hidden, weight: weight, bias: bias, rows: N, inFeatures: C, outFeatures: 2)
    let start = (0..<N).map { logits[2 * $0] }
    let end = (0..<N).map { logits[2 * $0 + 1] }
    return (start, end)
}

/// Backward of `spanHeadForward`: `dlogits` [N, 2] is scratch, filled from dStart/dEnd [N]; the hidden
/// gradient accumulates into `dHidden` [N, C].
func spanHeadBackward(dHidden: FloatBuffer, dweight: FloatBuffer, dbias: FloatBuffer, dlogits: FloatBuffer,
                      dStart: UnsafePointer<Float>, dEnd: UnsafePointer<Float>, hidden: ConstFloatBuffer,
                      weight: ConstFloatBuffer, tokens N: Int, channels C: Int) {
    for n in 0..<N {
        dlogits[2 * n] = dStart[n]
        dlogits[2 * n + 1] = dEnd[n]
    }
    matmulBackward(dinp: dHidden, dweight: dweight, dbias: dbias, dout: dlogits, inp: hidden, weight: weight,
                   rows: N, inFeatures: C, outFeatures: 2)
}
