import Foundation

/// Splitting pays above this many elements.
let softmaxParallelThreshold = 200_000

/// Row softmax, numerically stable (the max is subtracted): `out[r, c] = e^(x[r,c] - m) / Σ e^(x[r,·] - m)`.
/// `out` may equal `inp`. A row whose entries are all masked to the same large negative value
/// (e.g. -1e4) comes out uniform, as in PyTorch.
public func softmaxForward(out: FloatBuffer, inp: ConstFloatBuffer, rows: Int, cols: Int) {
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "softmaxForward") }
    parallelFor(count: rows, minimumWork: max(1, softmaxParallelThreshold / max(1, cols))) { rowRange in
        for r in rowRange { softmaxRow(out: out + r * cols, inp: inp + r * cols, cols: cols) }
    }
}

/// Row log-softmax: `out[r, c] = x[r,c] - m - log Σ e^(x[r,·] - m)`. `out` may equal `inp`.
public func logSoftmaxForward(out: FloatBuffer, inp: ConstFloatBuffer, rows: Int, cols: Int) {
    parallelFor(count: rows, minimumWork: max(1, softmaxParallelThreshold / max(1, cols))) { rowRange in
        for r in rowRange {
            let x = inp + r * cols
            let y = out + r * cols
            let shift = logSumExp(x, cols: cols)
            let sv = Vec16(repeating: shift)
            var c = 0
            while c + 16 <= cols { store16(y + c, load16(x + c) - sv); c += 16 }
            while c < cols { y[c] = x[c] - shift; c += 1 }
        }
    }
}

/// Softmax backward given the saved probabilities:
/// `dinp += probs * (dout - Σ_c dout[r,c] probs[r,c])`.
public func softmaxBackward(dinp: FloatBuffer, dout: ConstFloatBuffer, probs: ConstFloatBuffer, rows: Int, cols: Int) {
    parallelFor(count: rows, minimumWork: max(1, softmaxParallelThreshold / max(1, cols))) { rowRange in
        for r in rowRange {
            softmaxBackwardRow(dinp: dinp + r * cols, dout: dout + r * cols, probs: probs + r * cols,
                               cols: cols, accumulate: true)
        }
    }
}

/// One softmax row (max, exp and sum, scale), 16 lanes at a time; the tail is padded with -∞.
/// `y` may equal `x`.
@inline(__always)
func softmaxRow(out y: FloatBuffer, inp x: ConstFloatBuffer, cols: Int) {
    let inv = Vec16(repeating: 1 / softmaxExponentials(out: y, inp: x, cols: cols))
    let full = cols & ~15, rest = cols - full
    var c = 0
    while c < full { store16(y + c, load16(y + c) * inv); c += 16 }
    if rest > 0 { storePartial(y + full, loadPartial(y + full, count: rest, fill: 0) * inv, count: rest) }
}

/// The first two passes of a softmax row: `y = e^(x − max x)` (`y` may equal `x`); returns Σ y.
@inline(__always)
func softmaxExponentials(out y: FloatBuffer, inp x: ConstFloatBuffer, cols: Int) -> Float {
    let full = cols & ~15
    let rest = cols - full
    let lowest = -Float.greatestFiniteMagnitude
    var mv = Vec16(repeating: lowest)
    var c = 0
    while c < full { mv = vmax(mv, load16(x + c)); c += 16 }
    if rest > 0 { mv = vmax(mv, loadPartial(x + full, count: rest, fill: lowest)) }
    let m = Vec16(repeating: hmax(mv))
    var sum = Vec16()
    c = 0
    while c < full {
        let e = vexp(load16(x + c) - m)
        sum += e
        store16(y + c, e)
        c += 16
    }
    if rest > 0 {
        let e = vexp(loadPartial(x + full, count: rest, fill: lowest) - m)
        sum += e
        storePartial(y + full, e, count: rest)
    }
    return hsum(sum)
}

/// One softmax row of `x + bias` (the additive attention mask), in place in `y`; `y` may equal `x`.
@inline(__always)
func softmaxRow(out y: FloatBuffer, inp x: ConstFloatBuffer, bias: ConstFloatBuffer, cols: Int) {
    var c = 0
    while c + 16 <= cols { store16(y + c, load16(x + c) + load16(bias + c)); c += 16 }
    while c < cols { y[c] = x[c] + bias[c]; c += 1 }
    softmaxRow(out: y, inp: y, cols: cols)
}

/// One row of the softmax backward; writes (`accumulate == false`) or adds into `dinp`.
/// `dinp` may equal `dout` when writing.
@inline(__always)
func softmaxBackwardRow(dinp: FloatBuffer, dout: ConstFloatBuffer, probs: ConstFloatBuffer, cols: Int,
                        accumulate: Bool) {
    var dotv = Vec16()
    var c = 0
    while c + 16 <= cols { dotv += load16(dout + c) * load16(probs + c); c += 16 }
    var dot = hsum(dotv)
    let tail = c
    while c < cols { dot += dout[c] * probs[c]; c += 1 }
    let dv = Vec16(repeating: dot)
    c = 0
    if accumulate {
        while c + 16 <= cols { store16(dinp + c, load16(dinp + c) + load16(probs + c) * (load16(dout + c) - dv)); c += 16 }
        c = tail
        while c < cols { dinp[c] += probs[c] * (dout[c] - dot); c += 1 }
    } else {
        while c + 16 <= cols { store16(dinp + c, load16(probs + c) * (load16(dout + c) - dv)); c += 16 }
        c = tail
        while c < cols { dinp[c] = probs[c] * (dout[c] - dot); c += 1 }
    }
}

/// `m + log Σ e^(x - m)` over one row, m the row max.
@inline(__always)
func logSumExp(_ x: ConstFloatBuffer, cols: Int) -> Float {
    let full = cols & ~15
    let rest = cols - full
    var mv = Vec16(repeating: -.greatestFiniteMagnitude)
    var c = 0
    while c < full { mv = vmax(mv, load16(x + c)); c += 16 }
    if rest > 0 { mv = vmax(mv, loadPartial(x + full, count: rest, fill: -.greatestFiniteMagnitude)) }
    let m = hmax(mv)
    let mvec = Vec16(repeating: m)
    var sum = Vec16()
    c = 0
    while c < full { sum += vexp(load16(x + c) - mvec); c += 16 }
    if rest > 0 { sum += vexp(loadPartial(x + full, count: rest, fill: -.greatestFiniteMagnitude) - mvec) }
    return m + Foundation.log(hsum(sum))
}
