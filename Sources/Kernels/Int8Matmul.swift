/// Per-output-channel symmetric int8 quantisation of a weight matrix [rows, cols]:
/// `scales[r] = max|w[r, ·]| / 127`, `q = round(w / scale)` in -127...127 (all-zero rows get scale 1).
public func quantizeWeightsInt8(out: UnsafeMutablePointer<Int8>, scales: FloatBuffer, weight: ConstFloatBuffer,
                                rows: Int, cols: Int) {
    quantizeRowsInt8(out: out, scales: scales, inp: weight, rows: rows, cols: cols)
}

/// Per-row symmetric int8 quantisation: `scales[r] = max|x[r, ·]| / 127`, `q = round(x / scale)`.
/// Weights use it per output channel; activations per token, at every call (dynamic quantisation:
/// one outlier token does not flatten the resolution of the others, as a per-tensor scale would).
public func quantizeRowsInt8(out: UnsafeMutablePointer<Int8>, scales: FloatBuffer, inp: ConstFloatBuffer, rows: Int, cols: Int) {
    parallelFor(count: rows, minimumWork: max(1, memoryParallelThreshold / max(1, cols))) { range in
        for r in range {
            let row = inp + r * cols
            var largest: Float = 0
            for j in 0..<cols { largest = max(largest, abs(row[j])) }
            let scale = largest > 0 ? largest / 127 : 1
            let inverse = 1 / scale
            scales[r] = scale
            let q = out + r * cols
            for j in 0..<cols { q[j] = Int8((row[j] * inverse).rounded(.toNearestOrEven)) }
        }
    }
}

/// Linear layer forward in int8: `inp` quantised per row (token) to int8 into `scratch` with `rowScales`,
/// times the int8 `weight` [outFeatures, inFeatures] with per-channel `weightScales`, exact int32 sums
/// (written into `out`'s memory), then in place `out[r, o] = bias[o] + rowScale[r] · weightScale[o] · sum`.
/// `scratch` holds rows × inFeatures bytes, `rowScales` rows floats.
public func matmulForwardInt8(out: FloatBuffer, inp: ConstFloatBuffer, scratch: UnsafeMutablePointer<Int8>,
                              rowScales: FloatBuffer, weight: UnsafePointer<Int8>, weightScales: ConstFloatBuffer,
                              bias: ConstFloatBuffer?, rows: Int, inFeatures: Int, outFeatures: Int) {
    quantizeRowsInt8(out: scratch, scales: rowScales, inp: inp, rows: rows, cols: inFeatures)
    let profileStart = KernelProfile.start()
    defer {
        KernelProfile.stop(profileStart, "matmulForwardInt8 \(rows)x\(inFeatures)->\(outFeatures)",
                           flops: 2 * Double(rows * inFeatures * outFeatures))
    }
    let sums = UnsafeMutableRawPointer(out).assumingMemoryBound(to: Int32.self)
    var done = false
    if LowPrecision.backend == .onednn, OneDNN.hasExactInt8 {
        let d = MatmulDescription(m: rows, n: outFeatures, k: inFeatures, lda: inFeatures, ldb: inFeatures, ldc: outFeatures,
                                  transA: false, transB: true, a: .s8, b: .s8, c: .s32)
        if OneDNN.supports(d) {
            // Blocks of rows (or columns) on the workers, one single-threaded call each (see `gemmBF16`).
            splitOverWorkers(m: rows, n: outFeatures, k: inFeatures) { r, o in
                var block = d
                (block.m, block.n) = (r.count, o.count)
                OneDNN.execute(block, a: scratch + r.lowerBound * inFeatures, b: weight + o.lowerBound * inFeatures,
                               c: sums + r.lowerBound * outFeatures + o.lowerBound, threads: 1)
            }
            done = true
        }
    }
    if !done {
        referenceSumsInt8(sums: sums, inp: scratch, weight: weight, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
    }
    // Dequantise in place: each int32 is read before its float is written.
    parallelFor(count: rows, minimumWork: max(1, memoryParallelThreshold / max(1, outFeatures))) { range in
        for r in range {
            let scale = rowScales[r]
            for o in 0..<outFeatures {
                let sum = Float(sums[r * outFeatures + o])
                out[r * outFeatures + o] = (bias?[o] ?? 0) + scale * weightScales[o] * sum
            }
        }
    }
}

/// The reference path of `matmulForwardInt8`: the int8 values widened to fp32 (exactly) and one sgemm,
/// rounded back to int32 sums `sums[r, o] = Σ_i inp[r, i] · weight[o, i]` — exact while the partial sums
/// stay under 2²⁴ (|sum| ≤ 127² · inFeatures: exact to 1,040 inputs, off by at most a few units past).
func referenceSumsInt8(sums: UnsafeMutablePointer<Int32>, inp: UnsafePointer<Int8>, weight: UnsafePointer<Int8>,
                       rows: Int, inFeatures: Int, outFeatures: Int) {
    let a = FloatBuffer.allocate(capacity: rows * inFeatures), w = FloatBuffer.allocate(capacity: outFeatures * inFeatures)
    let product = FloatBuffer.allocate(capacity: rows * outFeatures)
    defer { a.deallocate(); w.deallocate(); product.deallocate() }
    for i in 0..<rows * inFeatures { a[i] = Float(inp[i]) }
    for i in 0..<outFeatures * inFeatures { w[i] = Float(weight[i]) }
    parallelGemm(transA: false, transB: true, m: rows, n: outFeatures, k: inFeatures, alpha: 1, a: a, lda: inFeatures,
                 b: w, ldb: inFeatures, beta: 0, c: product, ldc: outFeatures)
    for i in 0..<rows * outFeatures { sums[i] = Int32(product[i].rounded()) }
}
