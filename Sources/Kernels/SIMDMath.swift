// Vector math for the elementwise kernels: loads/stores of 16 floats and polynomial exp/erf.
// Built only from operations that compile to straight vector code (see ENGINEERING.md): the
// 1.5·2²³ add-subtract rounding trick, bit casts between float and integer vectors, and
// `replace(with:where:)` for clamping; no `rounded`, `clamped` or pointwise min/max.

/// 16 floats, the SIMD width of every elementwise kernel.
public typealias Vec16 = SIMD16<Float>

@_transparent @usableFromInline
func load16(_ p: UnsafePointer<Float>) -> Vec16 {
    UnsafeRawPointer(p).loadUnaligned(as: Vec16.self)
}

@_transparent @usableFromInline
func load16(_ p: UnsafeMutablePointer<Float>) -> Vec16 {
    UnsafeRawPointer(p).loadUnaligned(as: Vec16.self)
}

@_transparent @usableFromInline
func store16(_ p: UnsafeMutablePointer<Float>, _ v: Vec16) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec16.self)
}

/// Loads `count` (< 16) floats, filling the other lanes with `fill`.
@_transparent @usableFromInline
func loadPartial(_ p: UnsafePointer<Float>, count: Int, fill: Float) -> Vec16 {
    var v = Vec16(repeating: fill)
    for i in 0..<count { v[i] = p[i] }
    return v
}

/// Stores the first `count` (< 16) lanes of `v`.
@_transparent @usableFromInline
func storePartial(_ p: UnsafeMutablePointer<Float>, _ v: Vec16, count: Int) {
    for i in 0..<count { p[i] = v[i] }
}

/// Lane-wise maximum without `pointwiseMax` (slow at baseline x86-64).
@_transparent @usableFromInline
func vmax(_ a: Vec16, _ b: Vec16) -> Vec16 {
    var r = a
    r.replace(with: b, where: b .> a)
    return r
}

/// e^x per lane; relative error ≈ 1.2e-7 for x in [-87.3, 88.7]; below that 0, above it clamped.
@_transparent @usableFromInline
func vexp(_ input: Vec16) -> Vec16 {
    var x = input
    x.replace(with: 88.7, where: x .> 88.7)
    let underflow = x .< -87.3
    x.replace(with: -87.3, where: underflow)
    // n = round(x / ln 2) via the 1.5·2²³ trick; the integer sits in the low mantissa bits.
    let magic = Vec16(repeating: 12_582_912)
    let shifted = x * 1.442_695_04 + magic
    let n = shifted - magic
    // r = x - n ln 2 in two parts (Cody–Waite) keeps r exact to float precision.
    var r = x - n * 0.693_145_75
    r = r - n * 1.428_606_8e-6
    // e^r on |r| <= ln2/2: Taylor to degree 6 (truncation ≈ 1.2e-7 relative).
    var p = Vec16(repeating: 1.0 / 720.0)
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    let nInt = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- unsafeBitCast(magic, to: SIMD16<Int32>.self)
    let scale = unsafeBitCast((nInt &+ 127) &<< 23, to: Vec16.self)
    var result = p * scale
    result.replace(with: 0, where: underflow)
    return result
}

/// erf(x) per lane: odd rational approximation x·P(x²)/Q(x²) on [-4, 4] (erf is ±1 to float
/// precision outside), max absolute error ≈ 5e-7 against libm erf.
@_transparent @usableFromInline
func verf(_ input: Vec16) -> Vec16 {
    var x = input
    x.replace(with: 4, where: x .> 4)
    x.replace(with: -4, where: x .< -4)
    let x2 = x * x
    var p = Vec16(repeating: -2.726_142_258_013_06e-10)
    p = p * x2 + 2.770_681_424_959_02e-08
    p = p * x2 + -2.101_024_020_825_08e-06
    p = p * x2 + -5.692_506_394_623_46e-05
    p = p * x2 + -7.349_906_303_268_55e-04
    p = p * x2 + -2.954_599_808_540_25e-03
    p = p * x2 + -1.609_603_332_624_15e-02
    p = p * x
    var q = Vec16(repeating: -1.456_607_184_649_96e-05)
    q = q * x2 + -2.133_740_552_789_05e-04
    q = q * x2 + -1.682_826_974_382_03e-03
    q = q * x2 + -7.373_329_167_204_68e-03
    q = q * x2 + -1.426_473_905_141_89e-02
    return p / q
}

/// Sum of the 16 lanes by halving (the generic `SIMD.sum()` is an out-of-line loop).
@_transparent @usableFromInline
func hsum(_ v: Vec16) -> Float {
    let a = v.lowHalf + v.highHalf
    let b = a.lowHalf + a.highHalf
    let c = b.lowHalf + b.highHalf
    return c[0] + c[1]
}

/// Maximum of the 16 lanes by halving.
@_transparent @usableFromInline
func hmax(_ v: Vec16) -> Float {
    let a = vmax(v.lowHalf, v.highHalf)
    let b = vmax(a.lowHalf, a.highHalf)
    let c = vmax(b.lowHalf, b.highHalf)
    return c[0] > c[1] ? c[0] : c[1]
}

@inline(__always) @usableFromInline
func vmax<V: SIMD>(_ a: V, _ b: V) -> V where V.Scalar == Float {
    var r = a
    r.replace(with: b, where: b .> a)
    return r
}
