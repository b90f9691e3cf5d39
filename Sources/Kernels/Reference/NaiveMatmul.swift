// Plain-loop twins of the matmul kernels: the test reference (double accumulation).

/// Reference twin of `gemm`.
public func naiveGemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      a: ConstFloatBuffer, lda: Int, b: ConstFloatBuffer, ldb: Int,
                      beta: Float, c: FloatBuffer, ldc: Int) {
    for i in 0..<m {
        for j in 0..<n {
            var sum: Double = 0
            for p in 0..<k {
                let av = transA ? a[p * lda + i] : a[i * lda + p]
                let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                sum += Double(av) * Double(bv)
            }
            let previous = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
            c[i * ldc + j] = Float(Double(alpha) * sum + previous)
        }
    }
}

/// Reference twin of `matmulForward`.
public func naiveMatmulForward(out: FloatBuffer, inp: ConstFloatBuffer, weight: ConstFloatBuffer,
                               bias: ConstFloatBuffer?, rows: Int, inFeatures: Int, outFeatures: Int) {
    for r in 0..<rows {
        for o in 0..<outFeatures {
            var sum = Double(bias?[o] ?? 0)
            for i in 0..<inFeatures { sum += Double(inp[r * inFeatures + i]) * Double(weight[o * inFeatures + i]) }
            out[r * outFeatures + o] = Float(sum)
        }
    }
}

/// Reference twin of `matmulBackward`.
public func naiveMatmulBackward(dinp: FloatBuffer?, dweight: FloatBuffer?, dbias: FloatBuffer?,
                                dout: ConstFloatBuffer, inp: ConstFloatBuffer, weight: ConstFloatBuffer,
                                rows: Int, inFeatures: Int, outFeatures: Int) {
    if let dinp {
        for r in 0..<rows {
            for i in 0..<inFeatures {
                var sum: Double = 0
                for o in 0..<outFeatures { sum += Double(dout[r * outFeatures + o]) * Double(weight[o * inFeatures + i]) }
                dinp[r * inFeatures + i] += Float(sum)
            }
        }
    }
    if let dweight {
        for o in 0..<outFeatures {
            for i in 0..<inFeatures {
                var sum: Double = 0
                for r in 0..<rows { sum += Double(dout[r * outFeatures + o]) * Double(inp[r * inFeatures + i]) }
                dweight[o * inFeatures + i] += Float(sum)
            }
        }
    }
    if let dbias {
        for o in 0..<outFeatures {
            var sum: Double = 0
            for r in 0..<rows { sum += Double(dout[r * outFeatures + o]) }
            dbias[o] += Float(sum)
        }
    }
}
