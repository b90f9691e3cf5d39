import Foundation

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

/// Fine-tunes a `SpanTrainable` model on span windows: length-bucketed batches, gradient
/// accumulation, AdamW with linear warmup/decay, clipping, optional EMA, checkpoints every N steps,
/// exact resume, a NaN/Inf guard, the metrics log and the progress line.
///
/// Exactness of resume rests on three facts: the batch plan is a function of (seed, epoch); the
/// dropout seed of each step comes from a generator whose state is checkpointed; and everything
/// else (weights, moments, EMA, counters) is saved bit for bit.
public final class Trainer {
    public let model: SpanTrainable
    public let windows: [SpanTrainingWindow]
    public let settings: TrainerSettings
    public let store: CheckpointStore
    public let planner: BatchPlanner
    public let optimizer: AdamW
    public let ema: EMA?
    public let schedule: LearningRateSchedule
    public let padId: Int32
    /// Where human-readable messages go (stderr in the CLI).
    public var log: (String) -> Void = { _ in }
    /// Called inside every step once its gradients exist, before clipping and the update, with the
    /// step's number (1-based). The exact-resume test uses it to hold a run in the middle of a step
    /// and kill it there (see `FaultInjection`).
    public var insideStep: ((Int) -> Void)?

    public init(model: SpanTrainable, windows: [SpanTrainingWindow], settings: TrainerSettings, outputDirectory: URL,
                padId: Int32 = 0) throws {
        try settings.validate()
        self.model = model
        self.windows = windows
        self.settings = settings
        self.padId = padId
        store = CheckpointStore(outputDirectory: outputDirectory, keep: settings.keepCheckpoints)
        planner = try BatchPlanner(lengths: windows.map(\.length), batchSize: settings.batchSize,
                                   maxLength: settings.maxSequenceLength, seed: settings.seed, padMultiple: settings.padMultiple)
        let segments = try ParameterSegments(tensors: model.parameterRanges, total: model.parameterCount)
        optimizer = AdamW(segments: segments, hyperparameters: .init(epsilon: settings.adamEpsilon, weightDecay: settings.weightDecay))
        ema = try settings.emaDecay.map { try EMA(decay: $0, count: model.parameterCount) }
        let total = settings.maxSteps ?? Int((settings.epochs * Double(planner.batchesPerEpoch)).rounded(.up))
        schedule = LearningRateSchedule(peak: settings.learningRate, warmupRatio: settings.warmupRatio, totalSteps: total)
    }

    public var totalSteps: Int { schedule.totalSteps }

    private var dataFingerprint: String {
        fingerprint(windows.map { "\($0.length):\($0.startPosition):\($0.endPosition)" }.joined(separator: ","))
    }

