import CKernels
/// bfloat16 storage: the upper 16 bits of an IEEE float (8-bit exponent, 7-bit mantissa).
public typealias BF16 = UInt16
/// A mutable flat bfloat16 buffer (row-major tensor storage).
public typealias BF16Buffer = UnsafeMutablePointer<BF16>
/// A read-only flat bfloat16 buffer.
public typealias ConstBF16Buffer = UnsafePointer<BF16>

/// `x` rounded to the nearest bfloat16 (ties to even), as the hardware's `vcvtneps2bf16` does;
/// NaN stays a (quiet) NaN, infinities stay infinite, overflow rounds to infinity. Branch-free (a select
/// for NaN), so loops over it vectorise.
@inline(__always)
public func bfloat16(_ x: Float) -> BF16 {
    let bits = x.bitPattern
    let rounded = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16
    return BF16(truncatingIfNeeded: bits & 0x7FFF_FFFF > 0x7F80_0000 ? (bits >> 16) | 0x0040 : rounded)
}

/// The float a bfloat16 stands for (exact).
@inline(__always)
public func float(bfloat16 h: BF16) -> Float { Float(bitPattern: UInt32(h) << 16) }

/// `out[i] = bfloat16(inp[i])`, 16 lanes at a time, split over the workers above the memory threshold.
public func convertToBF16(out: BF16Buffer, inp: ConstFloatBuffer, count: Int) {
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "convertToBF16") }
    parallelElements(count: count, minimumWork: memoryParallelThreshold) { range in
        convertRowToBF16(out: out + range.lowerBound, inp: inp + range.lowerBound, count: range.count)
    }
}

/// `out = bf16(inp)` for a [rows, cols] matrix and `sums[c] += Σ_r inp[r][c]` (summed as `columnSumAccumulate` does) in
/// one pass where AVX-512 BF16 is allowed (`mrc_round_rows_bf16`), else its twins `convertToBF16` and
/// `columnSumAccumulate`: a matmul backward's output gradient and its bias gradient.
public func convertToBF16(out: BF16Buffer, columnSums sums: FloatBuffer, inp: ConstFloatBuffer, rows: Int, cols: Int) {
    guard avx512BF16Allowed else {
        convertToBF16(out: out, inp: inp, count: rows * cols)
        return columnSumAccumulate(into: sums, matrix: inp, rows: rows, cols: cols)
    }
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "convertToBF16 with column sums") }
    parallelElements(count: cols, minimumWork: memoryParallelThreshold / max(1, rows)) { columns in
        mrc_round_rows_bf16(inp + columns.lowerBound, Int64(cols), Int64(rows), Int64(columns.count), out + columns.lowerBound,
                            sums + columns.lowerBound)
    }
}

/// `convertToBF16` of a [rows, cols] block with row strides (single-threaded; for per-head scratch).
@inline(__always)
public func convertToBF16(out: BF16Buffer, ldOut: Int, inp: ConstFloatBuffer, ldInp: Int, rows: Int, cols: Int) {
    for r in 0..<rows { convertRowToBF16(out: out + r * ldOut, inp: inp + r * ldInp, count: cols) }
}

/// `out[i] = float(bfloat16: inp[i])`.
public func convertFromBF16(out: FloatBuffer, inp: ConstBF16Buffer, count: Int) {
    parallelElements(count: count, minimumWork: memoryParallelThreshold) { range in
        let bits = UnsafeMutableRawPointer(out).assumingMemoryBound(to: UInt32.self)
        for i in range { bits[i] = UInt32(inp[i]) << 16 }
    }
}

/// A plain loop over `bfloat16`, which LLVM vectorises; the generic SIMD16 narrowing conversions are
/// not, and ran ~40× slower.
@inline(__always)
func convertRowToBF16(out: BF16Buffer, inp: ConstFloatBuffer, count: Int) {
    for i in 0..<count { out[i] = bfloat16(inp[i]) }
}
