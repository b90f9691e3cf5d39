import Foundation
import Kernels

/// What a finished (or resumed and finished) run reports.
public struct TrainingSummary: Sendable {
    public var steps: Int
    public var stepsThisRun: Int
    public var tokens: Int
    public var seconds: Double
    public var tokensPerSecond: Double { seconds > 0 ? Double(tokens) / seconds : 0 }
    public var finalLoss: Double
    public var checkpoint: URL
}

/// Trains a model on one task (fine-tuning: span windows) or several mixed batch by batch
/// (distillation: soft-labelled windows and MLM): length-bucketed batches, gradient accumulation, AdamW with linear warmup/decay, clipping, optional EMA, checkpoints every N steps,
/// exact resume, a NaN/Inf guard, the metrics log and the progress line; data-parallel over the ranks
/// of a `Communicator` (see `TrainerStep.swift` and docs/SCALING.md).
///
/// Exactness of resume rests on three facts: the batch plan is a function of (seed, epoch); the
/// dropout seed of each step comes from a generator whose state is checkpointed; and everything
/// else (weights, moments, EMA, counters) is saved bit for bit.
public final class Trainer {
    public let model: TrainableModel
    /// The tasks and their mixing weights; the first is the main task, whose epochs set the schedule.
    public let tasks: [TrainingTask]
    public let mix: TaskMix
    public let settings: TrainerSettings
    public let store: CheckpointStore
    /// One batch planner per task, in the order of `tasks`.
    public let planners: [BatchPlanner]
    public let optimizer: AdamW
    public let ema: EMA?
    public let schedule: LearningRateSchedule
    /// Where human-readable messages go (stderr in the CLI).
    public var log: (String) -> Void = { _ in }
    /// Called inside every step once its gradients exist, before clipping and the update, with the
    /// step's number (1-based). The exact-resume test uses it to hold a run in the middle of a step
    /// and kill it there (see `FaultInjection`).
    public var insideStep: ((Int) -> Void)?
    /// The processes of a data-parallel run (`SingleProcess` by default). Every rank trains the same
    /// model on its share of each batch; rank 0 alone writes checkpoints, the metrics log, the model
    /// and messages. Set it before `run`.
    public var communicator: Communicator = SingleProcess()

    /// A trainer over several tasks mixed batch by batch: each step is wholly one task's, drawn with
    /// probability ∝ its weight (D-NET's MRC + MLM mixing). Without `maxSteps`, the run lasts
    /// `epochs × batches per epoch of the main task × Σ weights / main weight` steps, so the main task
    /// sees about `epochs` passes.
    public init(model: TrainableModel, tasks: [(task: TrainingTask, weight: Double)], settings: TrainerSettings,
                outputDirectory: URL) throws {
        try settings.validate()
        guard !tasks.isEmpty else { throw TrainingError.invalidArgument("no training task") }
        self.model = model
        self.tasks = tasks.map(\.task)
        mix = try TaskMix(weights: tasks.map(\.weight), seed: settings.seed)
        self.settings = settings
        store = CheckpointStore(outputDirectory: outputDirectory, keep: settings.keepCheckpoints)
        planners = try tasks.map {
            try BatchPlanner(lengths: $0.task.lengths, batchSize: settings.batchSize, maxLength: settings.maxSequenceLength,
                             seed: settings.seed, padMultiple: settings.padMultiple)
        }
        let segments = try ParameterSegments(tensors: model.parameterRanges, total: model.parameterCount)
        optimizer = AdamW(segments: segments, hyperparameters: .init(epsilon: settings.adamEpsilon, weightDecay: settings.weightDecay))
        ema = try settings.emaDecay.map { try EMA(decay: $0, count: model.parameterCount) }
        let total = settings.maxSteps
            ?? Int((settings.epochs * Double(planners[0].batchesPerEpoch) * mix.stepsPerMainStep).rounded(.up))
        schedule = LearningRateSchedule(peak: settings.learningRate, warmupRatio: settings.warmupRatio, totalSteps: total)
    }

    /// Plain fine-tuning: one span task on `windows`.
    public convenience init(model: SpanTrainable, windows: [SpanTrainingWindow], settings: TrainerSettings,
                            outputDirectory: URL, padId: Int32 = 0) throws {
        try self.init(model: model, tasks: [(SpanTask(model: model, windows: windows, padId: padId), 1)],
                      settings: settings, outputDirectory: outputDirectory)
    }

    public var totalSteps: Int { schedule.totalSteps }
    /// The main task's planner.
    public var planner: BatchPlanner { planners[0] }

    private var dataFingerprint: String {
        guard tasks.count > 1 else { return tasks[0].dataFingerprint }
        return fingerprint(zip(tasks, mix.weights).map { "\($0.name)×\($1):\($0.dataFingerprint)" }.joined(separator: ";"))
    }

