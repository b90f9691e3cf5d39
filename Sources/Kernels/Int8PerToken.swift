/// The per-token pieces of the static int8 layer's second feed-forward matmul. Its input, the GELU output, has
/// outlier channels that one static scale clips (see `StaticInt8Weights`): it is smoothed per channel (SmoothQuant,
/// the weight's columns multiplied back) and each token gets its own range, centred on the token's midpoint; the
/// product runs on the static path's packed s8 weight with the weight's column scales on the tile (`gemmInt8`), and
/// the token's scale and offset, the bias and the residual follow in one pass over the output.

/// Per-row (per-token) int8 quantisation of bf16 values [rows, cols] smoothed per column, centred: with
/// `y = x · multipliers[j]` in fp32 and the row's range `lo...hi`, `offsets[r] = (hi + lo) / 2`,
/// `scales[r] = (hi − lo) / 254` (1 for a constant row) and `q = round((y − offset) · (1 / scale))` to nearest even,
/// within ±127. The GELU output lies in −0.17...hi: a symmetric scale (max|y| / 127) spends nearly half its levels on
/// negatives that do not occur, the centred one about halves the step. The offset comes back in the product's
/// dequantisation (`dequantizeRowsInt8`: `offset · Σₖ W[j, k]`). Its twin is `naiveQuantizeRowsInt8Centred`.
public func quantizeRowsInt8(out: UnsafeMutablePointer<Int8>, scales: FloatBuffer, offsets: FloatBuffer, inp: ConstBF16Buffer,
                             multipliers: ConstFloatBuffer, rows: Int, cols: Int) {
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "quantizeRowsInt8 centred") }
    parallelFor(count: rows, minimumWork: max(1, memoryParallelThreshold / max(1, cols))) { range in
        let y = FloatBuffer.allocate(capacity: cols)
        defer { y.deallocate() }
        for r in range {
            let row = inp + r * cols
            for j in 0..<cols { y[j] = float(bfloat16: row[j]) * multipliers[j] }  // plain loops vectorise
            var low = Vec16(repeating: .infinity), high = Vec16(repeating: -.infinity), j = 0
            while j + 16 <= cols {
                let v = load16(y + j)
                low = low.replacing(with: v, where: v .< low)
                high = high.replacing(with: v, where: v .> high)
                j += 16
            }
            var lo = low.min(), hi = high.max()
            while j < cols { lo = min(lo, y[j]); hi = max(hi, y[j]); j += 1 }
            let offset = (hi + lo) / 2, width = hi - lo
            let scale = width > 0 ? width / 254 : 1
            let inverse = 1 / scale
            scales[r] = scale
            offsets[r] = offset
            let q = out + r * cols
            for j in 0..<cols { q[j] = quantizedInt8((y[j] - offset) * inverse) }
        }
    }
}

/// The dequantisation of a centred per-token int8 product with its epilogue, into `out` (`c` itself when nil; it may be
/// `residual`, each element read before it is written):
/// `out[r, j] = c[r, j] · rowScales[r] + rowOffsets[r] · weightSums[j] + bias[j] + residual[r, j]`, where `c` [rows, cols]
/// holds the exact sums already times the weight's column scales (`gemmInt8` with those scales and no bias) and
/// `weightSums[j]` is the dequantised weight row's sum `Σₖ W[j, k]` (what the offset multiplies). `residual` has row
/// stride `cols`.
public func dequantizeRowsInt8(c: FloatBuffer, rowScales: ConstFloatBuffer, rowOffsets: ConstFloatBuffer,
                               weightSums: ConstFloatBuffer, bias: ConstFloatBuffer, residual: ConstFloatBuffer, rows: Int, cols: Int,
                               out: FloatBuffer? = nil) {
    let out = out ?? c
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "dequantizeRowsInt8") }
    parallelFor(count: rows, minimumWork: max(1, memoryParallelThreshold / max(1, cols))) { range in
        for r in range {
            let scale = rowScales[r], offset = rowOffsets[r], row = c + r * cols, skip = residual + r * cols, y = out + r * cols
            for j in 0..<cols { y[j] = row[j] * scale + offset * weightSums[j] + bias[j] + skip[j] }
        }
    }
}
