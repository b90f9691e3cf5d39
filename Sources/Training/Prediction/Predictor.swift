import Foundation
import MRC
import Model
import Text

/// The predictions and scores for one data file.
public struct DatasetPrediction: Sendable {
    public var dataset: MRCDataset
    public var predictions: [ExamplePrediction]
    /// EM/F1 against the file's gold answers (official SQuAD v1.1 / MRQA semantics).
    public var score: DatasetScore
    /// predictions.json, nbest_predictions.json (and null_odds.json for SQuAD 2.0).
    public var files: [URL]
    public var windows: Int
    /// Real tokens of those windows (the inference throughput's numerator).
    public var tokens: Int
    public var seconds: Double
}

/// Runs a span-QA model, or an ensemble of them, over data files: windows, the scorer's batched
/// inference (`SpanScorer`), the one span decoder, the prediction files, and the evaluation.
public final class Predictor {
    public let scorer: SpanScorer
    public let builder: WindowBuilder
    /// The decoder's settings as given (`decoder(for:)` picks SQuAD 2.0's default threshold per file);
    /// `useBestThreshold(from:scratch:)` sets the threshold it finds.
    public var decoder: SpanDecoder
    /// The file the null-score threshold was searched on (`useBestThreshold`), recorded in eval.json.
    public var thresholdSource: String?
    /// Refuse a data file whose reader would skip a record (`--strict`).
    public var strict = false
    /// Questions per chunk: windows and scores are held for one chunk at a time (see `predict`).
    public var chunkQuestions = 256
    /// What the predictions depend on besides the settings the predictor knows (model weights, precision):
    /// part of the resume journal's fingerprint. Empty (in-training dev evaluations, whose weights change):
    /// a stopped run is never resumed.
    public var runFingerprint = ""
    /// Where "resuming after …" goes.
    public var resumeLog: (String) -> Void = { _ in }
    /// Called with the number of chunks journaled after each one (the resume test stops a run there).
    public var afterChunk: ((Int) throws -> Void)?

    public init(scorer: SpanScorer, tokenizer: any Tokenizer, windowSettings: WindowSettings,
                decoderSettings: SpanDecoderSettings) throws {
        self.scorer = scorer
        builder = try WindowBuilder(tokenizer: tokenizer, settings: windowSettings)
        decoder = SpanDecoder(settings: decoderSettings)
    }

    /// One model, run `batchSize` windows per forward pass.
    public convenience init(model: BertModel, tokenizer: any Tokenizer, windowSettings: WindowSettings,
                            decoderSettings: SpanDecoderSettings, batchSize: Int = 32) throws {
        guard batchSize > 0 else { throw TrainingError.invalidArgument("--predict-batch-size must be positive") }
        try self.init(scorer: try ModelScorer(model: model, batchSize: batchSize), tokenizer: tokenizer,
                      windowSettings: windowSettings, decoderSettings: decoderSettings)
    }

    /// Start/end logits of every window (real tokens only), in the order of `windows` (see `SpanScorer`).
    public func scores(_ windows: [Window], block: Int? = nil, progress: (Int) -> Void = { _ in }) throws -> [SpanScores] {
        try scorer.scores(windows, block: block, progress: progress)
    }

