/// Per-output-channel symmetric int8 quantisation of a weight matrix [rows, cols]:
/// `scales[r] = max|w[r, ·]| / 127`, `q = round(w / scale)` in -127...127 (all-zero rows get scale 1).
public func quantizeWeightsInt8(out: UnsafeMutablePointer<Int8>, scales: FloatBuffer, weight: ConstFloatBuffer,
                                rows: Int, cols: Int) {
    parallelFor(count: rows, minimumWork: max(1, memoryParallelThreshold / max(1, cols))) { range in
        for r in range {
            let row = weight + r * cols
            var largest: Float = 0
            for j in 0..<cols { largest = max(largest, abs(row[j])) }
            let scale = largest > 0 ? largest / 127 : 1
            scales[r] = scale
            for j in 0..<cols { out[r * cols + j] = Int8((row[j] / scale).rounded(.toNearestOrEven)) }
        }
    }
}

/// The affine u8 quantisation of an activation tensor: `x ≈ scale · (q − zeroPoint)`, with the range
/// widened to include 0 so that 0 is exact (as PyTorch's dynamic quantisation).
public struct ActivationQuantization: Equatable, Sendable {
    public let scale: Float
    public let zeroPoint: Int32

    public init(minimum: Float, maximum: Float) {
        let low = min(minimum, 0), high = max(maximum, 0)
        let scale = high > low ? (high - low) / 255 : 1
        self.scale = scale
        zeroPoint = Int32(max(0, min(255, (-low / scale).rounded(.toNearestOrEven))))
    }

    @inline(__always)
    public func quantize(_ x: Float) -> UInt8 {
        UInt8(max(0, min(255, (x / scale).rounded(.toNearestOrEven) + Float(zeroPoint))))
    }
}

/// Quantises `inp` [count] to u8 into `out` with one scale and zero point for the whole tensor.
public func quantizeActivationsU8(out: UnsafeMutablePointer<UInt8>, inp: ConstFloatBuffer, count: Int) -> ActivationQuantization {
    let chunks = max(1, parallelChunkCount(count: count, minimumWork: memoryParallelThreshold))
    var lows = [Float](repeating: .infinity, count: chunks), highs = [Float](repeating: -.infinity, count: chunks)
    lows.withUnsafeMutableBufferPointer { lo in
        highs.withUnsafeMutableBufferPointer { hi in
            let l = SendablePointer(lo.baseAddress!), h = SendablePointer(hi.baseAddress!)
            parallelChunks(count: count, minimumWork: memoryParallelThreshold) { chunk, range in
                var low = Float.infinity, high = -Float.infinity
                for i in range { low = min(low, inp[i]); high = max(high, inp[i]) }
                l.pointer[chunk] = low
                h.pointer[chunk] = high
            }
        }
    }
    let q = ActivationQuantization(minimum: lows.min()!, maximum: highs.max()!)
    parallelElements(count: count, minimumWork: memoryParallelThreshold) { range in
        for i in range { out[i] = q.quantize(inp[i]) }
    }
    return q
}

/// Linear layer forward in int8: `inp` quantised per call to u8, times the int8 `weight` [outFeatures,
/// inFeatures] with per-row `weightScales`, int32 accumulation, dequantised to fp32 plus the fp32 bias.
/// `scratch` holds rows × inFeatures bytes, `columnScales` outFeatures floats.
public func matmulForwardInt8(out: FloatBuffer, inp: ConstFloatBuffer, scratch: UnsafeMutablePointer<UInt8>,
                              weight: UnsafePointer<Int8>, weightScales: ConstFloatBuffer, columnScales: FloatBuffer,
                              bias: ConstFloatBuffer?, rows: Int, inFeatures: Int, outFeatures: Int) {
    let q = quantizeActivationsU8(out: scratch, inp: inp, count: rows * inFeatures)
    let profileStart = KernelProfile.start()
    defer {
        KernelProfile.stop(profileStart, "matmulForwardInt8 \(rows)x\(inFeatures)->\(outFeatures)",
                           flops: 2 * Double(rows * inFeatures * outFeatures))
    }
    for o in 0..<outFeatures { columnScales[o] = q.scale * weightScales[o] }
    // The bias rows are the starting output; the product accumulates onto them after its scaling.
    for r in 0..<rows {
        if let bias { (out + r * outFeatures).update(from: bias, count: outFeatures) }
        else { (out + r * outFeatures).update(repeating: 0, count: outFeatures) }
    }
    if LowPrecision.backend == .onednn {
        var d = MatmulDescription(m: rows, n: outFeatures, k: inFeatures, lda: inFeatures, ldb: inFeatures, ldc: outFeatures,
                                  transA: false, transB: true, a: .u8, b: .s8, c: .f32)
        (d.accumulate, d.columnScales, d.aZeroPoint) = (true, true, true)
        if OneDNN.supports(d) {
            // Blocks of rows (or columns) on the workers, one single-threaded call each (see `gemmBF16`).
            splitOverWorkers(m: rows, n: outFeatures, k: inFeatures) { r, o in
                var block = d
                (block.m, block.n) = (r.count, o.count)
                OneDNN.execute(block, a: scratch + r.lowerBound * inFeatures, b: weight + o.lowerBound * inFeatures,
                               c: out + r.lowerBound * outFeatures + o.lowerBound,
                               columnScales: UnsafePointer(columnScales + o.lowerBound), aZeroPoint: q.zeroPoint, threads: 1)
            }
            return
        }
    }
    referenceMatmulInt8(out: out, inp: scratch, zeroPoint: q.zeroPoint, weight: weight, columnScales: columnScales,
                        rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
}

/// The reference path of `matmulForwardInt8` (exact int32 sums; accumulates onto `out`).
func referenceMatmulInt8(out: FloatBuffer, inp: UnsafePointer<UInt8>, zeroPoint: Int32, weight: UnsafePointer<Int8>,
                         columnScales: ConstFloatBuffer, rows: Int, inFeatures: Int, outFeatures: Int) {
    let o = SendablePointer(out)
    parallelFor(count: rows, minimumWork: 2) { range in
        for r in range {
            for j in 0..<outFeatures {
                var sum: Int32 = 0
                for i in 0..<inFeatures {
                    sum &+= (Int32(inp[r * inFeatures + i]) - zeroPoint) * Int32(weight[j * inFeatures + i])
                }
                o.pointer[r * outFeatures + j] += columnScales[j] * Float(sum)
            }
        }
    }
}
