import Foundation

/// Reference twin of `maskedSquaredError`, in Double.
public func naiveMaskedSquaredError(student: ConstFloatBuffer, teacher: ConstFloatBuffer, dStudent: FloatBuffer,
                                    tokenMask: UnsafePointer<Int32>, tokens: Int, channels: Int, gradientScale: Float) -> Double {
    var total: Double = 0
    for t in 0..<tokens {
        for c in 0..<channels {
            let index = t * channels + c
            let diff = Double(student[index]) - Double(teacher[index])
            let real = tokenMask[t] != 0
            if real { total += diff * diff }
            dStudent[index] = real ? Float(2 * Double(gradientScale) * diff) : 0
        }
    }
    return total
}

/// Reference twin of `attentionKLDivergence`, in Double with libm's log.
public func naiveAttentionKLDivergence(student: ConstFloatBuffer, teacher: ConstFloatBuffer, dScores: FloatBuffer,
                                       keyMask: UnsafePointer<Int32>, batch: Int, heads: Int, seqLen T: Int,
                                       gradientScale: Float) -> Double {
    var total: Double = 0
    for b in 0..<batch {
        for h in 0..<heads {
            for i in 0..<T {
                for j in 0..<T {
                    let index = (((b * heads + h) * T) + i) * T + j
                    let real = keyMask[b * T + i] != 0 && keyMask[b * T + j] != 0
                    let s = Double(student[index]), q = Double(teacher[index])
                    if real && q > 0 {
                        total += q * (log(q) - log(max(s, Double(Float.leastNormalMagnitude))))
                    }
                    dScores[index] = real ? Float(Double(gradientScale) * (s - q)) : 0
                }
            }
        }
    }
    return total
}
