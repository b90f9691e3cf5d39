/// Which task each optimizer step runs when several are mixed batch by batch (D-NET: MRC and MLM
/// with weights [1, mix_ratio], so P(MRC) = 1/3 at mix ratio 2).
///
/// The draw of step s is a pure function of (seed, s) — no generator state to checkpoint — so a
/// resumed run makes the same choices. A single task is always chosen without any draw.
public struct TaskMix: Sendable, Equatable {
    public let weights: [Double]
    public let seed: UInt64

    public init(weights: [Double], seed: UInt64) throws {
        guard !weights.isEmpty, weights.allSatisfy({ $0 >= 0 && $0.isFinite }), weights[0] > 0 else {
            throw TrainingError.invalidArgument("task weights must be finite, not negative, the main task's positive: \(weights)")
        }
        self.weights = weights
        self.seed = seed
    }

    /// Steps per main-task step on average: Σ weights / main weight (3 for D-NET's [1, 2]).
    public var stepsPerMainStep: Double { weights.reduce(0, +) / weights[0] }

    /// The index of the task that runs at (0-based) step `step`.
    public func task(atStep step: Int) -> Int {
        guard weights.count > 1 else { return 0 }
        let total = weights.reduce(0, +)
        let bits = Xoshiro256.mix(seed ^ 0x7461_736B_6D69_78, UInt64(step))
        var u = Double(bits >> 11) * 0x1p-53 * total
        for (index, weight) in weights.enumerated() {
            if u < weight { return index }
            u -= weight
        }
        return weights.lastIndex { $0 > 0 }!
    }
}
