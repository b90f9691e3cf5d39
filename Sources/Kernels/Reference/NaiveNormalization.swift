import Foundation

// Plain-loop twins of LayerNorm, GELU, softmax and cross-entropy: the test reference
// (double precision, libm exp/erf/log).

/// Reference twin of `layerNormForward`.
public func naiveLayerNormForward(out: FloatBuffer, mean: FloatBuffer, rstd: FloatBuffer, inp: ConstFloatBuffer,
                                  weight: ConstFloatBuffer, bias: ConstFloatBuffer,
                                  rows: Int, channels: Int, eps: Float) {
    for r in 0..<rows {
        let x = inp + r * channels
        var m: Double = 0
        for c in 0..<channels { m += Double(x[c]) }
        m /= Double(channels)
        var v: Double = 0
        for c in 0..<channels { v += (Double(x[c]) - m) * (Double(x[c]) - m) }
        v /= Double(channels)
        let s = 1 / (v + Double(eps)).squareRoot()
        mean[r] = Float(m)
        rstd[r] = Float(s)
        for c in 0..<channels {
            out[r * channels + c] = Float((Double(x[c]) - m) * s * Double(weight[c]) + Double(bias[c]))
        }
    }
}

/// Reference twin of `layerNormBackward`.
public func naiveLayerNormBackward(dinp: FloatBuffer, dweight: FloatBuffer, dbias: FloatBuffer,
                                   dout: ConstFloatBuffer, inp: ConstFloatBuffer, weight: ConstFloatBuffer,
                                   mean: ConstFloatBuffer, rstd: ConstFloatBuffer, rows: Int, channels: Int) {
    for r in 0..<rows {
        let m = Double(mean[r]), s = Double(rstd[r])
        var sumDnorm: Double = 0, sumDnormNorm: Double = 0
        for c in 0..<channels {
            let norm = (Double(inp[r * channels + c]) - m) * s
            let dnorm = Double(dout[r * channels + c]) * Double(weight[c])
            sumDnorm += dnorm
            sumDnormNorm += dnorm * norm
            dweight[c] += Float(Double(dout[r * channels + c]) * norm)
            dbias[c] += dout[r * channels + c]
        }
        let n = Double(channels)
        for c in 0..<channels {
            let norm = (Double(inp[r * channels + c]) - m) * s
            let dnorm = Double(dout[r * channels + c]) * Double(weight[c])
            dinp[r * channels + c] += Float((dnorm - sumDnorm / n - norm * sumDnormNorm / n) * s)
        }
    }
}

/// Reference twin of `geluForward`.
public func naiveGeluForward(out: FloatBuffer, inp: ConstFloatBuffer, count: Int) {
    for i in 0..<count {
        let x = Double(inp[i])
        out[i] = Float(0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot())))
    }
}

/// Reference twin of `geluBackward`.
public func naiveGeluBackward(dinp: FloatBuffer, inp: ConstFloatBuffer, dout: ConstFloatBuffer, count: Int) {
    for i in 0..<count {
        let x = Double(inp[i])
        let cdf = 0.5 * (1 + Foundation.erf(x / 2.0.squareRoot()))
        let pdf = Foundation.exp(-0.5 * x * x) / (2 * Double.pi).squareRoot()
        dinp[i] += Float(Double(dout[i]) * (cdf + x * pdf))
    }
}

/// Reference twin of `softmaxForward`.
public func naiveSoftmaxForward(out: FloatBuffer, inp: ConstFloatBuffer, rows: Int, cols: Int) {
    for r in 0..<rows {
        let lse = naiveLogSumExp(inp + r * cols, cols: cols)
        for c in 0..<cols { out[r * cols + c] = Float(Foundation.exp(Double(inp[r * cols + c]) - lse)) }
    }
}

/// Reference twin of `logSoftmaxForward`.
public func naiveLogSoftmaxForward(out: FloatBuffer, inp: ConstFloatBuffer, rows: Int, cols: Int) {
    for r in 0..<rows {
        let lse = naiveLogSumExp(inp + r * cols, cols: cols)
        for c in 0..<cols { out[r * cols + c] = Float(Double(inp[r * cols + c]) - lse) }
    }
}

/// Reference twin of `softmaxBackward`.
public func naiveSoftmaxBackward(dinp: FloatBuffer, dout: ConstFloatBuffer, probs: ConstFloatBuffer, rows: Int, cols: Int) {
    for r in 0..<rows {
        var dot: Double = 0
        for c in 0..<cols { dot += Double(dout[r * cols + c]) * Double(probs[r * cols + c]) }
        for c in 0..<cols {
            dinp[r * cols + c] += Float(Double(probs[r * cols + c]) * (Double(dout[r * cols + c]) - dot))
        }
    }
}

/// Reference twin of `softmaxCrossEntropy`.
public func naiveSoftmaxCrossEntropy(logits: ConstFloatBuffer, targets: UnsafePointer<Int32>, dlogits: FloatBuffer?,
                                     rows: Int, cols: Int, scale: Float) -> Float {
    var total: Double = 0
    for r in 0..<rows {
        let target = Int(targets[r])
        if target < 0 { continue }
        precondition(target < cols, "naiveSoftmaxCrossEntropy: target \(target) of row \(r) is outside 0..<\(cols)")
        let lse = naiveLogSumExp(logits + r * cols, cols: cols)
        total += lse - Double(logits[r * cols + target])
        if let dlogits {
            for c in 0..<cols {
                let p = Foundation.exp(Double(logits[r * cols + c]) - lse)
                dlogits[r * cols + c] += Float(Double(scale) * (p - (c == target ? 1 : 0)))
            }
        }
    }
    return Float(total * Double(scale))
}

/// Reference twin of `softTargetCrossEntropy`.
public func naiveSoftTargetCrossEntropy(logits: ConstFloatBuffer, targetProbs: ConstFloatBuffer, dlogits: FloatBuffer?,
                                        rows: Int, cols: Int, scale: Float) -> Float {
    var total: Double = 0
    for r in 0..<rows {
        let lse = naiveLogSumExp(logits + r * cols, cols: cols)
        var mass: Double = 0
        for c in 0..<cols {
            let q = Double(targetProbs[r * cols + c])
            mass += q
            total += q * (lse - Double(logits[r * cols + c]))
        }
        if let dlogits {
            for c in 0..<cols {
                let p = Foundation.exp(Double(logits[r * cols + c]) - lse)
                dlogits[r * cols + c] += Float(Double(scale) * (p * mass - Double(targetProbs[r * cols + c])))
            }
        }
    }
    return Float(total * Double(scale))
}

/// log Σ e^x over one row, in double precision.
func naiveLogSumExp(_ x: ConstFloatBuffer, cols: Int) -> Double {
    var m = -Double.infinity
    for c in 0..<cols { m = max(m, Double(x[c])) }
    var sum: Double = 0
    for c in 0..<cols { sum += Foundation.exp(Double(x[c]) - m) }
    return m + Foundation.log(sum)
}
