import Foundation

/// Saving the trained model, and the checkpoints that make `--resume` exact.
extension Trainer {
    /// Writes the trained model into the output directory itself (config.json, model.safetensors,
    /// vocab.txt, tokenizer_config.json; ema.safetensors with the bias-corrected EMA when kept).
    /// Every file is written to a temporary name and renamed.
    /// Rank 0 alone writes it in a data-parallel run.
    public func writeFinalModel() throws {
        guard communicator.isRoot else { return }
        try model.export(to: store.outputDirectory)
        try saveEMAWeights(to: store.outputDirectory)
    }

    /// Writes the bias-corrected EMA weights as `directory/ema.safetensors` (nothing without an EMA).
    func saveEMAWeights(to directory: URL) throws {
        guard let ema else { return }
        let averaged = UnsafeMutablePointer<Float>.allocate(capacity: model.parameterCount)
        defer { averaged.deallocate() }
        try ema.writeAverage(into: averaged)
        try model.saveWeights(averaged, to: directory.appendingPathComponent("ema.safetensors"))
    }

    func writeCheckpoint(_ state: TrainerState) throws -> URL {
        try store.write(state: state, firstMoment: optimizer.firstMoment, secondMoment: optimizer.secondMoment,
                        emaShadow: ema?.shadow) { directory in
            try model.save(to: directory, weights: nil)
            try saveEMAWeights(to: directory)
        }
    }

    /// In a data-parallel run, before each checkpoint: every rank's weights must be bit-identical (each
    /// applies the same update to the same summed gradient). Rank r puts a 32-bit checksum of its
    /// weights in slot r of a zeroed vector and one sum shows every slot to every rank; a divergence
    /// stops the run before a checkpoint could hide it.
    func verifyRanksAgree(step: Int) throws {
        guard communicator.size > 1 else { return }
        var hash: UInt32 = 0x811C_9DC5
        for index in 0..<model.parameterCount {
            hash = (hash ^ model.parameters[index].bitPattern) &* 0x0100_0193
        }
        var checksums = [Double](repeating: 0, count: communicator.size)
        checksums[communicator.rank] = Double(hash)
        try communicator.allreduceSum(&checksums)
        guard checksums.allSatisfy({ $0 == checksums[0] }) else {
            throw TrainingError.invalidState("after step \(step) the ranks' weights differ (checksums by rank: "
                                             + checksums.map { String(UInt32($0), radix: 16) }.joined(separator: ", ") + ")")
        }
    }

    func restore(from url: URL, expected: TrainerState) throws -> TrainerState {
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
            throw TrainingError.invalidState("\(stateURL.path) was written for other training data, window settings or task settings (such as intermediate-layer distillation's); resume with the same arguments")
        }
        guard (state.auxiliaryCursors?.count ?? 0) == (expected.auxiliaryCursors?.count ?? 0) else {
            throw TrainingError.invalidState("\(stateURL.path) was written for \(1 + (state.auxiliaryCursors?.count ?? 0)) tasks, this run has \(tasks.count)")
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
