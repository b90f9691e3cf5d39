import Foundation

/// The loss of one forward/backward pass: the total the optimizer follows and its named terms
/// (`metrics.jsonl` logs each), both unscaled means over the pass's rows.
public struct TaskLoss: Sendable, Equatable {
    public var total: Double
    public var terms: [String: Double]
    /// Real (unpadded) tokens the pass consumed (the throughput count).
    public var realTokens: Int

    public init(total: Double, terms: [String: Double] = [:], realTokens: Int) {
        self.total = total; self.terms = terms; self.realTokens = realTokens
    }
}

/// One kind of batch the trainer runs: span windows with gold labels, span windows with gold and soft
/// labels, masked-language-model sequences, … A task owns its items (indexed 0..<lengths.count) and
/// turns a list of them into a forward + backward pass on the shared model.
public protocol TrainingTask: AnyObject {
    /// Name in the metrics log (`task`), e.g. "mrc" or "mlm".
    var name: String { get }
    /// Real token count of each item: what the length-bucketing batch planner sees.
    var lengths: [Int] { get }
    /// A fingerprint of the items: a resume with other data is refused.
    var dataFingerprint: String { get }
    /// Forward and backward over `items` padded to `paddedLength`, ADDING `lossScale ×` the gradient of
    /// the mean loss over the items into the model's gradients. Dropout is on with masks drawn from
    /// `dropoutSeed` when it is not nil; `seed` is this pass's own seed for any other randomness
    /// (e.g. which tokens MLM masks), so a resumed run draws the same.
    func accumulateGradients(items: [Int], paddedLength: Int, dropoutSeed: UInt64?, seed: UInt64,
                             lossScale: Float) throws -> TaskLoss
    /// The names of the loss terms its passes report (`TaskLoss.terms`): a data-parallel run sums them
    /// over the ranks, including ranks with no pass in a step. Empty by default.
    var termNames: [String] { get }
    /// The share of real tokens a pass runs an output head over besides the span head (MLM's masked
    /// positions): the run estimate's cost model counts that head's FLOPs and buffers. 0 by default.
    var maskedFraction: Double { get }
}

extension TrainingTask {
    public var termNames: [String] { [] }
    public var maskedFraction: Double { 0 }
}

/// Plain fine-tuning: a span model on windows with gold labels.
public final class SpanTask: TrainingTask {
    public let model: SpanTrainable
    public let windows: [SpanTrainingWindow]
    public let padId: Int32
    public let name: String

    public init(model: SpanTrainable, windows: [SpanTrainingWindow], padId: Int32 = 0, name: String = "mrc") {
        self.model = model; self.windows = windows; self.padId = padId; self.name = name
    }

    public var lengths: [Int] { windows.map(\.length) }

    public var dataFingerprint: String { SpanTask.fingerprint(windows) }

    /// A fingerprint of span windows: each one's length and gold positions, in order.
    public static func fingerprint(_ windows: [SpanTrainingWindow]) -> String {
        Training.fingerprint(windows.map { "\($0.length):\($0.startPosition):\($0.endPosition)" }.joined(separator: ","))
    }

    public func accumulateGradients(items: [Int], paddedLength: Int, dropoutSeed: UInt64?, seed: UInt64,
                                    lossScale: Float) throws -> TaskLoss {
        let batch = SpanBatch(windows: items.map { windows[$0] }, sequenceLength: paddedLength, padId: padId)
        return try accumulate(batch, dropoutSeed: dropoutSeed, lossScale: lossScale)
    }

    /// The pass over an already padded batch.
    public func accumulate(_ batch: SpanBatch, dropoutSeed: UInt64?, lossScale: Float) throws -> TaskLoss {
        let loss = try model.accumulateGradients(batch, dropoutSeed: dropoutSeed, lossScale: lossScale)
        return TaskLoss(total: loss, realTokens: batch.realTokens)
    }
}
