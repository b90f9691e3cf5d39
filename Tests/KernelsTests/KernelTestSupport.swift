import Foundation
import TestSupport
import XCTest
@testable import Kernels

/// Deterministic random inputs (SplitMix64, `SeededRandom`), so that every test input is reproducible.
struct TestRandom {
    var base: SeededRandom
    init(seed: UInt64) { base = SeededRandom(seed: seed) }
    mutating func next() -> UInt64 { base.next() }
    /// Uniform in [low, high).
    mutating func uniform(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * Float(next() >> 40) / Float(1 << 24)
    }
    /// Standard normal (Box–Muller).
    mutating func normal() -> Float {
        let u1 = max(Double(next() >> 11) / Double(1 << 53), 1e-300)
        let u2 = Double(next() >> 11) / Double(1 << 53)
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }
}

/// A weight [n, k] (row stride `ld`) packed once in oneDNN's layout where it has one (AMX, AVX-512 BF16; for s8, exact
/// int8), and the cases a product test runs: oneDNN on the plain weight, the reference backend, and oneDNN on the
/// packed weight where there is one. Leaves `LowPrecision.backend` as it found it.
final class PackedWeightCases {
    let packed: UnsafeMutableRawPointer
    /// oneDNN's packed layout here, or nil (no oneDNN, no such layout, or plain preferred).
    let layout: PackedLayout?
    let cases: [(backend: LowPrecisionBackend, layout: PackedLayout?)]

    init<Element>(_ weight: [Element], ld: Int, k: Int, n: Int, element: MatrixElement) {
        let saved = LowPrecision.backend
        defer { LowPrecision.backend = saved }
        LowPrecision.backend = .onednn
        let layout = OneDNN.packedLayout(k: k, n: n, element: element)
        self.layout = layout
        let packed = UnsafeMutableRawPointer.allocate(byteCount: max(64, layout?.bytes ?? 0), alignment: 64)
        weight.withUnsafeBytes { layout?.pack($0.baseAddress!, ld: ld, into: packed) }
        self.packed = packed
        cases = [(.onednn, nil), (.reference, nil)] + (layout.map { [(.onednn, $0)] } ?? [])
    }

    /// The weight a case reads: the packed copy with a layout, else `plain`.
    func weight(_ layout: PackedLayout?, plain: UnsafeRawPointer) -> UnsafeRawPointer {
        layout == nil ? plain : UnsafeRawPointer(packed)
    }

    deinit { packed.deallocate() }
}

/// An owned Float buffer for tests (freed on deinit).
final class TestBuffer {
    let count: Int
    let p: FloatBuffer
    init(count: Int, value: Float = 0) {
        self.count = count
        p = FloatBuffer.allocate(capacity: max(1, count))
        p.initialize(repeating: value, count: max(1, count))
    }
    convenience init(normal count: Int, _ random: inout TestRandom, scale: Float = 1) {
        self.init(count: count)
        for i in 0..<count { p[i] = random.normal() * scale }
    }
    convenience init(copying other: TestBuffer) {
        self.init(count: other.count)
        p.update(from: other.p, count: count)
    }
    deinit { p.deallocate() }
    var array: [Float] { Array(UnsafeBufferPointer(start: p, count: count)) }
    var c: ConstFloatBuffer { UnsafePointer(p) }
    func fill(_ value: Float) { p.update(repeating: value, count: count) }
}

/// Asserts `|a - b| <= absolute + relative * |b|` elementwise, reporting the worst element.
func assertClose(_ a: TestBuffer, _ b: TestBuffer, absolute: Float, relative: Float = 0, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, what, file: file, line: line)
    var worst = 0, worstExcess: Float = -1
    for i in 0..<min(a.count, b.count) {
        let excess = abs(a.p[i] - b.p[i]) - (absolute + relative * abs(b.p[i]))
        if excess > worstExcess || !a.p[i].isFinite { worstExcess = excess; worst = i }
        if !a.p[i].isFinite { break }
    }
    XCTAssertTrue(worstExcess <= 0 && a.p[worst].isFinite,
                  "\(what): element \(worst) is \(a.p[worst]), expected \(b.p[worst]) (abs tol \(absolute), rel tol \(relative))",
                  file: file, line: line)
}

