import Foundation

/// Microbenchmarks of the kernels at BERT-base-like shapes, called by `mrc-bench kernels` (they are
/// not tests: timings depend on the machine and its load).
public enum KernelBenchmarks {
    /// One measured kernel: best-of-runs seconds per call, and the derived rate.
    public struct Result: Sendable, CustomStringConvertible {
        public let name: String
        public let seconds: Double
        /// Elements processed per call (elementwise kernels) or 0.
        public let elements: Int
        /// Floating-point operations per call (matmuls) or 0.
        public let flops: Double

        public var description: String {
            var line = "\(name.padding(toLength: 48, withPad: " ", startingAt: 0)) \(String(format: "%9.3f ms", seconds * 1e3))"
            if elements > 0 { line += String(format: "  %6.3f ns/elt", seconds * 1e9 / Double(elements)) }
            if flops > 0 { line += String(format: "  %6.1f GFLOP/s", flops / seconds / 1e9) }
            return line
        }
    }

    /// sgemm rate at a linear layer's shape (rows × inFeatures → outFeatures), forward layout.
    public static func sgemm(rows: Int, inFeatures: Int, outFeatures: Int, repeats: Int = 5) -> Result {
        let inp = filled(rows * inFeatures), weight = filled(outFeatures * inFeatures), out = filled(rows * outFeatures)
        defer { inp.deallocate(); weight.deallocate(); out.deallocate() }
        let seconds = time(repeats: repeats) {
            matmulForward(out: out, inp: inp, weight: weight, bias: nil, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
        }
        return Result(name: "sgemm \(rows)x\(inFeatures)->\(outFeatures)", seconds: seconds, elements: 0,
                      flops: 2 * Double(rows * inFeatures * outFeatures))
    }

    /// The bf16 matmul alone (inputs already bf16, fp32 output) at one shape: the rate the low-precision
    /// backend reaches on this CPU (AMX or AVX-512 BF16), the ceiling of the bf16 forward. `packed`: the
    /// weight packed once in oneDNN's layout (as the fused inference layers hold it), where it has one.
    /// `epilogue` and `outType`: the fused forward's four matmuls as it runs them (`.residual` adds a filled
    /// [rows, outFeatures] matrix), to weigh what each epilogue costs against the bare product.
    public static func bf16Matmul(rows: Int, inFeatures: Int, outFeatures: Int, packed: Bool = false, repeats: Int = 5,
                                  epilogue: MatmulEpilogue = .none, outType: MatrixElement = .f32) -> Result {
        let a = BF16Buffer.allocate(capacity: rows * inFeatures), w = BF16Buffer.allocate(capacity: outFeatures * inFeatures)
        let out = filled(rows * outFeatures)
        var residual: FloatBuffer? = nil
        defer { residual?.deallocate() }
        let gemmEpilogue: GemmEpilogue
        switch epilogue {
        case .none: gemmEpilogue = .none
        case .gelu: gemmEpilogue = .gelu
        case .residual:
            residual = filled(rows * outFeatures)
            gemmEpilogue = .residual(UnsafePointer(residual!), ld: outFeatures)
        }
        let layout = packed ? OneDNN.packedLayout(k: inFeatures, n: outFeatures) : nil
        let packedWeight = UnsafeMutableRawPointer.allocate(byteCount: max(64, layout?.bytes ?? 0), alignment: 64)
        defer { a.deallocate(); w.deallocate(); out.deallocate(); packedWeight.deallocate() }
        a.initialize(repeating: bfloat16(0.5), count: rows * inFeatures)
        w.initialize(repeating: bfloat16(0.25), count: outFeatures * inFeatures)
        layout?.pack(w, ld: inFeatures, into: packedWeight)
        let b = layout == nil ? UnsafePointer(w) : UnsafePointer(packedWeight.assumingMemoryBound(to: BF16.self))
        let seconds = time(repeats: repeats) {
            gemmBF16(transA: false, transB: true, m: rows, n: outFeatures, k: inFeatures, a: a, lda: inFeatures, b: b,
                     ldb: inFeatures, packedB: layout, bias: nil, epilogue: gemmEpilogue, c: UnsafeMutableRawPointer(out),
                     cType: outType, ldc: outFeatures, threads: Parallelism.workers)
        }
        let suffix = (layout == nil ? "" : " packed") + gemmEpilogue.profileSuffix + (outType == .bf16 ? " ->bf16" : "")
        return Result(name: "bf16 matmul \(rows)x\(inFeatures)->\(outFeatures)\(suffix)", seconds: seconds,
                      elements: 0, flops: 2 * Double(rows * inFeatures * outFeatures))
    }

    /// Raw gemm rate at one shape, `calls` calls per timing (for the many small attention matmuls).
    public static func gemmShape(transA: Bool = false, transB: Bool, m: Int, n: Int, k: Int, calls: Int = 1, repeats: Int = 5) -> Result {
        let a = filled(m * k), b = filled(k * n), c = filled(m * n)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        let seconds = time(repeats: repeats) {
            for _ in 0..<calls {
                gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: transA ? m : k,
                     b: b, ldb: transB ? k : n, beta: 0, c: c, ldc: n)
            }
        }
        return Result(name: "gemm \(transA ? "T" : "N")\(transB ? "T" : "N") \(m)x\(n)x\(k) x\(calls)", seconds: seconds, elements: 0,
                      flops: 2 * Double(m * n * k * calls))
    }

