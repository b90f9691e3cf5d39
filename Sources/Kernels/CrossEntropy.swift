/// Softmax cross-entropy against hard targets, loss and gradient in one pass.
/// Row r contributes `scale * (logsumexp(logits[r]) - logits[r, targets[r]])` to the returned sum and
/// `scale * (softmax(logits[r]) - onehot(targets[r]))` to `dlogits` (accumulated). A negative target
/// marks a row to ignore (PyTorch's `ignore_index`): it adds neither loss nor gradient. Averaging and
/// padding are the caller's: pass `scale = 1 / number of counted rows`; masked columns are set to a
/// large negative logit (-1e4) by the caller.
/// - Parameters: logits/dlogits [rows, cols], targets [rows] in `0..<cols` or negative.
/// - Returns: the scaled sum of the row losses.
public func softmaxCrossEntropy(logits: ConstFloatBuffer, targets: UnsafePointer<Int32>, dlogits: FloatBuffer?,
                                rows: Int, cols: Int, scale: Float) -> Float {
    var total: Double = 0
    for r in 0..<rows {
        let target = Int(targets[r])
        if target < 0 { continue }
        precondition(target < cols, "softmaxCrossEntropy: target \(target) of row \(r) is outside 0..<\(cols)")
        let x = logits + r * cols
        let lse = logSumExp(x, cols: cols)
        total += Double(lse - x[target])
        if let dlogits {
            let g = dlogits + r * cols
            accumulateScaledSoftmax(into: g, logits: x, logSumExp: lse, cols: cols, scale: scale)
            g[target] -= scale
        }
    }
    return Float(total) * scale
}

/// Softmax cross-entropy against soft target distributions (no gradient flows to the targets).
/// Row r contributes `scale * Σ_c q[r,c] (logsumexp(logits[r]) - logits[r,c])` to the returned sum and
/// `scale * (softmax(logits[r]) Σ_c q[r,c] - q[r])` to `dlogits` (accumulated), which is
/// `scale * (p - q)` for normalised targets.
/// - Parameters: logits/targetProbs/dlogits [rows, cols].
/// - Returns: the scaled sum of the row losses.
public func softTargetCrossEntropy(logits: ConstFloatBuffer, targetProbs: ConstFloatBuffer, dlogits: FloatBuffer?,
                                   rows: Int, cols: Int, scale: Float) -> Float {
    var total: Double = 0
    for r in 0..<rows {
        let x = logits + r * cols
        let q = targetProbs + r * cols
        let lse = logSumExp(x, cols: cols)
        var massv = Vec16(), crossv = Vec16()
        let lsev = Vec16(repeating: lse)
        var c = 0
        while c + 16 <= cols {
            let qv = load16(q + c)
            massv += qv
            crossv += qv * (lsev - load16(x + c))
            c += 16
        }
        var mass = hsum(massv), cross = hsum(crossv)
        while c < cols { mass += q[c]; cross += q[c] * (lse - x[c]); c += 1 }
        total += Double(cross)
        if let dlogits {
            let g = dlogits + r * cols
            accumulateScaledSoftmax(into: g, logits: x, logSumExp: lse, cols: cols, scale: scale * mass)
            let sv = Vec16(repeating: scale)
            c = 0
            while c + 16 <= cols { store16(g + c, load16(g + c) - sv * load16(q + c)); c += 16 }
            while c < cols { g[c] -= scale * q[c]; c += 1 }
        }
    }
    return Float(total) * scale
}

/// `g += scale * e^(x - lse)` over one row.
@inline(__always)
func accumulateScaledSoftmax(into g: FloatBuffer, logits x: ConstFloatBuffer, logSumExp lse: Float, cols: Int,
                             scale: Float) {
    let lsev = Vec16(repeating: lse)
    let sv = Vec16(repeating: scale)
    var c = 0
    while c + 16 <= cols { store16(g + c, load16(g + c) + sv * vexp(load16(x + c) - lsev)); c += 16 }
    let rest = cols - c
    if rest > 0 {
        let e = vexp(loadPartial(x + c, count: rest, fill: -.greatestFiniteMagnitude) - lsev)
        storePartial(g + c, loadPartial(g + c, count: rest, fill: 0) + sv * e, count: rest)
    }
}
