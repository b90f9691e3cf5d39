import XCTest
@testable import Kernels

/// bf16 rounding, the bf16 and int8 matmuls on both backends (oneDNN and the reference), against the
/// plain twins. The bf16 products are exact in fp32 (8-bit × 8-bit significands), so the only freedom
/// a correct kernel has is the order of the fp32 sums: the tolerance is the standard bound
/// γ_k · Σ|a·b| with γ_k = k·2⁻²⁴ / (1 − k·2⁻²⁴), computed per element.
final class LowPrecisionTests: XCTestCase {
    /// Round-to-nearest-even chosen by exact distance in Double between the two neighbouring bf16 values.
    private func referenceBF16(_ x: Float) -> BF16 {
        if x.isNaN { return 0x7FC0 }
        let low = BF16(truncatingIfNeeded: x.bitPattern >> 16)
        if x.isInfinite { return low }
        let high = low &+ 1
        let dLow = abs(Double(x) - Double(float(bfloat16: low)))
        // IEEE rounds as if the exponent were unbounded: past the largest bf16 the next value is ±2^128.
        let highValue = float(bfloat16: high).isInfinite ? (x < 0 ? -0x1p128 : 0x1p128) : Double(float(bfloat16: high))
        let dHigh = abs(Double(x) - highValue)
        if dLow != dHigh { return dLow < dHigh ? low : high }
        return low & 1 == 0 ? low : high
    }

