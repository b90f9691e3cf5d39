import Checkpoint
import Foundation

/// Everything besides the weights that a resumed run needs to continue exactly where a checkpoint
/// was taken: the position in the data, the step counters, the generator that seeds dropout, and a
/// fingerprint of the run's settings and data so that a resume with different ones is refused.
/// Saved as `trainer_state.json`; the optimizer moments and the EMA shadow go beside it in
/// `optimizer.safetensors` (flat tensors in the parameter buffer's layout).
public struct TrainerState: Codable, Sendable, Equatable {
    /// Optimizer updates completed.
    public var step: Int
    /// The epoch the next batch belongs to, and that batch's index in the epoch's plan.
    public var epoch: Int
    public var batchInEpoch: Int
    public var totalSteps: Int
    /// State of the generator that draws each step's dropout seed.
    public var generatorState: [UInt64]
    public var emaUpdates: Int
    /// Real tokens trained on so far, and training wall time so far (for throughput over resumes).
    public var tokensSeen: Int
    public var trainingSeconds: Double
    /// Hash of the settings that must not change across a resume (seed, batch size, learning rate,
    /// window settings, …) and of the training windows' lengths.
    public var settingsFingerprint: String
    public var dataFingerprint: String
    /// Number of floats in the parameter buffer (the moments' layout).
    public var parameterCount: Int
    /// With several tasks: the position of each task after the main one (`epoch`/`batchInEpoch`
    /// are the main task's); nil for a single task.
    public var auxiliaryCursors: [TaskCursor]? = nil

    public init(step: Int, epoch: Int, batchInEpoch: Int, totalSteps: Int, generatorState: [UInt64], emaUpdates: Int,
                tokensSeen: Int, trainingSeconds: Double, settingsFingerprint: String, dataFingerprint: String,
                parameterCount: Int) {
        self.step = step; self.epoch = epoch; self.batchInEpoch = batchInEpoch; self.totalSteps = totalSteps
        self.generatorState = generatorState; self.emaUpdates = emaUpdates; self.tokensSeen = tokensSeen
        self.trainingSeconds = trainingSeconds; self.settingsFingerprint = settingsFingerprint
        self.dataFingerprint = dataFingerprint; self.parameterCount = parameterCount
    }
}

/// Where a task stands in its batch plans: the epoch of its next batch, and that batch's index.
public struct TaskCursor: Codable, Sendable, Equatable {
    public var epoch = 0
    public var batchInEpoch = 0
    public init(epoch: Int = 0, batchInEpoch: Int = 0) { self.epoch = epoch; self.batchInEpoch = batchInEpoch }
}

/// FNV-1a, 64 bit, as hex: a stable fingerprint of settings and data (not a security hash).
public func fingerprint(_ text: String) -> String {
    var hasher = Fingerprinter()
    hasher.add(text)
    return hasher.value
}