    /// Trains to the last step, starting from the latest checkpoint of the output directory when
    /// `resume` is true (from the pretrained weights when there is none).
    public func run(resume: Bool, showProgress: Bool? = nil) throws -> TrainingSummary {
        let isRoot = communicator.isRoot
        if isRoot {
            try FileManager.default.createDirectory(at: store.outputDirectory, withIntermediateDirectories: true)
            store.removeStaleTemporaries()
        }
        var state = TrainerState(step: 0, epoch: 0, batchInEpoch: 0, totalSteps: totalSteps,
                                 generatorState: Xoshiro256(seed: settings.seed, stream: 0x64726F70).state,
                                 emaUpdates: 0, tokensSeen: 0, trainingSeconds: 0,
                                 settingsFingerprint: settings.resumeFingerprint + (model.precision == .fp32 ? "" : "-\(model.precision)"),
                                 dataFingerprint: dataFingerprint,
                                 parameterCount: model.parameterCount)
        if tasks.count > 1 { state.auxiliaryCursors = Array(repeating: TaskCursor(), count: tasks.count - 1) }
        var lastCheckpoint: URL? = nil
        if resume, let latest = store.latest {
            state = try restore(from: latest.url, expected: state)
            lastCheckpoint = latest.url
            if isRoot { log("resuming from \(latest.url.path) at step \(state.step) of \(totalSteps)") }
        } else if resume, isRoot {
            log("no checkpoint in \(store.outputDirectory.path): starting from the pretrained weights")
        }
        let metricsURL = store.outputDirectory.appendingPathComponent("metrics.jsonl")
        let metrics = isRoot ? try MetricsLog(url: metricsURL, keepingStepsThrough: resume ? state.step : nil) : nil
        let progress = ProgressLine(totalSteps: totalSteps, startStep: state.step, enabled: isRoot ? showProgress : false)
        var generator = try Xoshiro256(state: state.generatorState)
        var cursors = [TaskCursor(epoch: state.epoch, batchInEpoch: state.batchInEpoch)] + (state.auxiliaryCursors ?? [])
        var plans = cursors.indices.map { planners[$0].batches(epoch: cursors[$0].epoch) }
        let startStep = state.step
        var lossSum = 0.0, lastLoss = Double.nan

        while state.step < totalSteps {
            let taskIndex = mix.task(atStep: state.step)
            if cursors[taskIndex].batchInEpoch >= plans[taskIndex].count {
                cursors[taskIndex] = TaskCursor(epoch: cursors[taskIndex].epoch + 1, batchInEpoch: 0)
                plans[taskIndex] = planners[taskIndex].batches(epoch: cursors[taskIndex].epoch)
            }
            let started = ProgressLine.now()
            let batch = plans[taskIndex][cursors[taskIndex].batchInEpoch]
            let stepSeed = generator.next()
            let outcome = try optimizationStep(task: taskIndex, batch: batch, stepSeed: stepSeed, step: state.step,
                                               lastCheckpoint: lastCheckpoint)
            state.step += 1
            cursors[taskIndex].batchInEpoch += 1
            (state.epoch, state.batchInEpoch) = (cursors[0].epoch, cursors[0].batchInEpoch)
            if tasks.count > 1 { state.auxiliaryCursors = Array(cursors.dropFirst()) }
            state.generatorState = generator.state
            state.emaUpdates = ema?.updates ?? 0
            state.tokensSeen += outcome.realTokens
            let seconds = ProgressLine.now() - started
            state.trainingSeconds += seconds
            lossSum += outcome.loss
            lastLoss = outcome.loss
            let record = StepMetrics(step: state.step, epoch: cursors[0].epoch, loss: outcome.loss,
                                     learningRate: outcome.learningRate, gradientNorm: outcome.gradientNorm,
                                     tokensPerSecond: Double(outcome.realTokens) / max(seconds, 1e-9),
                                     elapsedSeconds: state.trainingSeconds,
                                     task: tasks.count > 1 || !outcome.terms.isEmpty ? tasks[taskIndex].name : nil,
                                     terms: outcome.terms.isEmpty ? nil : outcome.terms)
            try metrics?.append(record)
            progress.update(record, averageLoss: lossSum / Double(state.step - startStep))
            if state.step % settings.checkpointEvery == 0 || state.step == totalSteps {
                try verifyRanksAgree(step: state.step)
                lastCheckpoint = isRoot ? try writeCheckpoint(state) : store.directory(step: state.step)
            }
        }
        progress.finish()
        if state.step == startStep, let last = try? MetricsLog.read(metricsURL).last {
            lastLoss = last.loss  // resumed a finished run: report its last logged loss
        }
        let final = store.latest?.url ?? store.directory(step: state.step)
        return TrainingSummary(steps: state.step, stepsThisRun: state.step - startStep, tokens: state.tokensSeen,
                               seconds: state.trainingSeconds, finalLoss: lastLoss, checkpoint: final)
    }
}
