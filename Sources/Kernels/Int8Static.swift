/// Static (calibrated) int8 quantisation: one scale per tensor, fixed once by a calibration, so that the
/// quantisation of a matmul's input can run inside its producer (a LayerNorm, a matmul's epilogue) and
/// the product's dequantisation is a per-column scale oneDNN applies on the output tile. The dynamic
/// per-token scheme (`matmulForwardInt8`) needs a pass over every input and an fp32 output per linear.

/// `x` quantised: `x · multiplier` rounded to nearest even and clamped to `low...127` (`low` −127 for the
/// symmetric activations, −128 for an s8 matmul output, which oneDNN saturates so). Branch-free: the
/// float `1.5 · 2²³` added to a value in −128...127 rounds it to an integer in its low mantissa bits
/// (ties to even, in the addition itself), so loops over it vectorise.
@inline(__always)
func quantizedInt8(_ x: Float, low: Float = -127) -> Int8 {
    let clamped = x < low ? low : (x > 127 ? 127 : x)
    return Int8(truncatingIfNeeded: (clamped + 12_582_912).bitPattern)
}

/// `out[r, j] = quantizedInt8(inp[r, j] · multipliers[j])` for one row of `count` values.
@inline(__always)
func quantizeRowStaticInt8(out: UnsafeMutablePointer<Int8>, inp: ConstFloatBuffer, multipliers: ConstFloatBuffer, count: Int) {
    for j in 0..<count { out[j] = quantizedInt8(inp[j] * multipliers[j]) }
}

/// Static quantisation of [rows, channels] fp32 values with per-channel `multipliers` (1 / (scale · smoothing)).
public func quantizeStaticInt8(out: UnsafeMutablePointer<Int8>, inp: ConstFloatBuffer, multipliers: ConstFloatBuffer,
                               rows: Int, channels: Int) {
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "quantizeStaticInt8") }
    parallelFor(count: rows, minimumWork: max(1, memoryParallelThreshold / max(1, channels))) { range in
        for r in range {
            quantizeRowStaticInt8(out: out + r * channels, inp: inp + r * channels, multipliers: multipliers, count: channels)
        }
    }
}

/// Static quantisation of [rows, channels] bf16 values (the attention's context) with one `multiplier`.
public func quantizeStaticInt8(out: UnsafeMutablePointer<Int8>, inp: ConstBF16Buffer, multiplier: Float, rows: Int, channels: Int) {
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "quantizeStaticInt8") }
    let count = rows * channels
    parallelElements(count: count, minimumWork: memoryParallelThreshold) { range in
        for i in range { out[i] = quantizedInt8(float(bfloat16: inp[i]) * multiplier) }
    }
}

/// A linear layer's product on static int8 inputs: `c = postScale · ε(scales[j] · (Σₖ a[i, k] · w[j, k] + bias[j]))`
/// (with `accumulate`, no epilogue and an fp32 `c`: `postScale · (c + scales[j] · (…))`, oneDNN's sum post-op)
/// with exact int32 sums, for s8 `a` [m, k] (row stride `lda`) and the s8 weight `w` [n, k] (row stride
/// `ldw`, or packed in `packed`); ε is the epilogue (GELU, or + an fp32 residual). `c` [m, n] (row stride
/// `ldc`) is fp32, bf16 (nearest even) or s8 (nearest even, saturated to −128...127). The bias is added
/// before the scale (oneDNN's order for int8): pass the layer's bias divided by `scales`.
///
/// oneDNN runs it where its int8 is exact (VNNI, AMX), split by rows over the workers, one single-threaded
/// call each (see `gemmBF16`); elsewhere the reference path (its naive twin) does.
public func gemmInt8(m: Int, n: Int, k: Int, a: UnsafePointer<Int8>, lda: Int, w: UnsafeRawPointer, ldw: Int,
                     packed: PackedLayout?, scales: ColumnScales, bias: ConstFloatBuffer?, epilogue: GemmEpilogue,
                     accumulate: Bool = false, postScale: Float = 1, c: UnsafeMutableRawPointer, cType: MatrixElement, ldc: Int,
                     threads: Int) {
    precondition(cType != .s32, "gemmInt8 writes fp32, bf16 or s8")
    if accumulate {
        guard case .none = epilogue, cType == .f32 else { preconditionFailure("gemmInt8 accumulates into fp32 without an epilogue") }
    }
    precondition(packed == nil || (packed!.k == k && packed!.n == n && packed!.element == .s8), "gemmInt8: the packed weight")
    precondition(scales.values.count == n, "gemmInt8: \(scales.values.count) column scales for \(n) columns")
    if m == 0 || n == 0 { return }
    let cSize = cType == .f32 ? 4 : cType == .bf16 ? 2 : 1
    if threads > 1 {
        splitOverWorkers(m: m, n: n, k: k, rowsOnly: true) { rows, _ in
            var part = epilogue
            if case .residual(let r, let ld) = epilogue { part = .residual(r + rows.lowerBound * ld, ld: ld) }
            gemmInt8(m: rows.count, n: n, k: k, a: a + rows.lowerBound * lda, lda: lda, w: w, ldw: ldw, packed: packed,
                     scales: scales, bias: bias, epilogue: part, accumulate: accumulate, postScale: postScale,
                     c: c + cSize * rows.lowerBound * ldc, cType: cType, ldc: ldc, threads: 1)
        }
        return
    }
    let profileStart = KernelProfile.start()
    defer {
        KernelProfile.stop(profileStart, "gemmInt8 \(m)x\(k)->\(n)\(epilogue.profileSuffix(accumulating: accumulate))",
                           flops: 2 * Double(m * n * k))
    }
    if LowPrecision.backend == .onednn, OneDNN.hasExactInt8 {
        var d = MatmulDescription(m: m, n: n, k: k, lda: lda, ldb: ldw, ldc: ldc, transA: false, transB: true,
                                  a: .s8, b: .s8, c: cType)
        (d.hasBias, d.epilogue, d.packedB, d.columnScales, d.postScale, d.accumulate) =
            (bias != nil, epilogue.description, packed, scales, postScale, accumulate)
        var residual: ConstFloatBuffer? = nil
        if case .residual(let r, _) = epilogue { residual = r }
        if OneDNN.execute(d, a: a, b: w, c: c, bias: bias, residual: residual, threads: 1) { return }
    }
    precondition(packed == nil, "oneDNN refused an int8 matmul on a packed weight (\(m)×\(k) · \(k)×\(n))")
    referenceGemmInt8(m: m, n: n, k: k, a: a, lda: lda, w: w.assumingMemoryBound(to: Int8.self), ldw: ldw, scales: scales.values,
                      bias: bias, epilogue: epilogue, accumulate: accumulate, postScale: postScale, c: c, cType: cType, ldc: ldc)
}

