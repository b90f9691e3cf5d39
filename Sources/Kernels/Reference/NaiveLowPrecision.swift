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
