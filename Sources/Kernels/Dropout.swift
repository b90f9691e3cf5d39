/// Dropout with a counter-based random mask: whether element i of a dropout site is kept is a pure
/// function of (seed, stream, i), so the backward recomputes the mask instead of storing it and a
/// run is reproducible from its seed. Use a distinct `stream` for every dropout site in a step
/// (e.g. step × sites + site index) so that sites and steps draw independent masks.
public struct Dropout: Sendable, Equatable {
    /// Probability of zeroing an element, in [0, 1).
    public var probability: Float
    public var seed: UInt64
    public var stream: UInt64

    public init(probability: Float, seed: UInt64, stream: UInt64) {
        precondition(probability >= 0 && probability < 1, "Dropout probability \(probability) is outside [0, 1)")
        self.probability = probability
        self.seed = seed
        self.stream = stream
    }

    /// Kept elements are scaled by this (1 / (1 - p)), so the expectation is unchanged.
    @inlinable public var keepScale: Float { 1 / (1 - probability) }

    /// An element is dropped when its 32-bit hash is below this.
    @inlinable public var dropThreshold: UInt32 {
        UInt32(min((Double(probability) * 4_294_967_296.0).rounded(), 4_294_967_295.0))
    }

    /// The two 32-bit keys of the element hash, derived from (seed, stream) with SplitMix64.
    @inlinable public var keys: (UInt32, UInt32) {
        let k = splitMix64(seed ^ splitMix64(stream &+ 0x632B_E59B_D9B4_E019))
        return (UInt32(truncatingIfNeeded: k), UInt32(truncatingIfNeeded: k >> 32))
    }

    /// Whether element `index` is kept (scalar form of the vector mask; the definition of the mask).
    @inlinable public func keeps(_ index: Int) -> Bool {
        let (k1, k2) = keys
        return dropoutHash(UInt32(truncatingIfNeeded: index), k1, k2) >= dropThreshold
    }
}

@inlinable
func splitMix64(_ value: UInt64) -> UInt64 {
    var z = value &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// Two rounds of the "lowbias32" integer mixer keyed by (k1, k2).
@inlinable
func dropoutHash(_ index: UInt32, _ k1: UInt32, _ k2: UInt32) -> UInt32 {
    mix32(mix32(index ^ k1) &+ k2)
}

@inlinable
func mix32(_ value: UInt32) -> UInt32 {
    var x = value
    x ^= x >> 16; x &*= 0x7FEB_352D
    x ^= x >> 15; x &*= 0x846C_A68B
    x ^= x >> 16
    return x
}

@_transparent
func mix32(_ value: SIMD16<UInt32>) -> SIMD16<UInt32> {
    var x = value
    x ^= x &>> 16; x &*= 0x7FEB_352D
    x ^= x &>> 15; x &*= 0x846C_A68B
    x ^= x &>> 16
    return x
}

@usableFromInline
let laneIndices = SIMD16<UInt32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)

/// Splitting pays above this many elements.
let dropoutParallelThreshold = 300_000

/// `out[i] = keeps(startIndex + i) ? inp[i] / (1 - p) : 0`, plus `adding[i]` when given (a residual sum in the same
/// pass, equal to `addForward` after it). `out` may equal `inp`. `startIndex` places this buffer inside a larger dropout
/// site (mask indices must stay below 2³²).
public func dropoutForward(out: FloatBuffer, inp: ConstFloatBuffer, count: Int, dropout: Dropout, startIndex: Int = 0,
                           adding: ConstFloatBuffer? = nil) {
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "dropoutForward") }
    applyDropoutMask(out: out, inp: inp, accumulateInto: adding, count: count, dropout: dropout, startIndex: startIndex)
}

