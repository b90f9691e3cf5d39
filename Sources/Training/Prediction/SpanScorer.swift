import Foundation
import MRC
import Model

/// Anything that gives start/end logits for windows: one model (`ModelScorer`) or an ensemble of
/// models (`EnsembleScorer`). `Predictor` decodes whatever a scorer gives, so an ensemble's
/// predictions, files and scores take exactly the path a single model's take.
public protocol SpanScorer: AnyObject {
    /// Start/end logits of every window (real tokens only), in the order of `windows`; `progress` is
    /// told the number of windows done. With `block`, windows are batched only within consecutive
    /// blocks of that many windows, so a window's bits depend only on its block.
    func scores(_ windows: [Window], block: Int?, progress: (Int) -> Void) throws -> [SpanScores]
    /// Parameters of every model the scorer runs (an ensemble's cost is its members' sum).
    var parameterCount: Int { get }
    /// Encoder layers run per window, summed over the models.
    var layerCount: Int { get }
    /// What the scores depend on besides the weights (batch size, members, combination): part of the
    /// prediction journal's fingerprint.
    var settingsDescription: String { get }
    /// The models the scorer runs, members in order.
    var models: [BertModel] { get }
}

extension SpanScorer {
    public func scores(_ windows: [Window]) throws -> [SpanScores] {
        try scores(windows, block: nil, progress: { _ in })
    }
}

/// One span-QA model run batched: windows sorted by length so that alike ones share a batch (padded to
/// a multiple of 8), the longest first (the activation arena is sized once by the first batch instead of
/// growing, and being zeroed again, at nearly every batch), the inference forward (no dropout, no saved
/// attention probabilities), and the logits put back in the windows' order.
public final class ModelScorer: SpanScorer {
    public let model: BertModel
    public let batchSize: Int

    public init(model: BertModel, batchSize: Int = 32) throws {
        guard batchSize > 0 else { throw TrainingError.invalidArgument("--batch-size must be positive") }
        self.model = model
        self.batchSize = batchSize
    }

    public var parameterCount: Int { model.parameters.count }
    public var layerCount: Int { model.config.numHiddenLayers }
    public var settingsDescription: String { "batch \(batchSize)" }
    public var models: [BertModel] { [model] }

    public func scores(_ windows: [Window], block: Int?, progress: (Int) -> Void) throws -> [SpanScores] {
        var result = [SpanScores?](repeating: nil, count: windows.count)
        let size = block ?? max(1, windows.count)
        let order = stride(from: 0, to: windows.count, by: size).flatMap { first in
            (first..<min(windows.count, first + size)).sorted { (-windows[$0].length, $0) < (-windows[$1].length, $1) }
        }
        var start = 0
        while start < order.count {
            // Batches never straddle two blocks.
            let end = min(order.count, start + batchSize, block.map { (start / $0 + 1) * $0 } ?? order.count)
            let members = Array(order[start..<end])
            let batch = try EncoderBatch(padding: members.map { windows[$0] })
            let width = batch.seqLen
            let logits = try model.forward(batch, forTraining: false)
            for (row, index) in members.enumerated() {
                let range = row * width..<(row * width + windows[index].length)
                result[index] = SpanScores(startLogits: Array(logits.start[range]), endLogits: Array(logits.end[range]))
            }
            start = end
            progress(start)
        }
        return result.map { $0! }
    }
}

extension ModelScorer {
    /// Puts inference-only scorers that run in turn (an ensemble's members) on one activation arena per
    /// model shape (`InferenceArena`): an ensemble of k members holds k × the weights and one arena.
    /// Their models refuse a training forward afterwards.
    public static func shareInferenceArena(_ scorers: [ModelScorer]) {
        guard scorers.count > 1 else { return }
        InferenceArena.share(among: scorers.map(\.model))
    }
}

extension EncoderBatch {
    /// `windows` as one batch, padded to the longest rounded up to a multiple of 8 (at most the window size).
    public init(padding windows: [Window]) throws {
        let longest = windows.map(\.length).max()!
        let width = min(windows[0].inputIds.count, (longest + 7) / 8 * 8)
        var ids: [Int32] = [], types: [Int32] = [], mask: [Int32] = []
        ids.reserveCapacity(windows.count * width)
        for window in windows {
            ids += window.inputIds[0..<width]
            types += window.tokenTypeIds[0..<width]
            mask += window.attentionMask[0..<width]
        }
        try self.init(batch: windows.count, seqLen: width, inputIds: ids, tokenTypeIds: types, attentionMask: mask)
    }
}
