/// The per-token pieces of the static int8 layer's second feed-forward matmul. Its input, the GELU output, has
/// outlier channels that one static scale clips (see `StaticInt8Weights`): it is smoothed per channel (SmoothQuant,
/// the weight's columns multiplied back) and each token gets its own scale, as in the dynamic scheme
/// (`matmulForwardInt8`); the product runs on the static path's packed s8 weight with the weight's column scales
/// on the tile (`gemmInt8`), and the token's scale, the bias and the residual follow in one pass over the output.

/// Per-row (per-token) symmetric int8 quantisation of bf16 values [rows, cols] smoothed per column: with
/// `y = x · multipliers[j]` in fp32, `scales[r] = max|y[r, ·]| / 127`, `q = round(y / scale)` to nearest even. Bit for
/// bit the dynamic scheme's `quantizeRowsInt8` on the values widened to fp32 and multiplied (its twin), for finite
/// inputs.
public func quantizeRowsInt8(out: UnsafeMutablePointer<Int8>, scales: FloatBuffer, inp: ConstBF16Buffer,
                             multipliers: ConstFloatBuffer, rows: Int, cols: Int) {
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "quantizeRowsInt8 bf16") }
    parallelFor(count: rows, minimumWork: max(1, memoryParallelThreshold / max(1, cols))) { range in
        for r in range {
            let row = inp + r * cols
            var largest: Float = 0
            for j in 0..<cols { largest = max(largest, abs(float(bfloat16: row[j]) * multipliers[j])) }
            let scale = largest > 0 ? largest / 127 : 1
            let inverse = 1 / scale
            scales[r] = scale
            let q = out + r * cols
            for j in 0..<cols { q[j] = quantizedInt8(float(bfloat16: row[j]) * multipliers[j] * inverse) }
        }
    }
}

/// The dequantisation of a per-token int8 product with its epilogue, in place: `c[r, j] = c[r, j] · rowScales[r] +
/// bias[j] + residual[r, j]`, where `c` [rows, cols] holds the exact sums already times the weight's column scales
/// (`gemmInt8` with those scales and no bias). `residual` has row stride `cols`.
public func dequantizeRowsInt8(c: FloatBuffer, rowScales: ConstFloatBuffer, bias: ConstFloatBuffer, residual: ConstFloatBuffer,
                               rows: Int, cols: Int) {
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "dequantizeRowsInt8") }
    parallelFor(count: rows, minimumWork: max(1, memoryParallelThreshold / max(1, cols))) { range in
        for r in range {
            let scale = rowScales[r], row = c + r * cols, skip = residual + r * cols
            for j in 0..<cols { row[j] = row[j] * scale + bias[j] + skip[j] }
        }
    }
}