/// Finite-difference gradient check of one input buffer.
///
/// `loss` runs the forward and returns the random linear functional Σ wᵢ yᵢ of its output,
/// accumulated in double. Each input element is moved by ±h (the difference actually stored in
/// float is used as the step) and the central difference is compared with `analytic`. The error is
/// measured relative to the largest gradient entry, since single entries may be near zero.
///
/// Why `tolerance` of a few 1e-3 is right for float32 kernels with h ≈ 1e-2: the outputs carry
/// relative rounding ≈ 6e-8, which the difference quotient amplifies by |L| / h ≈ 1e2 (→ ~1e-5 of
/// the gradient scale); the O(h²) truncation of the central difference is ~1e-4 for these smooth
/// kernels. A wrong gradient (a missing term, a transposed index) gives errors of order 1.
func assertGradient(_ name: String, input: TestBuffer, analytic: [Float], h: Float = 1e-2, tolerance: Double = 3e-3,
                    loss: () -> Double, file: StaticString = #filePath, line: UInt = #line) {
    var numeric = [Double](repeating: 0, count: input.count)
    for j in 0..<input.count {
        let saved = input.p[j]
        input.p[j] = saved + h
        let plusStep = Double(input.p[j])
        let lossPlus = loss()
        input.p[j] = saved - h
        let minusStep = Double(input.p[j])
        let lossMinus = loss()
        input.p[j] = saved
        numeric[j] = (lossPlus - lossMinus) / (plusStep - minusStep)
    }
    let scale = max(numeric.map(abs).max() ?? 0, 1e-6)
    var worst = 0
    var worstError: Double = 0
    for j in 0..<input.count {
        let error = abs(Double(analytic[j]) - numeric[j]) / scale
        if error > worstError || !analytic[j].isFinite { worstError = error; worst = j }
    }
    XCTAssertTrue(worstError <= tolerance && analytic.allSatisfy(\.isFinite),
                  "\(name): gradient element \(worst) analytic \(analytic[worst]) vs numeric \(numeric[worst]) " +
                  "(relative error \(worstError) > \(tolerance), gradient scale \(scale))", file: file, line: line)
}

/// Σ wᵢ yᵢ in double.
func dot(_ w: TestBuffer, _ y: TestBuffer) -> Double {
    var sum: Double = 0
    for i in 0..<w.count { sum += Double(w.p[i]) * Double(y.p[i]) }
    return sum
}

/// `after - before` elementwise (isolates what a backward added to pre-filled gradients).
func added(_ after: TestBuffer, since before: TestBuffer) -> [Float] {
    (0..<after.count).map { after.p[$0] - before.p[$0] }
}

/// An attention input for the bf16 tests: q|k|v [3, T, 3C] drawn normal (×2) and rounded to bf16, sequence 1
/// padded after 29 keys, sequence 2 with interior padding at 3, 11 and 30; the plain fp32 attention of those
/// rounded values, and max|v|.
struct RoundedAttentionCase {
    let batch = 3, T: Int, C: Int, heads: Int
    let qkv: TestBuffer
    let mask: [Int32]
    let naive: TestBuffer
    let largestV: Float

    init(T: Int, C: Int, heads: Int, _ random: inout TestRandom) {
        (self.T, self.C, self.heads) = (T, C, heads)
        let batch = self.batch
        qkv = TestBuffer(normal: batch * T * 3 * C, &random, scale: 2)
        for i in 0..<qkv.count { qkv.p[i] = float(bfloat16: bfloat16(qkv.p[i])) }
        var mask = [Int32](repeating: 1, count: batch * T)
        for t in 29..<T { mask[T + t] = 0 }          // suffix padding: 29 keys
        for t in [3, 11, 30] { mask[2 * T + t] = 0 }  // interior padding
        self.mask = mask
        naive = TestBuffer(count: batch * T * C)
        naiveAttentionForward(out: naive.p, probs: nil, qkv: qkv.c, keyMask: mask, batch: batch, seqLen: T, channels: C,
                              heads: heads, dropout: nil)
        var largest: Float = 0
        for b in 0..<batch { for t in 0..<T { for c in 0..<C { largest = max(largest, abs(qkv.p[(b * T + t) * 3 * C + 2 * C + c])) } } }
        largestV = largest
    }
}

/// γ_n = n·u / (1 − n·u) with u = 2⁻²⁴: the relative error bound of an fp32 sum of n terms (Higham).
func gamma(_ n: Int) -> Double { Double(n) * 0x1p-24 / (1 - Double(n) * 0x1p-24) }

/// The exact (erf) GELU in Double: the reference of the GELU epilogues.
func exactGELU(_ x: Double) -> Double { 0.5 * x * (1 + erf(x / 2.0.squareRoot())) }

/// `count` bf16 values of standard normal draws.
func bf16Matrix(_ count: Int, _ random: inout TestRandom) -> [BF16] {
    (0..<count).map { _ in bfloat16(random.normal()) }
}
