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

/// ln(x) per lane for positive normal x (smaller inputs are read as the smallest normal float): the
/// exponent split off, the mantissa moved to [√½, √2), and ln(1 + f) as f − f²/2 + f³·P(f) (the classic
/// single-precision minimax polynomial); max relative error ≈ 2e-7 against libm log.
@_transparent @usableFromInline
func vlog(_ input: Vec16) -> Vec16 {
    var x = input
    x.replace(with: Float.leastNormalMagnitude, where: x .< Float.leastNormalMagnitude)
    let bits = unsafeBitCast(x, to: SIMD16<Int32>.self)
    // x = m · 2^e with m in [0.5, 1).
    var e = Vec16((bits &>> 23) &- 126)
    var m = unsafeBitCast((bits & 0x007F_FFFF) | 0x3F00_0000, to: Vec16.self)
    let small = m .< 0.707_106_781
    e.replace(with: e - 1, where: small)
    m.replace(with: m + m, where: small)
    let f = m - 1
    let z = f * f
    var p = Vec16(repeating: 7.037_683_629_2e-2)
    p = p * f - 1.151_461_031_0e-1
    p = p * f + 1.167_699_874_0e-1
    p = p * f - 1.242_014_084_6e-1
    p = p * f + 1.424_932_278_7e-1
    p = p * f - 1.666_805_766_5e-1
    p = p * f + 2.000_071_476_5e-1
    p = p * f - 2.499_999_399_3e-1
    p = p * f + 3.333_333_117_4e-1
    var y = p * f * z
    y = y + e * -2.121_944_40e-4
    y = y - 0.5 * z
    return f + y + e * 0.693_359_375
}
