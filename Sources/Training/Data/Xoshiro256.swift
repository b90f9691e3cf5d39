/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64) whose whole state is
/// four words, so that a checkpoint can save it and a resumed run continues the same stream.
///
/// Training draws everything random from generators derived from the run's seed and a purpose
/// (`Xoshiro256(seed:stream:)`), never from the system generator: data order and dropout
/// masks are functions of (seed, epoch, step), which is what makes `--resume` exact.
public struct Xoshiro256: RandomNumberGenerator, Sendable, Equatable, Codable {
    /// The four state words of xoshiro256**.
    public private(set) var state: [UInt64]

    /// A generator for `seed`; different `stream`s give independent sequences from one seed.
    public init(seed: UInt64, stream: UInt64 = 0) {
        var mixer = seed ^ (stream &* 0xD1B5_4A32_D192_ED03)
        var words = [UInt64]()
        for _ in 0..<4 { words.append(Xoshiro256.splitMix64(&mixer)) }
        // xoshiro must not start from the all-zero state; SplitMix64 never yields four zeros, but be explicit.
        if words.allSatisfy({ $0 == 0 }) { words[0] = 0x9E37_79B9_7F4A_7C15 }
        state = words
    }

    /// Restores a generator from a saved `state` (four words).
    public init(state: [UInt64]) throws {
        guard state.count == 4, !state.allSatisfy({ $0 == 0 }) else {
            throw TrainingError.invalidState("a generator state must be 4 words, not all zero; got \(state)")
        }
        self.state = state
    }

    /// SplitMix64: one step of Steele et al.'s mixer, also used to hash (seed, index) pairs.
    public static func splitMix64(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A 64-bit value that depends on every bit of `seed` and `index` (for per-step dropout seeds).
    public static func mix(_ seed: UInt64, _ index: UInt64) -> UInt64 {
        var x = seed ^ (index &* 0xA24B_AED4_963E_E407)
        _ = splitMix64(&x)
        return splitMix64(&x)
    }

    public mutating func next() -> UInt64 {
        let result = rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = rotl(state[3], 45)
        return result
    }

    /// A uniform Float in [0, 1) from the top 24 bits.
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A standard normal sample (Box–Muller, in Double), for weight initialisation.
    public mutating func nextGaussian() -> Double {
        let u1 = (Double(next() >> 11) + 1.0) * (1.0 / 9_007_199_254_740_992.0) // (0, 1]
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return (-2.0 * _log(u1)).squareRoot() * _cos(2.0 * Double.pi * u2)
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Darwin
@inline(__always) private func _log(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
