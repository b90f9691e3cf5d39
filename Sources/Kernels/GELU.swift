/// Splitting pays above this many elements (GELU costs ~0.6 ns/element on one core).
let geluParallelThreshold = 200_000

/// Exact (erf) GELU, Hugging Face "gelu": `out = 0.5 x (1 + erf(x / √2))`. `out` may equal `inp`.
public func geluForward(out: FloatBuffer, inp: ConstFloatBuffer, count: Int) {
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "geluForward") }
    parallelElements(count: count, minimumWork: geluParallelThreshold) { range in
        var i = range.lowerBound
        while i + 16 <= range.upperBound {
            store16(out + i, geluVector(load16(inp + i)))
            i += 16
        }
        let rest = range.upperBound - i
        if rest > 0 { storePartial(out + i, geluVector(loadPartial(inp + i, count: rest, fill: 0)), count: rest) }
    }
}

/// GELU backward: `dinp += dout * (Φ(x) + x φ(x))` with Φ the normal CDF and φ its density; without `accumulate`,
/// `dinp = …` (in place when `dinp` is `dout`).
public func geluBackward(dinp: FloatBuffer, inp: ConstFloatBuffer, dout: ConstFloatBuffer, count: Int, accumulate: Bool = true) {
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "geluBackward") }
    parallelElements(count: count, minimumWork: geluParallelThreshold) { range in
        var i = range.lowerBound
        while i + 16 <= range.upperBound {
            let d = load16(dout + i) * geluDerivative(load16(inp + i))
            store16(dinp + i, accumulate ? load16(dinp + i) + d : d)
            i += 16
        }
        let rest = range.upperBound - i
        if rest > 0 {
            let x = loadPartial(inp + i, count: rest, fill: 0)
            let d = loadPartial(dout + i, count: rest, fill: 0) * geluDerivative(x)
            storePartial(dinp + i, accumulate ? loadPartial(dinp + i, count: rest, fill: 0) + d : d, count: rest)
        }
    }
}

@_transparent
func geluVector(_ x: Vec16) -> Vec16 {
    0.5 * x * (1 + verf(x * 0.707_106_781_186_547_6))
}

@_transparent
func geluDerivative(_ x: Vec16) -> Vec16 {
    let cdf = 0.5 * (1 + verf(x * 0.707_106_781_186_547_6))
    let pdf = 0.398_942_280_401_432_7 * vexp(-0.5 * x * x)
    return cdf + x * pdf
}
