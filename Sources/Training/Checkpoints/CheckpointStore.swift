import Checkpoint
import Foundation

/// Checkpoint directories of a training run: `OUT/checkpoint-<step>/` in the Hugging Face layout
/// (config.json, vocab.txt, model.safetensors, ema.safetensors when EMA is on) plus
/// `optimizer.safetensors` and `trainer_state.json`.
///
/// A checkpoint is written into a hidden temporary directory and renamed into place only once every
/// file is complete, so a run killed at any instant leaves either the whole checkpoint or none.
public struct CheckpointStore: Sendable {
    public static let stateFile = "trainer_state.json"
    public static let optimizerFile = "optimizer.safetensors"
    public let outputDirectory: URL
    /// How many checkpoints to keep (older ones are removed after a new one is in place).
    public let keep: Int

    public init(outputDirectory: URL, keep: Int = 2) {
        self.outputDirectory = outputDirectory
        self.keep = max(1, keep)
    }

    public func directory(step: Int) -> URL {
        outputDirectory.appendingPathComponent("checkpoint-\(step)")
    }

    /// Complete checkpoints, by step, oldest first.
    public func checkpoints() -> [(step: Int, url: URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: outputDirectory.path)) ?? []
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix("checkpoint-"), let step = Int(name.dropFirst("checkpoint-".count)) else { return nil }
            let url = outputDirectory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.appendingPathComponent(CheckpointStore.stateFile).path) else { return nil }
            return (step, url)
        }.sorted { $0.0 < $1.0 }
    }

    public var latest: (step: Int, url: URL)? { checkpoints().last }

    /// Removes half-written checkpoints a killed run left behind (never published, never read).
    public func removeStaleTemporaries() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: outputDirectory.path)) ?? []
        for name in names where name.hasPrefix(".checkpoint-") && name.contains(".tmp-") {
            try? FileManager.default.removeItem(at: outputDirectory.appendingPathComponent(name))
        }
    }

    /// Writes a checkpoint: `writeModelFiles` fills the directory with the Hugging Face files, the
    /// store adds the optimizer tensors and the state, then renames the directory into place.
    public func write(state: TrainerState, firstMoment: UnsafePointer<Float>, secondMoment: UnsafePointer<Float>,
                      emaShadow: UnsafePointer<Float>?, writeModelFiles: (URL) throws -> Void) throws -> URL {
        let manager = FileManager.default
        let final = directory(step: state.step)
        let temporary = outputDirectory.appendingPathComponent(".checkpoint-\(state.step).tmp-\(getpid())")
        try? manager.removeItem(at: temporary)
        do {
            try manager.createDirectory(at: temporary, withIntermediateDirectories: true)
            try writeModelFiles(temporary)
            var tensors = SafeTensorsWriter(metadata: ["format": "pt", "content": "mrc-distill optimizer state"])
            let count = state.parameterCount
            try tensors.add("adamw.exp_avg", shape: [count], floats: UnsafeBufferPointer(start: firstMoment, count: count))
            try tensors.add("adamw.exp_avg_sq", shape: [count], floats: UnsafeBufferPointer(start: secondMoment, count: count))
            if let emaShadow {
                try tensors.add("ema.shadow", shape: [count], floats: UnsafeBufferPointer(start: emaShadow, count: count))
            }
            try tensors.write(to: temporary.appendingPathComponent(CheckpointStore.optimizerFile))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(state).write(to: temporary.appendingPathComponent(CheckpointStore.stateFile))
            try syncDirectory(temporary)
            if manager.fileExists(atPath: final.path) { try manager.removeItem(at: final) }
            guard rename(temporary.path, final.path) == 0 else {
                throw TrainingError.io("cannot rename \(temporary.path) to \(final.path): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? manager.removeItem(at: temporary)
            throw error
        }
        for old in checkpoints().dropLast(keep) { try? manager.removeItem(at: old.url) }
        return final
    }

    /// Reads a checkpoint's state, and its optimizer tensors into the given buffers [parameterCount].
    public func read(_ url: URL, firstMoment: UnsafeMutablePointer<Float>, secondMoment: UnsafeMutablePointer<Float>,
                     emaShadow: UnsafeMutablePointer<Float>?) throws -> TrainerState {
        let stateURL = url.appendingPathComponent(CheckpointStore.stateFile)
        let bytes: Data
        do { bytes = try Data(contentsOf: stateURL) } catch {
            throw TrainingError.invalidState("\(stateURL.path) is unreadable: \(error.localizedDescription)")
        }
        let state = try TrainerState.decode(bytes, file: stateURL.path)
        let tensors = try SafeTensorsFile(contentsOf: url.appendingPathComponent(CheckpointStore.optimizerFile))
        let count = state.parameterCount
        try tensors.readFloats("adamw.exp_avg", into: UnsafeMutableBufferPointer(start: firstMoment, count: count))
        try tensors.readFloats("adamw.exp_avg_sq", into: UnsafeMutableBufferPointer(start: secondMoment, count: count))
        if let emaShadow {
            guard tensors.tensors["ema.shadow"] != nil else {
                throw TrainingError.invalidState("\(url.path) has no EMA shadow, but this run keeps an EMA")
            }
            try tensors.readFloats("ema.shadow", into: UnsafeMutableBufferPointer(start: emaShadow, count: count))
        }
        return state
    }

    /// fsync every file of a directory and the directory itself, so the rename publishes durable data.
    private func syncDirectory(_ url: URL) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: url.path) {
            let fd = open(url.appendingPathComponent(name).path, O_RDONLY)
            if fd >= 0 { fsync(fd); close(fd) }
        }
        let fd = open(url.path, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
    }
}