/// `dinp[i] += keeps(startIndex + i) ? dout[i] / (1 - p) : 0` (the same mask as the forward); without `accumulate`,
/// `dinp[i] = …`.
public func dropoutBackward(dinp: FloatBuffer, dout: ConstFloatBuffer, count: Int, dropout: Dropout, startIndex: Int = 0,
                            accumulate: Bool = true) {
    let profileStart = KernelProfile.start()
    defer { KernelProfile.stop(profileStart, "dropoutBackward") }
    applyDropoutMask(out: dinp, inp: dout, accumulateInto: accumulate ? UnsafePointer(dinp) : nil, count: count,
                     dropout: dropout, startIndex: startIndex)
}

/// `out = mask ⊙ inp * scale (+ acc)`, split over the workers for large buffers.
func applyDropoutMask(out: FloatBuffer, inp: ConstFloatBuffer, accumulateInto acc: ConstFloatBuffer?, count: Int,
                      dropout: Dropout, startIndex: Int) {
    precondition(startIndex >= 0 && startIndex + count <= 1 << 32, "dropout mask indices must stay below 2^32")
    parallelElements(count: count, minimumWork: dropoutParallelThreshold) { range in
        dropoutRange(out: out, inp: inp, accumulateInto: acc, range: range, dropout: dropout, startIndex: startIndex)
    }
}

/// The mask on one range of elements (single-threaded; attention calls it per row).
@inline(__always)
func dropoutRange(out: FloatBuffer, inp: ConstFloatBuffer, accumulateInto acc: ConstFloatBuffer?, range: Range<Int>,
                  dropout: Dropout, startIndex: Int) {
    let (k1, k2) = dropout.keys
    let k1v = SIMD16<UInt32>(repeating: k1), k2v = SIMD16<UInt32>(repeating: k2)
    let threshold = SIMD16<UInt32>(repeating: dropout.dropThreshold)
    let scale = Vec16(repeating: dropout.keepScale)
    var i = range.lowerBound
    while i < range.upperBound {
        let n = min(16, range.upperBound - i)
        let index = SIMD16<UInt32>(repeating: UInt32(truncatingIfNeeded: startIndex + i)) &+ laneIndices
        let hash = mix32(mix32(index ^ k1v) &+ k2v)
        var v = (n == 16 ? load16(inp + i) : loadPartial(inp + i, count: n, fill: 0)) * scale
        v.replace(with: 0, where: hash .< threshold)
        if let acc { v += n == 16 ? load16(acc + i) : loadPartial(acc + i, count: n, fill: 0) }
        if n == 16 { store16(out + i, v) } else { storePartial(out + i, v, count: n) }
        i += 16
    }
}

/// The same mask applied to two rows at once (attention backward): `dropped = mask ⊙ probs · scale`
/// and `gradient = mask ⊙ gradient · scale` in place, hashing each index once.
@inline(__always)
func dropoutRowPair(dropped: FloatBuffer, probs: ConstFloatBuffer, gradient: FloatBuffer, count: Int,
                    dropout: Dropout, startIndex: Int) {
    let (k1, k2) = dropout.keys
    let k1v = SIMD16<UInt32>(repeating: k1), k2v = SIMD16<UInt32>(repeating: k2)
    let threshold = SIMD16<UInt32>(repeating: dropout.dropThreshold)
    let scale = Vec16(repeating: dropout.keepScale)
    var i = 0
    while i < count {
        let n = min(16, count - i)
        let index = SIMD16<UInt32>(repeating: UInt32(truncatingIfNeeded: startIndex + i)) &+ laneIndices
        let dropped16 = mix32(mix32(index ^ k1v) &+ k2v) .< threshold
        var p = (n == 16 ? load16(probs + i) : loadPartial(probs + i, count: n, fill: 0)) * scale
        var g = (n == 16 ? load16(gradient + i) : loadPartial(gradient + i, count: n, fill: 0)) * scale
        p.replace(with: 0, where: dropped16)
        g.replace(with: 0, where: dropped16)
        if n == 16 {
            store16(dropped + i, p)
            store16(gradient + i, g)
        } else {
            storePartial(dropped + i, p, count: n)
            storePartial(gradient + i, g, count: n)
        }
        i += 16
    }
}
