import ArgumentParser
import Kernels
import Training

/// The optimisation options `train` and `distill` share: schedule, AdamW, clipping, dropout, EMA,
/// checkpoints and resume.
struct TrainerOptions: ParsableArguments {
    @Option(help: "Passes over the training windows.") var epochs: Double = 2
    @Option(name: .customLong("max-steps"), help: "Stop after this many optimizer steps (the schedule spans them).")
    var maxSteps: Int?
    @Option(name: .customLong("batch-size"), help: "Windows per optimizer step.") var batchSize = 16
    @Option(name: .customLong("gradient-accumulation"), help: "Forward/backward passes the batch is split into.")
    var gradientAccumulation = 1
    @Option(name: .customLong("learning-rate"), help: "Peak learning rate (default 1e-4; 3e-5 with distill --preset dnet).")
    var learningRate: Double?
    @Option(name: .customLong("warmup-ratio"), help: "Fraction of steps of linear warmup.") var warmupRatio = 0.1
    @Option(name: .customLong("weight-decay"), help: "AdamW decoupled weight decay (not biases, LayerNorm).")
    var weightDecay = 0.01
    @Option(name: .customLong("max-grad-norm"), help: "Global gradient-norm clipping.") var maxGradNorm = 1.0
    @Option(help: "Hidden and attention dropout.") var dropout = 0.1
    @Option(help: "Seed of the batch order, dropout, masking and head initialisation.") var seed: UInt64 = 42
    @Option(name: .customLong("ema-decay"), help: "Keep an EMA of the weights with this decay (e.g. 0.9999).")
    var emaDecay: Double?
    @Option(name: .customLong("checkpoint-every"), help: "Steps between checkpoints.") var checkpointEvery = 500
    @Option(name: .customLong("keep-checkpoints"), help: "Checkpoints kept on disk.") var keepCheckpoints = 2
    @Flag(help: "Continue from the latest checkpoint in --out.") var resume = false
    @Flag(name: .customLong("no-progress"), help: "No live progress line even on a terminal.") var noProgress = false
    @Option(help: ArgumentHelp("Matmul precision in training: fp32, or bf16 (mixed precision: bf16 matmul inputs, fp32 "
                               + "accumulation, fp32 master weights, optimizer, LayerNorm, softmax and losses).",
                               valueName: "fp32|bf16"))
    var precision: Precision = .fp32
    @OptionGroup var parallel: DistributedOptions

    /// Refuses a training precision that only serves inference, and impossible --distributed/--threads.
    func validatePrecision() throws {
        guard precision != .int8 else { throw ValidationError("--precision int8 is for inference; train in fp32 or bf16") }
        try parallel.validateDistributed()
    }

    static let defaultLearningRate = 1e-4

    /// The trainer settings, with the defaults a preset chose for what was not given.
    func settings(maxSeqLen: Int, defaultLearningRate: Double = defaultLearningRate, defaultEMADecay: Double? = nil) -> TrainerSettings {
        var settings = TrainerSettings()
        settings.epochs = epochs
        settings.maxSteps = maxSteps
        settings.batchSize = batchSize
        settings.gradientAccumulation = gradientAccumulation
        settings.learningRate = learningRate ?? defaultLearningRate
        settings.warmupRatio = warmupRatio
        settings.weightDecay = weightDecay
        settings.maxGradNorm = maxGradNorm
        settings.dropout = dropout
        settings.seed = seed
        settings.emaDecay = emaDecay ?? defaultEMADecay
        settings.checkpointEvery = checkpointEvery
        settings.keepCheckpoints = keepCheckpoints
        settings.maxSequenceLength = maxSeqLen
        return settings
    }
}