    /// All kernels at the MiniLM-L6 shapes of a batch (batch × seqLen tokens, hidden, FFN, heads);
    /// `matching` selects kernels by a substring of their name (nil = all).
    /// With `alternatingPrefetch`, the fused bf16 attention kernels are timed with and without the prefetching of the
    /// next head (`AttentionPrefetch`), call by call in turn: medians of 40 each (the other rows: best of 5).
    public static func all(batch: Int = 8, seqLen: Int = 384, hidden: Int = 384, ffn: Int = 1536, heads: Int = 12,
                           matching filter: String? = nil, alternatingPrefetch: Bool = false) -> [Result] {
        var results: [Result] = []
        func measure(_ name: String, elements: Int = 0, flops: Double = 0, _ body: () -> Void) {
            guard filter.map({ name.contains($0) }) ?? true else { return }
            results.append(Result(name: name, seconds: time(body), elements: elements, flops: flops))
        }
        func measureFusedAttention(_ name: String, elements: Int, flops: Double, _ body: () -> Void) {
            guard alternatingPrefetch, filter.map({ name.contains($0) }) ?? true else {
                return measure(name, elements: elements, flops: flops, body)
            }
            let (on, off) = timeAlternating(restoring: AttentionPrefetch.enabled, set: { AttentionPrefetch.enabled = $0 }, body)
            let label = AttentionPrefetch.runs(batch: batch, seqLen: seqLen, channels: hidden, heads: heads)
                ? ", prefetch" : ", (q|k|v in L2: off)"
            results.append(Result(name: name + label, seconds: on.sorted()[on.count / 2], elements: elements, flops: flops))
            results.append(Result(name: name + ", no prefetch", seconds: off.sorted()[off.count / 2], elements: elements, flops: flops))
        }
        let tokens = batch * seqLen, d = hidden / heads
        for (inF, outF) in [(hidden, 3 * hidden), (hidden, ffn), (ffn, hidden)] where filter.map({ "sgemm".contains($0) }) ?? true {
            results.append(sgemm(rows: tokens, inFeatures: inF, outFeatures: outF))
        }
        if filter.map({ "bf16 peak".contains($0) }) ?? true, let peak = bf16Peak() { results.append(peak) }
        for (inF, outF) in [(hidden, 3 * hidden), (hidden, ffn), (ffn, hidden)] {
            for packed in [false, true] where filter.map({ "bf16 matmul".contains($0) }) ?? true {
                results.append(bf16Matmul(rows: tokens, inFeatures: inF, outFeatures: outF, packed: packed))
            }
        }
        // The fused forward's matmuls with their epilogues and output types (packed, as it runs them), each beside
        // the bare product of its shape above: what the residual, the GELU and the bf16 output cost.
        let forwardMatmuls: [(Int, Int, MatmulEpilogue, MatrixElement)] = [
            (hidden, 3 * hidden, .none, .bf16), (hidden, hidden, .none, .f32), (hidden, hidden, .residual(ld: hidden), .f32),
            (hidden, ffn, .none, .bf16), (hidden, ffn, .gelu, .bf16), (ffn, hidden, .residual(ld: hidden), .f32)]
        for (inF, outF, epilogue, outType) in forwardMatmuls where filter.map({ "bf16 matmul".contains($0) }) ?? true {
            results.append(bf16Matmul(rows: tokens, inFeatures: inF, outFeatures: outF, packed: true, epilogue: epilogue, outType: outType))
        }
        for (transA, transB, m, n, k) in [(false, true, seqLen, seqLen, d), (false, false, seqLen, d, seqLen),
                                          (true, false, seqLen, d, seqLen)] where filter.map({ "gemm".contains($0) }) ?? true {
            results.append(gemmShape(transA: transA, transB: transB, m: m, n: n, k: k, calls: 24))
        }

        let big = tokens * ffn
        let a = filled(big), b = filled(big), c = filled(big)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        measure("geluForward \(tokens)x\(ffn)", elements: big) { geluForward(out: b, inp: a, count: big) }
        measure("geluBackward \(tokens)x\(ffn)", elements: big) { geluBackward(dinp: c, inp: a, dout: b, count: big) }
        measure("geluBackward in place \(tokens)x\(ffn)", elements: big) {
            geluBackward(dinp: c, inp: a, dout: c, count: big, accumulate: false)
        }
        if FusedGELU.runs {  // the bf16 training layer's GELU: the operand of the next matmul (and the bias sums) at once
            let out16 = BF16Buffer.allocate(capacity: big), sums = filled(ffn)
            defer { out16.deallocate(); sums.deallocate() }
            measure("geluForwardBF16 \(tokens)x\(ffn)", elements: big) { geluForwardBF16(out16: out16, inp: a, count: big) }
            measure("geluBackwardBF16 with bias sums \(tokens)x\(ffn)", elements: big) {
                geluBackwardBF16(dinp16: out16, dbias: sums, dout: b, inp: a, rows: tokens, cols: ffn)
            }
        }
        let dropout = Dropout(probability: 0.1, seed: 1, stream: 2)
        measure("dropoutForward \(tokens)x\(ffn)", elements: big) { dropoutForward(out: b, inp: a, count: big, dropout: dropout) }

        let small = tokens * hidden
        let mean = filled(tokens), rstd = filled(tokens), weight = filled(hidden), bias = filled(hidden)
        let dweight = filled(hidden), dbias = filled(hidden)
        defer { mean.deallocate(); rstd.deallocate(); weight.deallocate(); bias.deallocate(); dweight.deallocate(); dbias.deallocate() }
        measure("layerNormForward \(tokens)x\(hidden)", elements: small) {
            layerNormForward(out: b, mean: mean, rstd: rstd, inp: a, weight: weight, bias: bias, rows: tokens, channels: hidden, eps: 1e-12)
        }
        measure("layerNormBackward \(tokens)x\(hidden)", elements: small) {
            layerNormBackward(dinp: c, dweight: dweight, dbias: dbias, dout: b, inp: a, weight: weight, mean: mean, rstd: rstd,
                              rows: tokens, channels: hidden)
        }
        measure("addForward \(tokens)x\(hidden)", elements: small) { addForward(out: c, a: a, b: b, count: small) }

        let scores = batch * heads * seqLen * seqLen
        let probs = filled(scores), qkv = filled(tokens * 3 * hidden), dqkv = filled(tokens * 3 * hidden)
        defer { probs.deallocate(); qkv.deallocate(); dqkv.deallocate() }
        measure("softmaxForward \(batch * heads * seqLen)x\(seqLen)", elements: scores) {
            softmaxForward(out: probs, inp: probs, rows: batch * heads * seqLen, cols: seqLen)
        }
        let mask = UnsafeMutablePointer<Int32>.allocate(capacity: tokens)
        defer { mask.deallocate() }
        mask.initialize(repeating: 1, count: tokens)  // no padding: the FLOP floor
        let attentionFlops = 4 * Double(batch * heads * seqLen * seqLen * d)
        for drop in [nil, dropout] {
            let label = drop == nil ? "" : " dropout"
            measure("attentionForward\(label)", elements: scores, flops: attentionFlops) {
                attentionForward(out: c, probs: probs, qkv: qkv, keyMask: mask, batch: batch, seqLen: seqLen, channels: hidden,
                                 heads: heads, dropout: drop)
            }
            measure("attentionBackward\(label)", elements: scores, flops: 2 * attentionFlops) {
                attentionBackward(dqkv: dqkv, dout: c, qkv: qkv, probs: probs, keyMask: mask, batch: batch, seqLen: seqLen,
                                  channels: hidden, heads: heads, dropout: drop)
            }
        }
        // The bf16 attention kernels of the fused layers (AMX tiles or AVX-512 BF16, whichever runs here).
        let qkv16 = BF16Buffer.allocate(capacity: tokens * 3 * hidden), out16 = BF16Buffer.allocate(capacity: tokens * hidden)
        defer { qkv16.deallocate(); out16.deallocate() }
        convertToBF16(out: qkv16, inp: qkv, count: tokens * 3 * hidden)
        if AttentionAMX.runs(headSize: d) || AttentionAMX.runsOnAVX512(headSize: d) {
            measureFusedAttention("attentionForwardBF16 fused inference", elements: scores, flops: attentionFlops) {
                attentionForwardBF16(out16: out16, qkv16: qkv16, keyMask: mask, batch: batch, seqLen: seqLen, channels: hidden, heads: heads)
            }
        }
        if FusedTrainingAttention.runs(headSize: d) {
            let saved = FloatBuffer.allocate(capacity: FusedTrainingAttention.savedFloats(batch: batch, heads: heads, seqLen: seqLen,
                                                                                         dropout: true))
            defer { saved.deallocate() }
            measureFusedAttention("attentionForwardBF16Fused dropout", elements: scores, flops: attentionFlops) {
                attentionForwardBF16Fused(out: c, saved: saved, qkv16: qkv16, keyMask: mask, batch: batch, seqLen: seqLen,
                                          channels: hidden, heads: heads, dropout: dropout)
            }
            measureFusedAttention("attentionBackwardBF16Fused dropout", elements: scores, flops: 2 * attentionFlops) {
                attentionBackwardBF16Fused(dqkv: dqkv, dout: c, qkv16: qkv16, saved: saved, keyMask: mask, batch: batch,
                                           seqLen: seqLen, channels: hidden, heads: heads, dropout: dropout, doutScratch: out16)
            }
        }
        return results
    }

    /// A buffer of small deterministic values (no denormals, no NaN).
    static func filled(_ count: Int) -> FloatBuffer {
        let p = FloatBuffer.allocate(capacity: count)
        for i in 0..<count { p[i] = Float((i &* 7919) % 2001 - 1000) * 1e-3 }
        return p
    }
}