    /// Predicts every question of `file` and writes the prediction files into `directory`.
    ///
    /// Questions go through in chunks of `chunkQuestions`: windows, scores and decoding are held for one
    /// chunk at a time, so memory does not grow with the number of questions. Each finished chunk is
    /// journaled (`PredictionJournal`): a run that is stopped resumes after its last finished chunk. A
    /// progress bar with ETA is drawn on a terminal (`showProgress`, nil: only when stderr is one).
    public func predict(file: URL, into directory: URL, showProgress: Bool? = nil) throws -> DatasetPrediction {
        let started = Date()
        let dataset = try MRCReader.read(file, strict: strict)
        let examples = dataset.examples
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // Without a run fingerprint (the model's identity) a journal could belong to other weights: never resume.
        var journal = try PredictionJournal(url: directory.appendingPathComponent("predictions.journal.jsonl"),
                                            fingerprint: runFingerprint.isEmpty ? nil : fingerprint(of: file))
        let chunks = stride(from: 0, to: examples.count, by: chunkQuestions).map { $0..<min(examples.count, $0 + chunkQuestions) }
        if !journal.finished.isEmpty {
            resumeLog("\(file.lastPathComponent): resuming after \(journal.finished.count) of \(chunks.count) chunks "
                      + "(\(journal.finished.joined().count) of \(examples.count) questions done)")
        }
        let progress = ProgressCounter(label: "predict", total: examples.count, unit: "questions", enabled: showProgress)
        var windowCount = 0, tokenCount = 0
        let decoder = decoder(for: dataset)
        for chunk in chunks.dropFirst(journal.finished.count) {
            let part = Array(examples[chunk])
            let (windows, _) = builder.windows(for: part)
            windowCount += windows.count
            tokenCount += windows.reduce(0) { $0 + $1.length }
            let predictions = decoder.decode(examples: part, windows: windows, scores: try scores(windows))
            try journal.append(predictions)
            progress.update(chunk.upperBound)
            try afterChunk?(journal.finished.count)
        }
        progress.finish()
        let predictions = Array(journal.finished.joined())
        let files = try PredictionWriter.write(predictions, to: directory)
        journal.remove()
        var answers: [String: String] = [:]
        for prediction in predictions { answers[prediction.key] = prediction.text }
        // SQuAD 2.0: the scores are the predictions' own (no threshold on top); the null odds give the official
        // best_exact / best_f1 and their thresholds (`bestThresholds`).
        var score = DatasetEvaluation.evaluate(dataset, predictions: answers)
        if dataset.format == .squad2 {
            score.squad2?.best = Self.bestThresholds(dataset, predictions: predictions)
            score.nullScoreThreshold = decoder.settings.nullScoreThreshold
            score.thresholdSource = thresholdSource
        }
        return DatasetPrediction(dataset: dataset, predictions: predictions, score: score, files: files,
                                 windows: windowCount, tokens: tokenCount, seconds: Date().timeIntervalSince(started))
    }

    /// The decoder for `dataset`: on SQuAD 2.0 data a question may have no answer, and without an explicit
    /// `--null-score-threshold` the predictor abstains when the null score beats the best span (threshold
    /// 0.0, as Hugging Face's run_qa with version_2_with_negative), writing null_odds.json; elsewhere the
    /// settings as given.
    public func decoder(for dataset: MRCDataset) -> SpanDecoder {
        guard dataset.format == .squad2, decoder.settings.nullScoreThreshold == nil else { return decoder }
        var settings = decoder.settings
        settings.nullScoreThreshold = 0
        return SpanDecoder(settings: settings)
    }

    /// What the predictions of `file` depend on, for the journal: the caller's `runFingerprint` (model
    /// weights, precision), the window, decoder and batch settings, the chunking, and the file's identity.
    func fingerprint(of file: URL) -> String {
        Training.fingerprint([runFingerprint, "\(builder.settings)", "\(decoder.settings)", scorer.settingsDescription,
                              "chunk \(chunkQuestions)", Predictor.identity(of: file)].joined(separator: "|"))
    }

    /// A file's path, size and modification time ("path|size|mtime"): what says it is still the same file.
    public static func identity(of file: URL) -> String {
        let attributes = try? FileManager.default.attributesOfItem(atPath: file.path)
        let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
        let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "\(file.path)|\(size)|\(modified)"
    }

    /// Where the predictions of `file` go: `out` itself for a single file, else `out/<file stem>`.
    public static func directory(for file: URL, among files: [URL], out: URL) -> URL {
        files.count == 1 ? out : out.appendingPathComponent(DataFile.stem(of: file))
    }
}

extension Predictor {
    /// Predicts every file (into `out`, or `out/<stem>` when there are several), and writes
    /// `eval.json` with each file's EM/F1 into `out`. Returns the report.
    public func predictAll(files: [URL], out: URL, showProgress: Bool? = nil, log: (String) -> Void = { _ in }) throws -> EvaluationReport {
        var scores: [DatasetScore] = []
        for file in files {
            let result = try predict(file: file, into: Predictor.directory(for: file, among: files, out: out), showProgress: showProgress)
            log(String(format: "%@: %d questions, %d windows in %.1f s: EM %.2f, F1 %.2f", file.lastPathComponent,
                       result.dataset.examples.count, result.windows, result.seconds, result.score.exactMatch, result.score.f1))
            scores.append(result.score)
        }
        let report = EvaluationReport(predictionsFile: out.path, datasets: scores, groups: [])
        do {
            try Data(report.json.utf8).write(to: out.appendingPathComponent("eval.json"), options: .atomic)
        } catch {
            throw TrainingError.io("cannot write \(out.appendingPathComponent("eval.json").path): \(error.localizedDescription)")
        }
        return report
    }
}
