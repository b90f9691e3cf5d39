import Checkpoint
import Distillation
import Foundation
import MRC
import Text

/// Targets for the data files: SQuAD JSON, MRQA jsonl, their gzip layer, prediction and n-best files,
/// MLM text corpora. Readers that accept an input hand it on to the featurisation, as `train` does.
enum DataFormatTargets {
    static let all: [FuzzTarget] = [
        FuzzTarget("squad", "SQuAD v1.1/v2.0 JSON (SQuADReader), then windows (WindowBuilder), then --strict") { data in
            let dataset = try SQuADReader.parse(data, file: FuzzScratch.fileName, dataset: "fuzz")
            try featurise(dataset)
        },
        FuzzTarget("mrqa", "MRQA 2019 jsonl (MRQAReader), then windows, then --strict") { data in
            let dataset = try MRQAReader.parse(data, file: FuzzScratch.fileName, fallbackName: "fuzz")
            try featurise(dataset)
        },
        FuzzTarget("gzip", "gzip layer of .json.gz/.jsonl.gz (DataFile, in-process zlib), then MRQA lines", maxLength: 8_192) { data in
            let url = try FuzzScratch.write(data, suffix: ".jsonl.gz")
            let dataset = try MRCReader.read(url, strict: false)
            try featurise(dataset)
        },
        FuzzTarget("predictions", "prediction files: black-box teachers' predictions/n-best (BlackBoxPredictions), evaluate's flat predictions and no-answer probabilities (FlatJSONObject)") { data in
            try FuzzTarget.eachReader("predictions", [
                { checkPredictions(try BlackBoxPredictions.parse(data, file: FuzzScratch.fileName)) },
                { _ = try FlatJSONObject.parse(data, file: FuzzScratch.fileName) },
            ])
        },
        FuzzTarget("mlm-corpus", "MLM text corpora: jsonl records and plain text lines (MLMCorpus)") { data in
            try FuzzTarget.eachReader("mlm-corpus", [".jsonl", ".txt"].map { suffix in {
                let url = try FuzzScratch.write(data, suffix: suffix)
                let corpus = try MLMCorpus.load(files: [url], tokenizer: try tokenizer(), maxSeqLen: 64)
                precondition(corpus.sequences.allSatisfy { $0.count <= 64 }, "an MLM sequence longer than maxSeqLen")
            } })
        },
    ]

    /// Windows of an accepted dataset, checked for the invariants decoding and training rely on; then
    /// `--strict`'s verdict, which must name the file when it refuses.
    static func featurise(_ dataset: MRCDataset) throws {
        let builder = try WindowBuilder(tokenizer: try tokenizer(), settings: WindowSettings(maxSeqLen: 48, docStride: 16, maxQueryLen: 12))
        let (windows, _) = builder.windows(for: dataset.examples)
        for window in windows {
            precondition(window.length <= 48 && window.inputIds.count == 48, "window longer than maxSeqLen")
            precondition(window.contextStart + window.contextOffsets.count < window.length, "context runs past the window")
            precondition((window.startPosition == 0 && window.endPosition == 0)
                         || (window.contextStart <= window.startPosition && window.startPosition <= window.endPosition
                             && window.endPosition < window.contextStart + window.contextOffsets.count),
                         "gold span outside the window's context")
            let context = dataset.examples[window.exampleIndex].context.count
            precondition(window.contextOffsets.allSatisfy { $0.lowerBound >= 0 && $0.upperBound <= context },
                         "a token offset outside the context")
        }
        try dataset.report.requireNothingSkipped()
    }

    static func checkPredictions(_ predictions: BlackBoxPredictions) {
        for (_, candidates) in predictions.candidates {
            for candidate in candidates {
                precondition(candidate.probability.isFinite && candidate.probability >= 0, "a candidate probability outside [0, ∞)")
            }
        }
    }

    /// The fixture model's WordPiece tokenizer, read once.
    static func tokenizer() throws -> WordPieceTokenizer { try TokenizerCache.shared.get() }
}

/// The tokenizer, built on first use (libFuzzer calls the target millions of times).
final class TokenizerCache: @unchecked Sendable {  // written once under the lock
    static let shared = TokenizerCache()
    private let lock = NSLock()
    private var tokenizer: WordPieceTokenizer?

    func get() throws -> WordPieceTokenizer {
        lock.lock()
        defer { lock.unlock() }
        if let tokenizer { return tokenizer }
        let made = WordPieceTokenizer(vocabulary: try Vocabulary(contentsOf: FuzzScratch.vocabularyURL))
        tokenizer = made
        return made
    }
}