    /// Trains to the last step, starting from the latest checkpoint of the output directory when
    /// `resume` is true (from the pretrained weights when there is none).
    public func run(resume: Bool, showProgress: Bool? = nil) throws -> TrainingSummary {
        try FileManager.default.createDirectory(at: store.outputDirectory, withIntermediateDirectories: true)
        store.removeStaleTemporaries()
        var state = TrainerState(step: 0, epoch: 0, batchInEpoch: 0, totalSteps: totalSteps,
                                 generatorState: Xoshiro256(seed: settings.seed, stream: 0x64726F70).state,
                                 emaUpdates: 0, tokensSeen: 0, trainingSeconds: 0,
                                 settingsFingerprint: settings.resumeFingerprint, dataFingerprint: dataFingerprint,
                                 parameterCount: model.parameterCount)
        var lastCheckpoint: URL? = nil
        if resume, let latest = store.latest {
            state = try restore(from: latest.url, expected: state)
            lastCheckpoint = latest.url
            log("resuming from \(latest.url.path) at step \(state.step) of \(totalSteps)")
        } else if resume {
            log("no checkpoint in \(store.outputDirectory.path): starting from the pretrained weights")
        }
        let metrics = try MetricsLog(url: store.outputDirectory.appendingPathComponent("metrics.jsonl"),
                                     keepingStepsThrough: resume ? state.step : nil)
        let progress = ProgressLine(totalSteps: totalSteps, startStep: state.step, enabled: showProgress)
        var generator = try Xoshiro256(state: state.generatorState)
        var plan = planner.batches(epoch: state.epoch)
        let startStep = state.step
        var lossSum = 0.0, lastLoss = Double.nan

        while state.step < totalSteps {
            if state.batchInEpoch >= plan.count {
                state.epoch += 1
                state.batchInEpoch = 0
                plan = planner.batches(epoch: state.epoch)
            }
            let started = ProgressLine.now()
            let batch = plan[state.batchInEpoch]
            let dropoutSeed = generator.next()
            let outcome = try optimizationStep(batch: batch, dropoutSeed: settings.dropout > 0 ? dropoutSeed : nil,
                                               step: state.step, lastCheckpoint: lastCheckpoint)
            state.step += 1
            state.batchInEpoch += 1
            state.generatorState = generator.state
            state.emaUpdates = ema?.updates ?? 0
            state.tokensSeen += outcome.realTokens
            let seconds = ProgressLine.now() - started
            state.trainingSeconds += seconds
            lossSum += outcome.loss
            lastLoss = outcome.loss
            let record = StepMetrics(step: state.step, epoch: state.epoch, loss: outcome.loss,
                                     learningRate: outcome.learningRate, gradientNorm: outcome.gradientNorm,
                                     tokensPerSecond: Double(outcome.realTokens) / max(seconds, 1e-9),
                                     elapsedSeconds: state.trainingSeconds)
            try metrics.append(record)
            progress.update(record, averageLoss: lossSum / Double(state.step - startStep))
            if state.step % settings.checkpointEvery == 0 || state.step == totalSteps {
                lastCheckpoint = try writeCheckpoint(state)
            }
        }
        progress.finish()
        if state.step == startStep, let last = try? MetricsLog.read(metrics.url).last {
            lastLoss = last.loss  // resumed a finished run: report its last logged loss
        }
        let final = store.latest?.url ?? store.directory(step: state.step)
        return TrainingSummary(steps: state.step, stepsThisRun: state.step - startStep, tokens: state.tokensSeen,
                               seconds: state.trainingSeconds, finalLoss: lastLoss, checkpoint: final)
    }

    /// The outcome of one optimizer step.
    public struct StepOutcome: Sendable {
        public var loss: Double
        public var gradientNorm: Double
        public var learningRate: Double
        public var realTokens: Int
    }

    /// One optimizer step over `batch`: forward/backward over its micro-batches, NaN/Inf guard,
    /// clipping, AdamW at the scheduled rate for `step`, EMA.
    public func optimizationStep(batch: Batch, dropoutSeed: UInt64?, step: Int, lastCheckpoint: URL?) throws -> StepOutcome {
        let microSize = (batch.windows.count + settings.gradientAccumulation - 1) / settings.gradientAccumulation
        var microBatches: [SpanBatch] = []
        var start = 0
        while start < batch.windows.count {
            let members = batch.windows[start..<min(batch.windows.count, start + microSize)].map { windows[$0] }
            let longest = members.map(\.length).max()!
            let padded = min(settings.maxSequenceLength,
                             (longest + settings.padMultiple - 1) / settings.padMultiple * settings.padMultiple)
            microBatches.append(SpanBatch(windows: members, sequenceLength: padded, padId: padId))
            start += microSize
        }
        return try optimizationStep(microBatches: microBatches, dropoutSeed: dropoutSeed, step: step, lastCheckpoint: lastCheckpoint)
    }

