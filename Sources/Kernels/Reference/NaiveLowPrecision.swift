// Plain-loop twins of the low-precision kernels (double accumulation of the exact bf16/int8 values).

/// Reference twin of `gemmBF16`.
public func naiveGemmBF16(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                          a: ConstBF16Buffer, lda: Int, b: ConstBF16Buffer, ldb: Int, accumulate: Bool,
                          bias: ConstFloatBuffer?, c: FloatBuffer, ldc: Int) {
    for i in 0..<m {
        for j in 0..<n {
            var sum: Double = 0
            for p in 0..<k {
                let av = transA ? a[p * lda + i] : a[i * lda + p]
                let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                sum += Double(float(bfloat16: av)) * Double(float(bfloat16: bv))
            }
            let value = Double(alpha) * sum + Double(bias?[j] ?? 0)
            c[i * ldc + j] = Float(value + (accumulate ? Double(c[i * ldc + j]) : 0))
        }
    }
}

/// Reference twin of the centred per-token `quantizeRowsInt8` (bf16 input, per-column multipliers): one element at
/// a time, the same fp32 operations in the same order, and the rounding written out (nearest, ties to even) and
/// clamped to ±127.
public func naiveQuantizeRowsInt8Centred(out: UnsafeMutablePointer<Int8>, scales: FloatBuffer, offsets: FloatBuffer,
                                         inp: ConstBF16Buffer, multipliers: ConstFloatBuffer, rows: Int, cols: Int) {
    for r in 0..<rows {
        let y = (0..<cols).map { float(bfloat16: inp[r * cols + $0]) * multipliers[$0] }
        let lo = y.min() ?? 0, hi = y.max() ?? 0
        let offset = (hi + lo) / 2, width = hi - lo
        let scale: Float = width > 0 ? width / 254 : 1
        let inverse = 1 / scale
        scales[r] = scale
        offsets[r] = offset
        for j in 0..<cols {
            let v = ((y[j] - offset) * inverse).rounded(.toNearestOrEven)
            out[r * cols + j] = Int8(Swift.max(-127, Swift.min(127, v)))
        }
    }
}
