import Foundation

/// One optimizer step: the passes (forward + backward) of the batch's micro-batches, the sum over
/// the ranks of a data-parallel run, the NaN/Inf guard, clipping, AdamW and the EMA.
///
/// Data parallelism: each micro-batch of the global batch is split over the ranks
/// (`Communicator.share`), every rank runs its part as one pass padded to that part's own longest
/// window, and one allreduce of the flat gradient buffer (plus one of the loss sums) adds the parts.
/// Pass p of micro-batch i on rank r is "virtual pass" i·N + r: its dropout and masking seeds are
/// those of pass i·N + r of a single process with N times the gradient accumulation, so N ranks with
/// accumulation g compute exactly the passes of one process with accumulation N·g (same rows, same
/// padding, same masks, same loss scales) — the same gradient up to the order of the final sums.
extension Trainer {
    /// The outcome of one optimizer step (the whole batch's, on every rank).
    public struct StepOutcome: Sendable {
        public var loss: Double
        public var terms: [String: Double]
        public var gradientNorm: Double
        public var learningRate: Double
        public var realTokens: Int
    }

    /// One pass of a step on this rank: which windows, their padded length, the virtual pass index.
    struct Pass {
        var items: [Int]
        var paddedLength: Int
        var index: Int
    }

    /// This rank's passes over `batch` (of task `task`'s windows): per micro-batch, this rank's share.
    func passes(task: Int, batch: Batch) -> [Pass] {
        let microSize = (batch.windows.count + settings.gradientAccumulation - 1) / settings.gradientAccumulation
        let lengths = planners[task].lengths
        var passes: [Pass] = []
        var start = 0, micro = 0
        while start < batch.windows.count {
            let members = batch.windows[start..<min(batch.windows.count, start + microSize)]
            let part = communicator.share(of: members.count)
            if !part.isEmpty {
                let items = Array(members.dropFirst(part.lowerBound).prefix(part.count))
                let longest = items.map { lengths[$0] }.max()!
                let padded = min(settings.maxSequenceLength,
                                 (longest + settings.padMultiple - 1) / settings.padMultiple * settings.padMultiple)
                passes.append(Pass(items: items, paddedLength: padded, index: micro * communicator.size + communicator.rank))
            }
            start += microSize
            micro += 1
        }
        return passes
    }

    /// One optimizer step of task `task` over `batch`: this rank's passes, the sum over the ranks, the
    /// NaN/Inf guard, clipping, AdamW at the scheduled rate for `step`, EMA.
    public func optimizationStep(task: Int = 0, batch: Batch, stepSeed: UInt64, step: Int,
                                 lastCheckpoint: URL?) throws -> StepOutcome {
        let passes = passes(task: task, batch: batch)
        let dropoutSeed = settings.dropout > 0 ? stepSeed : nil
        return try optimizationStep(rows: passes.map(\.items.count), totalRows: batch.windows.count,
                                    termNames: tasks[task].termNames, step: step, lastCheckpoint: lastCheckpoint) { p, scale in
            // Each pass gets its own dropout stream so accumulation never reuses a mask.
            let pass = passes[p]
            return try tasks[task].accumulateGradients(items: pass.items, paddedLength: pass.paddedLength,
                                                       dropoutSeed: dropoutSeed.map { Xoshiro256.mix($0, UInt64(pass.index)) },
                                                       seed: Xoshiro256.mix(stepSeed ^ 0x6D61_736B, UInt64(pass.index)),
                                                       lossScale: scale)
        }
    }

    /// One optimizer step of the main task, a span task, over explicit padded micro-batches (the loss
    /// is the mean over all their rows; with several ranks, over all ranks' rows).
    public func optimizationStep(microBatches: [SpanBatch], dropoutSeed: UInt64?, step: Int,
                                 lastCheckpoint: URL? = nil) throws -> StepOutcome {
        guard let span = tasks[0] as? SpanTask else {
            throw TrainingError.invalidArgument("optimizationStep(microBatches:) needs a span task first")
        }
        var totals = [Double(microBatches.map(\.rows).reduce(0, +))]
        try communicator.allreduceSum(&totals)
        return try optimizationStep(rows: microBatches.map(\.rows), totalRows: Int(totals[0]), termNames: [],
                                    step: step, lastCheckpoint: lastCheckpoint) { index, scale in
            try span.accumulate(microBatches[index], dropoutSeed: dropoutSeed.map { Xoshiro256.mix($0, UInt64(index)) },
                                lossScale: scale)
        }
    }

    /// The step itself: `pass(i, share)` runs this rank's pass i with its share of the global batch's
    /// `totalRows` rows as loss scale (the global count, so the ranks' gradients add up to the batch
    /// mean's); then the allreduce, the guard, clipping, the update and the EMA.
    private func optimizationStep(rows: [Int], totalRows: Int, termNames: [String], step: Int, lastCheckpoint: URL?,
                                  pass: (Int, Float) throws -> TaskLoss) throws -> StepOutcome {
        model.zeroGradients()
        var loss = 0.0, tokens = 0
        var terms: [String: Double] = [:]
        for (index, count) in rows.enumerated() {
            let share = Double(count) / Double(totalRows)
            let micro = try pass(index, Float(share))
            loss += share * micro.total
            tokens += micro.realTokens
            for (name, value) in micro.terms { terms[name, default: 0] += share * value }
        }
        insideStep?(step + 1)
        if communicator.size > 1 {
            (loss, tokens, terms) = try sumOverRanks(loss: loss, tokens: tokens, terms: terms, termNames: termNames)
        }
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
        return StepOutcome(loss: loss, terms: terms, gradientNorm: norm, learningRate: learningRate, realTokens: tokens)
    }

    /// The gradient buffer, the loss, the token count and the named terms summed over the ranks: after
    /// it every rank holds the whole batch's, so clipping, AdamW and the EMA agree bit for bit.
    private func sumOverRanks(loss: Double, tokens: Int, terms: [String: Double],
                              termNames: [String]) throws -> (Double, Int, [String: Double]) {
        if let unnamed = terms.keys.first(where: { !termNames.contains($0) }) {
            throw TrainingError.invalidState("the loss term \(unnamed) is not among the task's termNames \(termNames)")
        }
        try communicator.allreduceSum(model.gradients, count: model.parameterCount)
        var values = [loss, Double(tokens)] + termNames.map { terms[$0] ?? 0 }
        try communicator.allreduceSum(&values)
        let summed = Dictionary(uniqueKeysWithValues: zip(termNames, values.dropFirst(2)))
        return (values[0], Int(values[1]), summed)
    }
}
