/// The fine-tuning recipe. Defaults are the README's reference recipe.
public struct TrainerSettings: Codable, Sendable, Equatable {
    public var epochs: Double = 2
    /// When set, training stops after this many optimizer steps and the schedule spans them.
    public var maxSteps: Int? = nil
    /// Windows per optimizer step (split over `gradientAccumulation` forward/backward passes).
    public var batchSize: Int = 16
    public var gradientAccumulation: Int = 1
    /// Windows per forward/backward pass of a full batch (the largest micro-batch).
    public var microBatchRows: Int { (batchSize + gradientAccumulation - 1) / gradientAccumulation }
    public var learningRate: Double = 1e-4
    public var warmupRatio: Double = 0.1
    public var weightDecay: Double = 0.01
    public var maxGradNorm: Double = 1.0
    public var adamEpsilon: Double = 1e-8
    /// Hidden and attention dropout probability during training.
    public var dropout: Double = 0.1
    public var seed: UInt64 = 42
    /// EMA of the weights with this decay; nil = no EMA.
    public var emaDecay: Double? = nil
    /// Write a checkpoint every this many steps (and at the end).
    public var checkpointEvery: Int = 500
    public var keepCheckpoints: Int = 2
    public var maxSequenceLength: Int = 384
    public var padMultiple: Int = 8

    public init() {}

    /// Refuses settings that cannot train (before any work starts).
    public func validate() throws {
        func require(_ condition: Bool, _ message: String) throws {
            if !condition { throw TrainingError.invalidArgument(message) }
        }
        try require(epochs > 0 || (maxSteps ?? 0) > 0, "--epochs must be positive, got \(epochs)")
        try require(maxSteps.map { $0 > 0 } ?? true, "--max-steps must be positive")
        try require(batchSize > 0, "--batch-size must be positive, got \(batchSize)")
        try require(gradientAccumulation > 0 && gradientAccumulation <= batchSize,
                    "--gradient-accumulation must be in 1...batch size (\(batchSize)), got \(gradientAccumulation)")
        try require(learningRate > 0 && learningRate.isFinite, "--learning-rate must be positive, got \(learningRate)")
        try require((0..<1).contains(warmupRatio), "--warmup-ratio must be in [0, 1), got \(warmupRatio)")
        try require(weightDecay >= 0, "--weight-decay must not be negative")
        try require(maxGradNorm > 0, "--max-grad-norm must be positive")
        try require((0..<1).contains(dropout), "--dropout must be in [0, 1), got \(dropout)")
        try require(emaDecay.map { $0 > 0 && $0 < 1 } ?? true, "--ema-decay must be in (0, 1)")
        try require(checkpointEvery > 0, "--checkpoint-every must be positive")
        try require(maxSequenceLength >= 8, "--max-seq-len must be at least 8")
    }

    /// What a resumed run must share with the run it continues (checkpoint cadence may change).
    public var resumeFingerprint: String {
        var copy = self
        copy.checkpointEvery = 0
        copy.keepCheckpoints = 0
        return fingerprint(String(describing: copy))
    }
}