/// The naive twin of `gemmInt8`: exact int32 sums (fp32 sgemm over blocks of ≤ 1,024 inputs, each exact since
/// |partial| ≤ 128 · 127 · 1,024 < 2²⁴, added in int32), then bias, scale, the unfused layer's own GELU,
/// residual (or, accumulating, what `c` holds), post-scale and the store, element by element.
func referenceGemmInt8(m: Int, n: Int, k: Int, a: UnsafePointer<Int8>, lda: Int, w: UnsafePointer<Int8>, ldw: Int,
                       scales: [Float], bias: ConstFloatBuffer?, epilogue: GemmEpilogue, accumulate: Bool = false, postScale: Float,
                       c: UnsafeMutableRawPointer, cType: MatrixElement, ldc: Int) {
    let block = 1024
    let wideA = FloatBuffer.allocate(capacity: m * block), wideW = FloatBuffer.allocate(capacity: n * block)
    let partial = FloatBuffer.allocate(capacity: m * n), values = FloatBuffer.allocate(capacity: m * n)
    var sums = [Int32](repeating: 0, count: m * n)
    defer { wideA.deallocate(); wideW.deallocate(); partial.deallocate(); values.deallocate() }
    for k0 in stride(from: 0, to: k, by: block) {
        let kb = min(block, k - k0)
        for i in 0..<m { for p in 0..<kb { wideA[i * kb + p] = Float(a[i * lda + k0 + p]) } }
        for j in 0..<n { for p in 0..<kb { wideW[j * kb + p] = Float(w[j * ldw + k0 + p]) } }
        gemm(transA: false, transB: true, m: m, n: n, k: kb, alpha: 1, a: wideA, lda: kb, b: wideW, ldb: kb, beta: 0,
             c: partial, ldc: n)
        for i in 0..<m * n { sums[i] &+= Int32(partial[i]) }
    }
    for i in 0..<m {
        for j in 0..<n { values[i * n + j] = scales[j] * (Float(sums[i * n + j]) + (bias?[j] ?? 0)) }
    }
    if case .gelu = epilogue { geluForward(out: values, inp: values, count: m * n) }
    for i in 0..<m {
        for j in 0..<n {
            var v = values[i * n + j]
            if case .residual(let r, let ld) = epilogue { v += r[i * ld + j] }
            if accumulate { v += c.assumingMemoryBound(to: Float.self)[i * ldc + j] }
            v *= postScale
            switch cType {
            case .f32: c.assumingMemoryBound(to: Float.self)[i * ldc + j] = v
            case .bf16: c.assumingMemoryBound(to: BF16.self)[i * ldc + j] = bfloat16(v)
            default: c.assumingMemoryBound(to: Int8.self)[i * ldc + j] = quantizedInt8(v, low: -128)
            }
        }
    }
}
