import Foundation

/// A small seeded generator (SplitMix64) with normal samples (Box–Muller), for initialising new weights
/// reproducibly: the same seed gives the same head on every machine.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    private var spareNormal: Float?

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A sample of N(mean, std²).
    public mutating func normal(mean: Float = 0, std: Float) -> Float {
        if let spare = spareNormal {
            spareNormal = nil
            return mean + std * spare
        }
        // u1 in (0, 1] so that log(u1) is finite.
        let u1 = (Double(next() >> 11) + 1) * 0x1p-53
        let u2 = Double(next() >> 11) * 0x1p-53
        let radius = (-2 * log(u1)).squareRoot()
        spareNormal = Float(radius * sin(2 * Double.pi * u2))
        return mean + std * Float(radius * cos(2 * Double.pi * u2))
    }
}

extension ParameterBuffer {
    /// Initialises tensor `name` the way Hugging Face initialises BERT: weights N(0, std²), biases 0,
    /// LayerNorm weights 1.
    public func initialise(_ name: String, std: Float, generator: inout SeededGenerator) {
        let values = self[name]
        if name.hasSuffix("LayerNorm.weight") {
            values.update(repeating: 1)
        } else if name.hasSuffix("bias") {
            values.update(repeating: 0)
        } else {
            for i in values.indices { values[i] = generator.normal(std: std) }
        }
    }
}