    func testRoundingMatchesExactNearestEven() {
        var random = TestRandom(seed: 11)
        var values: [Float] = [0, -0, 1, -1, 1.00390625, 1.01171875, 3.0e38, -3.0e38, .greatestFiniteMagnitude,
                               .leastNonzeroMagnitude, 1e-40, .infinity, -.infinity]
        // Exact ties (…1000 0000 0000 0000 in the dropped half) with odd and even kept halves.
        values += [Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000), Float(bitPattern: 0xBF80_8000)]
        for _ in 0..<5000 { values.append(random.normal() * Float(1 << (random.next() % 20))) }
        let inp = TestBuffer(count: values.count)
        for (i, v) in values.enumerated() { inp.p[i] = v }
        let out = BF16Buffer.allocate(capacity: values.count)
        defer { out.deallocate() }
        convertToBF16(out: out, inp: inp.c, count: values.count)
        for (i, v) in values.enumerated() {
            XCTAssertEqual(out[i], referenceBF16(v), "bf16(\(v)) bits \(String(v.bitPattern, radix: 16))")
            XCTAssertEqual(bfloat16(v), out[i], "scalar and vector paths of \(v)")
        }
        XCTAssertEqual(bfloat16(.greatestFiniteMagnitude), 0x7F80, "overflow rounds to infinity")
        XCTAssertTrue(float(bfloat16: bfloat16(.nan)).isNaN)
        let back = TestBuffer(count: values.count)
        convertFromBF16(out: back.p, inp: out, count: values.count)
        for i in values.indices where !values[i].isNaN { XCTAssertEqual(back.p[i], float(bfloat16: out[i])) }
    }

    func testGemmBF16MatchesNaiveOnBothBackends() {
        let saved = LowPrecision.backend
        defer { LowPrecision.backend = saved }
        var random = TestRandom(seed: 12)
        let (m, n, k) = (37, 29, 45)
        // Room for every stored layout below: up to max(m, n, k) rows of stride max(m, n, k) + 5.
        let side = max(m, n, k) + 5
        let a = bf16Matrix(side * side, &random), b = bf16Matrix(side * side, &random)
        let bias = TestBuffer(normal: n, &random)
        for backend in [LowPrecisionBackend.onednn, .reference] {
            LowPrecision.backend = backend
            for (transA, transB) in [(false, false), (false, true), (true, false), (true, true)] {
                for (accumulate, withBias, alpha) in [(false, true, Float(1)), (true, false, 0.25), (false, false, 1)] {
                    let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 5, ldc = n + 2
                    let start = TestBuffer(normal: m * ldc, &random)
                    let fast = TestBuffer(copying: start), naive = TestBuffer(copying: start)
                    a.withUnsafeBufferPointer { ap in
                        b.withUnsafeBufferPointer { bp in
                            gemmBF16(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!,
                                     lda: lda, b: bp.baseAddress!, ldb: ldb, accumulate: accumulate,
                                     bias: withBias ? bias.c : nil, c: fast.p, ldc: ldc, threads: 2)
                            naiveGemmBF16(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                          a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb, accumulate: accumulate,
                                          bias: withBias ? bias.c : nil, c: naive.p, ldc: ldc)
                            for i in 0..<m {
                                for j in 0..<n {
                                    var magnitude = abs(Double(withBias ? bias.p[j] : 0)) + (accumulate ? abs(Double(start.p[i * ldc + j])) : 0)
                                    for p in 0..<k {
                                        let av = transA ? ap[p * lda + i] : ap[i * lda + p]
                                        let bv = transB ? bp[j * ldb + p] : bp[p * ldb + j]
                                        magnitude += abs(Double(alpha) * Double(float(bfloat16: av)) * Double(float(bfloat16: bv)))
                                    }
                                    let u = 0x1p-24, gamma = Double(k + 2) * u / (1 - Double(k + 2) * u)
                                    let error = abs(Double(fast.p[i * ldc + j]) - Double(naive.p[i * ldc + j]))
                                    XCTAssertLessThanOrEqual(error, gamma * magnitude + 1e-30,
                                        "\(backend) transA=\(transA) transB=\(transB) acc=\(accumulate) bias=\(withBias) [\(i),\(j)]")
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The training layer's shortcut in the bf16 linear backward: `inputRounded` takes the forward's bf16 copy of the
    /// input (the fp32 input passed is zeros: read, it would zero dweight). Against the plain call: the same products,
    /// so equal.
    func testLinearBackwardBF16WithTheForwardsRoundedInputEqualsThePlainCall() {
        let saved = LowPrecision.backend
        defer { LowPrecision.backend = saved }
        var random = TestRandom(seed: 31)
        let (rows, inFeatures, outFeatures) = (37, 48, 40)
        let inp = TestBuffer(normal: rows * inFeatures, &random), dout = TestBuffer(normal: rows * outFeatures, &random)
        let weight = bf16Matrix(outFeatures * inFeatures, &random)
        let doutScratch = BF16Buffer.allocate(capacity: rows * outFeatures), inpScratch = BF16Buffer.allocate(capacity: rows * inFeatures)
        defer { doutScratch.deallocate(); inpScratch.deallocate() }
        for backend in [LowPrecisionBackend.onednn, .reference] {
            LowPrecision.backend = backend
            let plain = (TestBuffer(count: rows * inFeatures), TestBuffer(count: outFeatures * inFeatures), TestBuffer(count: outFeatures))
            let quick = (TestBuffer(count: rows * inFeatures), TestBuffer(count: outFeatures * inFeatures),
                         TestBuffer(count: outFeatures))
            weight.withUnsafeBufferPointer { w in
                matmulBackwardBF16(dinp: plain.0.p, dweight: plain.1.p, dbias: plain.2.p, dout: dout.c, inp: inp.c, weight: w.baseAddress!,
                                   rows: rows, inFeatures: inFeatures, outFeatures: outFeatures, doutScratch: doutScratch,
                                   inpScratch: inpScratch)
                convertToBF16(out: inpScratch, inp: inp.c, count: rows * inFeatures)
                let zeros = TestBuffer(count: rows * inFeatures)
                matmulBackwardBF16(dinp: quick.0.p, dweight: quick.1.p, dbias: quick.2.p, dout: dout.c, inp: zeros.c,
                                   weight: w.baseAddress!, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures,
                                   doutScratch: doutScratch, inpScratch: inpScratch, inputRounded: true)
            }
            XCTAssertEqual(Array(UnsafeBufferPointer(start: quick.0.p, count: quick.0.count)),
                           Array(UnsafeBufferPointer(start: plain.0.p, count: plain.0.count)), "\(backend) dinp")
            XCTAssertEqual(Array(UnsafeBufferPointer(start: quick.1.p, count: quick.1.count)),
                           Array(UnsafeBufferPointer(start: plain.1.p, count: plain.1.count)), "\(backend) dweight")
        }
    }

    /// Products running at once on the workers (as attention heads do) must not share oneDNN scratch memory:
    /// Debian's oneDNN keeps one global scratchpad unless each call brings its own.
    func testConcurrentBF16ProductsAreIndependent() {
        var random = TestRandom(seed: 15)
        let (m, n, k, count) = (96, 80, 512, 8)
        let inputs = (0..<count).map { _ in (bf16Matrix(m * k, &random), bf16Matrix(k * n, &random)) }
        let expected = inputs.map { a, b -> TestBuffer in
            let c = TestBuffer(count: m * n)
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    naiveGemmBF16(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: ap.baseAddress!, lda: k,
                                  b: bp.baseAddress!, ldb: n, accumulate: false, bias: nil, c: c.p, ldc: n)
                }
            }
            return c
        }
        let outputs = (0..<count).map { _ in TestBuffer(count: m * n) }
        let pointers = outputs.map { SendablePointer($0.p) }
        for _ in 0..<10 {
            DispatchQueue.concurrentPerform(iterations: count) { i in
                inputs[i].0.withUnsafeBufferPointer { ap in
                    inputs[i].1.withUnsafeBufferPointer { bp in
                        gemmBF16(transA: false, transB: false, m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!,
                                 ldb: n, accumulate: false, c: pointers[i].pointer, ldc: n, threads: 1)
                    }
                }
            }
            // k = 512 terms of magnitude ~1: fp32 summation order moves a sum by ~1e-4 at most.
            for i in 0..<count { assertClose(outputs[i], expected[i], absolute: 2e-3, "concurrent product \(i)") }
        }
    }

    func testInt8WeightQuantizationIsPerChannelSymmetric() {
        var random = TestRandom(seed: 13)
        let (rows, cols) = (9, 33)
        let w = TestBuffer(normal: rows * cols, &random)
        for j in 0..<cols { w.p[4 * cols + j] = 0 }  // an all-zero row
        let q = UnsafeMutablePointer<Int8>.allocate(capacity: rows * cols), scales = TestBuffer(count: rows)
        defer { q.deallocate() }
        quantizeWeightsInt8(out: q, scales: scales.p, weight: w.c, rows: rows, cols: cols)
        for r in 0..<rows {
            let largest = (0..<cols).map { abs(w.p[r * cols + $0]) }.max()!
            XCTAssertEqual(scales.p[r], largest > 0 ? largest / 127 : 1)
            for j in 0..<cols {
                XCTAssertLessThanOrEqual(abs(Float(q[r * cols + j]) * scales.p[r] - w.p[r * cols + j]), scales.p[r] / 2 * 1.0001)
                XCTAssertGreaterThanOrEqual(q[r * cols + j], -127)
            }
        }
    }

    func testInt8MatmulMatchesExactIntegerSumsOnBothBackends() {
        let saved = LowPrecision.backend
        defer { LowPrecision.backend = saved }
        var random = TestRandom(seed: 14)
        let (rows, inFeatures, outFeatures) = (23, 70, 19)
        let inp = TestBuffer(normal: rows * inFeatures, &random)
        for i in 0..<inFeatures { inp.p[5 * inFeatures + i] *= 40 }  // an outlier token: its own scale
        for i in 0..<inFeatures { inp.p[7 * inFeatures + i] = 0 }     // an all-zero token
        let w = TestBuffer(normal: outFeatures * inFeatures, &random), bias = TestBuffer(normal: outFeatures, &random)
        let q = UnsafeMutablePointer<Int8>.allocate(capacity: outFeatures * inFeatures), scales = TestBuffer(count: outFeatures)
        let scratch = UnsafeMutablePointer<Int8>.allocate(capacity: rows * inFeatures), rowScales = TestBuffer(count: rows)
        defer { q.deallocate(); scratch.deallocate() }
        quantizeWeightsInt8(out: q, scales: scales.p, weight: w.c, rows: outFeatures, cols: inFeatures)
        for backend in [LowPrecisionBackend.onednn, .reference] {
            LowPrecision.backend = backend
            let out = TestBuffer(count: rows * outFeatures, value: .nan)
            matmulForwardInt8(out: out.p, inp: inp.c, scratch: scratch, rowScales: rowScales.p, weight: q, weightScales: scales.c,
                              bias: bias.c, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
            // Independent reference: quantise each token again by the documented rule, integer sums, one scaling.
            for r in 0..<rows {
                let largest = (0..<inFeatures).map { abs(inp.p[r * inFeatures + $0]) }.max()!
                let scale = largest > 0 ? largest / 127 : 1
                XCTAssertEqual(rowScales.p[r], scale, "row \(r) scale")
                for o in 0..<outFeatures {
                    var sum = 0
                    for i in 0..<inFeatures {
                        let a = Int((inp.p[r * inFeatures + i] * (1 / scale)).rounded(.toNearestOrEven))
                        sum += a * Int(q[o * inFeatures + i])
                    }
                    let expected = Double(bias.p[o]) + Double(scale) * Double(scales.p[o]) * Double(sum)
                    XCTAssertEqual(Double(out.p[r * outFeatures + o]), expected, accuracy: 1e-5 * max(1, abs(expected)),
                                   "\(backend) [\(r),\(o)]")
                }
            }
        }
    }
}

/// The bf16 attention against the plain fp32 twin run on the same bf16-rounded q, k, v, with suffix and
/// interior padding and a length that is no multiple of 16. What remains is the rounding of the
/// probabilities to bf16 (8 significant bits: ≤ 2⁻⁸ relative each, so the output moves by at most
/// 2⁻⁸ · max|v|) plus fp32 summation order.
final class AttentionBF16Tests: XCTestCase {
    func testForwardMatchesNaiveOnRoundedInputsOnBothBackends() {
        let saved = LowPrecision.backend
        defer { LowPrecision.backend = saved }
        var random = TestRandom(seed: 21)
        let input = RoundedAttentionCase(T: 37, C: 64, heads: 4, &random)
        let (batch, T, C, heads, qkv, mask, naive, largestV) = (input.batch, input.T, input.C, input.heads, input.qkv, input.mask,
                                                                input.naive, input.largestV)
        let scratch = BF16Buffer.allocate(capacity: batch * T * 3 * C)
        defer { scratch.deallocate() }
        for backend in [LowPrecisionBackend.onednn, .reference] {
            LowPrecision.backend = backend
            for training in [false, true] {
                let out = TestBuffer(count: batch * T * C, value: .nan)
                let probs = training ? TestBuffer(count: batch * heads * T * T) : nil
                attentionForwardBF16(out: out.p, probs: probs?.p, qkv: qkv.c, qkvScratch: scratch, keyMask: mask, batch: batch,
                                     seqLen: T, channels: C, heads: heads)
                assertClose(out, naive, absolute: 0x1p-8 * largestV + 1e-5, "\(backend) training=\(training)")
            }
        }
    }
}