    /// One optimizer step over explicit micro-batches (the loss is the mean over all their rows).
    public func optimizationStep(microBatches: [SpanBatch], dropoutSeed: UInt64?, step: Int,
                                 lastCheckpoint: URL? = nil) throws -> StepOutcome {
        let rows = microBatches.reduce(0) { $0 + $1.rows }
        model.zeroGradients()
        var loss = 0.0
        for (index, micro) in microBatches.enumerated() {
            let share = Double(micro.rows) / Double(rows)
            // Each micro-batch gets its own dropout stream so accumulation never reuses a mask.
            let seed = dropoutSeed.map { Xoshiro256.mix($0, UInt64(index)) }
            let microLoss = try model.accumulateGradients(micro, dropoutSeed: seed, lossScale: Float(share))
            loss += share * microLoss
        }
        insideStep?(step + 1)
        guard loss.isFinite else {
            throw TrainingError.nonFinite(step: step + 1, what: "the loss (\(loss))", lastCheckpoint: lastCheckpoint?.path)
        }
        let norm = GradientClipping.clip(model.gradients, count: model.parameterCount, maxNorm: settings.maxGradNorm)
        guard norm.isFinite else {
            throw TrainingError.nonFinite(step: step + 1, what: "the gradient norm (\(norm))", lastCheckpoint: lastCheckpoint?.path)
        }
        let learningRate = schedule.learningRate(atStep: step)
        optimizer.update(parameters: model.parameters, gradients: model.gradients, learningRate: learningRate)
        ema?.update(weights: model.parameters)
        return StepOutcome(loss: loss, gradientNorm: norm, learningRate: learningRate,
                           realTokens: microBatches.reduce(0) { $0 + $1.realTokens })
    }

    /// Writes the trained model into the output directory itself (config.json, model.safetensors,
    /// vocab.txt, tokenizer_config.json; ema.safetensors with the bias-corrected EMA when kept).
    /// Every file is written to a temporary name and renamed.
    public func writeFinalModel() throws {
        try model.save(to: store.outputDirectory, weights: nil)
        try saveEMAWeights(to: store.outputDirectory)
    }

    /// Writes the bias-corrected EMA weights as `directory/ema.safetensors` (nothing without an EMA).
    private func saveEMAWeights(to directory: URL) throws {
        guard let ema else { return }
        let averaged = UnsafeMutablePointer<Float>.allocate(capacity: model.parameterCount)
        defer { averaged.deallocate() }
        try ema.writeAverage(into: averaged)
        try model.saveWeights(averaged, to: directory.appendingPathComponent("ema.safetensors"))
    }

    private func writeCheckpoint(_ state: TrainerState) throws -> URL {
        try store.write(state: state, firstMoment: optimizer.firstMoment, secondMoment: optimizer.secondMoment,
                        emaShadow: ema?.shadow) { directory in
            try model.save(to: directory, weights: nil)
            try saveEMAWeights(to: directory)
        }
    }

    private func restore(from url: URL, expected: TrainerState) throws -> TrainerState {
        let m = UnsafeMutablePointer<Float>.allocate(capacity: model.parameterCount)
        let v = UnsafeMutablePointer<Float>.allocate(capacity: model.parameterCount)
        defer { m.deallocate(); v.deallocate() }
        let stateURL = url.appendingPathComponent(CheckpointStore.stateFile)
        let state = try store.read(url, firstMoment: m, secondMoment: v, emaShadow: ema?.shadow)
        guard state.parameterCount == expected.parameterCount else {
            throw TrainingError.invalidState("\(stateURL.path) holds \(state.parameterCount) parameters, the model has \(expected.parameterCount)")
        }
        guard state.settingsFingerprint == expected.settingsFingerprint else {
            throw TrainingError.invalidState("\(stateURL.path) was written with other training settings; resume with the same arguments")
        }
        guard state.dataFingerprint == expected.dataFingerprint else {
            throw TrainingError.invalidState("\(stateURL.path) was written for other training data or window settings")
        }
        guard state.totalSteps == expected.totalSteps else {
            throw TrainingError.invalidState("\(stateURL.path) plans \(state.totalSteps) steps, this run \(expected.totalSteps)")
        }
        try model.loadWeights(from: url)
        optimizer.restore(step: state.step, firstMoment: m, secondMoment: v)
        if let ema { ema.restore(updates: state.emaUpdates, shadow: ema.shadow) }
        return state
    }
}
