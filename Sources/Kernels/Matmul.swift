/// Linear layer forward in PyTorch layout: `out[r, o] = sum_i inp[r, i] * weight[o, i] + bias[o]`.
/// - Parameters: out [rows, outFeatures], inp [rows, inFeatures], weight [outFeatures, inFeatures],
///   bias [outFeatures] or nil.
public func matmulForward(out: FloatBuffer, inp: ConstFloatBuffer, weight: ConstFloatBuffer,
                          bias: ConstFloatBuffer?, rows: Int, inFeatures: Int, outFeatures: Int) {
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "matmulForward \(rows)x\(inFeatures)->\(outFeatures)", flops: 2 * Double(rows * inFeatures * outFeatures)) }
    var beta: Float = 0
    if let bias {
        for r in 0..<rows { (out + r * outFeatures).update(from: bias, count: outFeatures) }
        beta = 1
    }
    gemm(transA: false, transB: true, m: rows, n: outFeatures, k: inFeatures, alpha: 1,
         a: inp, lda: inFeatures, b: weight, ldb: inFeatures, beta: beta, c: out, ldc: outFeatures)
}

/// Linear layer backward; accumulates into each non-nil gradient:
/// `dinp += dout · weight`, `dweight += doutᵀ · inp`, `dbias += column sums of dout`.
public func matmulBackward(dinp: FloatBuffer?, dweight: FloatBuffer?, dbias: FloatBuffer?,
                           dout: ConstFloatBuffer, inp: ConstFloatBuffer, weight: ConstFloatBuffer,
                           rows: Int, inFeatures: Int, outFeatures: Int) {
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "matmulBackward \(rows)x\(inFeatures)->\(outFeatures)", flops: Double((dinp == nil ? 0 : 2) + (dweight == nil ? 0 : 2)) * Double(rows * inFeatures * outFeatures)) }
    if let dinp {
        gemm(transA: false, transB: false, m: rows, n: inFeatures, k: outFeatures, alpha: 1,
             a: dout, lda: outFeatures, b: weight, ldb: inFeatures, beta: 1, c: dinp, ldc: inFeatures)
    }
    if let dweight {
        gemm(transA: true, transB: false, m: outFeatures, n: inFeatures, k: rows, alpha: 1,
             a: dout, lda: outFeatures, b: inp, ldb: inFeatures, beta: 1, c: dweight, ldc: inFeatures)
    }
    if let dbias { columnSumAccumulate(into: dbias, matrix: dout, rows: rows, cols: outFeatures) }
}

/// `sums[c] += sum_r matrix[r, c]`, vectorised across columns.
@inlinable
func columnSumAccumulate(into sums: FloatBuffer, matrix: ConstFloatBuffer, rows: Int, cols: Int) {
    var c = 0
    while c + 16 <= cols {
        var acc = SIMD16<Float>(UnsafeRawPointer(sums + c).loadUnaligned(as: SIMD16<Float>.self))
        for r in 0..<rows {
            acc += UnsafeRawPointer(matrix + r * cols + c).loadUnaligned(as: SIMD16<Float>.self)
        }
        UnsafeMutableRawPointer(sums + c).storeBytes(of: acc, as: SIMD16<Float>.self)
        c += 16
    }
    while c < cols {
        var acc: Float = 0
        for r in 0..<rows { acc += matrix[r * cols + c] }
        sums[c] += acc
        c += 1
    }
}
