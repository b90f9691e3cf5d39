/// Splitting pays above this many elements.
let layerNormParallelThreshold = 200_000

/// LayerNorm over the last dimension: `out = (x - mean) * rstd * weight + bias`, saving the row
/// `mean` and `rstd = 1 / sqrt(var + eps)` (biased variance, as PyTorch) for the backward.
/// - Parameters: out/inp [rows, channels], weight/bias [channels], mean/rstd [rows]; `out16` [rows,
///   channels], when given, gets `out` rounded to bf16 as each row is made (the next matmul's input);
///   `out8` gets it quantised to static int8 with per-channel `multipliers` (`quantizeStaticInt8`).
public func layerNormForward(out: FloatBuffer, mean: FloatBuffer, rstd: FloatBuffer, inp: ConstFloatBuffer,
                             weight: ConstFloatBuffer, bias: ConstFloatBuffer,
                             rows: Int, channels: Int, eps: Float, out16: BF16Buffer? = nil,
                             out8: (values: UnsafeMutablePointer<Int8>, multipliers: ConstFloatBuffer)? = nil) {
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "layerNormForward") }
    parallelFor(count: rows, minimumWork: max(1, layerNormParallelThreshold / max(1, channels))) { rowRange in
        for r in rowRange {
            let x = inp + r * channels
            let y = out + r * channels
            let m = rowSum(x, channels) / Float(channels)
            // Two-pass variance: exact enough when |mean| >> std (post-LN residual streams).
            var acc = Vec16()
            var c = 0
            let mv = Vec16(repeating: m)
            while c + 16 <= channels { let d = load16(x + c) - mv; acc += d * d; c += 16 }
            var variance = hsum(acc)
            while c < channels { let d = x[c] - m; variance += d * d; c += 1 }
            variance /= Float(channels)
            let s = 1 / (variance + eps).squareRoot()
            mean[r] = m
            rstd[r] = s
            let sv = Vec16(repeating: s)
            c = 0
            while c + 16 <= channels {
                store16(y + c, (load16(x + c) - mv) * sv * load16(weight + c) + load16(bias + c))
                c += 16
            }
            while c < channels { y[c] = (x[c] - m) * s * weight[c] + bias[c]; c += 1 }
            if let out16 { convertRowToBF16(out: out16 + r * channels, inp: y, count: channels) }
            if let out8 { quantizeRowStaticInt8(out: out8.values + r * channels, inp: y, multipliers: out8.multipliers, count: channels) }
        }
    }
}

/// LayerNorm backward; accumulates `dinp`, `dweight`, `dbias`:
/// `dinp += rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm))` with `dnorm = dout * weight`; without
/// `accumulate`, `dinp = …` (no zeroing pass before it).
public func layerNormBackward(dinp: FloatBuffer, dweight: FloatBuffer, dbias: FloatBuffer,
                              dout: ConstFloatBuffer, inp: ConstFloatBuffer, weight: ConstFloatBuffer,
                              mean: ConstFloatBuffer, rstd: ConstFloatBuffer, rows: Int, channels: Int, accumulate: Bool = true) {
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "layerNormBackward") }
    let minimumRows = max(1, layerNormParallelThreshold / max(1, channels))
    let chunks = parallelChunkCount(count: rows, minimumWork: minimumRows)
    // Per-chunk partial sums of dweight | dbias, added to the caller's buffers at the end.
    let partials = FloatBuffer.allocate(capacity: max(1, chunks) * 2 * channels)
    defer { partials.deallocate() }
    partials.initialize(repeating: 0, count: max(1, chunks) * 2 * channels)
    parallelChunks(count: rows, minimumWork: minimumRows) { chunk, rowRange in
        let dw = partials + chunk * 2 * channels
        let db = dw + channels
        for r in rowRange {
            let x = inp + r * channels
            let g = dout + r * channels
            let dx = dinp + r * channels
            let m = Vec16(repeating: mean[r])
            let s = Vec16(repeating: rstd[r])
            var sumDnorm = Vec16(), sumDnormNorm = Vec16()
            var c = 0
            while c + 16 <= channels {
                let norm = (load16(x + c) - m) * s
                let gv = load16(g + c)
                let dnorm = gv * load16(weight + c)
                sumDnorm += dnorm
                sumDnormNorm += dnorm * norm
                store16(dw + c, load16(dw + c) + gv * norm)
                store16(db + c, load16(db + c) + gv)
                c += 16
            }
            var sd = hsum(sumDnorm), sdn = hsum(sumDnormNorm)
            let tail = c
            while c < channels {
                let norm = (x[c] - mean[r]) * rstd[r]
                let dnorm = g[c] * weight[c]
                sd += dnorm
                sdn += dnorm * norm
                dw[c] += g[c] * norm
                db[c] += g[c]
                c += 1
            }
            let meanDnorm = Vec16(repeating: sd / Float(channels))
            let meanDnormNorm = Vec16(repeating: sdn / Float(channels))
            c = 0
            while c + 16 <= channels {
                let norm = (load16(x + c) - m) * s
                let dnorm = load16(g + c) * load16(weight + c)
                let d = (dnorm - meanDnorm - norm * meanDnormNorm) * s
                store16(dx + c, accumulate ? load16(dx + c) + d : d)
                c += 16
            }
            c = tail
            while c < channels {
                let norm = (x[c] - mean[r]) * rstd[r]
                let dnorm = g[c] * weight[c]
                let d = (dnorm - meanDnorm[0] - norm * meanDnormNorm[0]) * rstd[r]
                dx[c] = accumulate ? dx[c] + d : d
                c += 1
            }
        }
    }
    for chunk in 0..<chunks {
        let dw = partials + chunk * 2 * channels
        addInPlace(dweight, dw, count: channels)
        addInPlace(dbias, dw + channels, count: channels)
    }
}

/// Sum of `count` floats accumulated in 16 SIMD lanes.
@inline(__always)
func rowSum(_ x: ConstFloatBuffer, _ count: Int) -> Float {
    var acc = Vec16()
    var c = 0
    while c + 16 <= count { acc += load16(x + c); c += 16 }
    var total = hsum(acc)
    while c < count { total += x[c]; c += 1 }
    return total
}

/// `a += b` elementwise (single-threaded; for small buffers).
@inline(__always)
func addInPlace(_ a: FloatBuffer, _ b: ConstFloatBuffer, count: Int) {
    var i = 0
    while i + 16 <= count { store16(a + i, load16(a + i) + load16(b + i)); i += 16 }
    while i < count { a[i] += b[i]; i += 1 }
}
