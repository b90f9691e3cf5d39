import Checkpoint
import Foundation
import Kernels
import MRC
import Model

extension RunEstimate {
    /// A `train` or `distill` run as `trainer` plans it: every step's task (the mix's draw), its batch
    /// (the planner's, epoch after epoch) and padded length, costed as a training pass at this machine's
    /// rate for the run's micro-batch shape, plus one optimizer update per step; then the dev files'
    /// inference (`evaluationLengths`, fp32 as `--dev` runs it; `evaluationReadingSeconds`: what reading and
    /// windowing them took for the estimate, as it will again). The reading and loading done so far is the
    /// first phase. `baselineBytes`: the process's resident
    /// memory before the trainer was made (model and data loaded); `mappedBytes`: files the run reads
    /// through a memory map (the soft-label store).
    public static func training(command: String, trainer: Trainer, config: BertConfig, precision: Precision,
                                windows: Int, baselineBytes: Int, mappedBytes: Int = 0, evaluationLengths: [Int] = [],
                                evaluationReadingSeconds: Double = 0, ranks: Int = 1,
                                passTeacher: PassTeacher? = nil) -> RunEstimate {
        let loadedPhase = loaded
        let settings = trainer.settings
        let total = trainer.totalSteps
        var stepsPerTask = [Int](repeating: 0, count: trainer.tasks.count)
        for step in 0..<total { stepsPerTask[trainer.mix.task(atStep: step)] += 1 }
        let cost = EncoderCost(config: config)
        let microRows = settings.microBatchRows
        let rate = EngineCalibration.rate(config: config, precision: precision, rows: microRows,
                                          seqLen: settings.maxSequenceLength, training: true)
        var passSeconds = 0.0, maskedPeak = 0
        let teacherCost = passTeacher.map { EncoderCost(config: $0.config) }
        let teacherRate = passTeacher.map {
            EngineCalibration.rate(config: $0.config, precision: precision, rows: microRows, seqLen: settings.maxSequenceLength, training: false)
        }
        for (index, task) in trainer.tasks.enumerated() where stepsPerTask[index] > 0 {
            let lengths = task.lengths
            var left = stepsPerTask[index], epoch = 0
            while left > 0 {
                for batch in trainer.planners[index].batches(epoch: epoch).prefix(left) {
                    let real = batch.windows.reduce(0) { $0 + lengths[$1] }
                    let masked = Int((task.maskedFraction * Double(real)).rounded(.up))
                    let flops = cost.training(rows: batch.windows.count, seqLen: batch.paddedLength, maskedPositions: masked)
                    passSeconds += rate.seconds(flops: flops, seqLen: batch.paddedLength, training: true)
                    if index == 0, let teacherCost, let teacherRate {
                        passSeconds += teacherRate.seconds(flops: teacherCost.forward(rows: batch.windows.count, seqLen: batch.paddedLength),
                                                           seqLen: batch.paddedLength, training: false)
                    }
                    maskedPeak = max(maskedPeak, masked)
                    left -= 1
                }
                epoch += 1
            }
        }
        let parameters = trainer.model.parameterCount
        var estimate = RunEstimate(command: command, windows: windows, steps: total, phases: [loadedPhase], peakBytes: 0,
                                   basis: "\(rate.measured) on \(EngineCalibration.processor), \(precision.rawValue)")
        estimate.phases.append(Phase(name: "training", seconds: passSeconds / Double(max(1, ranks))
                                     + Double(total) * Double(parameters) / 1e6 * ((rate.optimizerSecondsPerMillionParameters ?? 0)
                                         + (trainer.ema == nil ? 0 : rate.emaSecondsPerMillionParameters ?? 0))))
        // Checkpoints (every --checkpoint-every steps and the last: weights, AdamW moments, EMA shadow and
        // EMA weights) and the final model, at this disk's measured rate.
        let ema = trainer.ema == nil ? 0 : 1
        let checkpoints = total / settings.checkpointEvery + (total % settings.checkpointEvery == 0 ? 0 : 1)
        let written = Double(4 * parameters * (checkpoints * (3 + 2 * ema) + 1 + ema))
        estimate.phases.append(Phase(name: "checkpoints and model", seconds: written / 1e9 * EngineCalibration.diskSecondsPerGB(
            directory: trainer.store.outputDirectory)))
        // Gradients, AdamW's two moments, the EMA shadow; the arena for one micro-batch of the longest
        // length; a checkpoint's optimizer payload (moments and shadow) while it is written.
        let state = 4 * parameters * (1 + 2 + (trainer.ema == nil ? 0 : 1))
        let layout = ParameterLayout(config: config, heads: .span)
        let working = ModelMemory.workingBytes(layout: layout, rows: microRows, seqLen: settings.maxSequenceLength,
                                               training: true, precision: precision, maskedPositions: maskedPeak / max(1, settings.gradientAccumulation),
                                               savesAttentionProbabilities: passTeacher?.studentSavesAttention ?? false)
        let checkpoint = 4 * parameters * (2 + (trainer.ema == nil ? 0 : 1))
        estimate.peakBytes = baselineBytes + state + working + checkpoint + mappedBytes
        if let passTeacher {
            let teacherLayout = ParameterLayout(config: passTeacher.config, heads: [])
            estimate.peakBytes += 4 * teacherLayout.count + passTeacher.bufferBytes
                + ModelMemory.workingBytes(layout: teacherLayout, rows: microRows, seqLen: settings.maxSequenceLength, training: false,
                                           precision: precision, capturing: true)
        }
        if !evaluationLengths.isEmpty {
            let evaluation = inference(models: [config], lengths: evaluationLengths, batchSize: 32,
                                       maxSeqLen: settings.maxSequenceLength, precision: .fp32)
            estimate.phases.append(Phase(name: "dev evaluation", seconds: evaluationReadingSeconds + evaluation.seconds))
            estimate.peakBytes = max(estimate.peakBytes, baselineBytes + 4 * parameters + evaluation.workingBytes)
        }
        return estimate
    }
}

/// A model whose inference forward runs inside every pass of the main task (intermediate-layer
/// distillation's teacher): its shape, cut to the layers the forward runs, the bytes of the buffers the
/// pass keeps beside it (captured states, projections' scratch), and whether the student must then keep its whole
/// attention softmax (`BertModel.savesAttentionProbabilities`: an attention term).
public struct PassTeacher: Sendable {
    public var config: BertConfig
    public var bufferBytes: Int
    public var studentSavesAttention: Bool
    public init(config: BertConfig, bufferBytes: Int, studentSavesAttention: Bool = false) {
        (self.config, self.bufferBytes, self.studentSavesAttention) = (config, bufferBytes, studentSavesAttention)
    }
}

extension WindowBuilder {
    /// The real token count of every window `files` make, as `predict` windows them (the files are read
    /// and tokenised; nothing is scored).
    public func windowLengths(files: [URL], strict: Bool = false) throws -> [Int] {
        try files.flatMap { file in windows(for: try MRCReader.read(file, strict: strict).examples).windows.map(\.length) }
    }
}
