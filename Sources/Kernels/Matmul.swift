/// Linear layer forward in PyTorch layout: `out[r, o] = sum_i inp[r, i] * weight[o, i] + bias[o]`.
/// - Parameters: out [rows, outFeatures], inp [rows, inFeatures], weight [outFeatures, inFeatures],
///   bias [outFeatures] or nil.
public func matmulForward(out: FloatBuffer, inp: ConstFloatBuffer, weight: ConstFloatBuffer,
                          bias: ConstFloatBuffer?, rows: Int, inFeatures: Int, outFeatures: Int) {
    let profileStart = KernelProfile.start()
    defer {
        KernelProfile.stop(profileStart, "matmulForward \(rows)x\(inFeatures)->\(outFeatures)",
                           flops: 2 * Double(rows * inFeatures * outFeatures))
    }
    var beta: Float = 0
    if let bias {
        // The bias rows are the gemm's starting C (beta = 1): one write pass, split over the workers.
        parallelFor(count: rows, minimumWork: max(1, memoryParallelThreshold / max(1, outFeatures))) { rowRange in
            for r in rowRange { (out + r * outFeatures).update(from: bias, count: outFeatures) }
        }
        beta = 1
    }
    parallelGemm(transA: false, transB: true, m: rows, n: outFeatures, k: inFeatures, alpha: 1,
         a: inp, lda: inFeatures, b: weight, ldb: inFeatures, beta: beta, c: out, ldc: outFeatures)
}

/// Linear layer backward; accumulates into each non-nil gradient:
/// `dinp += dout · weight`, `dweight += doutᵀ · inp`, `dbias += column sums of dout`.
public func matmulBackward(dinp: FloatBuffer?, dweight: FloatBuffer?, dbias: FloatBuffer?,
                           dout: ConstFloatBuffer, inp: ConstFloatBuffer, weight: ConstFloatBuffer,
                           rows: Int, inFeatures: Int, outFeatures: Int) {
    let profileStart = KernelProfile.start()
    defer {
        KernelProfile.stop(profileStart, "matmulBackward \(rows)x\(inFeatures)->\(outFeatures)",
                           flops: Double((dinp == nil ? 0 : 2) + (dweight == nil ? 0 : 2)) * Double(rows * inFeatures * outFeatures))
    }
    if let dinp {
        parallelGemm(transA: false, transB: false, m: rows, n: inFeatures, k: outFeatures, alpha: 1,
             a: dout, lda: outFeatures, b: weight, ldb: inFeatures, beta: 1, c: dinp, ldc: inFeatures)
    }
    if let dweight {
        parallelGemm(transA: true, transB: false, m: outFeatures, n: inFeatures, k: rows, alpha: 1,
             a: dout, lda: outFeatures, b: inp, ldb: inFeatures, beta: 1, c: dweight, ldc: inFeatures)
    }
    if let dbias { columnSumAccumulate(into: dbias, matrix: dout, rows: rows, cols: outFeatures) }
}

/// `sums[c] += sum_r matrix[r, c]`, vectorised across columns, column blocks split over the workers.
func columnSumAccumulate(into sums: FloatBuffer, matrix: ConstFloatBuffer, rows: Int, cols: Int) {
    parallelElements(count: cols, minimumWork: memoryParallelThreshold / max(1, rows)) { columns in
        let c = columns.lowerBound
        columnSumAccumulate(into: sums + c, matrix: matrix + c, rows: rows, cols: columns.count, stride: cols)
    }
}

/// `sums[c] += sum_r matrix[r·stride + c]` for c in 0..<cols.
@inline(__always)
func columnSumAccumulate(into sums: FloatBuffer, matrix: ConstFloatBuffer, rows: Int, cols: Int, stride: Int) {
    var c = 0
    while c + 16 <= cols {
        var acc = load16(sums + c)
        for r in 0..<rows { acc += load16(matrix + r * stride + c) }
        store16(sums + c, acc)
        c += 16
    }
    while c < cols {  // the same order as the vector lanes: onto the sum, row by row
        var acc = sums[c]
        for r in 0..<rows { acc += matrix[r * stride + c] }
        sums[c] = acc
        c += 1
    }
}
