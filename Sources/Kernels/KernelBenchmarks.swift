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
            var line = "\(name.padding(toLength: 44, withPad: " ", startingAt: 0)) \(String(format: "%9.3f ms", seconds * 1e3))"
            if elements > 0 { line += String(format: "  %6.3f ns/elt", seconds * 1e9 / Double(elements)) }
            if flops > 0 { line += String(format: "  %6.1f GFLOP/s", flops / seconds / 1e9) }
            return line
        }
    }

    /// What `time` measures: wall-clock seconds, or the CPU seconds of the whole process divided by
    /// the number of workers (steadier than wall time on a machine shared with other jobs).
    nonisolated(unsafe) public static var measuresCPUTime = false

    /// Best of `repeats` timings of `body` after one warm-up call.
    public static func time(repeats: Int = 5, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = now()
            body()
            best = min(best, now() - start)
        }
        return best
    }

    static func now() -> Double {
        if measuresCPUTime {
            var spec = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
            return (Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9) / Double(max(1, Parallelism.workers))
        }
        return Double(DispatchTime.now().uptimeNanoseconds) * 1e-9
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

    /// All kernels at the MiniLM-L6 shapes of a batch (batch × seqLen tokens, hidden, FFN, heads).
    public static func all(batch: Int = 8, seqLen: Int = 384, hidden: Int = 384, ffn: Int = 1536, heads: Int = 12) -> [Result] {
        let tokens = batch * seqLen
        var results: [Result] = []
        results.append(sgemm(rows: tokens, inFeatures: hidden, outFeatures: 3 * hidden))
        results.append(sgemm(rows: tokens, inFeatures: hidden, outFeatures: ffn))
        results.append(sgemm(rows: tokens, inFeatures: ffn, outFeatures: hidden))
        let d = hidden / heads
        results.append(gemmShape(transB: true, m: seqLen, n: seqLen, k: d, calls: 24))
        results.append(gemmShape(transB: false, m: seqLen, n: d, k: seqLen, calls: 24))
        results.append(gemmShape(transA: true, transB: false, m: seqLen, n: d, k: seqLen, calls: 24))

        let big = tokens * ffn
        let a = filled(big), b = filled(big), c = filled(big)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        results.append(Result(name: "geluForward \(tokens)x\(ffn)", seconds: time { geluForward(out: b, inp: a, count: big) },
                              elements: big, flops: 0))
        results.append(Result(name: "geluBackward \(tokens)x\(ffn)",
                              seconds: time { geluBackward(dinp: c, inp: a, dout: b, count: big) }, elements: big, flops: 0))
        let dropout = Dropout(probability: 0.1, seed: 1, stream: 2)
        results.append(Result(name: "dropoutForward \(tokens)x\(ffn)",
                              seconds: time { dropoutForward(out: b, inp: a, count: big, dropout: dropout) }, elements: big, flops: 0))

        let small = tokens * hidden
        let mean = filled(tokens), rstd = filled(tokens), weight = filled(hidden), bias = filled(hidden)
        let dweight = filled(hidden), dbias = filled(hidden)
        defer { mean.deallocate(); rstd.deallocate(); weight.deallocate(); bias.deallocate(); dweight.deallocate(); dbias.deallocate() }
        results.append(Result(name: "layerNormForward \(tokens)x\(hidden)", seconds: time {
            layerNormForward(out: b, mean: mean, rstd: rstd, inp: a, weight: weight, bias: bias, rows: tokens, channels: hidden, eps: 1e-12)
        }, elements: small, flops: 0))
        results.append(Result(name: "layerNormBackward \(tokens)x\(hidden)", seconds: time {
            layerNormBackward(dinp: c, dweight: dweight, dbias: dbias, dout: b, inp: a, weight: weight, mean: mean, rstd: rstd,
                              rows: tokens, channels: hidden)
        }, elements: small, flops: 0))
        results.append(Result(name: "addForward \(tokens)x\(hidden)", seconds: time { addForward(out: c, a: a, b: b, count: small) },
                              elements: small, flops: 0))

        let scores = batch * heads * seqLen * seqLen
        let probs = filled(scores), qkv = filled(tokens * 3 * hidden), dqkv = filled(tokens * 3 * hidden)
        defer { probs.deallocate(); qkv.deallocate(); dqkv.deallocate() }
        results.append(Result(name: "softmaxForward \(batch * heads * seqLen)x\(seqLen)",
                              seconds: time { softmaxForward(out: probs, inp: probs, rows: batch * heads * seqLen, cols: seqLen) },
                              elements: scores, flops: 0))
        let mask = UnsafeMutablePointer<Int32>.allocate(capacity: tokens)
        defer { mask.deallocate() }
        mask.initialize(repeating: 1, count: tokens)  // no padding: the FLOP floor
        let attentionFlops = 4 * Double(batch * heads * seqLen * seqLen * (hidden / heads))
        for drop in [nil, dropout] {
            let label = drop == nil ? "" : " dropout"
            results.append(Result(name: "attentionForward\(label)", seconds: time {
                attentionForward(out: c, probs: probs, qkv: qkv, keyMask: mask, batch: batch, seqLen: seqLen, channels: hidden,
                                 heads: heads, dropout: drop)
            }, elements: scores, flops: attentionFlops))
            results.append(Result(name: "attentionBackward\(label)", seconds: time {
                attentionBackward(dqkv: dqkv, dout: c, qkv: qkv, probs: probs, keyMask: mask, batch: batch, seqLen: seqLen,
                                  channels: hidden, heads: heads, dropout: drop)
            }, elements: scores, flops: 2 * attentionFlops))
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
