import Foundation
import Kernels
import MRC
import Text
import Training

/// A model the server answers with: one span-QA directory, or an ensemble of several sharing one
/// tokenizer whose start/end logits are averaged (`EnsembleScorer`, mean of raw logits) before the one
/// span decoder. Windows are built by `Predictor`'s `WindowBuilder` and scored by `Predictor.scores` —
/// the path `predict --model A --model B` takes.
///
/// The members' forward passes are not reentrant: `scores` is called only from the batching thread.
public final class ServedModel: @unchecked Sendable {
    public let name: String
    public let directories: [URL]
    /// The predictor: the members' scorer (an ensemble's combined), the shared tokenizer and settings.
    let predictor: Predictor
    /// The decoder's settings; `nullScoreThreshold` is set (the model may answer "no answer") when `serve` was
    /// given `--null-score-threshold`, or else at 0 when every member was trained on SQuAD 2.0 data
    /// (`ModelAnswerability`): the decision `predict` makes on SQuAD 2.0 data.
    public let decoderSettings: SpanDecoderSettings
    public let windowSettings: WindowSettings
    /// Encoder layers per member (for /v1/models).
    public let layers: [Int]

    /// Batches are formed by the scheduler; the predictor must run each as one forward pass.
    static let unboundedBatch = 1 << 20

    /// Loads `directories` (each with config.json, the weights file, vocab.txt and a trained span
    /// head); an ensemble's members must share the vocabulary and lower-casing. `precision` is the number
    /// format of the members' matmuls.
    public init(name: String, directories: [URL], weightsFile: String? = nil, windowSettings: WindowSettings,
                decoderSettings: SpanDecoderSettings, precision: Precision = .fp32) throws {
        guard !directories.isEmpty else { throw ServingSetupError("model \(name) has no directory") }
        var members: [ModelScorer] = []
        var layers: [Int] = []
        var first: (dir: URL, tokenizer: any Tokenizer)?
        for directory in directories {
            do {
                _ = try Preflight.checkModel(directory, maxSequenceLength: windowSettings.maxSeqLen,
                                             weightsFile: weightsFile ?? "model.safetensors")
            } catch {
                throw ServingSetupError("model \(name): \(error)")
            }
            let trainable = try BertSpanTrainable(directory: directory, weightsFile: weightsFile)
            guard trainable.initialised.isEmpty else {
                throw ServingSetupError("model \(name): \(directory.path) has no span head (qa_outputs); "
                    + "serve a span-QA model that `mrc-distill train` or `distill` wrote")
            }
            try trainable.model.usePrecision(precision, modelDirectory: directory)
            let tokenizer = trainable.tokenizer
            if let first {
                guard tokenizer.tokenisesLike(first.tokenizer) else {
                    throw ServingSetupError("ensemble \(name): \(directory.path) has another tokenizer than \(first.dir.path) "
                        + "(the vocabulary, merges or lower-casing differ); an ensemble's members must read the same windows")
                }
            } else {
                first = (directory, tokenizer)
            }
            members.append(try ModelScorer(model: trainable.model, batchSize: Self.unboundedBatch))
            layers.append(trainable.model.config.numHiddenLayers)
        }
        // The members run one after another on the batching thread: one activation arena serves them all.
        ModelScorer.shareInferenceArena(members)
        self.name = name
        self.directories = directories
        var settings = decoderSettings
        if settings.nullScoreThreshold == nil, try directories.allSatisfy(ModelAnswerability.isMarked) {
            settings.nullScoreThreshold = 0
        }
        let scorer: SpanScorer = members.count == 1 ? members[0] : try EnsembleScorer(members: members)
        predictor = try Predictor(scorer: scorer, tokenizer: first!.tokenizer, windowSettings: windowSettings,
                                  decoderSettings: settings)
        self.decoderSettings = settings
        self.windowSettings = windowSettings
        self.layers = layers
    }

    public var isEnsemble: Bool { directories.count > 1 }

    /// The window builder `predict` uses, with this model's tokenizer and settings.
    public var builder: WindowBuilder { predictor.builder }

    /// The windows of one question, built as `predict` builds them (example index 0).
    public func windows(for pair: QuestionContext) -> (example: MRCExample, windows: [Window]) {
        let example = MRCExample(id: "", question: pair.question, context: ScalarText(pair.context), answerTexts: [],
                                 answerSpans: [], dataset: "request")
        return (example, builder.windows(for: [example]).windows)
    }

    /// The decoder with a request's options: `nBest` stays the server's (so the best answer is the
    /// one `predict` gives), the answer length may be changed.
    public func decoder(maxAnswerLength: Int?) -> SpanDecoder {
        var settings = decoderSettings
        if let maxAnswerLength { settings.maxAnswerLength = maxAnswerLength }
        return SpanDecoder(settings: settings)
    }

    /// Start/end logits of `windows`, each member's forward as one batch; an ensemble's are the mean
    /// of its members'. Called only from the batching thread.
    func scores(_ windows: [Window]) throws -> [SpanScores] {
        try predictor.scores(windows)
    }
}

/// A model could not be set up for serving (bad directory, mismatched ensemble, bad spec).
public struct ServingSetupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
