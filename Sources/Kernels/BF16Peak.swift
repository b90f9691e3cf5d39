import CKernels

/// The unit that does this processor's bf16 dot products at its best, and its peak loop (`mrc_bf16_peak_avx512` or
/// `mrc_bf16_peak_amx`: independent products of ones on registers or tiles, nothing read from memory).
public enum BF16PeakUnit: String, Sendable {
    case avx512 = "AVX-512 BF16 vdpbf16ps"
    case amx = "AMX tdpbf16ps"

    /// The unit the bf16 matmuls run on here: AMX where oneDNN dispatches it (it has then asked Linux for the tile
    /// permission), else AVX-512 BF16 where the CPU has it and `MRC_ONEDNN_MAX_ISA` allows it; nil below that.
    public static var here: BF16PeakUnit? {
        if OneDNN.isa == "avx512_core_amx" && mrc_has_amx_bf16() != 0 { return .amx }
        return avx512BF16Allowed ? .avx512 : nil
    }

    /// Floating-point operations of one round of the loop (16 vdpbf16ps of 16 lanes × 2 pairs, or 6 tile products
    /// of 16 × 16 × 32).
    public var flopsPerRound: Double { self == .avx512 ? 16 * 16 * 2 * 2 : 6 * 16 * 16 * 32 * 2 }

    /// What the accumulators sum to after one round: every product is of ones.
    public var countPerRound: Double { flopsPerRound / 2 }

    /// The most rounds whose every accumulator is still exact in fp32 (2²⁴): 2 a round for a vdpbf16ps lane, 32 for
    /// a tile's element.
    public var maxRounds: Int { self == .avx512 ? 1 << 23 : 1 << 19 }

    /// Runs `rounds` rounds on the calling thread; returns the sum of the accumulators (`countPerRound · rounds`), −1
    /// where the CPU lacks the unit. The AMX loop runs only where oneDNN dispatches AMX (which asked Linux for the tile
    /// permission; without it a tile instruction stops the process).
    public func run(rounds: Int) -> Double {
        precondition(rounds >= 0 && rounds <= maxRounds, "rounds must be in 0...\(maxRounds)")
        precondition(self == .avx512 || Self.here == .amx, "the AMX loop needs oneDNN to dispatch AMX (the tile permission)")
        return self == .avx512 ? mrc_bf16_peak_avx512(Int64(rounds)) : mrc_bf16_peak_amx(Int64(rounds))
    }
}

extension KernelBenchmarks {
    /// The processor's bf16 dot-product peak: the unit's loop (`BF16PeakUnit.here`) on every worker at once, best of
    /// `repeats` after a warm-up; nil where no unit runs. The bf16 matmul rate and the forward's rate, divided by it,
    /// say how far each is from what the unit does at best. Each run's sums are checked (the products ran).
    public static func bf16Peak(repeats: Int = 5) -> Result? {
        guard let unit = BF16PeakUnit.here else { return nil }
        let workers = max(1, Parallelism.workers)
        let rounds = unit.maxRounds
        var sums = [Double](repeating: 0, count: workers)
        let seconds = sums.withUnsafeMutableBufferPointer { sums in
            time(repeats: repeats) {
                parallelFor(count: workers, minimumWork: 1) { range in
                    for worker in range { sums[worker] = unit.run(rounds: rounds) }
                }
            }
        }
        let expected = unit.countPerRound * Double(rounds)
        precondition(sums.allSatisfy { $0 == expected }, "the \(unit.rawValue) peak loop summed \(sums), not \(expected)")
        return Result(name: "bf16 peak \(unit.rawValue) x\(workers)", seconds: seconds, elements: 0,
                      flops: unit.flopsPerRound * Double(rounds * workers))
    }
}
